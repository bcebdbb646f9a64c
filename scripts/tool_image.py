"""Ship odoo-gitops like the releases it governs: wheel and sdist, the tool's own container image, its
cosign signature, a CycloneDX SBOM and a SLSA provenance attestation, and a scan. Each step is done by
odoo-gitops's own code (registry client, `sign`, attestations, `scan`) or a real generator (trivy, the SBOM).

    python scripts/tool_image.py base ROOTFS_TAR --repository HOST/REPO
        → imports a root filesystem (scripts/tool-base.sh) as the base image, pushes it; prints REPO@DIGEST
    python scripts/tool_image.py release --base REPO@sha256:… --repository HOST/REPO --key cosign.key
            [--version X.Y.Z] [--out DIR] [--scan-policy FILE]
        → prints one JSON document: version, wheel, sdist, image (pinned), sbom, scan verdict

The version comes from the `vX.Y.Z` tag on HEAD (or --version); the wheel and sdist are built with PyPI
`build` from the tracked files with that version written into pyproject.toml and gitops/__init__.py, file
times and SOURCE_DATE_EPOCH set to the commit time. The image is built on the Docker Engine from
tool-image/Dockerfile on top of the pinned base, then the layer it adds is re-packed deterministically
(sorted entries, times clamped to the commit time, no build-host details in the config), so the same inputs
give the same digest.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitops import __version__ as tool_version  # noqa: E402
from gitops.errors import GitopsError, UsageError  # noqa: E402
from gitops.image import docker_engine as engine  # noqa: E402
from gitops.image.assemble import plan_image  # noqa: E402
from gitops.image.build import BaseImage, push_image, resolve_base  # noqa: E402
from gitops.image.layer import compress_layer  # noqa: E402
from gitops.image.reference import parse_image_ref  # noqa: E402
from gitops.image.registry import RegistryClient  # noqa: E402
from gitops.supply import attest, keys  # noqa: E402
from gitops.supply.trivy import OFFLINE_FLAGS, TrivyOptions, cache_dir, trivy_binary  # noqa: E402

CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom"
BUILD_TYPE = "https://github.com/odoo-gitops/odoo-gitops/tool-image/v1"
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+([.-]?(a|b|rc|dev|post)\d+)?$")


def say(text: str) -> None:
    print(f"tool-image: {text}", file=sys.stderr, flush=True)


def sh(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise GitopsError(
            f"`{' '.join(str(a) for a in args)}` exited {proc.returncode}: {proc.stderr[-2000:]}"
        )
    return proc.stdout.strip()


# ------------------------------------------------------------------ version and Python distributions


def release_version(explicit: str | None) -> str:
    if explicit:
        version = explicit.removeprefix("v")
    else:
        try:
            version = sh(
                "git", "describe", "--tags", "--exact-match", "--match", "v[0-9]*", "HEAD"
            ).removeprefix("v")
        except GitopsError:
            raise UsageError(
                "HEAD has no vX.Y.Z tag", hint="tag the release commit, or pass --version"
            ) from None
    if not VERSION_RE.match(version):
        raise UsageError(f"release version {version!r} is not X.Y.Z (optionally with a pre/post/dev suffix)")
    return version


def export_source(dest: Path, version: str) -> int:
    """Tracked files as they are in the working tree, with `version` written in; returns the commit time."""
    for name in sh("git", "ls-files").splitlines():
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    _set_version(dest / "pyproject.toml", r'(?m)^version = "[^"]*"$', f'version = "{version}"')
    _set_version(
        dest / "gitops" / "__init__.py", r'(?m)^__version__ = "[^"]*"$', f'__version__ = "{version}"'
    )
    return int(sh("git", "log", "-1", "--format=%ct", "HEAD"))


def _set_version(path: Path, pattern: str, replacement: str) -> None:
    text, count = re.subn(pattern, replacement, path.read_text())
    if count != 1:
        raise GitopsError(f"{path}: expected one version line matching {pattern}")
    path.write_text(text)


def build_distributions(source: Path, out: Path, epoch: int) -> tuple[Path, Path]:
    say("building the wheel and the sdist (PyPI `build`, ~30 s)")
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
    sh(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", out, source, env=env)
    sdist = next(out.glob("odoo_gitops-*.tar.gz"))
    # setuptools stamps the gzip header and its generated files (PKG-INFO, setup.cfg) with the current time
    sdist.write_bytes(gzip.compress(_normalise_layer(gzip.decompress(sdist.read_bytes()), epoch), mtime=0))
    return next(out.glob("odoo_gitops-*.whl")), sdist


def collect_wheels(wheel: Path, dest: Path) -> None:
    say("collecting the wheels of its dependencies (pip, from the index or its cache)")
    shutil.copy2(wheel, dest / wheel.name)
    sh(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--disable-pip-version-check",
        "--wheel-dir",
        dest,
        wheel,
    )


# ------------------------------------------------------------------ image


def import_base(rootfs: Path, repository: str) -> str:
    """`docker import` a root filesystem, push it, drop the engine's copy; returns REPO@DIGEST."""
    tag = f"{repository}:base-{datetime.now(UTC):%Y%m%d%H%M%S}"
    path = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    sh("docker", "import", "--change", path, rootfs, tag)
    try:
        out = sh("docker", "push", tag)
    finally:
        sh("docker", "rmi", tag)
    digest = re.search(r"digest: (sha256:[0-9a-f]{64})", out)
    if not digest:
        raise GitopsError(f"docker push printed no digest: {out[-500:]}")
    return f"{repository}@{digest.group(1)}"


