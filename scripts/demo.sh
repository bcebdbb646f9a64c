#!/usr/bin/env bash
# The main job on the embedded default: a copy of the example config repo as a local git repository.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO="${DEMO_DIR:-$PWD/.demo}"
rm -rf "$DEMO"
mkdir -p "$DEMO"
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-odoo-gitops demo}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-demo@example.com}"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "Config repository: a local git repo made from the examples (envs/, pipelines/, calendars/)"
git init -q --bare -b main "$DEMO/config.git"
mkdir -p "$DEMO/config"
cp -r envs pipelines calendars "$DEMO/config/"
[ -d keys ] && cp -r keys "$DEMO/config/"
git -C "$DEMO/config" init -q -b main
git -C "$DEMO/config" add -A
git -C "$DEMO/config" commit -q -m "Example config repository"
git -C "$DEMO/config" remote add origin "$DEMO/config.git"
git -C "$DEMO/config" push -q origin main
echo "config repo: $DEMO/config (remote $DEMO/config.git)" >&2

step "Plan: what promoting staging → prod would change"
odoo-gitops plan staging prod --config-repo "$DEMO/config"
