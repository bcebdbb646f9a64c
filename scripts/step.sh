#!/usr/bin/env bash
# One set-up step, told as it happens: `step.sh "what it does (roughly how long)" COMMAND ARGS...`.
# Prints the line before the command starts, a "still running" line every STEP_HEARTBEAT seconds (default 20),
# and the time it took. The command's own output (pip's notices and warnings, npm, apt) goes to a log file
# that is shown only when the command fails; then the step exits with the command's status.
set -uo pipefail

what="$1"
shift
heartbeat="${STEP_HEARTBEAT:-20}"
log="$(mktemp "${TMPDIR:-/tmp}/odoo-gitops-step.XXXXXX")"
trap 'rm -f "$log"' EXIT

printf '==> %s\n' "$what" >&2
start=$SECONDS
"$@" >"$log" 2>&1 &
pid=$!
next=$heartbeat
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  if [ $((SECONDS - start)) -ge "$next" ] && kill -0 "$pid" 2>/dev/null; then
    printf '    … still running (%ss)\n' "$((SECONDS - start))" >&2
    next=$((next + heartbeat))
  fi
done
wait "$pid"
status=$?
if [ "$status" -ne 0 ]; then
  printf '    FAILED after %ss (exit %s); its output:\n' "$((SECONDS - start))" "$status" >&2
  sed 's/^/    | /' "$log" >&2
  exit "$status"
fi
printf '    done in %ss\n' "$((SECONDS - start))" >&2
