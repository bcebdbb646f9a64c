"""Load a whole config repository, collecting every problem before raising one ConfigError."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from gitops.config.calendars.calendar import Calendar, parse_calendar
from gitops.config.files import DirectoryFiles, Files
from gitops.config.models import REST, EnvConfig, Pipeline, ReleaseRecord
from gitops.config.validation import validate
from gitops.config.yamlsafe import Document, read_yaml
from gitops.errors import ConfigError, Problem, UsageError

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
    files: Files  # what the config was read from (a directory, or a git tree in memory)
    pipeline_docs: dict[str, Document] = field(default_factory=dict)  # by pipeline name: for file:line

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


@dataclass
class _Loader:
    """One load: where the files are, and every problem found so far."""

    root: Path
    files: Files
    problems: list[Problem] = field(default_factory=list)

    def yaml(self, rel: str) -> Document | None:
        try:
            return read_yaml(lambda: self.files.read(rel), rel)
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return None

    def model(self, rel: str, model: type[M]) -> tuple[M | None, Document | None]:
        doc = self.yaml(rel)
        if doc is None:
            return None, None
        if not isinstance(doc.data, dict):
            message = f"expected a mapping of keys ({model.__name__}), got {type(doc.data).__name__}"
            self.problems.append(Problem(doc.file, 1, message))
            return None, doc
        return validate(model, doc, self.problems), doc

    def mapping(self, rel: str) -> Document | None:
        doc = self.yaml(rel)
        if doc is not None and doc.data is not None and not isinstance(doc.data, dict):
            self.problems.append(Problem(doc.file, 1, "expected a mapping of Helm values"))
            return None
        if doc is not None and doc.data is None:
            return Document(doc.file, {}, doc.lines)
        return doc

    def env(self, name: str) -> EnvBundle | None:
        base = f"envs/{name}"
        config, doc = self.model(f"{base}/env.yaml", EnvConfig)
        if config is None or doc is None:
            return None
        if config.name != name:
            self.problems.append(
                doc.problem(("name",), f"name {config.name!r} does not match its directory envs/{name}")
            )
        release = None
        if self.files.kind(f"{base}/release.yaml") is not None:
            release, _ = self.model(f"{base}/release.yaml", ReleaseRecord)
        values = self.mapping(f"{base}/values.yaml")
        tenants = self.tenants(base, config, doc)
        if config.signing:
            self.public_key(config.signing.public_key, doc)
        if values is None:
            return None
        return EnvBundle(name, self.root / "envs" / name, config, release, values, doc, tenants)

    def public_key(self, path: str, doc: Document) -> None:
        """The key must be a file of the config repo itself: a symbolic link could point anywhere."""
        if self.files.is_link(path):
            message = f"public key {path!r} is a symbolic link (or under one); name the key file itself"
        elif self.files.kind(path) != "file":
            message = f"public key file {path!r} not found in the config repo"
        else:
            return
        self.problems.append(doc.problem(("signing", "public_key"), message))

    def tenants(self, base: str, config: EnvConfig, doc: Document) -> dict[str, Document]:
        tenants: dict[str, Document] = {}
        folder = f"{base}/tenants"
        files = {n for n in self.files.names(folder) if n.endswith(".yaml")}  # one listing, no stat each
        for tenant in config.tenants:
            rel = f"{folder}/{tenant}.yaml"
            if f"{tenant}.yaml" not in files:
                self.problems.append(doc.problem(("tenants", tenant), f"tenant {tenant!r} has no file {rel}"))
                continue
            tenant_doc = self.mapping(rel)
            if tenant_doc is not None:
                tenants[tenant] = tenant_doc
        for name in sorted(files):
            stem = name.removesuffix(".yaml")
            if stem not in config.tenants:
                message = f"tenant file for {stem!r}, which {doc.file} does not list under 'tenants'"
                self.problems.append(Problem(f"{folder}/{name}", 1, message))
        return tenants

    def calendar(self, name: str) -> Calendar | None:
        doc = self.yaml(f"calendars/{name}.yaml")
        if doc is None:
            return None
        try:
            return parse_calendar(doc, name)
        except ConfigError as exc:
            self.problems.extend(exc.problems)
            return None

    def env_names(self) -> list[str]:
        if self.files.kind("envs") != "dir":
            self.problems.append(Problem("envs", 0, "directory not found; is this a config repository?"))
            return []
        names = []
        for name in self.files.names("envs"):
            if self.files.kind(f"envs/{name}") == "dir" and not name.startswith("."):
                if self.files.kind(f"envs/{name}/env.yaml") is not None:
                    names.append(name)
                else:
                    self.problems.append(Problem(f"envs/{name}/env.yaml", 0, "file not found"))
        return names

    def cross_check(
        self, envs: dict[str, EnvBundle], pipelines: dict[str, tuple[Pipeline, Document]]
    ) -> None:
        for pipeline, doc in pipelines.values():
            for index, stage in enumerate(pipeline.stages):
                if stage.env not in envs and self.files.kind(f"envs/{stage.env}/env.yaml") is not None:
                    continue  # the env exists but is invalid: its own problems are reported
                if stage.env not in envs:
                    self.problems.append(
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
                            self.problems.append(
                                doc.problem(
                                    ("stages", index, "waves", w, "tenants"),
                                    f"wave {wave.name!r} names tenant {tenant!r}, which "
                                    f"envs/{stage.env}/env.yaml does not list",
                                )
                            )

    def load(self) -> ConfigRepo:
        envs = {name: b for name in self.env_names() if (b := self.env(name))}
        pipelines: dict[str, tuple[Pipeline, Document]] = {}
        for name in self.files.names("pipelines"):
            if name.endswith(".yaml"):
                pipeline, doc = self.model(f"pipelines/{name}", Pipeline)
                if pipeline and doc:
                    pipelines[pipeline.name] = (pipeline, doc)
        exists = {
            name: bool(_FILE_NAME_RE.fullmatch(name)) and self.files.kind(f"calendars/{name}.yaml") == "file"
            for bundle in envs.values()
            for name in bundle.config.calendars
        }
        for bundle in envs.values():
            for i, name in enumerate(bundle.config.calendars):
                if not exists[name]:
                    self.problems.append(
                        bundle.doc.problem(
                            ("calendars", i), f"calendar {name!r} not found: expected calendars/{name}.yaml"
                        )
                    )
        calendars = {n: c for n in sorted(exists) if exists[n] and (c := self.calendar(n)) is not None}
        self.cross_check(envs, pipelines)
        if self.problems:
            raise ConfigError(self.problems, hint="fix the files named above; every problem is listed")
        pipelines_by_name = {n: p for n, (p, _) in pipelines.items()}
        docs = {n: doc for n, (_, doc) in pipelines.items()}
        return ConfigRepo(self.root, envs, pipelines_by_name, calendars, self.files, docs)


def load_config(root: Path | str, files: Files | None = None) -> ConfigRepo:
    """Load and validate every file of the config repo at `root` (read from `files` when given, e.g. a git
    tree in memory; else from the directory). Raises ConfigError with all problems."""
    root = Path(root).resolve()
    if files is None:
        if not root.is_dir():
            raise UsageError(f"config repository {root} is not a directory")
        files = DirectoryFiles(root)
    return _Loader(root, files).load()
