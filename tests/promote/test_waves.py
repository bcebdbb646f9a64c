"""Wave selection (gitops.promote.waves), by value: the one choice promote and plan both make."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gitops.config.loader import EnvBundle, load_config
from gitops.config.models import ReleaseRecord
from gitops.errors import UsageError
from gitops.promote.waves import (
    NextWave,
    WavePlan,
    WaveSelection,
    WaveStatus,
    resolve_waves,
    runs_already,
    selection,
    tenant_image,
    wave_states,
)
from tests.fixtures.configrepo import copy_examples
from tests.fixtures.promote import release_data

NOW = datetime(2026, 12, 8, 18, 30, tzinfo=UTC)
OLD = ReleaseRecord.model_validate(release_data("1.3.2"))
NEW = ReleaseRecord.model_validate(release_data("1.5.0"))
REST = ("globex-consult", "initech-services", "northwind-civil")


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> EnvBundle:
    repo = load_config(copy_examples(Path(tmp_path_factory.mktemp("cfg"))))
    return replace(repo.env("prod"), release=OLD)


@pytest.fixture(scope="module")
def waves(prod: EnvBundle, tmp_path_factory: pytest.TempPathFactory) -> tuple[WavePlan, ...]:
    repo = load_config(copy_examples(Path(tmp_path_factory.mktemp("cfg"))))
    return resolve_waves(repo.pipeline_for("prod"), prod)


def with_tenants(release: ReleaseRecord, tenants: dict[str, dict[str, Any]]) -> ReleaseRecord:
    return ReleaseRecord.model_validate({**release.model_dump(exclude_defaults=True), "tenants": tenants})


def canary_runs_new(verified: timedelta | None) -> ReleaseRecord:
    """prod after the canary merge: acme-build runs 1.5.0, verified `verified` before NOW (None: not yet)."""
    state: dict[str, Any] = {"image": NEW.image, "version": "1.5.0", "promoted_at": NOW - timedelta(days=1)}
    if verified is not None:
        state["verification"] = {"revision": "a" * 40, "verified_at": NOW - verified}
    return with_tenants(OLD, {"acme-build": state})


def choose(prod: EnvBundle, waves: tuple[WavePlan, ...], release: ReleaseRecord | None, **ask: Any) -> Any:
    return selection(replace(prod, release=release), waves, NEW.image, NextWave(**ask), NOW)


def test_waves_expand_the_rest_to_every_tenant_no_earlier_wave_took(waves: tuple[WavePlan, ...]) -> None:
    assert waves == (
        WavePlan("canary", ("acme-build",), timedelta(hours=4)),
        WavePlan("rest", REST, timedelta(0)),
    )


def test_before_the_canary_the_canary_goes_first(prod: EnvBundle, waves: tuple[WavePlan, ...]) -> None:
    assert choose(prod, waves, OLD) == WaveSelection("canary", ("acme-build",), False, ())


def test_an_unverified_canary_blocks_the_rest(prod: EnvBundle, waves: tuple[WavePlan, ...]) -> None:
    assert choose(prod, waves, canary_runs_new(None)) == WaveSelection(
        "rest", REST, True, ("wave 'canary': tenant acme-build is not verified yet (odoo-gitops verify)",)
    )


def test_a_soaking_canary_blocks_the_rest_and_says_how_long(
    prod: EnvBundle, waves: tuple[WavePlan, ...]
) -> None:
    chosen = choose(prod, waves, canary_runs_new(timedelta(hours=1, seconds=90)))
    verified_at = (NOW - timedelta(hours=1, seconds=90)).isoformat()
    assert chosen.reasons == (
        f"wave 'canary': tenant acme-build soaks for 4h after verification ({verified_at}): 2h59m left",
    )


def test_a_soaked_canary_lets_the_rest_go(prod: EnvBundle, waves: tuple[WavePlan, ...]) -> None:
    assert choose(prod, waves, canary_runs_new(timedelta(hours=4))) == WaveSelection("rest", REST, True, ())


def test_naming_a_later_wave_still_checks_the_earlier_ones(
    prod: EnvBundle, waves: tuple[WavePlan, ...]
) -> None:
    chosen = choose(prod, waves, OLD, wave="rest")
    assert chosen == WaveSelection(
        "rest", REST, False, ("wave 'canary': tenant acme-build does not run this release yet",)
    )


def test_explicit_tenants_form_their_own_wave(prod: EnvBundle, waves: tuple[WavePlan, ...]) -> None:
    chosen = choose(prod, waves, OLD, tenants=("northwind-civil", "acme-build"))
    assert chosen.wave is not None and chosen.wave.startswith("tenants-") and len(chosen.wave) == 16
    assert (chosen.tenants, chosen.completes_env, chosen.reasons) == (
        ("acme-build", "northwind-civil"),
        False,
        (),
    )
    assert choose(prod, waves, OLD, tenants=("acme-build", "northwind-civil")).wave == chosen.wave
    every = choose(prod, waves, OLD, tenants=("acme-build", *REST))
    assert every.completes_env


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        ({"tenants": ("acme-build", "nobody")}, "--tenants: nobody not enabled tenants of 'prod'"),
        ({"wave": "pilot"}, "--wave 'pilot': no such wave for 'prod'"),
    ],
)
def test_unknown_tenants_or_wave_are_usage_errors(
    prod: EnvBundle, waves: tuple[WavePlan, ...], ask: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as error:
        choose(prod, waves, OLD, **ask)
    assert str(error.value).startswith(message)


def test_the_first_release_goes_to_every_tenant_at_once(prod: EnvBundle, waves: tuple[WavePlan, ...]) -> None:
    assert choose(prod, waves, None) == WaveSelection(None, ("acme-build", *REST), True, ())


def test_when_every_wave_runs_the_release_the_last_wave_completes_the_env(
    prod: EnvBundle, waves: tuple[WavePlan, ...]
) -> None:
    done = with_tenants(NEW, {"acme-build": {"image": NEW.image, "version": "1.5.0"}})
    chosen = choose(prod, waves, done)
    assert chosen == WaveSelection("rest", REST, True, ())
    assert runs_already(done, _Install(NEW.image, dict(NEW.modules), chosen.tenants, True))


def test_tenant_image_falls_back_to_the_env_release() -> None:
    release = canary_runs_new(None)
    assert tenant_image(release, "acme-build") == NEW.image
    assert tenant_image(release, "globex-consult") == OLD.image
    assert tenant_image(None, "acme-build") is None


class _Install:
    def __init__(self, image: str, modules: dict[str, Any], tenants: tuple[str, ...], completes: bool):
        self.image, self.modules, self.tenants, self.completes_env = image, modules, tenants, completes


def test_runs_already_for_a_wave_and_for_the_env() -> None:
    canary = _Install(NEW.image, dict(NEW.modules), ("acme-build",), False)
    assert not runs_already(OLD, canary)
    assert runs_already(canary_runs_new(None), canary)
    assert not runs_already(None, canary)
    whole = _Install(NEW.image, dict(NEW.modules), (), True)
    assert not runs_already(canary_runs_new(None), whole)
    assert runs_already(NEW, whole)


def test_wave_states_say_done_next_blocked_and_waiting(prod: EnvBundle, waves: tuple[WavePlan, ...]) -> None:
    def states(release: ReleaseRecord | None, refusals: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        chosen = choose(prod, waves, release)
        return [(w.name, w.state) for w in wave_states(release, waves, NEW.image, chosen, refusals)]

    assert states(OLD) == [("canary", "next"), ("rest", "waiting")]
    assert states(OLD, ("source not soaked",)) == [("canary", "blocked"), ("rest", "waiting")]
    assert states(canary_runs_new(None), ("canary not verified",)) == [
        ("canary", "done"),
        ("rest", "blocked"),
    ]
    assert states(canary_runs_new(timedelta(hours=5))) == [("canary", "done"), ("rest", "next")]
    assert states(None) == [("canary", "next"), ("rest", "next")]  # the first release: one PR for all


def test_a_blocked_wave_carries_the_refusals(prod: EnvBundle, waves: tuple[WavePlan, ...]) -> None:
    release = canary_runs_new(None)
    chosen = choose(prod, waves, release)
    rest = wave_states(release, waves, NEW.image, chosen, chosen.reasons)[1]
    assert rest == WaveStatus("rest", REST, timedelta(0), "blocked", chosen.reasons)
    assert rest.to_dict() == {
        "name": "rest",
        "tenants": list(REST),
        "soak": "0s",
        "state": "blocked",
        "reasons": ["wave 'canary': tenant acme-build is not verified yet (odoo-gitops verify)"],
    }
