"""What bench_promote.py promotes, set up once per run: a real docker-registry holding a tiny image built
and pushed by `build`, signed with cosign-compatible keys and scanned by the real trivy (attestation pushed),
and an addons repository of 320 addons whose two commits differ in 10 modules (bench_addons.py's tree).

`timed_seams()` measures, inside one promotion, how long it waited for the schema evidence and the time spent
on the supply checks, so the benchmark can report them.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_addons import change_modules, generate  # noqa: E402

from gitops.cli.main import main as cli  # noqa: E402
from gitops.promote import service  # noqa: E402
from gitops.promote.stage_seams import RegistrySupplyChecks  # noqa: E402
from gitops.supply.signer import keygen, sign  # noqa: E402
from tests.fixtures.components import find_binary  # noqa: E402
from tests.fixtures.configrepo import REPO, copy_examples, git  # noqa: E402
from tests.fixtures.registry import docker_cli, push_base_image, start_registry  # noqa: E402
from tests.fixtures.supply import PASSWORD, push_test_image  # noqa: E402
from tests.fixtures.trivydb import VENV_BIN, write_trivy_cache  # noqa: E402

ADDONS = 320
CHANGED = 10


@dataclass(frozen=True)
class World:
    image: str
    public_key: bytes
    addons: Path
    old_commit: str
    new_commit: str
    scan_policy: dict[str, Any]

    def configure(self, work: Path) -> None:
        """Make a config work tree trust this world: its public key, and for prod the scan policy the
        image was attested under (dev's: prod's stricter one fails the test database's findings)."""
        (work / "keys").mkdir(exist_ok=True)
        (work / "keys/cosign.pub").write_bytes(self.public_key)
        env = work / "envs/prod/env.yaml"
        head, rest = env.read_text().split("scan_policy:\n", 1)
        policy = yaml.safe_dump(self.scan_policy, sort_keys=False)
        tail = rest.split("gate_policy:", 1)[1]
        env.write_text(head + "scan_policy:\n" + "".join(f"  {line}\n" for line in policy.splitlines()) +
                       "gate_policy:" + tail)  # fmt: skip

    def describe(self) -> str:
        return (
            f"image {self.image.split('@')[0]} (signed, scan attested), addons repo of {ADDONS} addons "
            f"with {CHANGED} changed between {self.old_commit[:12]} and {self.new_commit[:12]}"
        )


def addons_repo(path: Path) -> tuple[str, str]:
    names, _ = generate(path, ADDONS)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "-c", "gc.auto=0", "commit", "-qm", "addons")  # no background gc racing the one below
    old = git(path, "rev-parse", "HEAD")
    change_modules(path, names, CHANGED)
    git(path, "add", "-A")
    git(path, "-c", "gc.auto=0", "commit", "-qm", f"change {CHANGED} modules")
    git(path, "gc", "-q")
    return old, git(path, "rev-parse", "HEAD")


def attest_scan(image: str, key: Path, base: Path) -> dict[str, Any]:
    """Scan with the real trivy under dev's policy and push the signed attestation; dev's policy."""
    os.environ["TRIVY_CACHE_DIR"] = str(write_trivy_cache(base / "trivy-cache"))
    os.environ["ODOO_GITOPS_TRIVY"] = find_binary("trivy", VENV_BIN, REPO / ".tools")
    config = base / "scan-config"
    copy_examples(config)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        args = ["scan", image, "--env", "dev", "--config-repo", str(config), "--attest", "--key", str(key)]
        code = cli([*args, "--json"])
    if code != 0:
        raise SystemExit(f"set-up: scanning {image} failed ({code}): {out.getvalue()[-2000:]}")
    policy: dict[str, Any] = yaml.safe_load((config / "envs/dev/env.yaml").read_text())["scan_policy"]
    return policy


@contextlib.contextmanager
def make_world(base: Path) -> Iterator[World]:
    os.environ.setdefault("COSIGN_PASSWORD", PASSWORD)
    registry = start_registry(find_binary("docker-registry"), base / "registry")
    pushed: list[str] = []
    try:
        (base / "base-image").mkdir()
        base_image = push_base_image(registry, base / "base-image", name="bench/odoo-base")
        pushed.append(base_image.repository)
        keygen(base / "keys")
        built = push_test_image(registry, base_image, base, "bench/promote")
        sign(built.image, base / "keys/cosign.key")
        policy = attest_scan(built.image, base / "keys/cosign.key", base)
        old, new = addons_repo(base / "addons")
        yield World(
            image=built.image,
            public_key=(base / "keys/cosign.pub").read_bytes(),
            addons=base / "addons",
            old_commit=old,
            new_commit=new,
            scan_policy=policy,
        )
    finally:
        registry.stop()
        for repository in pushed:  # the engine's copy of the base image this run imported, nothing else
            with contextlib.suppress(RuntimeError):
                docker_cli("rmi", "-f", f"{repository}:18.0")
        subprocess.run(["sync"], check=False)


@contextlib.contextmanager
def timed_seams() -> Iterator[dict[str, float]]:
    """Seconds one promotion waited for the schema evidence (made in a child process from right after the
    clone: its own time is not seen from here) once the rest was ready, of them spent editing tenant files
    ahead meanwhile, and spent in the supply checks."""
    spent = {"schema_wait": 0.0, "ahead": 0.0, "supply": 0.0}
    original_wait = service._schema_evidence
    original_ahead = service._while_waiting
    original = {name: getattr(RegistrySupplyChecks, name) for name in ("signature", "scan")}

    def timing(key: str, func: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - start

        return run

    service._schema_evidence = timing("schema_wait", original_wait)  # type: ignore[assignment]
    service._while_waiting = timing("ahead", original_ahead)  # type: ignore[assignment]
    for name, func in original.items():
        setattr(RegistrySupplyChecks, name, timing("supply", func))
    try:
        yield spent
    finally:
        service._schema_evidence = original_wait  # type: ignore[assignment]
        service._while_waiting = original_ahead  # type: ignore[assignment]
        for name, func in original.items():
            setattr(RegistrySupplyChecks, name, func)
