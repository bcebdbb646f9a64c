"""Set-up the demo needs and a real deployment gets elsewhere: a local OCI registry, an Odoo base image in it,
and an offline trivy database (these machines cannot download trivy's database).

    python scripts/demo_support.py registry DIR      → starts docker-registry on a free port; prints host, pid
                                                        (DIR/registry.pid; it keeps running after this exits)
    python scripts/demo_support.py stop-registry DIR → stops the registry DIR/registry.pid names, if running
    python scripts/demo_support.py base-image HOST   → pushes a minimal Odoo base image; prints repo@digest
    python scripts/demo_support.py trivy-cache DIR   → writes an empty offline vulnerability DB into DIR

The base image is pushed through the registry API, so no Docker Engine is needed for it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from gitops.image.registry import RegistryClient  # noqa: E402
from tests.fixtures.registry import free_port  # noqa: E402

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OS_RELEASE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n'


def start_registry(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = directory / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {directory / 'storage'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    log = (directory / "registry.log").open("wb")
    process = subprocess.Popen(
        ["docker-registry", "serve", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            if requests.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code == 200:
                (directory / "registry.pid").write_text(f"{process.pid}\n")
                print(f"127.0.0.1:{port} {process.pid}")
                return
        except requests.RequestException:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"docker-registry did not start; see {directory / 'registry.log'}")


def stop_registry(directory: Path) -> int | None:
    """Stop the registry started by `start_registry(directory)` — by its recorded PID, and only when that PID
    still runs docker-registry with this directory's config. Returns the PID stopped."""
    try:
        pid = int((directory / "registry.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if not cmdline or Path(cmdline[0].decode()).name != "docker-registry":
        return None
    if str(directory / "config.yml").encode() not in cmdline:
        return None
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.1)
    return pid


def _layer() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in (
            "etc",
            "etc/odoo",
            "usr",
            "usr/bin",
            "var",
            "var/lib",
            "var/lib/odoo",
            "mnt",
            "mnt/extra-addons",
            "lib",
            "lib/apk",
            "lib/apk/db",
        ):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
            tar.addfile(info)
        files = {
            "etc/os-release": OS_RELEASE,
            "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nodoo:x:101:101:odoo:/var/lib/odoo:/bin/sh\n",
            "etc/odoo/odoo.conf": "[options]\naddons_path = /mnt/extra-addons\ndata_dir = /var/lib/odoo\n",
            "usr/bin/odoo": "#!/bin/sh\necho 'demo stand-in for the Odoo server'\n",
            "lib/apk/db/installed": "",
        }
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = (
                len(data),
                0o755 if name.startswith("usr/bin") else 0o644,
                1_700_000_000,
            )
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def push_base_image(host: str, repo: str = "demo/odoo-base", tag: str = "17.0") -> None:
    client = RegistryClient(host, scheme="http")
    tar = _layer()
    layer = gzip.compress(tar, mtime=0)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2026-01-01T00:00:00Z",
            "config": {
                "User": "odoo",
                "Cmd": ["odoo"],
                "Env": ["ODOO_RC=/etc/odoo/odoo.conf"],
                "Volumes": {"/var/lib/odoo": {}, "/mnt/extra-addons": {}},
            },
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        },
        sort_keys=True,
    ).encode()
    layer_digest = client.push_blob(repo, layer)
    config_digest = client.push_blob(repo, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": config_digest,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": layer_digest,
                }
            ],
        }
    ).encode()
    digest = client.put_manifest(repo, tag, manifest, DOCKER_MANIFEST)
    print(f"{host}/{repo}@{digest}")


def write_trivy_cache(directory: Path) -> None:
    """An empty offline vulnerability DB: trivy runs for real, finds what the DB knows (nothing)."""
    from tests.fixtures.trivydb import write_trivy_cache as write

    write(directory, empty=True)
    print(directory)


def main() -> None:
    verb, arg = sys.argv[1], sys.argv[2]
    if verb == "registry":
        start_registry(Path(arg))
    elif verb == "stop-registry":
        stopped = stop_registry(Path(arg).resolve())
        print(f"stopped pid {stopped}" if stopped else "no registry of this directory is running")
    elif verb == "base-image":
        push_base_image(arg)
    elif verb == "trivy-cache":
        write_trivy_cache(Path(arg))
    else:
        raise SystemExit(f"unknown verb {verb!r}")


if __name__ == "__main__":
    main()
