"""Recording a verification in release.yaml: written by the one serialiser (the layout a promotion writes),
unchanged when the same verification is recorded again, per tenant in multi-tenant environments."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitops.config.release_file import RELEASE_HEADER, parse_release, render_release
from gitops.errors import ConfigError
from gitops.verify.record import VerifiedTarget, update_release_file
from tests.fixtures.promote import release_data

AT = datetime(2026, 12, 2, 15, 4, 5, 678, tzinfo=UTC)
REVISION = "c" * 40


def written(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "release.yaml"
    path.write_text(render_release(data), encoding="utf-8")
    return path


def target(digest: str, tenant: str | None = None) -> VerifiedTarget:
    return VerifiedTarget(tenant, f"Application argocd/odoo-{tenant or 'prod'}", digest, REVISION)


def test_a_verification_is_written_in_the_layout_a_promotion_writes(tmp_path: Path) -> None:
    data = release_data("1.5.0", verified_at=None)
    path = written(tmp_path, data)
    digest = str(data["image"]).partition("@")[2]
    assert update_release_file(path, revision=REVISION, at=AT, verified=[target(digest)], all_verified=True)
    verification = {
        "revision": REVISION,
        "verified_at": datetime(2026, 12, 2, 15, 4, 5, tzinfo=UTC),
        "digest": digest,
        "targets": ["Application argocd/odoo-prod"],
    }
    text = path.read_text(encoding="utf-8")
    assert text == render_release({**data, "verification": verification})  # one serialiser, byte for byte
    assert text.startswith(RELEASE_HEADER) and "  verified_at: 2026-12-02T15:04:05Z\n" in text
    assert parse_release(text)["verification"] == verification

    again = update_release_file(path, revision=REVISION, at=AT, verified=[target(digest)], all_verified=True)
    assert again is False and path.read_text(encoding="utf-8") == text  # nothing to record: no change


def test_tenants_get_their_own_verification_and_the_env_one_only_when_all_verified(tmp_path: Path) -> None:
    data = release_data("1.5.0", verified_at=None)
    path = written(tmp_path, data)
    digest = str(data["image"]).partition("@")[2]
    one = [target(digest, "acme-build")]
    assert update_release_file(path, revision=REVISION, at=AT, verified=one, all_verified=False)
    recorded = parse_release(path.read_text(encoding="utf-8"))
    tenant = recorded["tenants"]["acme-build"]
    assert (tenant["image"], tenant["version"]) == (data["image"], data["version"])
    assert tenant["verification"]["targets"] == ["Application argocd/odoo-acme-build"]
    assert "verification" not in recorded  # the environment is not verified until every target is
    assert path.read_text(encoding="utf-8") == render_release(recorded)  # canonical layout throughout


@pytest.mark.parametrize("text", ["- not\n- a mapping\n", "image: [unclosed\n"])
def test_a_release_file_that_is_not_a_mapping_is_a_config_error_naming_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "release.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"release\.yaml"):
        update_release_file(
            path, revision=REVISION, at=AT, verified=[target("sha256:" + "a" * 64)], all_verified=True
        )
    assert path.read_text(encoding="utf-8") == text  # nothing half-written
