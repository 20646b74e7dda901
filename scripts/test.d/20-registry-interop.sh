#!/usr/bin/env bash
# confluent-kafka (Python) SchemaRegistryClient + JSON serdes against herald-registry,
# on SQLite and on PostgreSQL (127.0.0.1:5432). Needs: pip install 'confluent-kafka[json,schemaregistry]'
# (which brings jsonschema, attrs, cachetools, authlib, httpx/httpx2); scripts/services installs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/herald/target}"

if ! python3 -c 'import confluent_kafka.schema_registry.json_schema, jsonschema' 2>/dev/null; then
  echo "registry interop: python packages missing; run scripts/services" \
       "(pip install 'confluent-kafka[json,schemaregistry]')" >&2
  exit 1
fi

cargo build -p herald-registry --bin herald-registry
bin="$CARGO_TARGET_DIR/debug/herald-registry"

work=$(mktemp -d)
pid=""
pgdb="herald_interop_$$"
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run_against() {
  local name=$1 url=$2 port
  port=$(free_port)
  "$bin" --listen "127.0.0.1:$port" --database-url "$url" >"$work/$name.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$work/$name.log" >&2; echo "registry ($name) exited" >&2; exit 1; fi
    sleep 0.1
  done
  echo "--- confluent-kafka interop on $name"
  if ! python3 "$root/crates/herald-registry/tests/interop/confluent_interop.py" "http://127.0.0.1:$port"; then
    echo "--- server log ($name):" >&2; tail -50 "$work/$name.log" >&2
    exit 1
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

run_against sqlite "sqlite://$work/registry.db"

if ! psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $pgdb" >/dev/null; then
  echo "registry interop: PostgreSQL on 127.0.0.1:5432 is not reachable; start it with scripts/services" >&2
  exit 1
fi
run_against postgres "postgres://postgres@127.0.0.1:5432/$pgdb"
echo "registry interop: passed on sqlite and postgres"
