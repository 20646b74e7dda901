#!/usr/bin/env bash
# JSON Schema compatibility conformance (herald-schema): herald's own vectors and Apicurio's,
# both in crates/herald-schema/tests/vectors and always run, and Confluent's when
# $HERALD_SHARED/vectors has them (their licence keeps them out of the repository; without
# them the test prints "confluent vectors NOT FOUND ..." and checks the rest). `cargo test
# --workspace` runs the same test but hides what a passing test prints; this runs it alone
# (already built, well under a second) to show the counts in the CI log.
set -uo pipefail
cd "$(dirname "$0")/../.."
export HERALD_SHARED="${HERALD_SHARED:-$(pwd)/../shared}"
out=$(cargo test -p herald-schema --test conformance --locked -- --nocapture --test-threads=1 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
  # --nocapture prints a test's first line after its "test NAME ... ".
  printf '%s\n' "$out" | sed -E 's/^test [a-z_]+ \.\.\. //' | grep -E '^(herald|apicurio|confluent)|^test result'
else
  printf '%s\n' "$out" | tail -n 60
fi
exit "$status"
