"""`build`: the Odoo image with the custom addons, pinned by digest, pushed blobs-first and tags-last.

Without Python requirements the addons layer is appended to the base manifest through the registry API
(daemonless, reproducible: same commit → same digest). With requirements the Docker Engine builds the rendered
Dockerfile and the resulting layers are pushed the same way.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from gitops.errors import ExternalError, UsageError
from gitops.image import docker_engine as engine
from gitops.image.assemble import ImagePlan, dump_json, image_config, plan_image
from gitops.image.dockerfile import (
    ADDONS_DIR,
    ODOO_CONF,
    DockerfileInputs,
    addons_path_for,
    render_dockerfile,
    render_odoo_conf,
)
from gitops.image.layer import ExtraFile, build_layer, compress_layer, module_entries
from gitops.image.modules import Module, module_facts, python_requirements
from gitops.image.reference import ImageRef, parse_image_ref, parse_repository
from gitops.image.registry import INDEX_TYPES, Manifest, RegistryClient
from gitops.image.versioning import SourceVersion, source_version

LABEL_PREFIX = "org.opencontainers.image"
MODULES_LABEL = "io.odoo-gitops.modules"
FLOATING_LABEL = "io.odoo-gitops.base.floating"
ADDONS_PATH_LABEL = "io.odoo-gitops.addons-path"
CREATED_BY = "odoo-gitops build: custom addons layer"


@dataclass(frozen=True, kw_only=True)
class BuildRequest:
    addons_dir: Path
    base: str
    repository: str
    push: bool = False
    allow_floating_base: bool = False
    platform: str = "linux/amd64"
    system_packages: tuple[str, ...] = ()
    timeout: float = 60.0


@dataclass(frozen=True, kw_only=True)
class BaseImage:
    ref: ImageRef  # repository@digest as pinned (or resolved) - may be an index digest
    manifest: Manifest  # the platform's image manifest
    config: dict[str, Any]
    floating: bool


@dataclass(frozen=True, kw_only=True)
class BuildResult:
    image: str
    digest: str
    repository: str
    tags: tuple[str, ...]
    version: str
    revision: str
    created: str
    labels: dict[str, str]
    modules: dict[str, dict[str, str]]
    base: dict[str, Any]
    method: str
    pushed: bool
    dirty: bool
    requirements: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "digest": self.digest,
            "repository": self.repository,
            "tags": list(self.tags),
            "version": self.version,
            "revision": self.revision,
            "created": self.created,
            "labels": self.labels,
            "modules": self.modules,
            "base": self.base,
            "method": self.method,
            "pushed": self.pushed,
            "dirty": self.dirty,
            "requirements": list(self.requirements),
        }


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ base image


def _platform_manifest(client: RegistryClient, repo: str, manifest: Manifest, platform: str) -> Manifest:
    if manifest.media_type not in INDEX_TYPES:
        return manifest
    os_name, _, arch = platform.partition("/")
    for entry in manifest.json().get("manifests", []):
        plat = entry.get("platform", {})
        if plat.get("os") == os_name and plat.get("architecture") == arch:
            return client.get_manifest(repo, entry["digest"])
    raise UsageError(
        f"base image {repo}@{manifest.digest} has no {platform} manifest", hint="pass --platform"
    )


def resolve_base(
    text: str, *, allow_floating: bool, platform: str, timeout: float
) -> tuple[BaseImage, RegistryClient]:
    ref = parse_image_ref(text, what="base image")
    if not ref.digest and not allow_floating:
        raise UsageError(
            f"base image {text!r} is not pinned by digest",
            hint="use IMAGE@sha256:<digest>, or --allow-floating-base (recorded in the image labels)",
        )
    client = RegistryClient.for_ref(ref, timeout=timeout)
    top = client.get_manifest(ref.path, ref.reference)
    manifest = _platform_manifest(client, ref.path, top, platform)
    config_digest = manifest.json()["config"]["digest"]
    config = json.loads(client.get_blob(ref.path, config_digest))
    pinned = ref.with_digest(top.digest)
    return BaseImage(ref=pinned, manifest=manifest, config=config, floating=not ref.digest), client


def check_volumes(config: dict[str, Any], addons_dir: str) -> list[str]:
    """The base's VOLUME paths; UsageError when our addons directory would sit inside one (hidden at run)."""
    volumes = sorted((config.get("config", {}).get("Volumes") or {}).keys())
    target = PurePosixPath(addons_dir)
    for volume in volumes:
        if target == PurePosixPath(volume) or PurePosixPath(volume) in target.parents:
            raise UsageError(f"addons directory {addons_dir} lies inside the base image's VOLUME {volume}")
    return volumes


