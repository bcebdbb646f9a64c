"""Image benchmarks, each against a baseline measured in the same run:

1. rebuild after a one-file addon change: daemonless build+push (registry API) vs `docker build` of the same
   rendered Dockerfile with a warm cache (engine only, no push)        target: ratio <= 0.5
2. scan: `gitops.supply.scan.scan` (trivy + parse + policy) vs calling trivy directly with the same flags
                                                                        target: ratio <= 1.1

Needs dockerd, docker-registry and trivy (as the tests). Run: /work/venv/bin/python bench/bench_image.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gitops.config.models import ScanPolicy  # noqa: E402
from gitops.image import build as build_mod  # noqa: E402
from gitops.image.build import BuildRequest, build  # noqa: E402
from gitops.image.dockerfile import DockerfileInputs, render_dockerfile  # noqa: E402
from gitops.image.reference import pinned_ref  # noqa: E402
from gitops.supply.scan import ScanRequest, scan  # noqa: E402
from gitops.supply.trivy import TrivyOptions, trivy_command  # noqa: E402
from tests.fixtures.addonsrepo import make_addons_repo  # noqa: E402
from tests.fixtures.registry import push_base_image, remove_local_images, start_registry  # noqa: E402
from tests.fixtures.trivydb import write_trivy_cache  # noqa: E402

ROUNDS = 5
SCAN_ROUNDS = 11
MODULES, FILES_PER_MODULE = 40, 60


def populate(repo_path: Path) -> None:
    """A realistic addons repo: 40 modules × 60 files (~5 MB)."""
    for m in range(MODULES):
        module = repo_path / f"bench_module_{m:02d}"
        (module / "models").mkdir(parents=True, exist_ok=True)
        (module / "__manifest__.py").write_text(f"{{'name': 'Bench {m}', 'version': '18.0.1.0.{m}'}}\n")
        for f in range(FILES_PER_MODULE):
            (module / "models" / f"model_{f:02d}.py").write_text(f"# model {f}\n" + "x = 1\n" * 300)


def timed(func) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def bench_rebuild(registry_host: str, base: str, work: Path) -> tuple[float, float]:
    import docker

    addons = make_addons_repo(work / "addons")
    populate(addons.path)
    addons.commit("bench modules")
    repository = f"{registry_host}/bench/odoo"
    request = BuildRequest(addons_dir=addons.path, base=base, repository=repository, push=True)
    build(request)  # warm: base blobs copied once

    # the same rendered Dockerfile, built by the engine (warm cache after the first build)
    context = work / "context"
    client = docker.from_env()

    def prepare_context() -> None:
        result = build(BuildRequest(addons_dir=addons.path, base=base, repository=repository))
        dockerfile = render_dockerfile(DockerfileInputs(base=base, user="odoo", labels=result.labels))
        if context.exists():
            subprocess.run(["rm", "-rf", str(context)], check=True)
        context.mkdir()
        modules = build_mod.module_facts(addons.path)
        build_mod._write_context(
            context,
            modules=modules,
            tree=addons.path,
            conf=b"[options]\n",
            dockerfile=dockerfile,
            requirements=(),
        )

    built: list[str] = []

    def docker_build() -> None:
        image, _ = client.images.build(path=str(context), tag="bench/odoo:latest", rm=True)
        built.append(image.id)

    prepare_context()
    docker_build()  # warm the engine cache (and pull the base)
    ours, theirs = [], []
    for i in range(ROUNDS):
        target = addons.path / "bench_module_07" / "models" / "model_03.py"
        target.write_text(f"# change {i}\n" + "x = 2\n" * 300)
        addons.commit(f"one-file change {i}", date=f"2026-04-0{i + 1}T10:00:00+00:00")
        ours.append(timed(lambda: build(request)))
        prepare_context()  # not timed: only the engine build of the rendered Dockerfile counts
        theirs.append(timed(docker_build))
    for image_id in reversed(dict.fromkeys(built)):
        client.images.remove(image_id, force=True)
    return statistics.median(ours), statistics.median(theirs)


def bench_scan(image: str, cache: Path) -> tuple[float, float]:
    os.environ["TRIVY_CACHE_DIR"] = str(cache)
    ref = pinned_ref(image)
    command = trivy_command(ref, TrivyOptions())
    request = ScanRequest(image=image, policy=ScanPolicy(), policy_source="bench")
    scan(request)  # warm trivy's layer cache for both
    subprocess.run(command, capture_output=True, check=True)
    ours, theirs = [], []
    for _ in range(SCAN_ROUNDS):
        theirs.append(timed(lambda: subprocess.run(command, capture_output=True, check=True)))
        ours.append(timed(lambda: scan(request)))
    return statistics.median(ours), statistics.median(theirs)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-image-") as tmp:
        work = Path(tmp)
        os.environ["HOME"] = str(work)
        os.environ["GIT_CONFIG_GLOBAL"] = str(work / ".gitconfig")
        os.environ.setdefault("GIT_AUTHOR_NAME", "bench")
        os.environ.setdefault("GIT_AUTHOR_EMAIL", "bench@example.com")
        os.environ.setdefault("GIT_COMMITTER_NAME", "bench")
        os.environ.setdefault("GIT_COMMITTER_EMAIL", "bench@example.com")
        registry = start_registry("docker-registry", work / "registry")
        try:
            base = push_base_image(registry, work).pinned
            ours, theirs = bench_rebuild(registry.host, base, work)
            size = f"{MODULES} modules x {FILES_PER_MODULE} files"
            print(f"rebuild after one-file change ({size}), median of {ROUNDS}:")
            print(f"  daemonless build+push : {ours:.3f}s")
            print(f"  docker build (warm)   : {theirs:.3f}s")
            print(f"  ratio                 : {ours / theirs:.2f}x   (target <= 0.50x)")
            cache = write_trivy_cache(work / "trivy-cache")
            image = build(
                BuildRequest(
                    addons_dir=work / "addons", base=base, repository=f"{registry.host}/bench/odoo", push=True
                )
            ).image
            ours, theirs = bench_scan(image, cache)
            print(f"scan of {image.split('@')[0]}@…, median of {SCAN_ROUNDS} (interleaved):")
            print(f"  odoo-gitops scan      : {ours:.3f}s")
            print(f"  trivy directly        : {theirs:.3f}s")
            print(f"  ratio                 : {ours / theirs:.2f}x   (target <= 1.10x)")
        finally:
            registry.stop()
            remove_local_images(f"{registry.host}/")


if __name__ == "__main__":
    main()
