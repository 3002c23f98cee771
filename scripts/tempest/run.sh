#!/usr/bin/env bash
# Tempest's volume API suite (Debian's python3-tempest) against this service, as an operator
# would run it: a real Keystone (.ci/keystone.sh), catalog entries for the block-storage service,
# the service started with AUTH_STRATEGY=keystone and the documented cinder-compatible policy file.
#
#   bash scripts/tempest/run.sh            # whole tempest.api.volume suite
#   bash scripts/tempest/run.sh REGEX      # a subset, e.g. 'tempest.api.volume.test_volume_metadata'
#
# Writes the workspace (tempest.conf, logs, the subunit stream) under $TEMPEST_DIR and exits
# non-zero when a test fails. Tests that need compute, image, backup or object storage are
# turned off in tempest.conf; the README's conformance table says why each skip remains.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
W=${TEMPEST_DIR:-/tmp/assisted-snapshots-tempest}
PORT=${TEMPEST_SERVICE_PORT:-18776}
AGENT_PORT=${TEMPEST_AGENT_PORT:-18774}
KS_PORT=${KS_PORT:-15000}
KS="http://127.0.0.1:$KS_PORT"
ADMIN_PW=${KS_ADMIN_PASSWORD:-local-admin-pw}
USER_PW=${KS_USER_PASSWORD:-local-user-pw}
REGEX=${1:-'^tempest\.api\.volume\.'}
CONCURRENCY=${TEMPEST_CONCURRENCY:-2}

bash .ci/keystone.sh >/dev/null

rm -rf "$W"
mkdir -p "$W"/{service,share,log}
# Its own workspace registry: runs of parallel worktrees must not share ~/.tempest/workspace.yaml.
(cd "$W" && tempest init --workspace-path "$W/workspace.yaml" workspace >/dev/null)
WS="$W/workspace"

# --- catalog: volumev3 and block-storage (Tempest 33 asks for volumev3) ----------------------
REGION="tempest-$PORT"
"$PY" "$ROOT/scripts/tempest/catalog.py" "$KS" "$ADMIN_PW" "http://127.0.0.1:$PORT/v3/%(project_id)s" "$REGION" >"$W/log/catalog.log"

# --- the service -----------------------------------------------------------------------------
export DATABASE_URL="file:$W/service/tempest.db"
export PORT HOST=127.0.0.1 LOG_LEVEL=${TEMPEST_LOG_LEVEL:-info}
export AUTH_STRATEGY=keystone KEYSTONE_URL="$KS" KEYSTONE_SERVICE_USER=svc KEYSTONE_SERVICE_PASSWORD="$USER_PW"
export POLICY_FILE="$ROOT/etc/policy/cinder-compatible.yaml"
export REMOTEFS_SHARE="$W/share" COMPUTE_AGENT_PORT="$AGENT_PORT"
node dist/src/cli/migrate.js >"$W/log/migrate.log" 2>&1
node dist/src/main.js >"$W/log/service.log" 2>&1 &
SERVICE_PID=$!
trap 'kill -TERM $SERVICE_PID 2>/dev/null || true; wait $SERVICE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do curl -sf -m 2 -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.2; done
curl -sf -m 2 -o /dev/null "http://127.0.0.1:$PORT/readyz" || { echo "service did not come up; see $W/log/service.log" >&2; exit 1; }

# --- tempest.conf ----------------------------------------------------------------------------
sed -e "s#@KS@#$KS#g" -e "s#@ADMIN_PW@#$ADMIN_PW#g" -e "s#@REGION@#$REGION#g" "$ROOT/scripts/tempest/tempest.conf.in" >"$WS/etc/tempest.conf"

cd "$WS"
set +e
tempest run --regex "$REGEX" --concurrency "$CONCURRENCY" >"$W/log/tempest.log" 2>&1
rc=$?
set -e
stestr last --subunit >"$W/log/tempest.subunit" 2>/dev/null || true
"$PY" "$ROOT/scripts/tempest/summary.py" "$W/log/tempest.subunit" | tee "$W/log/summary.txt"
exit $rc