# ------------------------------------------------------------------ labels


def make_labels(
    *, source: SourceVersion, base: BaseImage, base_text: str, modules: list[Module], addons_path: list[str]
) -> dict[str, str]:
    labels = {
        f"{LABEL_PREFIX}.source": source.source,
        f"{LABEL_PREFIX}.revision": source.revision,
        f"{LABEL_PREFIX}.version": source.version,
        f"{LABEL_PREFIX}.created": rfc3339(source.committed_at),
        f"{LABEL_PREFIX}.base.name": base.ref.repository,
        f"{LABEL_PREFIX}.base.digest": base.ref.digest or "",
        MODULES_LABEL: json.dumps(
            {m.name: m.record() for m in modules}, sort_keys=True, separators=(",", ":")
        ),
        ADDONS_PATH_LABEL: ",".join(addons_path),
    }
    if base.floating:
        labels[FLOATING_LABEL] = base_text
    return labels


# ------------------------------------------------------------------ the two build paths


def _daemonless(base: BaseImage, inputs: _Inputs) -> ImagePlan:
    source, labels = inputs.source, inputs.labels
    layer = build_layer(
        modules=[(m.name, m.path) for m in inputs.modules],
        target_dir=ADDONS_DIR,
        extra_files=[ExtraFile(ODOO_CONF, inputs.conf)],
        mtime=source.epoch,
        tree=inputs.addons_dir,
    )
    created = rfc3339(source.committed_at)
    config = image_config(base.config, layers=[layer], labels=labels, created=created, created_by=CREATED_BY)
    manifest = base.manifest.json()
    return plan_image(
        base_manifest=manifest,
        media_type=base.manifest.media_type,
        config=dump_json(config),
        new_layers=[layer],
    )


def _copy_module(module: Module, destination: Path, tree: Path) -> None:
    """The same entries as the daemonless layer (links confined to the addons tree), written to disk."""
    for entry in module_entries(module.path, tree=tree):
        path = destination / entry.relpath if entry.relpath else destination
        if entry.kind == tarfile.DIRTYPE:
            path.mkdir()
        elif entry.kind == tarfile.SYMTYPE:
            path.symlink_to(entry.linkname)
        elif entry.source is not None:
            shutil.copyfile(entry.source, path)
            path.chmod(entry.mode)


def _write_context(
    context: Path,
    *,
    modules: list[Module],
    tree: Path,
    conf: bytes,
    dockerfile: str,
    requirements: tuple[str, ...],
) -> None:
    (context / "addons").mkdir()
    for module in modules:
        _copy_module(module, context / "addons" / module.name, tree)
    (context / "odoo.conf").write_bytes(conf)
    (context / "requirements.txt").write_text("".join(f"{r}\n" for r in requirements))
    (context / "Dockerfile").write_text(dockerfile)


def _engine_build(base: BaseImage, *, context: Path, tag: str, timeout: float) -> ImagePlan:
    with engine.engine(timeout) as client:
        image_id = engine.build_image(client, context, tag=tag, timeout=max(timeout, 1800))
        saved = engine.save_image(client, image_id)
    base_ids = base.config.get("rootfs", {}).get("diff_ids", [])
    config = json.loads(saved.config)
    if config.get("rootfs", {}).get("diff_ids", [])[: len(base_ids)] != base_ids:
        raise ExternalError("the engine's image does not start with the base image's layers")
    extra = [compress_layer(data) for data in saved.layers[len(base_ids) :]]
    return plan_image(
        base_manifest=base.manifest.json(),
        media_type=base.manifest.media_type,
        config=saved.config,
        new_layers=extra,
    )


# ------------------------------------------------------------------ push


