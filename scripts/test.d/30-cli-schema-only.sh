#!/usr/bin/env bash
# herald-cli as the README's CI job installs it (--no-default-features: schema commands only)
# links no broker client, registry server or database driver, its schema commands work, and
# `herald dlq` says which feature it was built without.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/herald/target}"
passed=0
fail() { echo "cli schema-only: $*" >&2; exit 1; }

heavy=$(cargo tree --locked -p herald-cli --no-default-features -e normal --prefix none |
  grep -E '^(rdkafka|rdkafka-sys|lapin|sqlx|axum|utoipa|redis|aws-sdk-sqs|herald-registry|herald-amqp|herald-kafka|herald-redis|herald-sqs) v' |
  sort -u || true)
[ -z "$heavy" ] || fail "herald-cli --no-default-features depends on: $heavy"
passed=$((passed + 1))

# Its own target dir: the workspace's debug/herald keeps the default features the tests run.
lean="$CARGO_TARGET_DIR/schema-only"
cargo build --locked -q -p herald-cli --no-default-features --target-dir "$lean"
bin="$lean/debug/herald"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo '{"type":"object","properties":{"id":{"type":"string"}},"additionalProperties":false}' >"$dir/old.json"
echo '{"type":"object","properties":{"id":{"type":"string"},"note":{"type":"string"}},"additionalProperties":false}' >"$dir/new.json"
"$bin" schemas diff "$dir/old.json" "$dir/new.json" >/dev/null || fail "schemas diff of a compatible change: exit $?"
status=0
"$bin" schemas diff "$dir/new.json" "$dir/old.json" >/dev/null || status=$?
[ "$status" -eq 1 ] || fail "schemas diff of a breaking change: exit $status, expected 1"
passed=$((passed + 1))

for case in "kafka://127.0.0.1:9092 kafka Kafka" "amqp://guest:guest@127.0.0.1:5672/%2f amqp RabbitMQ"; do
  read -r url feature broker <<<"$case"
  status=0
  out=$("$bin" dlq list orders --broker "$url" 2>&1) || status=$?
  [ "$status" -eq 2 ] || fail "dlq with $url: exit $status, expected 2: $out"
  grep -qF "built without the \`$feature\` feature, so \`herald dlq\` cannot reach $broker" <<<"$out" ||
    fail "dlq with $url does not name the missing feature: $out"
  passed=$((passed + 1))
done
echo "cli schema-only: $passed passed, 0 failed"
