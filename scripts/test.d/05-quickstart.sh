#!/usr/bin/env bash
# The README's first command works and tells the story it promises.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(NO_COLOR=1 cargo run -q --locked -p herald-examples --bin quickstart 2>&1) || {
  echo "$out"
  echo "quickstart failed" >&2
  exit 1
}
echo "$out" | tail -n 20
for expect in "processed           6" "dead-lettered       2" "duplicates skipped  1" \
  "order o-2 of customer unknown: 45.50 EUR" "retries exhausted after 4 attempts" \
  "permanent: card declined"; do
  grep -qF "$expect" <<<"$out" || { echo "quickstart output lacks: $expect" >&2; exit 1; }
done
echo "quickstart: 1 passed, 0 failed"
