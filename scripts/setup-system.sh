#!/usr/bin/env bash
# System pieces the tests use: git, Docker Engine (docker.io), the OCI registry (docker-registry), npm and
# unzip (for helm/kubectl). `setup-system.sh demo` installs only what `make demo` needs (git, docker-registry).
# Idempotent and quiet. As root it installs missing Debian packages and, for the tests, starts dockerd when no
# Docker Engine is reachable (DOCKER_HOST or the default socket). As a normal user it only reports.
set -euo pipefail

profile="${1:-test}"
log() { printf 'setup-system: %s\n' "$*" >&2; }

need_pkgs=()
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
if [ "$profile" = test ]; then
  command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
  command -v unzip >/dev/null 2>&1 || need_pkgs+=(unzip)
  command -v npm >/dev/null 2>&1 || need_pkgs+=(npm)
fi

if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    log "missing ${need_pkgs[*]}; run as root (or install them) for the integration tests"
  fi
fi

[ "$profile" = test ] || exit 0

docker_reachable() { timeout 10 docker info >/dev/null 2>&1; }

if ! command -v docker >/dev/null 2>&1; then
  log "no docker client; Docker tests will not run"
elif docker_reachable; then
  :
elif [ -n "${DOCKER_HOST:-}" ]; then
  log "DOCKER_HOST=$DOCKER_HOST is set but not reachable; not starting another engine"
elif [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/lib/docker /var/log
  nohup dockerd --host=unix:///var/run/docker.sock >/var/log/odoo-gitops-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker_reachable && break; sleep 1; done
  if ! docker_reachable; then
    log "dockerd did not come up with the default storage driver; retrying with vfs"
    pkill -x dockerd || true
    sleep 2
    nohup dockerd --host=unix:///var/run/docker.sock --storage-driver=vfs >/var/log/odoo-gitops-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker_reachable && break; sleep 1; done
  fi
  docker_reachable || { log "dockerd failed to start; see /var/log/odoo-gitops-dockerd.log"; tail -20 /var/log/odoo-gitops-dockerd.log >&2; }
else
  log "no Docker Engine reachable and not root; Docker tests will not run"
fi
