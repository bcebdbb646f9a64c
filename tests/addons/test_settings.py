"""The embeddable addons settings model."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gitops.addons.checksums import DEFAULT_EXCLUDES
from gitops.addons.discovery import discover
from gitops.addons.settings import AddonsSettings
from tests.fixtures.addons import write_addon


def test_defaults_are_click_odoo_updates() -> None:
    settings = AddonsSettings()
    assert (settings.series, settings.known_modules, settings.exclude_patterns) == (
        None,
        (),
        DEFAULT_EXCLUDES,
    )


@pytest.mark.parametrize(
    "data", [{"series": "15.0"}, {"known_modules": ["web responsive"]}, {"known_module": ["x"]}]
)
def test_invalid_settings_are_rejected(data: dict) -> None:
    with pytest.raises(ValidationError):
        AddonsSettings.model_validate(data)


def test_known_modules_feed_discovery(tmp_path: Path) -> None:
    write_addon(tmp_path, "a", depends=["base", "web_responsive"])
    settings = AddonsSettings.model_validate({"series": "17.0", "known_modules": ["web_responsive"]})
    tree = discover([tmp_path], series=settings.series, known_modules=settings.known_modules)
    assert list(tree) == ["a"]
