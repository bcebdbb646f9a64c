from __future__ import annotations

from typing import Any

import pytest

from gitops.verify.rollout import (
    deployment_verdict,
    image_digest,
    image_repository,
    new_replicaset,
    pods_verdict,
)
from gitops.verify.verdict import State
from tests.verify.kubeserver import KINDS, validate
from tests.verify.objects import REPO, deployment, digest, pod, replicaset

DIGEST = digest("release")
PLATFORM = digest("release-amd64")
IMAGE = f"{REPO}@{DIGEST}"


def deploy_verdict(**kwargs: Any):
    obj = deployment("odoo-web", image=IMAGE, **kwargs)
    validate(KINDS["deployments"], obj)
    return deployment_verdict(obj)


def test_complete_rollout_is_ok() -> None:
    assert deploy_verdict().state is State.OK


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"generation": 3, "observed": 2}, "has not observed the new spec"),
        ({"updated": 1}, "1 of 2 replicas updated"),
        ({"total": 3}, "1 old replicas pending termination"),
        ({"available": 1}, "1 of 2 updated replicas available"),
        ({"ready": 1}, "1 of 2 replicas ready"),
    ],
)
def test_kubectl_rules_keep_it_pending(kwargs: dict[str, Any], expected: str) -> None:
    result = deploy_verdict(**kwargs)
    assert result.state is State.PENDING
    assert any(expected in m for m in result.missing), result.missing


def test_progress_deadline_exceeded_fails() -> None:
    result = deploy_verdict(updated=1, deadline_exceeded=True)
    assert result.state is State.FAILED
    assert "ProgressDeadlineExceeded" in result.reasons[0]


def world(image_id: str, *, pod_image: str = IMAGE, ready: bool = True, template_image: str = IMAGE):
    deploy = deployment("odoo-web", image=template_image, revision="3")
    old = replicaset(deploy, pod_hash="old111", revision="2", image=f"{REPO}@{digest('previous')}")
    new = replicaset(deploy, pod_hash="new222", revision="3", image=pod_image)
    pods = [pod(new, i, image=pod_image, image_id=image_id, ready=ready) for i in range(2)]
    pods.append(pod(old, 9, image=f"{REPO}@{digest('previous')}", image_id=f"{REPO}@{digest('previous')}"))
    for obj, kind in [
        (deploy, "deployments"),
        (old, "replicasets"),
        (new, "replicasets"),
        *[(p, "pods") for p in pods],
    ]:
        validate(KINDS[kind], obj)
    return deploy, [old, new], pods


def verdict_for(image_id: str, accepted: tuple[str, ...] = (DIGEST,), **kwargs: Any):
    deploy, rss, pods = world(image_id, **kwargs)
    return pods_verdict(deploy, rss, pods, repository=REPO, accepted_digests=set(accepted))


def test_new_replicaset_is_the_one_with_the_deployment_revision() -> None:
    deploy, rss, _ = world(IMAGE)
    assert new_replicaset(deploy, rss)["metadata"]["name"] == "odoo-web-new222"


def test_pods_running_the_release_digest_are_ok_and_old_pods_are_ignored() -> None:
    assert verdict_for(f"{REPO}@{DIGEST}").state is State.OK


def test_legacy_docker_pullable_image_id_is_read() -> None:
    assert verdict_for(f"docker-pullable://{REPO}@{DIGEST}").state is State.OK


def test_platform_manifest_digest_is_accepted_when_listed() -> None:
    assert verdict_for(f"{REPO}@{PLATFORM}", accepted=(DIGEST, PLATFORM)).state is State.OK
    assert verdict_for(f"{REPO}@{PLATFORM}").state is State.FAILED


def test_wrong_digest_fails_and_names_it() -> None:
    result = verdict_for(f"{REPO}@{digest('other')}")
    assert result.state is State.FAILED
    assert digest("other") in result.reasons[0]


def test_bare_config_id_cannot_prove_the_digest() -> None:
    result = verdict_for(digest("config"))
    assert result.state is State.FAILED
    assert "without a repository digest" in result.reasons[0]


def test_pods_not_ready_are_pending() -> None:
    result = verdict_for(f"{REPO}@{DIGEST}", ready=False)
    assert result.state is State.PENDING


def test_template_pinning_another_digest_fails_fast() -> None:
    other = f"{REPO}@{digest('other')}"
    result = verdict_for(other, template_image=other, pod_image=other)
    assert result.state is State.FAILED
    assert "pod template pins" in result.reasons[0]


def test_template_without_the_release_repository_fails() -> None:
    result = verdict_for("x", template_image="nginx:1.27", pod_image="nginx:1.27")
    assert result.state is State.FAILED
    assert "no container of the pod template uses" in result.reasons[0]


def test_no_new_replicaset_yet_is_pending() -> None:
    deploy, rss, pods = world(IMAGE)
    result = pods_verdict(deploy, rss[:1], pods, repository=REPO, accepted_digests={DIGEST})
    assert result.missing == ("new ReplicaSet not seen yet",)


@pytest.mark.parametrize(
    ("image", "repo"),
    [
        ("reg:5000/a/b:1.0@sha256:x", "reg:5000/a/b"),
        ("reg:5000/a/b", "reg:5000/a/b"),
        ("nginx:1.27", "nginx"),
    ],
)
def test_image_repository(image: str, repo: str) -> None:
    assert image_repository(image) == repo


def test_image_digest() -> None:
    assert image_digest(f"docker-pullable://{REPO}@{DIGEST}") == DIGEST
    assert image_digest(DIGEST) is None
