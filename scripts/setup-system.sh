#!/usr/bin/env bash
# System pieces the tests use: git, Docker Engine (docker.io), the OCI registry (docker-registry), npm and
# unzip (for helm/kubectl), mmdebstrap (the tool image's Debian base, built once and cached).
# `setup-system.sh demo` installs only what `make demo` needs (git, docker-registry); `setup-system.sh venv
# PYTHON` only python3-venv, when PYTHON cannot make a virtualenv without it.
# Idempotent; one line per step (scripts/step.sh), apt's own output only when it fails. As root it installs
# missing Debian packages and, for the tests, starts dockerd when no Docker Engine is reachable (DOCKER_HOST or
# the default socket). As a normal user it only reports. It never stops a process it did not start.
set -euo pipefail

profile="${1:-test}"  # test | demo | venv PYTHON
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf 'setup-system: %s\n' "$*" >&2; }
step() { bash "$here/step.sh" "$@"; }

# Roughly how long each package takes to download and install on a fresh Debian 12 (with its dependencies).
declare -A about=([git]="~15 s" [docker-registry]="~10 s" [docker.io]="~1 min: dockerd, containerd, runc"
  [unzip]="~5 s" [npm]="~1-2 min: Node.js and ~300 small Debian packages"
  [mmdebstrap]="~20 s: builds the tool image's Debian base"
  [chromium]="~1 min: headless browser for the board's browser tests" [chromium-driver]="~5 s: chromedriver"
  [jq]="~5 s: the workflows read --json with it")
about[postgresql-15]="~30 s: PostgreSQL 15 server and client (initdb, pg_ctl, pg_dump, pg_restore); no cluster is started"

if [ "$profile" = venv ]; then
  # Debian's python3 has no ensurepip (so no `python3 -m venv`) until python3-venv is installed.
  python="${2:-python3}"
  "$python" -c 'import ensurepip' 2>/dev/null && exit 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    step "apt: update the package lists (~10-30 s)" apt-get update -qq
    step "apt: python3-venv (~10 s: ensurepip, so that $python -m venv works)" \
      apt-get install -y -qq --no-install-recommends python3-venv
    exit 0
  fi
  log "$python cannot create a virtualenv (no ensurepip): install python3-venv (as root: apt-get install python3-venv)"
  exit 2
fi

need_pkgs=()
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
if [ "$profile" = test ]; then
  command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
  command -v unzip >/dev/null 2>&1 || need_pkgs+=(unzip)
  command -v npm >/dev/null 2>&1 || need_pkgs+=(npm)
  command -v mmdebstrap >/dev/null 2>&1 || need_pkgs+=(mmdebstrap)
  command -v jq >/dev/null 2>&1 || need_pkgs+=(jq)  # the workflow tests run the workflows' shell steps
  # the board's browser tests: Debian's chromium, or a Chrome with its chromedriver already there
  command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || need_pkgs+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || [ -x "${CHROMEWEBDRIVER:-/nonexistent}/chromedriver" ] ||
    need_pkgs+=(chromium-driver)
  [ -x /usr/lib/postgresql/15/bin/initdb ] || need_pkgs+=(postgresql-15)
fi

if [ "${#need_pkgs[@]}" -eq 0 ]; then
  log "Debian packages for '$profile': all present"
else
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    step "apt: update the package lists (~10-30 s)" apt-get update -qq
    for pkg in "${need_pkgs[@]}"; do
      step "apt: $pkg (${about[$pkg]})" apt-get install -y -qq --no-install-recommends "$pkg"
    done
  else
    log "missing ${need_pkgs[*]}; run as root (or install them) for the integration tests"
  fi
fi

[ "$profile" = test ] || exit 0

# The tool image's base (tests/tool_image): a Debian 12 rootfs made once from the Debian mirror, then cached.
tool_base="${ODOO_GITOPS_TOOL_BASE:-${XDG_CACHE_HOME:-$HOME/.cache}/odoo-gitops/tool-base-bookworm-pg15.tar}"
if [ -f "$tool_base" ] && [ -s "$tool_base" ]; then
  log "tool image base rootfs: cached at $tool_base"
elif [ "$(id -u)" = 0 ] && command -v mmdebstrap >/dev/null 2>&1; then
  step "mmdebstrap: Debian 12 rootfs with python3, python3-venv, git, ca-certificates for the tool image \
(~200 MB, 3-8 min, once) -> $tool_base" bash "$here/tool-base.sh" "$tool_base"
else
  log "no tool image base rootfs at $tool_base and not root (or no mmdebstrap); tests/tool_image will not run"
fi

# A real kube-apiserver + etcd for tests/kube (built once from Debian's source package, cached outside the checkout).
bash "$here/setup-kube.sh"

docker_reachable() { timeout 10 docker info >/dev/null 2>&1; }

if ! command -v docker >/dev/null 2>&1; then
  log "no docker client; Docker tests will not run"
elif docker_reachable; then
  log "Docker Engine reachable at ${DOCKER_HOST:-the default socket}"
elif [ -n "${DOCKER_HOST:-}" ]; then
  log "DOCKER_HOST=$DOCKER_HOST is set but not reachable; not starting another engine"
elif [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; then
  engine_log="${ODOO_GITOPS_DOCKERD_LOG:-/var/log/odoo-gitops-dockerd.log}"
  engine_wait="${ODOO_GITOPS_DOCKERD_WAIT:-60}"
  mkdir -p /var/lib/docker "$(dirname "$engine_log")"
  start_engine() {  # dockerd ARGS...; sets $engine_pid; waits up to $engine_wait s for it to answer
    log "starting dockerd $* (log: $engine_log; up to $engine_wait s)"
    nohup dockerd --host=unix:///var/run/docker.sock "$@" >"$engine_log" 2>&1 &
    engine_pid=$!
    for _ in $(seq 1 "$engine_wait"); do
      docker_reachable && return 0
      kill -0 "$engine_pid" 2>/dev/null || return 1
      sleep 1
    done
    return 1
  }
  stop_engine() {  # only the dockerd this script started, by its PID
    kill "$engine_pid" 2>/dev/null || return 0
    for _ in $(seq 1 20); do kill -0 "$engine_pid" 2>/dev/null || return 0; sleep 1; done
    kill -9 "$engine_pid" 2>/dev/null || true
  }
  if ! start_engine; then
    log "dockerd did not come up with the default storage driver; stopping it (pid $engine_pid), retrying with vfs"
    stop_engine
    start_engine --storage-driver=vfs || true
  fi
  if docker_reachable; then
    log "dockerd is running as pid $engine_pid; it keeps running for the tests (stop it with: kill $engine_pid)"
  else
    log "dockerd failed to start; see $engine_log"
    tail -20 "$engine_log" >&2
  fi
else
  log "no Docker Engine reachable and not root; Docker tests will not run"
fi
