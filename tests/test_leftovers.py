"""The session check (tests/fixtures/leftovers.py) finds what a test leaves behind, so it can fail the run."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.leftovers import engine_leftovers, temp_leftovers
from tests.fixtures.registry import BaseImage, Registry, docker_cli, pull_image


def test_temp_files_go_to_the_sessions_own_directory_and_are_found_there() -> None:
    session_tmp = Path(tempfile.gettempdir())
    assert session_tmp.name.startswith("odoo-gitops-tests-")
    assert os.environ["TMPDIR"] == str(session_tmp)
    handle, name = tempfile.mkstemp(prefix="left-behind-")
    os.close(handle)
    try:
        assert Path(name).name in temp_leftovers(session_tmp)
    finally:
        os.unlink(name)
    assert Path(name).name not in temp_leftovers(session_tmp)


@pytest.mark.docker
@pytest.mark.registry
def test_a_container_from_a_test_image_and_its_volumes_are_found_and_removed(
    registry: Registry, base_image: BaseImage, docker_engine: str
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    pull_image(base_image.pinned)
    container = docker_cli("create", base_image.pinned)
    mounts = json.loads(docker_cli("container", "inspect", "--format", "{{json .Mounts}}", container))
    volumes = {m["Name"] for m in mounts if m["Type"] == "volume"}
    assert len(volumes) == 2  # the base image's VOLUMEs: /var/lib/odoo and /mnt/extra-addons
    found = engine_leftovers({registry.host}, volumes, since)
    assert found.containers == (container[:12],)
    assert set(found.volumes) == volumes
    assert any(ref.startswith(f"{registry.host}/") for ref in found.images)
    found.remove()
    after = engine_leftovers({registry.host}, volumes, since)
    assert (after.images, after.containers, after.volumes) == ((), (), ())
