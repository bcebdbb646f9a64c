#!/usr/bin/env bash
# The base of the odoo-gitops tool image: a Debian 12 (bookworm) root filesystem with python3, python3-venv,
# git, ca-certificates and postgresql-client-15 (pg_dump/pg_restore for the chart's backup, rehearsal and
# refresh Jobs), made with mmdebstrap from the Debian mirror (no Docker Hub needed), file times set to
# SOURCE_DATE_EPOCH (default: 2026-01-01) so the same package versions give the same tarball.
# Usage: scripts/tool-base.sh [OUTPUT_TAR]   (default: ${XDG_CACHE_HOME:-~/.cache}/odoo-gitops/tool-base-bookworm-pg15.tar)
# Does nothing when OUTPUT_TAR exists. Needs root (or unshare) and the mmdebstrap package.
set -euo pipefail

out="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/odoo-gitops/tool-base-bookworm-pg15.tar}"
[ -f "$out" ] && [ -s "$out" ] && exit 0
rm -rf "$out"  # a directory left by an older version of this script (it let mmdebstrap guess the format)
command -v mmdebstrap >/dev/null || { echo "tool-base: mmdebstrap is required (apt-get install mmdebstrap)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
partial="$out.partial"
trap 'rm -rf "$partial"' EXIT
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1767225600}" mmdebstrap --quiet --variant=essential --format=tar \
  --include=python3,python3-venv,git,ca-certificates,postgresql-client-15 \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  bookworm "$partial"
mv "$partial" "$out"
