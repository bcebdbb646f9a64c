"""Render the Dockerfile and the Odoo config from the templates shipped in this package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import jinja2

ADDONS_DIR = "/opt/odoo/custom-addons"
ODOO_CONF = "/etc/odoo/odoo.conf"
DATA_DIR = "/var/lib/odoo"

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("gitops.image", "templates"),
    autoescape=False,  # noqa: S701 (renders a Dockerfile and an ini file, not HTML)
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


def docker_quote(value: str) -> str:
    """A double-quoted Dockerfile word: backslash, quote and `$` escaped, newlines refused."""
    if "\n" in value:
        raise ValueError("a label value must be a single line")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


_ENV.filters["docker_quote"] = docker_quote


@dataclass(frozen=True, kw_only=True)
class DockerfileInputs:
    base: str
    addons_dir: str = ADDONS_DIR
    odoo_conf: str = ODOO_CONF
    user: str | None = None
    requirements: tuple[str, ...] = ()
    system_packages: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)


def render_dockerfile(inputs: DockerfileInputs) -> str:
    return _ENV.get_template("Dockerfile.j2").render(
        base=inputs.base,
        addons_dir=inputs.addons_dir,
        odoo_conf=inputs.odoo_conf,
        user=inputs.user,
        requirements=inputs.requirements,
        system_packages=inputs.system_packages,
        labels=dict(inputs.labels),
    )


def render_odoo_conf(*, addons_path: Sequence[str], data_dir: str = DATA_DIR) -> str:
    return _ENV.get_template("odoo.conf.j2").render(addons_path=list(addons_path), data_dir=data_dir)


def addons_path_for(volumes: Sequence[str], addons_dir: str = ADDONS_DIR) -> list[str]:
    """Our addons first, then any addons VOLUME of the base (so mounted extra addons still load)."""
    return [addons_dir, *sorted(v.rstrip("/") for v in volumes if "addons" in v)]
