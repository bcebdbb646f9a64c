"""`make demo`: the main job on the embedded default, with every step a real `odoo-gitops` command.

On a copy of the example config repository (a local git repository with a bare remote, PRs on the local
forge): build, sign and scan a sample addon image in a local registry, plan staging → prod, show the window
verdict, promote (canary wave), gate pending on CAB approval, approve as two CAB members, re-check the gate,
merge, and print and verify the audit trail.

What a real deployment has and this machine does not is set up here, and said so when it happens: a local
OCI registry (Debian `docker-registry`), an Odoo base image pushed into it through the registry API, an
offline trivy database (no internet), and a staging release seeded with the freshly built image (in real
life `promote dev staging` and `verify staging` against the cluster produce it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from gitops.config.release_file import render_release  # noqa: E402

DEMO = Path(os.environ.get("DEMO_DIR", ROOT / ".demo")).resolve()
CONFIG_REMOTE = DEMO / "config.git"
CONFIG = DEMO / "config"
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stderr.isatty() else ("", "", "")


def step(title: str) -> None:
    print(f"\n{BOLD}== {title}{RESET}", file=sys.stderr, flush=True)


def note(text: str) -> None:
    print(f"{DIM}{text}{RESET}", file=sys.stderr, flush=True)


def run(*args: str, ok: tuple[int, ...] = (0,), capture: bool = False, quiet: bool = False) -> str:
    if not quiet:
        print(f"$ {' '.join(args)}", file=sys.stderr, flush=True)
    argv = [sys.executable, "-m", "gitops", *args[1:]] if args[0] == "odoo-gitops" else list(args)
    proc = subprocess.run(argv, check=False, cwd=ROOT, text=True, stdout=subprocess.PIPE if capture else None)
    if proc.returncode not in ok:
        raise SystemExit(f"demo: `{' '.join(args)}` exited {proc.returncode}")
    return proc.stdout or ""


def cli(*args: str, ok: tuple[int, ...] = (0,)) -> None:
    run("odoo-gitops", *args, ok=ok)


def cli_json(*args: str, ok: tuple[int, ...] = (0,), quiet: bool = False) -> dict[str, Any]:
    return json.loads(run("odoo-gitops", *args, "--json", ok=ok, capture=True, quiet=quiet))


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def make_config_repo() -> None:
    step("Config repository: a local git repository made from the examples (envs/, pipelines/, calendars/)")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(CONFIG_REMOTE)], check=True)
    CONFIG.mkdir(parents=True)
    for part in ("envs", "pipelines", "calendars", "keys"):
        shutil.copytree(ROOT / part, CONFIG / part)
    git(CONFIG, "init", "-q", "-b", "main")
    git(CONFIG, "remote", "add", "origin", str(CONFIG_REMOTE))
    commit_config("Example config repository")
    note(f"config repo: {CONFIG_REMOTE} (working copy {CONFIG})")


def commit_config(message: str) -> None:
    if git(CONFIG, "branch", "-r"):  # promote, gate and merge push to the remote in between
        git(CONFIG, "pull", "-q", "--ff-only", "origin", "main")
    git(CONFIG, "add", "-A")
    git(CONFIG, "commit", "-q", "-m", message)
    git(CONFIG, "push", "-q", "origin", "HEAD:main")


def start_registry() -> tuple[str, int]:
    out = run(sys.executable, "scripts/demo_support.py", "registry", str(DEMO / "registry"), capture=True)
    host, pid = out.split()
    return host, int(pid)


def stop_previous_registry() -> None:
    """A registry left running by the last `make demo` serves from .demo/, which is about to be replaced."""
    from demo_support import stop_registry

    stopped = stop_registry(DEMO / "registry")
    if stopped:
        note(f"stopped the registry the previous demo left running (pid {stopped})")


def supply_chain(host: str) -> dict[str, Any]:
    step("Build, sign and scan the sample addons (examples/addons) into an image in a local registry")
    note(f"local OCI registry (docker-registry) on {host}; Odoo base image pushed through the registry API")
    base = run(sys.executable, "scripts/demo_support.py", "base-image", host, capture=True).strip()
    cache = run(sys.executable, "scripts/demo_support.py", "trivy-cache", str(DEMO / "trivy"), capture=True)
    note("offline trivy DB (these machines cannot download trivy's database; it knows no vulnerabilities)")
    addons = DEMO / "addons"
    shutil.copytree(ROOT / "examples" / "addons", addons)
    git(addons, "init", "-q", "-b", "main")
    git(addons, "add", "-A")
    git(addons, "commit", "-q", "-m", "Site diary and retention modules")
    git(addons, "tag", "v1.4.0")
    keys = DEMO / "keys"
    cli("keygen", "--output-dir", str(keys))
    shutil.copy(keys / "cosign.pub", CONFIG / "keys" / "cosign.pub")
    commit_config("Trust the release signing key")
    build = cli_json(
        "build",
        str(addons),
        "--base",
        base,
        "--repository",
        f"{host}/acme/odoo-custom",
        "--push",
        "--key",
        str(keys / "cosign.key"),
    )
    note(f"built {build['image']} ({build['method']}, tags {', '.join(build['tags'])})")
    cli("verify-signature", build["image"], "--key", str(keys / "cosign.pub"))
    os.environ["TRIVY_CACHE_DIR"] = cache.strip()
    cli(
        "scan",
        build["image"],
        "--env",
        "prod",
        "--config-repo",
        str(CONFIG),
        "--attest",
        "--key",
        str(keys / "cosign.key"),
    )
    return build


def seed_staging(build: dict[str, Any]) -> None:
    step("Seed staging with the new release (in real life: promote dev → staging, then verify staging)")
    head = git(CONFIG, "rev-parse", "HEAD")
    verified = datetime.now(UTC) - timedelta(days=2)
    release = {
        "image": build["image"],
        "version": build["version"],
        "source_commit": build["revision"],
        "modules": build["modules"],
        "change_class": "normal",
        "promoted_from": "dev",
        "promoted_at": verified - timedelta(minutes=20),
        "verification": {"revision": head, "verified_at": verified, "digest": build["digest"]},
    }
    (CONFIG / "envs" / "staging" / "release.yaml").write_text(render_release(release), encoding="utf-8")
    commit_config(f"staging: release {build['version']} verified (seeded by the demo)")
    note(
        f"envs/staging/release.yaml now holds {build['version']}, verified two days ago, at "
        f"{env_time(verified, env_timezone('staging'))} (soak: 24h)"
    )


def env_timezone(env: str) -> str:
    import yaml

    return str(yaml.safe_load((CONFIG / "envs" / env / "env.yaml").read_text())["timezone"])


def window_for_demo() -> None:
    step("Change window for prod, from its calendars (payroll, month-end, Tue–Thu evenings)")
    timezone = env_timezone("prod")
    note(f"now in prod's time zone {timezone}: {env_time(datetime.now(UTC), timezone)}")
    verdict = cli_json("window", "check", "prod", "--config-repo", str(CONFIG), ok=(0, 3))
    cli("window", "next", "prod", "--config-repo", str(CONFIG))
    upcoming = cli_json("window", "next", "prod", "--config-repo", str(CONFIG), ok=(0, 3), quiet=True)
    if upcoming.get("next_open"):
        opens = datetime.fromisoformat(str(upcoming["next_open"]).replace("Z", "+00:00"))
        note(f"prod next opens {env_time(opens, timezone)}")
    if verdict["open"]:
        note("prod's window is open now: the promotion can merge once the CAB has approved")
        return
    note("prod's window is closed now, so the gate would stay pending until it opens (that is the point).")
    note("So that the demo can finish whatever the time, its copy of prod gets a demo calendar that is open")
    note("now, as a reviewed change to the config repository would. The real calendars are untouched in git.")
    (CONFIG / "calendars" / "demo-open.yaml").write_text(
        "# Demo only: a change window open all day, every day.\ntimezone: UTC\n"
        "windows:\n  - {id: demo-all-day, kind: allow, days: [mon, tue, wed, thu, fri, sat, sun],"
        ' start: "00:00", end: "00:00"}\n'
    )
    env_file = CONFIG / "envs" / "prod" / "env.yaml"
    text = env_file.read_text()
    env_file.write_text(
        text.replace("calendars: [payroll, month-end, prod-windows]", "calendars: [demo-open]")
    )
    commit_config("Demo: open a change window for prod now")
    cli("window", "check", "prod", "--config-repo", str(CONFIG))


def promote_and_approve() -> None:
    remote = str(CONFIG_REMOTE)
    step("Plan: what promoting staging → prod would change")
    cli("plan", "staging", "prod", "--config-repo", remote)
    window_for_demo()
    step("Promote staging → prod: one PR for the canary wave (local forge)")
    result = cli_json("promote", "staging", "prod", "--config-repo", remote, "--actor", "dev-alice")
    number = str(result["pull_request"]["number"])
    note(f"PR #{number} on branch {result['branch']}, change class {result['change_class']}")
    cli("pr", "show", number, "--config-repo", remote)
    step("Gate: pending until two CAB members approve")
    cli("gate", "check", number, "--config-repo", remote, "--actor", "ci", ok=(3,))
    step("The CAB approves (the author's own approval would not count)")
    cli("pr", "approve", number, "--as", "cab-ines", "--config-repo", remote)
    cli("pr", "approve", number, "--as", "cab-jonas", "--config-repo", remote)
    if result["destructive"]:
        step("Gate re-checked: still pending, a destructive change needs a database backup first")
        note("Without --addons-repo the schema diff is unknown, so the change counts as destructive (fail")
        note("closed). The chart's backup hook takes the backup; recording it keeps the CAB's approvals.")
        cli("gate", "check", number, "--config-repo", remote, "--actor", "ci", ok=(3,))
        backup = "pg-prod-demo-" + datetime.now(UTC).strftime("%Y%m%d%H%M")
        cli("promote", "staging", "prod", "--config-repo", remote, "--actor", "dev-alice",
            "--backup-id", backup, "--backup-location", "s3://backups/odoo-prod/")  # fmt: skip
    step("Gate re-checked: success")
    cli("gate", "check", number, "--config-repo", remote, "--actor", "ci")
    step("Merge (the local forge re-checks the gate first)")
    cli("pr", "merge", number, "--config-repo", remote, "--actor", "rel-maria")
    git(CONFIG, "pull", "-q", "--ff-only", "origin", "main")
    tenant = (CONFIG / "envs" / "prod" / "tenants" / "acme-build.yaml").read_text()
    note("envs/prod/tenants/acme-build.yaml on main now pins the release for the chart:")
    print(tenant[tenant.index("image:") :], file=sys.stderr)
    note("Next, on the cluster: `odoo-gitops verify prod --revision <merge commit>` proves Argo CD")
    note("reconciled it and that the digest runs; after the canary's 4h soak, `promote staging prod`")
    note("opens the next wave's PR.")
    step("Audit trail of prod, and its hash chain")
    cli("audit", "log", "prod", "--config-repo", remote)
    cli("audit", "verify", "prod", "--config-repo", remote)


def write_board() -> Path:
    """The demo's config repo as the static release board (what board.yml publishes to GitHub Pages)."""
    step("Release board: a static site of what runs where, the calendar and this promotion's audit trail")
    out = DEMO / "board"
    cli("board", "--out", str(out), "--config-repo", str(CONFIG_REMOTE))
    return out / "index.html"


