"""gitops.tarball: the "data" filter's rules on every supported Python (3.11.2 has no `filter=`).

Each hostile archive is refused by our own checks (the path every Python takes) and, where this interpreter
has it, with the stdlib filter applied on top; a refused archive leaves nothing behind. Benign archives come
out with the same modes the stdlib "data" filter gives, checked against the stdlib itself where it exists.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from gitops import tarball
from gitops.errors import EXIT_USAGE
from gitops.promote.stage_seams import compute_schema_diff

MODES = [False, True] if tarball.HAS_DATA_FILTER else [False]


def member(name: str, kind: bytes = tarfile.REGTYPE, *, data: bytes = b"", link: str = "", mode: int = 0o644):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname, info.size = kind, mode, link, len(data)
    info.uid, info.gid, info.uname, info.gname = 4242, 4242, "mallory", "mallory"
    return info, data


def archive(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return raw.getvalue()


HOSTILE = {
    "absolute path": ([member("/tmp/odoo-gitops-owned", data=b"x")], "absolute path"),
    "dot-dot": ([member("a/../../escaped", data=b"x")], "'..'"),
    "absolute symlink": (
        [member("passwd", tarfile.SYMTYPE, link="/etc/passwd")],
        "absolute path (/etc/passwd)",
    ),
    "symlink climbing out": ([member("up", tarfile.SYMTYPE, link="../../etc")], "links outside"),
    "hard link out": ([member("hard", tarfile.LNKTYPE, link="../outside")], "links outside"),
    "character device": ([member("null", tarfile.CHRTYPE)], "device, FIFO"),
    "block device": ([member("sda", tarfile.BLKTYPE)], "device, FIFO"),
    "fifo": ([member("pipe", tarfile.FIFOTYPE)], "device, FIFO"),
    "write through a symlink extracted earlier": (
        [
            member("d", tarfile.DIRTYPE, mode=0o755),
            member("d/self", tarfile.SYMTYPE, link=".."),
            member("d/escape", tarfile.SYMTYPE, link="self/.."),
        ],
        "links outside",
    ),
    "file written through a directory symlink": (
        [
            member("out", tarfile.SYMTYPE, link="."),
            member("out/ok", data=b"fine"),
            member("x/../../y", data=b""),
        ],
        "'..'",
    ),
}


@pytest.mark.parametrize("use_stdlib_filter", MODES)
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_is_refused_and_leaves_nothing(
    tmp_path: Path, case: str, use_stdlib_filter: bool
) -> None:
    members, expected = HOSTILE[case]
    # a harmless member first: it must not survive the refusal either
    data = archive(member("first.txt", data=b"hello"), *members)
    dest = tmp_path / "out" / "dest"
    with pytest.raises(tarball.UnsafeArchiveError) as error:
        tarball.extract(data, dest, what="test.tar", use_stdlib_filter=use_stdlib_filter)
    assert expected in error.value.message
    assert error.value.message.startswith("test.tar: member ")
    assert error.value.exit_code == EXIT_USAGE
    assert list((tmp_path / "out").iterdir()) == []
    assert not Path("/tmp/odoo-gitops-owned").exists()


def test_escape_through_a_link_is_refused_even_when_it_is_only_visible_on_disk(tmp_path: Path) -> None:
    """d/self -> .. is harmless alone; d/escape -> self/.. only climbs out once d/self exists on disk."""
    data = archive(
        member("d", tarfile.DIRTYPE, mode=0o755),
        member("d/self", tarfile.SYMTYPE, link=".."),
        member("d/escape", tarfile.SYMTYPE, link="self/.."),
    )
    with pytest.raises(tarball.UnsafeArchiveError, match="d/escape"):
        tarball.extract(data, tmp_path / "dest", what="t", use_stdlib_filter=False)
    assert list(tmp_path.iterdir()) == []


BENIGN = archive(
    member("pkg", tarfile.DIRTYPE, mode=0o777),
    member("pkg/setuid", data=b"#!/bin/sh\n", mode=0o4777),
    member("pkg/private", data=b"p", mode=0o400),
    member("pkg/script", data=b"s", mode=0o750),
    member("pkg/link", tarfile.SYMTYPE, link="script"),
    member("pkg/hard", tarfile.LNKTYPE, link="pkg/private", mode=0o400),
)


def modes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode)
        for p in sorted(root.rglob("*"))
        if not p.is_symlink()
    }


@pytest.mark.parametrize("use_stdlib_filter", MODES)
def test_plain_data_is_extracted_with_the_data_filter_modes(tmp_path: Path, use_stdlib_filter: bool) -> None:
    dest = tarball.extract(BENIGN, tmp_path / "dest", what="t", use_stdlib_filter=use_stdlib_filter)
    assert modes(dest) == {
        "pkg": 0o755,
        "pkg/hard": 0o600,
        "pkg/private": 0o600,
        "pkg/script": 0o750,
        "pkg/setuid": 0o755,
    }
    assert os.readlink(dest / "pkg/link") == "script"
    assert (dest / "pkg/hard").read_bytes() == b"p"
    assert {p.stat().st_uid for p in dest.rglob("*")} == {os.getuid()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]  # no partial directory left


@pytest.mark.skipif(
    not tarball.HAS_DATA_FILTER, reason="this Python has no tarfile data filter to compare with"
)
def test_file_modes_match_the_stdlib_data_filter(tmp_path: Path) -> None:
    ours = tarball.extract(BENIGN, tmp_path / "ours", what="t", use_stdlib_filter=False)
    with tarfile.open(fileobj=io.BytesIO(BENIGN)) as tar:
        tar.extractall(tmp_path / "stdlib", filter="data")
    stdlib = modes(tmp_path / "stdlib")
    del stdlib["pkg"]  # the stdlib leaves directory modes to the umask; we pin 0o755
    assert {k: v for k, v in modes(ours).items() if k != "pkg"} == stdlib


def test_existing_destination_and_garbage_are_refused(tmp_path: Path) -> None:
    (tmp_path / "there").mkdir()
    with pytest.raises(FileExistsError):
        tarball.extract(BENIGN, tmp_path / "there", what="t")
    with pytest.raises(tarball.UnsafeArchiveError, match="t: not a readable tar archive"):
        tarball.extract(b"not a tar" * 100, tmp_path / "garbage", what="t")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["there"]


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    out = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def test_addons_repo_with_a_symlink_out_of_the_tree_is_refused_by_the_schema_diff(tmp_path: Path) -> None:
    """The real path promote --addons-repo takes: `git archive` of a commit, then extraction."""
    repo = tmp_path / "addons"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "acme").mkdir()
    (repo / "acme" / "__manifest__.py").write_text("{'name': 'Acme', 'version': '17.0.1.0.0'}\n")
    (repo / "acme" / "secrets").symlink_to("/etc/passwd")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "hostile")
    commit = git(repo, "rev-parse", "HEAD")
    with pytest.raises(tarball.UnsafeArchiveError) as error:
        compute_schema_diff(repo, None, commit)
    assert error.value.message == (
        f"git archive {commit[:12]} of the addons repository: member 'acme/secrets' is a link to an absolute "
        "path (/etc/passwd); refusing to extract"
    )
