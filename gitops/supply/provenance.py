"""SLSA provenance v1 predicate for a build, attested on the pushed digest."""

from __future__ import annotations

from typing import Any

from gitops import __version__
from gitops.image.build import BuildResult

BUILD_TYPE = "https://github.com/odoo-gitops/odoo-gitops/build/v1"
BUILDER_ID = f"https://github.com/odoo-gitops/odoo-gitops@{__version__}"


def provenance_predicate(result: BuildResult, *, started: str, finished: str) -> dict[str, Any]:
    source = result.labels.get("org.opencontainers.image.source", "")
    base_digest = result.base["digest"].split(":", 1)[-1]
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {
                "source": source,
                "revision": result.revision,
                "base": f"{result.base['name']}@{result.base['digest']}",
                "repository": result.repository,
            },
            "internalParameters": {"method": result.method, "requirements": list(result.requirements)},
            "resolvedDependencies": [
                {
                    "uri": f"git+{source}@{result.revision}" if source else "git",
                    "digest": {"gitCommit": result.revision},
                },
                {"uri": f"oci://{result.base['name']}", "digest": {"sha256": base_digest}},
            ],
        },
        "runDetails": {
            "builder": {"id": BUILDER_ID},
            "metadata": {"invocationId": result.digest, "startedOn": started, "finishedOn": finished},
            "byproducts": [{"name": "modules", "content": None, "annotations": result.modules}],
        },
    }
