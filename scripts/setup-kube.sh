#!/usr/bin/env bash
# A real kube-apiserver (and etcd) for the integration tests in tests/kube/ — no registry ships the binary, so it
# is built once from Debian 12's source package `kubernetes` (v1.20.2 with vendor/) and cached outside the
# checkout: ~/.cache/odoo-gitops/kube/<version>/kube-apiserver (reused when the version
# matches). Called as root by setup-system.sh's test profile; one progress line per step (scripts/step.sh).
# The system's apt sources are left alone: the source package comes through a temporary sources list and a
# temporary lists directory. Idempotent. As a normal user it only reports what is missing.
#   setup-kube.sh            install the Debian packages (root), then build kube-apiserver when not cached
#   setup-kube.sh --print    print the cached binary's path (exit 1 when absent)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf 'setup-kube: %s\n' "$*" >&2; }
step() { bash "$here/step.sh" "$@"; }

# The Debian source version the tests are built from (bookworm's kubernetes, the v1.20.2 tree).
kube_src_version="${ODOO_GITOPS_KUBE_SRC_VERSION:-1.20.5+really1.20.2-1.1+deb12u1}"
# The account's home from passwd, not $HOME: the tests fence $HOME and must still find the one build.
user_home="$(getent passwd "$(id -u)" | cut -d: -f6)"
cache_root="${ODOO_GITOPS_KUBE_CACHE:-${user_home:-$HOME}/.cache/odoo-gitops/kube}"
dest="$cache_root/$kube_src_version"
binary="$dest/kube-apiserver"

if [ "${1:-}" = --print ]; then
  [ -x "$binary" ] && printf '%s\n' "$binary" && exit 0
  exit 1
fi

declare -A about=([golang-go]="~1 min: Go 1.19, builds kube-apiserver" [rsync]="~5 s: used by kubernetes' make"
  [jq]="~5 s" [etcd-server]="~10 s: etcd 3.4, the API server's store"
  [golang-github-modern-go-reflect2-dev]="~5 s: reflect2 1.0.2, replaces the vendored 1.0.1"
  [openssl]="~5 s: the test certificates and service-account keys" [make]="~5 s: kubernetes' build"
  [dpkg-dev]="~20 s: dpkg-source unpacks the source package" [etcd-client]="~5 s: etcdctl (compaction in tests)"
  [postgresql-15]="~30 s: a throwaway PostgreSQL for the migration hook's database proof")

need_pkgs=()
command -v go >/dev/null 2>&1 || need_pkgs+=(golang-go)
command -v rsync >/dev/null 2>&1 || need_pkgs+=(rsync)
command -v jq >/dev/null 2>&1 || need_pkgs+=(jq)
command -v etcd >/dev/null 2>&1 || need_pkgs+=(etcd-server)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
command -v make >/dev/null 2>&1 || need_pkgs+=(make)
command -v dpkg-source >/dev/null 2>&1 || need_pkgs+=(dpkg-dev)
command -v etcdctl >/dev/null 2>&1 || need_pkgs+=(etcd-client)
[ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ] || need_pkgs+=(golang-github-modern-go-reflect2-dev)
# the database proof tests (tests/kube/test_database_proof.py) run the chart's migrate.py on PostgreSQL 15
[ -x /usr/lib/postgresql/15/bin/initdb ] || need_pkgs+=(postgresql-15)

if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing ${need_pkgs[*]}; run as root for the kube-apiserver tests (tests/kube)"
    exit 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  step "apt: update the package lists (~10-30 s)" apt-get update -qq
  for pkg in "${need_pkgs[@]}"; do
    step "apt: $pkg (${about[$pkg]})" \
      apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "$pkg"
  done
else
  log "Debian packages for kube-apiserver tests: all present"
fi

if [ -x "$binary" ] && [ "$(cat "$dest/source-version" 2>/dev/null)" = "$kube_src_version" ]; then
  log "kube-apiserver $kube_src_version: cached at $binary"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/odoo-gitops-kube.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fetch_source() {  # the source package through a temporary sources list; /etc/apt is not touched
  mkdir -p "$work/lists/partial" "$work/src"
  printf 'deb-src http://deb.debian.org/debian bookworm main\ndeb-src http://deb.debian.org/debian-security bookworm-security main\n' \
    >"$work/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
    -o "Dir::State::Lists=$work/lists" -o "APT::Sandbox::User=root")
  apt-get "${opts[@]}" update -qq
  (cd "$work/src" && apt-get "${opts[@]}" source --download-only "kubernetes=$kube_src_version")
  (cd "$work/src" && dpkg-source -x --no-check ./*.dsc tree)
}

build() {
  local tree="$work/src/tree" gocode=/usr/share/gocode/src/github.com/modern-go/reflect2
  # vendored reflect2 1.0.1 crashes under Go >= 1.18 on the first custom-resource write: use Debian's 1.0.2
  local vendored="$tree/vendor/github.com/modern-go/reflect2"
  rm -f "$vendored"/*.go "$vendored"/*.s  # 1.0.2 dropped files of 1.0.1 (e.g. go_above_17.go): replace, not merge
  cp "$gocode"/*.go "$vendored/"
  cp "$gocode"/*.s "$vendored/" 2>/dev/null || true
  mkdir -p "$tree/.go/src/k8s.io"
  ln -sfn ../../.. "$tree/.go/src/k8s.io/kubernetes"
  (cd "$tree/.go/src/k8s.io/kubernetes" && GOPATH="$tree/.go" CGO_ENABLED=0 GOPROXY=off GOFLAGS=-mod=vendor \
    GOCACHE="$cache_root/go-build" make WHAT=cmd/kube-apiserver)
  local out
  out="$(find "$tree/_output" -type f -name kube-apiserver -perm -u+x | head -1)"
  [ -n "$out" ] || { echo "no kube-apiserver in $tree/_output" >&2; return 1; }
  mkdir -p "$dest.partial"
  cp "$out" "$dest.partial/kube-apiserver"
  printf '%s\n' "$kube_src_version" >"$dest.partial/source-version"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"  # the cache entry appears whole or not at all
  rm -rf "$cache_root/go-build"  # Go's build cache only speeds up a retry after a failed build
}

if ! command -v go >/dev/null 2>&1 || ! command -v dpkg-source >/dev/null 2>&1; then
  log "no go or dpkg-source; cannot build kube-apiserver (tests/kube will not run)"
  exit 0
fi
export work dest kube_src_version cache_root
export -f fetch_source build
step "apt source: Debian's kubernetes $kube_src_version (~60 MB, 1-3 min; the system's sources are untouched)" \
  bash -c fetch_source
step "go: build kube-apiserver v1.20.2 (10-20 min cold on 2 cores, once) -> $binary" bash -c build
log "kube-apiserver $kube_src_version: built at $binary"