def engine_status() -> str:
    """What the engine odoo-gitops would use (Docker SDK: DOCKER_HOST or the default socket) answers."""
    import docker

    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=10)
        try:
            version = client.version().get("Version", "?")
        finally:
            client.close()
    except Exception as exc:  # the SDK raises DockerException, requests' errors or OSError
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return f"no Docker Engine answered at {where} ({reason}); the daemonless build below needs none"
    return (
        f"Docker Engine {version} reachable at {where}; the build below needs none (daemonless: the addons "
        "have no Python requirements to install)"
    )


def env_time(moment: datetime, timezone: str) -> str:
    """`2026-12-02 09:30 CET (08:30 UTC)`: the env's local time next to UTC."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%Y-%m-%d %H:%M %Z} ({moment.astimezone(UTC):%H:%M} UTC)"


def try_next(host: str, registry_pid: int, build: dict[str, Any], board: Path) -> None:
    registry = DEMO / "registry"
    step("Try next")
    venv = Path(sys.executable).parent
    lines = [
        f". {venv.relative_to(ROOT) if venv.is_relative_to(ROOT) else venv}/activate"
        "   # puts odoo-gitops on PATH",
        f"odoo-gitops pr list --config-repo {CONFIG_REMOTE}",
        f"odoo-gitops plan staging prod --config-repo {CONFIG_REMOTE}",
        f"odoo-gitops window list prod --from {datetime.now(UTC):%Y-%m-%d} --to "
        f"{datetime.now(UTC) + timedelta(days=14):%Y-%m-%d} --config-repo {CONFIG}",
        f"odoo-gitops verify-signature {build['image']} --key {DEMO / 'keys' / 'cosign.pub'}",
        f"TRIVY_CACHE_DIR={DEMO / 'trivy'} odoo-gitops scan {build['image']} --env prod "
        f"--config-repo {CONFIG}",
        f"odoo-gitops audit log prod --config-repo {CONFIG_REMOTE}",
        f"odoo-gitops status --config-repo {CONFIG_REMOTE}",
        f"xdg-open {board}   # the release board (regenerate: odoo-gitops board --out {board.parent} "
        f"--config-repo {CONFIG_REMOTE})",
    ]
    for line in lines:
        print(f"  {line}", file=sys.stderr)
    print(
        f"The registry keeps running on {host} (pid {registry_pid}, storage {registry / 'storage'}).\n"
        f"Stop it: kill {registry_pid}    Restart it later: docker-registry serve {registry / 'config.yml'}\n"
        "(`make demo` again stops it and starts over from scratch.)",
        file=sys.stderr,
    )


def main() -> None:
    if DEMO.exists():
        stop_previous_registry()
        shutil.rmtree(DEMO)
    DEMO.mkdir(parents=True)
    os.environ.setdefault("GIT_AUTHOR_NAME", "odoo-gitops demo")
    os.environ.setdefault("GIT_AUTHOR_EMAIL", "demo@example.com")
    os.environ.setdefault("GIT_COMMITTER_NAME", os.environ["GIT_AUTHOR_NAME"])
    os.environ.setdefault("GIT_COMMITTER_EMAIL", os.environ["GIT_AUTHOR_EMAIL"])
    os.environ.setdefault("COSIGN_PASSWORD", "demo-only-password")
    make_config_repo()
    if not shutil.which("docker-registry"):
        step("No OCI registry here (Debian docker-registry): skipping build, sign and scan")
        note("run `make demo` as root (it installs docker-registry) for the whole flow; planning only:")
        cli("plan", "staging", "prod", "--config-repo", str(CONFIG_REMOTE))
        cli("window", "check", "prod", "--config-repo", str(CONFIG_REMOTE), ok=(0, 3))
        print(write_board())
        return
    host, pid = start_registry()
    try:
        note(engine_status())
        build = supply_chain(host)
        seed_staging(build)
        promote_and_approve()
        board = write_board()
    except BaseException:
        os.killpg(pid, signal.SIGTERM)
        note(f"stopped the demo's registry (pid {pid}) because the demo did not finish")
        raise
    step(f"Done. Config repo: {CONFIG_REMOTE} (working copy {CONFIG})")
    try_next(host, pid, build, board)
    print(board)  # the last line on stdout: the board's index page, to open in a browser


if __name__ == "__main__":
    main()
