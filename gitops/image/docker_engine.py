"""Docker Engine adapter (the `docker` SDK): build from a rendered context, export the image's layers.

Only used when Python requirements must be installed. Docker SDK errors never leave this module.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests

from gitops.errors import ExternalError


@dataclass(frozen=True)
class SavedImage:
    """An image exported with `docker save`: its raw config and the uncompressed layer tars, in order."""

    config: bytes
    layers: tuple[bytes, ...]


def _where() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


@contextmanager
def engine(timeout: float) -> Iterator[Any]:
    """A connected client; ExternalError (exit 1) when the engine cannot be reached."""
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise ExternalError(
            f"Docker Engine unreachable at {_where()}: {type(exc).__name__}",
            hint="start dockerd or point DOCKER_HOST at a running engine; builds that install Python "
            "requirements need an engine",
        ) from None
    try:
        yield client
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise ExternalError(f"Docker Engine ({_where()}): {_message(exc)}") from None
    finally:
        client.close()


def _message(exc: Exception) -> str:
    if isinstance(exc, docker.errors.BuildError):
        tail = [str(c.get("stream") or c.get("error") or "").strip() for c in exc.build_log][-5:]
        return f"build failed: {exc.msg}\n" + "\n".join(t for t in tail if t)
    return f"{type(exc).__name__}: {exc}"


def build_image(client: Any, context: Path, *, tag: str, timeout: float) -> str:
    """`docker build` the context (pulling the pinned base if needed); returns the local image id."""
    image, _logs = client.images.build(
        path=str(context), tag=tag, rm=True, forcerm=True, timeout=int(timeout)
    )
    return str(image.id)


def save_image(client: Any, image_id: str) -> SavedImage:
    """`docker save` into a temporary file (its manifest.json comes last), then read config and layers."""
    with tempfile.TemporaryFile() as spool:
        for chunk in client.images.get(image_id).save(named=False):
            spool.write(chunk)
        spool.seek(0)
        with tarfile.open(fileobj=spool, mode="r:") as tar:
            entry = json.loads(_member(tar, "manifest.json"))[0]
            return SavedImage(
                config=_member(tar, entry["Config"]),
                layers=tuple(_member(tar, name) for name in entry["Layers"]),
            )


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    handle = tar.extractfile(name)
    if handle is None:
        raise ExternalError(f"docker save output lacks {name}")
    return handle.read()