def _normalise_layer(data: bytes, epoch: int) -> bytes:
    """The same files, in name order, owned by root, times clamped to `epoch`: reproducible bytes."""
    with tarfile.open(fileobj=io.BytesIO(data)) as src:
        members = sorted(src.getmembers(), key=lambda m: m.name)
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as out:
            for member in members:
                member.mtime = min(int(member.mtime), epoch)
                member.uid = member.gid = 0
                member.uname = member.gname = ""
                member.pax_headers = {
                    k: v for k, v in member.pax_headers.items() if k.startswith("SCHILY.xattr")
                }
                out.addfile(member, src.extractfile(member) if member.isreg() else None)
    return raw.getvalue()


def _normalise_config(
    config: dict[str, Any], diff_ids: list[str], epoch: int, labels: dict[str, str]
) -> bytes:
    stamp = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for key in ("container", "container_config", "docker_version", "id", "parent"):
        config.pop(key, None)
    config["created"] = stamp
    config["rootfs"]["diff_ids"] = diff_ids
    for entry in config.get("history", []):
        entry["created"] = stamp
    # Image: the classic builder's id of the previous step, different every build
    config["config"] = {**config.get("config", {}), "Hostname": "", "Image": "", "Labels": labels}
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def build_image(
    base: BaseImage, context: Path, epoch: int, labels: dict[str, str]
) -> tuple[bytes, list[Any]]:
    """docker build on the engine, `docker save`, the added layers re-packed; the engine's copies removed."""
    say("building the image on the Docker Engine (pip install from the wheels, ~1-3 min)")
    with engine.engine(1800) as client:
        image_id = client.images.build(
            path=str(context),
            buildargs={"BASE": base.ref.pinned},
            rm=True,
            forcerm=True,
            pull=True,
            timeout=1800,
        )[0].id
        try:
            saved = engine.save_image(client, image_id)
        finally:
            client.images.remove(image_id, force=True)
            with contextlib.suppress(Exception):  # the engine's copy of the base, pulled for the build
                client.images.remove(base.ref.pinned)
    base_ids = list(base.config["rootfs"]["diff_ids"])
    config = json.loads(saved.config)
    if config["rootfs"]["diff_ids"][: len(base_ids)] != base_ids:
        raise GitopsError("the engine's image does not start with the base image's layers")
    layers = [compress_layer(_normalise_layer(data, epoch)) for data in saved.layers[len(base_ids) :]]
    return _normalise_config(config, base_ids + [layer.diff_id for layer in layers], epoch, labels), layers


def push(
    base: BaseImage,
    base_client: RegistryClient,
    repository: str,
    version: str,
    built: tuple[bytes, list[Any]],
):
    config, layers = built
    plan = plan_image(
        base_manifest=base.manifest.json(),
        media_type=base.manifest.media_type,
        config=config,
        new_layers=layers,
    )
    ref = parse_image_ref(f"{repository}:{version}")
    target = RegistryClient.for_ref(ref)
    push_image(plan=plan, target=target, repo=ref.path, base=base, base_client=base_client, tags=(version,))
    return parse_image_ref(f"{repository}@{plan.digest}"), target


# ------------------------------------------------------------------ evidence


def odoo_gitops(*args: str | Path) -> str:
    return sh(sys.executable, "-m", "gitops", *args)


def sbom(image: str, out: Path) -> dict[str, Any]:
    say("generating the CycloneDX SBOM (trivy --format cyclonedx)")
    ref = parse_image_ref(image)
    args: list[str | Path] = [
        trivy_binary(),
        "image",
        "--format",
        "cyclonedx",
        "--quiet",
        "--image-src",
        "remote",
    ]
    args += [*OFFLINE_FLAGS, "--cache-dir", cache_dir(TrivyOptions()), "--output", out]
    if ref.default_scheme == "http":
        args.append("--insecure")
    sh(*args, ref.pinned)
    return dict(json.loads(out.read_text()))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def provenance(
    image: str, base: str, *, version: str, commit: str, wheel: Path, sdist: Path, started: str
) -> dict[str, Any]:
    base_repo, base_digest = base.split("@", 1)[0], base.rsplit(":", 1)[-1]
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {"version": version, "revision": commit, "base": base},
            "internalParameters": {"dockerfile": "tool-image/Dockerfile"},
            "resolvedDependencies": [
                {"uri": "git+https://github.com/odoo-gitops/odoo-gitops", "digest": {"gitCommit": commit}},
                {"uri": f"oci://{base_repo}", "digest": {"sha256": base_digest}},
                {"uri": f"file:{wheel.name}", "digest": {"sha256": _sha256(wheel)}},
                {"uri": f"file:{sdist.name}", "digest": {"sha256": _sha256(sdist)}},
            ],
        },
        "runDetails": {
            "builder": {
                "id": f"https://github.com/odoo-gitops/odoo-gitops/scripts/tool_image.py@{tool_version}"
            },
            "metadata": {
                "invocationId": image,
                "startedOn": started,
                "finishedOn": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        },
    }


