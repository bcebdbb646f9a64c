"""`build` against the real registry and engine: digest, tags, labels, contents, reproducibility."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import pytest
from click_odoo_contrib._addon_hash import addon_hash

from gitops.addons.checksums import DEFAULT_EXCLUDES
from gitops.cli.main import main
from gitops.errors import UsageError
from gitops.image.build import BuildRequest, build
from gitops.image.reference import parse_image_ref
from gitops.image.registry import OCI_INDEX, RegistryClient, sha256_digest
from gitops.supply import attest, keys
from gitops.supply.evidence import check_signature
from tests.fixtures.addonsrepo import AddonsRepo
from tests.fixtures.registry import BaseImage, Registry, pull_image, read_file_in_image
from tests.fixtures.supply import KeyFiles

pytestmark = [pytest.mark.docker, pytest.mark.registry]


def run_build(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["build", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_build_push_pull_back(
    capsys: pytest.CaptureFixture[str], registry: Registry, base_image: BaseImage, addons_repo: AddonsRepo
) -> None:
    repo = f"{registry.host}/test/odoo-build"
    code, result = run_build(
        capsys, str(addons_repo.path), "--base", base_image.pinned, "--repository", repo, "--push"
    )
    assert code == 0, result
    assert result["method"] == "daemonless"
    assert result["version"] == "1.2.0"
    assert result["tags"] == ["1.2.0", addons_repo.git("rev-parse", "HEAD")[:12]]
    assert sorted(registry.tags("test/odoo-build")) == sorted(result["tags"])  # type: ignore[arg-type]
    image = f"{repo}@{result['digest']}"
    inspect = pull_image(image)
    labels = inspect["Config"]["Labels"]  # type: ignore[index]
    assert labels["org.opencontainers.image.revision"] == addons_repo.git("rev-parse", "HEAD")
    assert labels["org.opencontainers.image.version"] == "1.2.0"
    assert labels["org.opencontainers.image.created"] == "2026-03-01T10:00:00Z"
    assert labels["org.opencontainers.image.base.digest"] == base_image.digest
    assert labels["org.opencontainers.image.base.name"] == base_image.repository
    modules = json.loads(labels["io.odoo-gitops.modules"])
    assert modules["odoo_gitops_stock"]["version"] == "18.0.2.1.0"
    assert modules == result["modules"]
    assert inspect["Created"].startswith("2026-03-01T10:00:00")  # type: ignore[union-attr]
    assert inspect["Config"]["Volumes"] == {"/var/lib/odoo": {}, "/mnt/extra-addons": {}}  # type: ignore[index]
    manifest = read_file_in_image(image, "/opt/odoo/custom-addons/odoo_gitops_sale/__manifest__.py")
    assert manifest == (addons_repo.path / "odoo_gitops_sale" / "__manifest__.py").read_bytes()
    conf = read_file_in_image(image, "/etc/odoo/odoo.conf").decode()
    assert "addons_path = /opt/odoo/custom-addons,/mnt/extra-addons" in conf
    assert "passw" not in conf.lower().replace("no passwords here", "")
    assert "PASSWORD" not in json.dumps(inspect["Config"]["Env"])  # type: ignore[index]


def test_same_commit_same_digest_and_one_file_changes_only_the_addons_layer(
    registry: Registry, base_image: BaseImage, addons_repo: AddonsRepo
) -> None:
    repo = f"{registry.host}/test/odoo-repro"
    request = BuildRequest(addons_dir=addons_repo.path, base=base_image.pinned, repository=repo, push=True)
    first, second = build(request), build(request)
    assert first.digest == second.digest
    (addons_repo.path / "odoo_gitops_sale" / "models" / "__init__.py").write_text("# changed\n")
    addons_repo.commit("change one file", date="2026-03-02T10:00:00+00:00")
    third = build(request)
    assert third.digest != first.digest
    client = RegistryClient(registry.host, scheme="http")
    old = client.get_manifest("test/odoo-repro", first.digest).json()["layers"]
    new = client.get_manifest("test/odoo-repro", third.digest).json()["layers"]
    assert len(old) == len(new) == 2
    assert old[0] == new[0]
    assert old[1]["digest"] != new[1]["digest"]
    assert third.version == "1.2.1-dev.1"
    assert third.modules["odoo_gitops_sale"]["checksum"] != first.modules["odoo_gitops_sale"]["checksum"]
    assert third.modules["odoo_gitops_stock"] == first.modules["odoo_gitops_stock"]


def test_floating_base_refused_then_recorded(
    capsys: pytest.CaptureFixture[str], registry: Registry, base_image: BaseImage, addons_repo: AddonsRepo
) -> None:
    floating = f"{base_image.repository}:18.0"
    args = (str(addons_repo.path), "--base", floating, "--repository", f"{registry.host}/test/odoo-float")
    code, result = run_build(capsys, *args)
    assert code == 2
    assert "not pinned by digest" in str(result["message"])
    code, result = run_build(capsys, *args, "--allow-floating-base")
    assert code == 0
    labels = result["labels"]
    assert labels["io.odoo-gitops.base.floating"] == floating  # type: ignore[index]
    assert labels["org.opencontainers.image.base.digest"] == base_image.digest  # type: ignore[index]


def test_registry_down_exit_1(
    capsys: pytest.CaptureFixture[str],
    doomed_registry: Registry,
    base_image: BaseImage,
    addons_repo: AddonsRepo,
) -> None:
    target = f"{doomed_registry.host}/test/odoo-down"
    doomed_registry.stop()
    code, result = run_build(
        capsys, str(addons_repo.path), "--base", base_image.pinned, "--repository", target, "--push"
    )
    assert code == 1
    assert f"registry {doomed_registry.host} unreachable" in str(result["message"])
    assert "Traceback" not in capsys.readouterr().err


def test_registry_dies_after_manifest_leaves_no_tag(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    registry_binary: str,
    doomed_registry: Registry,
    base_image: BaseImage,
    addons_repo: AddonsRepo,
) -> None:
    """The registry goes away right after the manifest went up by digest: exit 1 and no tag points at it."""
    original = RegistryClient.put_manifest

    def put_then_die(self: RegistryClient, repo: str, reference: str, raw: bytes, media_type: str) -> str:
        digest = original(self, repo, reference, raw, media_type)
        if reference.startswith("sha256:"):
            doomed_registry.stop()
        return digest

    monkeypatch.setattr(RegistryClient, "put_manifest", put_then_die)
    target = f"{doomed_registry.host}/test/odoo-half"
    code, result = run_build(
        capsys, str(addons_repo.path), "--base", base_image.pinned, "--repository", target, "--push"
    )
    assert code == 1
    assert "unreachable" in str(result["message"])
    doomed_registry.restart(registry_binary)
    assert doomed_registry.tags("test/odoo-half") == []
    digest = build(
        BuildRequest(addons_dir=addons_repo.path, base=base_image.pinned, repository=target)
    ).digest
    assert RegistryClient(doomed_registry.host, scheme="http").manifest_exists("test/odoo-half", digest)


def test_wrong_port_for_base_exit_1(
    capsys: pytest.CaptureFixture[str], base_image: BaseImage, addons_repo: AddonsRepo
) -> None:
    from tests.fixtures.registry import free_port

    host = f"127.0.0.1:{free_port()}"
    base = f"{host}/test/odoo-base@{base_image.digest}"
    code, result = run_build(
        capsys, str(addons_repo.path), "--base", base, "--repository", f"{host}/x/y", "--push"
    )
    assert code == 1
    assert "unreachable" in str(result["message"])


def test_engine_build_installs_requirements(
    capsys: pytest.CaptureFixture[str], registry: Registry, base_image: BaseImage, addons_repo: AddonsRepo
) -> None:
    addons_repo.add_module("odoo_gitops_api", python=("requests-oauthlib",))
    (addons_repo.path / "requirements.txt").write_text("# pinned\nphonenumbers==8.13.0\n")
    addons_repo.commit("add an addon with a python dependency")
    repo = f"{registry.host}/test/odoo-engine"
    code, result = run_build(
        capsys, str(addons_repo.path), "--base", base_image.pinned, "--repository", repo, "--push"
    )
    assert code == 0, result
    assert result["method"] == "engine"
    assert result["requirements"] == ["phonenumbers==8.13.0", "requests-oauthlib"]
    image = f"{repo}@{result['digest']}"
    inspect = pull_image(image)
    assert inspect["Config"]["Labels"]["org.opencontainers.image.version"] == "1.2.1-dev.1"  # type: ignore[index]
    assert inspect["Config"]["User"] == "odoo"  # type: ignore[index]
    assert inspect["Config"]["Labels"] == {**result["labels"]}  # type: ignore[index,dict-item]
    installed = read_file_in_image(image, "/usr/lib/fake-pip-installed.txt").decode().split()
    assert installed == ["phonenumbers==8.13.0", "requests-oauthlib"]
    code_file = read_file_in_image(image, "/opt/odoo/custom-addons/odoo_gitops_api/__manifest__.py")
    assert b"requests-oauthlib" in code_file
    assert sorted(registry.tags("test/odoo-engine")) == sorted(result["tags"])  # type: ignore[arg-type]


def test_engine_down_exit_1_nothing_tagged(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    registry: Registry,
    base_image: BaseImage,
    addons_repo: AddonsRepo,
    tmp_path: Path,
) -> None:
    addons_repo.add_module("odoo_gitops_api", python=("requests-oauthlib",))
    addons_repo.commit("add an addon with a python dependency")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    repo = f"{registry.host}/test/odoo-noengine"
    code, result = run_build(
        capsys, str(addons_repo.path), "--base", base_image.pinned, "--repository", repo, "--push"
    )
    assert code == 1
    assert "Docker Engine unreachable" in str(result["message"])
    assert registry.tags("test/odoo-noengine") == []


def test_index_base_picks_the_platform_manifest(
    registry: Registry, base_image: BaseImage, addons_repo: AddonsRepo
) -> None:
    client = RegistryClient(registry.host, scheme="http")
    base = client.get_manifest("test/odoo-base", base_image.digest)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": base.media_type, "size": len(base.raw), "digest": base.digest,
             "platform": {"os": "linux", "architecture": "amd64"}},
        ],
    }  # fmt: skip
    raw = json.dumps(index).encode()
    index_digest = client.put_manifest("test/odoo-base", sha256_digest(raw), raw, OCI_INDEX)
    result = build(
        BuildRequest(
            addons_dir=addons_repo.path,
            base=f"{base_image.repository}@{index_digest}",
            repository=f"{registry.host}/test/odoo-from-index",
            push=True,
        )
    )
    assert result.labels["org.opencontainers.image.base.digest"] == index_digest
    pushed = client.get_manifest("test/odoo-from-index", result.digest).json()
    assert pushed["layers"][0] == base.json()["layers"][0]
    with pytest.raises(UsageError, match="has no linux/arm64 manifest"):
        build(
            BuildRequest(
                addons_dir=addons_repo.path,
                base=f"{base_image.repository}@{index_digest}",
                repository=f"{registry.host}/test/odoo-from-index",
                platform="linux/arm64",
            )
        )


def test_build_with_key_signs_and_attaches_provenance(
    capsys: pytest.CaptureFixture[str],
    registry: Registry,
    base_image: BaseImage,
    addons_repo: AddonsRepo,
    signing_keys: KeyFiles,
) -> None:
    repo = f"{registry.host}/test/odoo-provenance"
    code, result = run_build(
        capsys, str(addons_repo.path), "--base", base_image.pinned, "--repository", repo, "--push",
        "--key", str(signing_keys.private),
    )  # fmt: skip
    assert code == 0, result
    image = str(result["image"])
    assert check_signature(image, signing_keys.public.read_bytes()).ok
    ref = parse_image_ref(image)
    client = RegistryClient(registry.host, scheme="http")
    public = keys.load_public_key(signing_keys.public.read_bytes())
    found, rejected = attest.read_attestations(client, ref, public, attest.SLSA_PREDICATE)
    assert rejected == 0 and len(found) == 1
    definition = found[0].predicate["buildDefinition"]
    assert definition["externalParameters"]["revision"] == addons_repo.git("rev-parse", "HEAD")
    assert definition["externalParameters"]["base"] == base_image.pinned
    assert definition["resolvedDependencies"][1]["digest"]["sha256"] == base_image.digest.split(":")[1]


def _module_from_layer(blob: bytes, name: str, into: Path) -> Path:
    """Unpack one module of the addons layer the way the engine does (links stay links)."""
    prefix = f"opt/odoo/custom-addons/{name}"
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as tar:
        for member in tar.getmembers():
            if member.name != prefix and not member.name.startswith(prefix + "/"):
                continue
            path = into / name / member.name[len(prefix) :].lstrip("/")
            if member.isdir():
                path.mkdir(parents=True, exist_ok=True)
            elif member.issym():
                path.symlink_to(member.linkname)
            else:
                handle = tar.extractfile(member)
                assert handle is not None
                path.write_bytes(handle.read())
    return into / name


def test_links_leading_out_of_the_addons_tree_refuse_the_build_exit_2_nothing_pushed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    registry: Registry,
    base_image: BaseImage,
    addons_repo: AddonsRepo,
) -> None:
    host = tmp_path / "host"
    (host / "stray_addon").mkdir(parents=True)
    (host / "stray_addon" / "__manifest__.py").write_text("{'name': 'S', 'version': '18.0.1.0.0'}\n")
    (host / "shadow").write_text("root:HOST-ONLY-SECRET\n")
    (addons_repo.path / "stray_addon").symlink_to(host / "stray_addon", target_is_directory=True)
    (addons_repo.path / "odoo_gitops_sale" / "data.xml").symlink_to(host / "shadow")
    addons_repo.commit("links out of the tree")
    args = (
        str(addons_repo.path),
        "--base",
        base_image.pinned,
        "--repository",
        f"{registry.host}/test/odoo-leak",
    )
    code, result = run_build(capsys, *args, "--push")
    assert code == 2, result
    problems = {(p["file"], p["line"]) for p in result["problems"]}  # type: ignore[union-attr]
    assert problems == {("stray_addon", 0), ("odoo_gitops_sale/data.xml", 0)}
    assert "HOST-ONLY-SECRET" not in json.dumps(result)
    assert registry.tags("test/odoo-leak") == []


def test_links_inside_the_tree_ship_so_the_image_hashes_like_the_label(
    tmp_path: Path, registry: Registry, base_image: BaseImage, addons_repo: AddonsRepo
) -> None:
    sale = addons_repo.path / "odoo_gitops_sale"
    (addons_repo.path / "LICENSE").write_text("LGPL-3\n")
    (sale / "LICENSE").symlink_to("../LICENSE")  # elsewhere in the tree: shipped as a copy
    (sale / "models" / "alias.py").symlink_to("__init__.py")  # inside the addon: shipped as a link
    (sale / "views").symlink_to("models", target_is_directory=True)
    addons_repo.commit("links inside the tree")
    repo = f"{registry.host}/test/odoo-links"
    result = build(
        BuildRequest(addons_dir=addons_repo.path, base=base_image.pinned, repository=repo, push=True)
    )
    assert result.method == "daemonless"
    client = RegistryClient(registry.host, scheme="http")
    layers = client.get_manifest("test/odoo-links", result.digest).json()["layers"]
    blob = client.get_blob("test/odoo-links", layers[-1]["digest"])
    shipped = _module_from_layer(blob, "odoo_gitops_sale", tmp_path / "image")
    assert not (shipped / "LICENSE").is_symlink() and (shipped / "LICENSE").read_text() == "LGPL-3\n"
    assert os.readlink(shipped / "models" / "alias.py") == "__init__.py"
    assert os.readlink(shipped / "views") == "models"
    # what click-odoo-update computes inside the image is what the label records
    in_image = addon_hash(str(shipped), list(DEFAULT_EXCLUDES), [])
    assert result.modules["odoo_gitops_sale"]["checksum"] == in_image
