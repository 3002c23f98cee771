#!/bin/bash
# A real Keystone (Debian 12 python3-keystone, OpenStack Zed) on 127.0.0.1:${KS_PORT:-15000} for the
# auth tests, with SQLite + fernet tokens under uwsgi, everything in $KEYSTONE_DIR.
#
#   bash .ci/keystone.sh     # install packages if missing, start if not answering, provision
#   kill -INT "$(cat "${KEYSTONE_DIR:-/tmp/assisted-snapshots-keystone}/uwsgi.pid")"   # stop
#
# Idempotent: when Keystone already answers and the last test user can log in, it does nothing.
# When it answers but is not provisioned (e.g. someone else's Keystone on the port with the same
# admin password), it only provisions. Provisioning is find-or-create, so re-running is safe.
#
# Identities (passwords are test-only constants shared with test/support/keystone.ts; never
# printed): roles admin/member/reader (from bootstrap) + service; projects admin, service, demo,
# other; users
#   admin        admin   on admin      (bootstrap)
#   svc          service on service, service on demo
#   member1      member  on demo
#   reader1      reader  on demo
#   othermember  member  on other
#
# The `keystone` Debian package is avoided on purpose: its postinst wants dbconfig-common and a
# system service. python3-keystone alone ships keystone-manage and keystone-wsgi-public.
set -euo pipefail

D=${KEYSTONE_DIR:-/tmp/assisted-snapshots-keystone}
PORT=${KS_PORT:-15000}
KS="http://127.0.0.1:$PORT"
# One worker is plenty for the tests and keeps SQLite writers from contending across processes.
WORKERS=${KS_WORKERS:-1}
ADMIN_PW=${KS_ADMIN_PASSWORD:-local-admin-pw}
USER_PW=${KS_USER_PASSWORD:-local-user-pw}
# Debian's OpenStack packages live in the system interpreter; python3 on PATH may be another one.
PY=/usr/bin/python3
export DEBIAN_FRONTEND=noninteractive

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
answering() { curl -sf -m 2 -o /dev/null "$KS/v3"; }

# token USER PROJECT PASSWORD -> prints the token, empty on failure
token() {
  local body hdr
  body=$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"id":"default"},"password":"%s"}}},"scope":{"project":{"name":"%s","domain":{"id":"default"}}}}}' "$1" "$3" "$2")
  hdr=$(curl -s -m 10 -o /dev/null -D - -H 'Content-Type: application/json' -d "$body" "$KS/v3/auth/tokens" || true)
  printf '%s' "$hdr" | awk 'tolower($1) == "x-subject-token:" { sub(/\r$/, "", $2); print $2 }'
}

t0=$(now)
if answering && [ -n "$(token othermember other "$USER_PW")" ]; then
  echo "keystone already up and provisioned on $KS"
  exit 0
fi

if ! answering; then
  need=()
  for p in python3-keystone uwsgi-core uwsgi-plugin-python3 curl; do
    # `dpkg -s` also succeeds for removed packages whose config files remain; ask for the state.
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
  fi
  t1=$(now)

  # A previous instance may have died leaving its pid file; the directory is ours to recreate.
  if [ -f "$D/uwsgi.pid" ] && kill -0 "$(cat "$D/uwsgi.pid")" 2>/dev/null; then
    kill -INT "$(cat "$D/uwsgi.pid")" || true
  fi
  rm -rf "$D"
  mkdir -p "$D"/{log,fernet-keys,credential-keys}
  cat >"$D/keystone.conf" <<EOF
[DEFAULT]
log_dir = $D/log
log_file = keystone.log
debug = false

[database]
connection = sqlite:///$D/keystone.sqlite

[token]
provider = fernet
expiration = 3600

[fernet_tokens]
key_repository = $D/fernet-keys

[credential]
key_repository = $D/credential-keys

[oslo_policy]
policy_file = $D/policy.yaml
EOF
  : >"$D/policy.yaml"
  KM=(keystone-manage --config-file "$D/keystone.conf")
  "${KM[@]}" db_sync >>"$D/log/manage.log" 2>&1
  # WAL lets Keystone's long-lived read transactions coexist with writes; in the default rollback
  # journal the first role grants after creating users wait 5 s on "database is locked" and fail.
  $PY -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")' "$D/keystone.sqlite"
  "${KM[@]}" fernet_setup --keystone-user root --keystone-group root >>"$D/log/manage.log" 2>&1
  "${KM[@]}" credential_setup --keystone-user root --keystone-group root >>"$D/log/manage.log" 2>&1
  "${KM[@]}" bootstrap --bootstrap-password "$ADMIN_PW" \
    --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
    --bootstrap-admin-url "$KS/v3/" --bootstrap-internal-url "$KS/v3/" \
    --bootstrap-public-url "$KS/v3/" --bootstrap-region-id RegionOne >>"$D/log/manage.log" 2>&1
  t2=$(now)

  (
    export OS_KEYSTONE_CONFIG_FILES="$D/keystone.conf"
    unset PYTHONHOME PYTHONPATH
    uwsgi --plugin python3 --http-socket "127.0.0.1:$PORT" --add-header "Connection: close" \
      --master --processes "$WORKERS" --lazy-apps --wsgi-file /usr/bin/keystone-wsgi-public \
      --buffer-size 65535 --die-on-term --no-orphans --disable-logging \
      --pidfile "$D/uwsgi.pid" --daemonize "$D/log/uwsgi.log"
  )
  # Readiness poll, bounded (30 s): uwsgi daemonizes before the app has loaded.
  for _ in $(seq 1 150); do answering && break; sleep 0.2; done
  answering || { echo "keystone did not come up; see $D/log" >&2; exit 1; }
  t3=$(now)
  echo "keystone: install $(elapsed "$t0" "$t1")s, setup $(elapsed "$t1" "$t2")s, start $(elapsed "$t2" "$t3")s"
