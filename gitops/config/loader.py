"""Load a whole config repository, collecting every problem before raising one ConfigError."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from gitops.config.models import REST, EnvConfig, Pipeline, ReleaseRecord
from gitops.config.validation import validate
from gitops.config.yamlsafe import Document, load_yaml
from gitops.errors import ConfigError, Problem, UsageError
from gitops.windows.calendar import Calendar, parse_calendar

M = TypeVar("M", bound=BaseModel)
_FILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class EnvBundle:
    """Everything the config repo says about one environment."""

    name: str
    dir: Path
    config: EnvConfig
    release: ReleaseRecord | None
    values: Document
    doc: Document
    tenant_values: dict[str, Document] = field(default_factory=dict)

    @property
    def release_path(self) -> Path:
        return self.dir / "release.yaml"

    @property
    def values_path(self) -> Path:
        return self.dir / "values.yaml"

    def tenant_path(self, tenant: str) -> Path:
        return self.dir / "tenants" / f"{tenant}.yaml"


@dataclass(frozen=True)
class ConfigRepo:
    root: Path
    envs: dict[str, EnvBundle]
    pipelines: dict[str, Pipeline]
    calendars: dict[str, Calendar]

    def env(self, name: str) -> EnvBundle:
        if name not in self.envs:
            known = ", ".join(sorted(self.envs)) or "none"
            raise UsageError(
                f"unknown environment {name!r} (known: {known})",
                hint=f"create envs/{name}/env.yaml in {self.root}",
            )
        return self.envs[name]

    def pipeline_for(self, env: str) -> Pipeline:
        for pipeline in self.pipelines.values():
            if pipeline.index_of(env) is not None:
                return pipeline
        raise UsageError(f"environment {env!r} is in no pipeline under {self.root / 'pipelines'}")


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _load(root: Path, path: Path, problems: list[Problem]) -> Document | None:
    try:
        return load_yaml(path, display=_rel(root, path))
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


def _model(
    root: Path, path: Path, model: type[M], problems: list[Problem]
) -> tuple[M | None, Document | None]:
    doc = _load(root, path, problems)
    if doc is None:
        return None, None
    if not isinstance(doc.data, dict):
        problems.append(
            Problem(
                doc.file, 1, f"expected a mapping of keys ({model.__name__}), got {type(doc.data).__name__}"
            )
        )
        return None, doc
    return validate(model, doc, problems), doc


def _mapping_doc(root: Path, path: Path, problems: list[Problem]) -> Document | None:
    doc = _load(root, path, problems)
    if doc is not None and doc.data is not None and not isinstance(doc.data, dict):
        problems.append(Problem(doc.file, 1, "expected a mapping of Helm values"))
        return None
    if doc is not None and doc.data is None:
        return Document(doc.file, {}, doc.lines)
    return doc


def _load_env(root: Path, env_dir: Path, problems: list[Problem]) -> EnvBundle | None:
    config, doc = _model(root, env_dir / "env.yaml", EnvConfig, problems)
    if config is None or doc is None:
        return None
    if config.name != env_dir.name:
        problems.append(
            doc.problem(("name",), f"name {config.name!r} does not match its directory envs/{env_dir.name}")
        )
    release = None
    if (env_dir / "release.yaml").exists():
        release, _ = _model(root, env_dir / "release.yaml", ReleaseRecord, problems)
    values = _mapping_doc(root, env_dir / "values.yaml", problems)
    tenants = _load_tenants(root, env_dir, config, doc, problems)
    _check_signing(root, config, doc, problems)
    if values is None:
        return None
    return EnvBundle(env_dir.name, env_dir, config, release, values, doc, tenants)


def _load_tenants(
    root: Path, env_dir: Path, config: EnvConfig, doc: Document, problems: list[Problem]
) -> dict[str, Document]:
    tenants: dict[str, Document] = {}
    tenant_dir = env_dir / "tenants"
    shown = _rel(root, tenant_dir)
    try:  # one directory listing instead of a stat per tenant (environments with hundreds of tenants)
        files = {entry.name for entry in os.scandir(tenant_dir) if entry.name.endswith(".yaml")}
    except (FileNotFoundError, NotADirectoryError):
        files = set()
    for tenant in config.tenants:
        if f"{tenant}.yaml" not in files:
            problems.append(
                doc.problem(("tenants", tenant), f"tenant {tenant!r} has no file {shown}/{tenant}.yaml")
            )
            continue
        tenant_doc = _mapping_doc(root, tenant_dir / f"{tenant}.yaml", problems)
        if tenant_doc is not None:
            tenants[tenant] = tenant_doc
    for name in sorted(files):
        stem = name.removesuffix(".yaml")
        if stem not in config.tenants:
            message = f"tenant file for {stem!r}, which {doc.file} does not list under 'tenants'"
            problems.append(Problem(f"{shown}/{name}", 1, message))
    return tenants


def _check_signing(root: Path, config: EnvConfig, doc: Document, problems: list[Problem]) -> None:
    if config.signing and not (root / config.signing.public_key).is_file():
        problems.append(
            doc.problem(
                ("signing", "public_key"),
                f"public key file {config.signing.public_key!r} not found in the config repo",
            )
        )


def _load_calendar(root: Path, name: str, problems: list[Problem]) -> Calendar | None:
    doc = _load(root, root / "calendars" / f"{name}.yaml", problems)
    if doc is None:
        return None
    try:
        return parse_calendar(doc, name)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


def _cross_check(
    root: Path,
    envs: dict[str, EnvBundle],
    pipelines: dict[str, tuple[Pipeline, Document]],
    problems: list[Problem],
) -> None:
    for pipeline, doc in pipelines.values():
        for index, stage in enumerate(pipeline.stages):
            if stage.env not in envs and (root / "envs" / stage.env / "env.yaml").exists():
                continue  # the env exists but is invalid: its own problems are reported
            if stage.env not in envs:
                problems.append(
                    doc.problem(
                        ("stages", index, "env"),
                        f"stage {index + 1} names environment {stage.env!r}, but "
                        f"envs/{stage.env}/env.yaml does not exist",
                    )
                )
                continue
            known = set(envs[stage.env].config.tenants)
            for w, wave in enumerate(stage.waves):
                for tenant in wave.tenants:
                    if tenant != REST and tenant not in known:
                        problems.append(
                            doc.problem(
                                ("stages", index, "waves", w, "tenants"),
                                f"wave {wave.name!r} names tenant {tenant!r}, which "
                                f"envs/{stage.env}/env.yaml does not list",
                            )
                        )


def _env_dirs(root: Path, problems: list[Problem]) -> list[Path]:
    envs_dir = root / "envs"
    if not envs_dir.is_dir():
        problems.append(Problem(_rel(root, envs_dir), 0, "directory not found; is this a config repository?"))
        return []
    dirs = []
    for child in sorted(envs_dir.iterdir()):
        if child.is_dir() and not child.name.startswith("."):
            if (child / "env.yaml").exists():
                dirs.append(child)
            else:
                problems.append(Problem(_rel(root, child / "env.yaml"), 0, "file not found"))
    return dirs


def load_config(root: Path | str) -> ConfigRepo:
    """Load and validate every file of the config repo at `root`. Raises ConfigError with all problems."""
    root = Path(root).resolve()
    if not root.is_dir():
        raise UsageError(f"config repository {root} is not a directory")
    problems: list[Problem] = []
    envs = {d.name: b for d in _env_dirs(root, problems) if (b := _load_env(root, d, problems))}
    pipelines: dict[str, tuple[Pipeline, Document]] = {}
    for path in sorted((root / "pipelines").glob("*.yaml")):
        pipeline, doc = _model(root, path, Pipeline, problems)
        if pipeline and doc:
            pipelines[pipeline.name] = (pipeline, doc)
    calendar_names = sorted({c for b in envs.values() for c in b.config.calendars})
    calendars: dict[str, Calendar] = {}
    for bundle in envs.values():
        for i, name in enumerate(bundle.config.calendars):
            if not _FILE_NAME_RE.match(name) or not (root / "calendars" / f"{name}.yaml").is_file():
                problems.append(
                    bundle.doc.problem(
                        ("calendars", i), f"calendar {name!r} not found: expected calendars/{name}.yaml"
                    )
                )
    for name in calendar_names:
        if _FILE_NAME_RE.match(name) and (root / "calendars" / f"{name}.yaml").is_file():
            calendar = _load_calendar(root, name, problems)
            if calendar is not None:
                calendars[name] = calendar
    _cross_check(root, envs, pipelines, problems)
    if problems:
        raise ConfigError(problems, hint="fix the files named above; every problem is listed")
    return ConfigRepo(root, envs, {n: p for n, (p, _) in pipelines.items()}, calendars)
