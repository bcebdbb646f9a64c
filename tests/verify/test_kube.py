"""The kubernetes-client adapter itself, against the loopback API server."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.errors import UsageError
from gitops.verify.kube import DEPLOYMENTS, PODS, KubeApi, KubeError, ResourceGone
from gitops.verify.reconcilers.argocd_application import RESOURCE as APPLICATIONS
from tests.fixtures.verify import TOKEN, write_kubeconfig
from tests.verify import objects as o
from tests.verify.kubeserver import FakeKubeAPI


def connect(kubeconfig: Path) -> KubeApi:
    client = KubeApi.connect(kubeconfig=kubeconfig)
    client.backoff = 0.01
    return client


def test_patch_is_a_merge_patch_and_returns_the_object(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    kube_api.put(o.application("web", revision=o.sha("x")))
    patched = connect(kubeconfig).patch_annotations(APPLICATIONS, "argocd", "web", {"a/b": "c"})
    assert patched is not None and patched["metadata"]["annotations"] == {"a/b": "c"}
    assert patched["status"]["sync"]["revision"] == o.sha("x")  # the rest untouched
    assert kube_api.state.patches == [
        ("applications", "argocd", "web", {"metadata": {"annotations": {"a/b": "c"}}})
    ]


def test_patch_of_a_missing_object_is_none(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    assert connect(kubeconfig).patch_annotations(APPLICATIONS, "argocd", "nope", {"a/b": "c"}) is None


def test_patch_retries_transient_errors(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    kube_api.put(o.application("web", revision=o.sha("x")))
    kube_api.fail_next.extend([503, 500])
    assert connect(kubeconfig).patch_annotations(APPLICATIONS, "argocd", "web", {"a/b": "c"}) is not None
    assert kube_api.count("patch") == 3


def test_patch_gives_up_after_the_attempts(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    kube_api.put(o.application("web", revision=o.sha("x")))
    kube_api.fail_next.extend([503] * 4)
    with pytest.raises(KubeError) as info:
        connect(kubeconfig).patch_annotations(APPLICATIONS, "argocd", "web", {"a/b": "c"})
    assert info.value.status == 503 and info.value.transient


def test_core_kinds_come_back_as_api_dicts(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    image = f"{o.REPO}@{o.digest('r')}"
    o.workload(kube_api, "odoo-web", image=image, image_id=image)
    client = connect(kubeconfig)
    [deploy] = client.list(DEPLOYMENTS, "odoo-prod").items
    assert deploy["status"]["updatedReplicas"] == 2  # camelCase keys, as the API serves them
    pods = client.list(PODS, "odoo-prod", label_selector="pod-template-hash").items
    assert {p["status"]["containerStatuses"][0]["imageID"] for p in pods} == {image}
    assert client.list(PODS, "odoo-prod", label_selector="pod-template-hash=nope").items == []


def test_watch_from_an_expired_version_raises_gone(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    kube_api.put(o.application("web", revision=o.sha("x")))
    client = connect(kubeconfig)
    listing = client.list(APPLICATIONS, "argocd")
    kube_api.expire_history()
    with pytest.raises(ResourceGone):
        list(
            client.watch(APPLICATIONS, "argocd", resource_version=listing.resource_version, timeout_seconds=2)
        )


def test_watch_yields_events_and_bookmarks(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    kube_api.put(o.application("web", revision=o.sha("x")))
    client = connect(kubeconfig)
    rv = client.list(APPLICATIONS, "argocd").resource_version
    kube_api.update("applications", "argocd", "web", lambda a: a["status"].update(reconciledAt=o.at(9)))
    events = list(client.watch(APPLICATIONS, "argocd", resource_version=rv, timeout_seconds=1))
    assert events[0].type == "MODIFIED" and events[0].object["status"]["reconciledAt"] == o.at(9)
    assert {e.type for e in events[1:]} == {"BOOKMARK"}


def test_unknown_context_is_a_usage_error_without_the_token(kube_api: FakeKubeAPI, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kc", kube_api.url, context="other")
    with pytest.raises(UsageError) as info:
        KubeApi.connect(kubeconfig=kubeconfig, context="prod-eu-central")
    assert "prod-eu-central" in str(info.value) and TOKEN not in str(info.value)


def test_list_with_retry_survives_transient_errors(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    kube_api.put(o.application("web", revision=o.sha("x")))
    kube_api.fail_next.extend([502, 503])
    client = connect(kubeconfig)
    assert [a["metadata"]["name"] for a in client.list(APPLICATIONS, "argocd", retry=True).items] == ["web"]
    kube_api.fail_next.append(503)
    with pytest.raises(KubeError):
        client.list(APPLICATIONS, "argocd")  # without retry: the caller (an informer) decides


def test_custom_objects_are_told_by_their_api_group() -> None:
    from gitops.verify.kube import JOBS, REPLICASETS, Resource, is_custom
    from gitops.verify.reconcilers.registry import resources
    from gitops.verify.sources.registry import resources as source_resources

    assert all(is_custom(r) for r in resources() | source_resources())
    assert not any(is_custom(r) for r in (DEPLOYMENTS, REPLICASETS, PODS, JOBS))
    assert not is_custom(Resource("", "v1", "configmaps", "ConfigMap"))