def push_image(
    *,
    plan: ImagePlan,
    target: RegistryClient,
    repo: str,
    base: BaseImage,
    base_client: RegistryClient,
    tags: tuple[str, ...],
) -> None:
    """Blobs, then the manifest by digest, then the tags: a failure before the end leaves no tag behind."""
    for digest in plan.reused_layers:
        target.copy_blob(base_client, base.ref.path, repo, digest)
    for layer in plan.new_layers:
        target.push_blob(repo, layer.blob)
    target.push_blob(repo, plan.config)
    target.put_manifest(repo, plan.digest, plan.manifest, plan.media_type)
    for tag in tags:
        target.put_manifest(repo, tag, plan.manifest, plan.media_type)


@dataclass(frozen=True, kw_only=True)
class _Inputs:
    """What both build paths start from: the checked-out addons, their facts and the resolved base."""

    addons_dir: Path
    source: SourceVersion
    modules: list[Module]
    requirements: tuple[str, ...]
    base: BaseImage
    conf: bytes
    labels: dict[str, str]


def _gather(request: BuildRequest) -> tuple[_Inputs, RegistryClient]:
    addons_dir = request.addons_dir.resolve()
    if not addons_dir.is_dir():
        raise UsageError(f"addons directory {request.addons_dir} does not exist")
    source = source_version(addons_dir)
    modules = module_facts(addons_dir)
    if not modules:
        raise UsageError(f"no addon (a directory with __manifest__.py) found in {addons_dir}")
    base, base_client = resolve_base(
        request.base,
        allow_floating=request.allow_floating_base,
        platform=request.platform,
        timeout=request.timeout,
    )
    addons_path = addons_path_for(check_volumes(base.config, ADDONS_DIR))
    labels = make_labels(
        source=source, base=base, base_text=request.base, modules=modules, addons_path=addons_path
    )
    inputs = _Inputs(
        addons_dir=addons_dir,
        source=source,
        modules=modules,
        requirements=python_requirements(addons_dir, modules),
        base=base,
        conf=render_odoo_conf(addons_path=addons_path).encode(),
        labels=labels,
    )
    return inputs, base_client


def _plan_with_engine(inputs: _Inputs, request: BuildRequest) -> ImagePlan:
    dockerfile = render_dockerfile(
        DockerfileInputs(
            base=inputs.base.ref.pinned,
            user=inputs.base.config.get("config", {}).get("User") or None,
            requirements=inputs.requirements,
            system_packages=request.system_packages,
            labels=inputs.labels,
        )
    )
    with tempfile.TemporaryDirectory(prefix="odoo-gitops-build-") as tmp:
        context = Path(tmp)
        _write_context(
            context,
            modules=inputs.modules,
            tree=inputs.addons_dir,
            conf=inputs.conf,
            dockerfile=dockerfile,
            requirements=inputs.requirements,
        )
        tag = f"odoo-gitops-build:{inputs.source.short}"
        return _engine_build(inputs.base, context=context, tag=tag, timeout=request.timeout)


def build(request: BuildRequest) -> BuildResult:
    """Build (and with `push`, push) the image; the digest is the same whether pushed or not."""
    target_ref = parse_repository(request.repository)
    inputs, base_client = _gather(request)
    source, base = inputs.source, inputs.base
    needs_engine = bool(inputs.requirements or request.system_packages)
    plan = _plan_with_engine(inputs, request) if needs_engine else _daemonless(base, inputs)
    tags = source.tags()
    if request.push:
        target = RegistryClient.for_ref(target_ref, timeout=request.timeout)
        push_image(
            plan=plan, target=target, repo=target_ref.path, base=base, base_client=base_client, tags=tags
        )
    return BuildResult(
        image=f"{target_ref.repository}@{plan.digest}",
        digest=plan.digest,
        repository=target_ref.repository,
        tags=tags,
        version=source.version,
        revision=source.revision,
        created=rfc3339(source.committed_at),
        labels=inputs.labels,
        modules={m.name: m.record() for m in inputs.modules},
        base={"name": base.ref.repository, "digest": base.ref.pinned_digest, "floating": base.floating},
        method="engine" if needs_engine else "daemonless",
        pushed=request.push,
        dirty=source.dirty,
        requirements=inputs.requirements,
    )
