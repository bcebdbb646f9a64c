"""The addons part of a config repository, ready to be embedded in the config models.

Example (YAML):

    addons:
      series: "17.0"
      known_modules: [web_responsive, account_reports]   # outside the tree and the shipped community list
      exclude_patterns: ["*.pyc", "*.pyo", "i18n/*.pot", "i18n_extra/*.pot", "static/*", "tests/*"]
      languages: [en_US, fr_BE]                           # active languages of the databases
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gitops.addons.checksums import DEFAULT_EXCLUDES

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AddonsSettings(BaseModel):
    """Series the manifests target, extra known modules, and click-odoo-update's checksum parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    series: Literal["16.0", "17.0", "18.0", "19.0"] | None = None
    known_modules: tuple[str, ...] = Field(default=(), description="modules depended on but not in the tree")
    exclude_patterns: tuple[str, ...] = DEFAULT_EXCLUDES
    languages: tuple[str, ...] = Field(default=(), description="active database languages (checksums)")

    @field_validator("known_modules")
    @classmethod
    def _module_names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        bad = [n for n in names if not _MODULE_NAME.match(n)]
        if bad:
            raise ValueError(f"not a module name: {', '.join(map(repr, bad))}")
        return names