def release(args: argparse.Namespace) -> dict[str, Any]:
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    version = release_version(args.version)
    commit = sh("git", "rev-parse", "HEAD")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    base, base_client = resolve_base(args.base, allow_floating=False, platform="linux/amd64", timeout=60)
    with tempfile.TemporaryDirectory(prefix="odoo-gitops-tool-image-") as tmp:
        source, context = Path(tmp) / "src", Path(tmp) / "context"
        source.mkdir()
        (context / "wheels").mkdir(parents=True)
        epoch = export_source(source, version)
        wheel, sdist = build_distributions(source, out, epoch)
        collect_wheels(wheel, context / "wheels")
        shutil.copy2(ROOT / "tool-image" / "Dockerfile", context / "Dockerfile")
        labels = {
            "org.opencontainers.image.title": "odoo-gitops",
            "org.opencontainers.image.version": version,
            "org.opencontainers.image.revision": commit,
            "org.opencontainers.image.base.name": base.ref.repository,
            "org.opencontainers.image.base.digest": base.ref.pinned_digest,
            "org.opencontainers.image.licenses": "Apache-2.0",
        }
        built = build_image(base, context, epoch, labels)
    image, client = push(base, base_client, args.repository, version, built)
    say(f"pushed {image.pinned}; signing it with `odoo-gitops sign`")
    odoo_gitops("sign", image.pinned, "--key", args.key)
    key = keys.load_private_key(args.key)
    bom = sbom(image.pinned, out / "sbom.cdx.json")
    attest.attach(client, image, CYCLONEDX_PREDICATE, bom, key)
    predicate = provenance(
        image.pinned,
        base.ref.pinned,
        version=version,
        commit=commit,
        wheel=wheel,
        sdist=sdist,
        started=started,
    )
    attest.attach(client, image, attest.SLSA_PREDICATE, predicate, key)
    (out / "provenance.json").write_text(json.dumps(predicate, indent=2, sort_keys=True) + "\n")
    say("scanning it with `odoo-gitops scan` (SARIF next to the SBOM, passing result attested)")
    scan_args: list[str | Path] = [
        "scan",
        image.pinned,
        "--sarif",
        out / "scan.sarif",
        "--attest",
        "--key",
        args.key,
    ]
    if args.scan_policy:
        scan_args += ["--policy", args.scan_policy]
    scan = subprocess.run(  # noqa: PLW1510 (exit 3 is a verdict, read below)
        [sys.executable, "-m", "gitops", *map(str, scan_args), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    verdict = json.loads(scan.stdout) if scan.stdout.strip() else {}
    if scan.returncode not in (0, 3):
        raise GitopsError(f"odoo-gitops scan exited {scan.returncode}: {scan.stderr[-2000:]}")
    return {
        "version": version,
        "revision": commit,
        "wheel": str(wheel),
        "sdist": str(sdist),
        "image": image.pinned,
        "digest": image.pinned_digest,
        "base": base.ref.pinned,
        "sbom": str(out / "sbom.cdx.json"),
        "sbom_components": len(bom.get("components", [])),
        "provenance": str(out / "provenance.json"),
        "scan": {
            "passed": scan.returncode == 0,
            "exit": scan.returncode,
            "reasons": verdict.get("reasons", []),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    base = verbs.add_parser("base", help="import a root filesystem as the pinned base image")
    base.add_argument("rootfs", type=Path)
    base.add_argument("--repository", required=True)
    rel = verbs.add_parser("release", help="wheel, sdist, image, signature, SBOM, provenance, scan")
    rel.add_argument("--base", required=True, help="the base image, pinned by digest")
    rel.add_argument("--repository", required=True, help="where the image goes: HOST/REPO")
    rel.add_argument("--key", required=True, type=Path, help="cosign private key (COSIGN_PASSWORD)")
    rel.add_argument("--version", help="X.Y.Z (default: the vX.Y.Z tag on HEAD)")
    rel.add_argument("--out", type=Path, default=ROOT / "dist")
    rel.add_argument(
        "--scan-policy", type=Path, help="scan policy file (default: odoo-gitops's default policy)"
    )
    args = parser.parse_args(argv)
    try:
        if args.verb == "base":
            print(import_base(args.rootfs, args.repository))
            return 0
        result = release(args)
    except GitopsError as exc:
        print(f"tool-image: {exc.render()}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0 if result["scan"]["passed"] else 3


if __name__ == "__main__":
    raise SystemExit(main())
