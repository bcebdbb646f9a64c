"""The import-linter contracts in pyproject.toml hold on gitops/, and they are not vacuous: a back-edge
between stages, or an outside-system library imported past its adapter, breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"lint-imports is not installed beside {sys.executable} (pip install -e '.[test]')")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree), "HOME": str(tree)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package and its contracts, to break on purpose."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "gitops", tmp_path / "gitops", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_contracts_hold_on_the_package(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_back_edge_breaks_the_flow_contract(tree: Path) -> None:
    # config is the first stage: it must never import promote (it once did, through promote.repo)
    _append(tree / "gitops/config/source.py", "import gitops.promote.plan  # noqa")
    result = _lint(tree)
    assert result.returncode != 0
    assert "flow order" in result.stdout and "BROKEN" in result.stdout
    assert "gitops.config is not allowed to import gitops.promote" in result.stdout


def test_windows_importing_a_later_stage_breaks_the_flow_contract(tree: Path) -> None:
    _append(tree / "gitops/windows/verdict.py", "from gitops.gates import registry  # noqa")
    result = _lint(tree)
    assert result.returncode != 0
    assert "gitops.windows is not allowed to import gitops.gates" in result.stdout


def test_git_outside_its_adapter_breaks_the_adapter_contract(tree: Path) -> None:
    _append(tree / "gitops/promote/plan.py", "import git  # noqa")
    result = _lint(tree)
    assert result.returncode != 0
    assert "outside-system libraries only in their adapter module BROKEN" in result.stdout
    assert "gitops.promote.plan -> git" in result.stdout


def test_only_one_module_imports_git() -> None:
    importers = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "gitops").rglob("*.py")
        if any(
            line.strip().startswith(("import git", "from git import", "from git."))
            and not line.strip().startswith(("import github", "import gitops"))
            for line in p.read_text().splitlines()
        )
    )
    assert importers == ["gitops/gitstore/checkout.py"]
