#!/usr/bin/env bash
# herald-registry throughput and latency with wrk on loopback, for the PostgreSQL and SQLite
# stores, next to a trivial axum endpoint served the same way (the machine's ceiling).
# The compatibility check is measured twice: re-posting one schema (answered from the cache
# of passed checks after the first request) and with a schema that differs on every request.
# GET latency while large transitive checks run: `cargo bench -p herald-registry --bench
# check_load` (see bench/check_load.rs).
#
# Usage: crates/herald-registry/bench/run.sh [seconds per run, default 8]
# Needs wrk (apt-get install -y wrk) and PostgreSQL on 127.0.0.1:5432 (scripts/services).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/herald/target}"
dur=${1:-8}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

cargo build --release -q -p herald-registry --bin herald-registry --example ceiling
bin="$CARGO_TARGET_DIR/release/herald-registry"
ceiling="$CARGO_TARGET_DIR/release/examples/ceiling"

work=$(mktemp -d)
pgdb="herald_bench_$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_up() {
  for _ in $(seq 1 100); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server at $1 did not start" >&2; exit 1
}

# A ten-property schema, as a typical event. Registrations go to a subject at level NONE
# (each request adds a different property; the check itself is measured separately).
schema='{"$schema":"http://json-schema.org/draft-07/schema#","title":"OrderCreated","type":"object","properties":{"order_id":{"type":"string"},"customer_id":{"type":"string"},"amount":{"type":"number","minimum":0},"currency":{"type":"string","enum":["EUR","USD","GBP"]},"created_at":{"type":"string","format":"date-time"},"lines":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer"}},"required":["sku","qty"]}},"note":{"type":"string"},"channel":{"type":"string"},"priority":{"type":"integer"},"gift":{"type":"boolean"}},"required":["order_id","customer_id","amount"]}'
body=$(python3 -c 'import json,sys; print(json.dumps({"schemaType":"JSON","schema":sys.argv[1]}))' "$schema")
export BENCH_SCHEMA=$schema # check_fresh.lua varies it per request

printf '%-10s %-22s %5s %12s %10s %10s %8s\n' store endpoint conns req/s p50 p99 errors
row() { # store endpoint conns url [lua] [BENCH_BODY]
  local store=$1 ep=$2 conns=$3 url=$4 lua=${5:-} threads=1 out
  [ "$conns" -gt 1 ] && threads=2
  out=$(BENCH_BODY=${6:-} wrk -t"$threads" -c"$conns" -d"${dur}s" --latency ${lua:+-s "$here/$lua"} "$url")
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); errs=${errs:-0}
  printf '%-10s %-22s %5s %12s %10s %10s %8s\n' "$store" "$ep" "$conns" "$rps" "$p50" "$p99" "$errs"
}

port=18181
"$ceiling" "127.0.0.1:$port" & pids+=($!)
wait_up "http://127.0.0.1:$port/"
for c in 1 64; do row axum "trivial endpoint" "$c" "http://127.0.0.1:$port/"; done

psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $pgdb" >/dev/null
for store in postgres sqlite; do
  port=$((port + 1))
  case $store in
    postgres) url="postgres://postgres@127.0.0.1:5432/$pgdb" ;;
    sqlite) url="sqlite://$work/bench.db" ;;
  esac
  RUST_LOG=warn "$bin" --listen "127.0.0.1:$port" --database-url "$url" --pool-size 16 & pids+=($!)
  base="http://127.0.0.1:$port"
  wait_up "$base/health"
  id=$(curl -fs -XPOST -H 'Content-Type: application/json' "$base/subjects/bench/versions" -d "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -fs -XPUT -H 'Content-Type: application/json' "$base/config/bench-register" -d '{"compatibility":"NONE"}' >/dev/null
  for c in 1 64; do
    row "$store" "GET /schemas/ids/{id}" "$c" "$base/schemas/ids/$id"
    row "$store" "lookup" "$c" "$base/subjects/bench" post.lua "$body"
    # The same schema every time: after the first request, the cache of passed checks answers.
    row "$store" "compat check (cached)" "$c" "$base/compatibility/subjects/bench/versions/latest" post.lua "$body"
    # A schema that differs on every request (its description): each one is really checked.
    row "$store" "compat check (fresh)" "$c" "$base/compatibility/subjects/bench/versions/latest" check_fresh.lua
    row "$store" "register new version" "$c" "$base" register.lua
  done
done