fi

t4=$(now)
ADMIN_TOKEN=$(token admin admin "$ADMIN_PW")
[ -n "$ADMIN_TOKEN" ] || {
  echo "keystone on $KS does not accept the configured admin password (KS_ADMIN_PASSWORD)" >&2
  exit 1
}

api() { # METHOD PATH [JSON] -> body
  local args=(-sf -m 10 -X "$1" -H "X-Auth-Token: $ADMIN_TOKEN" -H 'Content-Type: application/json')
  [ $# -ge 3 ] && args+=(-d "$3")
  curl "${args[@]}" "$KS/v3$2"
}
# first_id COLLECTION: id of the first element of {"COLLECTION": [...]} or empty
first_id() { $PY -c 'import json,sys; a=json.load(sys.stdin)[sys.argv[1]]; print(a[0]["id"] if a else "")' "$1"; }
new_id() { $PY -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]]["id"])' "$1"; }

# `set -e` does not reach into functions run under `retry` (an && list), hence the `|| return 1`.
ensure_role() {
  local out id
  out=$(api GET "/roles?name=$1") || return 1
  id=$(printf '%s' "$out" | first_id roles) || return 1
  if [ -z "$id" ]; then
    out=$(api POST /roles "{\"role\":{\"name\":\"$1\"}}") || return 1
    id=$(printf '%s' "$out" | new_id role) || return 1
  fi
  printf '%s' "$id"
}
ensure_project() {
  local out id
  out=$(api GET "/projects?name=$1&domain_id=default") || return 1
  id=$(printf '%s' "$out" | first_id projects) || return 1
  if [ -z "$id" ]; then
    out=$(api POST /projects "{\"project\":{\"name\":\"$1\",\"domain_id\":\"default\"}}") || return 1
    id=$(printf '%s' "$out" | new_id project) || return 1
  fi
  printf '%s' "$id"
}
ensure_user() { # NAME DEFAULT_PROJECT_ID
  local out id
  out=$(api GET "/users?name=$1&domain_id=default") || return 1
  id=$(printf '%s' "$out" | first_id users) || return 1
  if [ -z "$id" ]; then
    out=$(api POST /users "{\"user\":{\"name\":\"$1\",\"domain_id\":\"default\",\"password\":\"$USER_PW\",\"default_project_id\":\"$2\",\"enabled\":true}}") || return 1
    id=$(printf '%s' "$out" | new_id user) || return 1
  else
    # Keeps the documented password true even if an earlier run used another one.
    api PATCH "/users/$id" "{\"user\":{\"password\":\"$USER_PW\"}}" >/dev/null || return 1
  fi
  printf '%s' "$id"
}
grant() { api PUT "/projects/$1/users/$2/roles/$3" >/dev/null; }
# Belt and braces for SQLite lock errors (Keystone answers them with an empty reply). Every step
# is find-or-create or a PUT, so running it again is safe.
retry() {
  local i
  for i in 1 2 3 4 5; do
    "$@" && return 0
    echo "keystone: '$1 ${2:-}' failed (attempt $i), retrying" >&2
  done
  return 1
}

R_SERVICE=$(retry ensure_role service)
R_MEMBER=$(retry ensure_role member)
R_READER=$(retry ensure_role reader)
P_SERVICE=$(retry ensure_project service)
P_DEMO=$(retry ensure_project demo)
P_OTHER=$(retry ensure_project other)
U_SVC=$(retry ensure_user svc "$P_SERVICE")
U_MEMBER1=$(retry ensure_user member1 "$P_DEMO")
U_READER1=$(retry ensure_user reader1 "$P_DEMO")
U_OTHER=$(retry ensure_user othermember "$P_OTHER")
retry grant "$P_SERVICE" "$U_SVC" "$R_SERVICE"
retry grant "$P_DEMO" "$U_SVC" "$R_SERVICE"
retry grant "$P_DEMO" "$U_MEMBER1" "$R_MEMBER"
retry grant "$P_DEMO" "$U_READER1" "$R_READER"
retry grant "$P_OTHER" "$U_OTHER" "$R_MEMBER"

[ -n "$(token othermember other "$USER_PW")" ] || { echo "provisioning did not take" >&2; exit 1; }
t5=$(now)
echo "keystone: provisioned in $(elapsed "$t4" "$t5")s; ready on $KS (total $(elapsed "$t0" "$t5")s)"
