"""The reconciler registry: the kinds env.yaml may name, each module behind the protocol, and a new kind
added by one registry line is planned and read without any other change."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gitops.config.models import EnvConfig, ReleaseRecord
from gitops.errors import UsageError
from gitops.verify.kube import Resource
from gitops.verify.reconcilers import argocd_application, flux_helmrelease, flux_kustomization, registry
from gitops.verify.targets import plan_targets
from tests.verify.objects import REPO, digest, sha

PACKAGE = Path(registry.__file__).resolve().parents[2]  # gitops/


def test_the_kinds_env_yaml_may_name() -> None:
    assert registry.kinds() == ("argocd", "flux-helmrelease", "flux-kustomization")
    assert registry.named("flux-kustomization") is flux_kustomization
    assert registry.for_resource(argocd_application.RESOURCE) is argocd_application
    assert registry.resources() == {
        m.RESOURCE for m in (argocd_application, flux_kustomization, flux_helmrelease)
    }
    with pytest.raises(UsageError, match=r"unknown reconciler kind 'argo' \(known: argocd, flux-helmrelease"):
        registry.named("argo")
    with pytest.raises(UsageError, match="is no reconciler verify knows"):
        registry.for_resource(Resource("apps", "v1", "deployments", "Deployment"))


def test_refresh_requests() -> None:
    assert argocd_application.refresh_annotations("t") == {"argocd.argoproj.io/refresh": "normal"}
    for kind in (flux_kustomization, flux_helmrelease):
        assert kind.refresh_annotations("t") == {"reconcile.fluxcd.io/requestedAt": "t"}


def env_with(kind: str) -> EnvConfig:
    return EnvConfig.model_validate(
        {
            "name": "prod",
            "cluster": {},
            "namespace": "odoo-prod",
            "timezone": "Europe/Brussels",
            "reconcile": {"kind": kind, "name": "odoo-prod", "namespace": "deploy"},
            "workloads": ["odoo-web"],
        }
    )


def test_a_kind_added_by_one_registry_line_is_planned(monkeypatch: pytest.MonkeyPatch) -> None:
    resource = Resource("example.dev", "v1", "rollouts", "Rollout")

    class NewKind:  # what a new module would declare
        RESOURCE = resource
        SOURCE_KINDS: frozenset[str] = frozenset()

    monkeypatch.setitem(registry.RECONCILERS, "example-rollout", NewKind)  # type: ignore[arg-type]
    release = ReleaseRecord.model_validate(
        {"image": f"{REPO}@{digest('r')}", "version": "1.4.0", "source_commit": sha("src")}
    )
    [target] = plan_targets(env_with("example-rollout"), release)
    assert target.resource is resource and target.reconciler is NewKind
    assert target.subject == "Rollout deploy/odoo-prod"


KIND_NAMES = {
    "Application",
    "Kustomization",
    "HelmRelease",
    "GitRepository",
    "OCIRepository",
    "HelmRepository",
    "argocd",
    "flux-kustomization",
    "flux-helmrelease",
}
# "argocd" as the default namespace of env.yaml's reconcile target (where Argo CD keeps Applications).
ALLOWED = {("config/models.py", "argocd")}


def _code_strings(tree: ast.AST) -> list[str]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_no_code_outside_the_registries_names_a_kind() -> None:
    """The grep of the issue, as a test: kind names appear in code only in reconcilers/ and sources/."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("verify/reconcilers/", "verify/sources/")):
            continue
        for text in _code_strings(ast.parse(path.read_text())):
            found += [(rel, name) for name in KIND_NAMES if name in text and (rel, name) not in ALLOWED]
    assert found == []
