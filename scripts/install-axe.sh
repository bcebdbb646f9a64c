#!/usr/bin/env bash
# Install axe-core (the accessibility checker the board's browser tests inject from a local file) into
# .tools/npm-axe. Idempotent and quiet: does nothing when axe.min.js is already there.
# Usage: scripts/install-axe.sh [TOOLS_DIR]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${1:-$root/.tools}"
axe="$tools/npm-axe/node_modules/axe-core/axe.min.js"

[[ -f "$axe" ]] && exit 0
command -v npm >/dev/null || { echo "install-axe: 'npm' is required (apt-get install npm)" >&2; exit 1; }
mkdir -p "$tools/npm-axe"
npm install --prefix "$tools/npm-axe" --no-audit --no-fund --loglevel=error "axe-core@4" >/dev/null
[[ -f "$axe" ]] || { echo "install-axe: $axe not found after npm install" >&2; exit 1; }
