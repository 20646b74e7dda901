#!/usr/bin/env bash
# JSON Schema compatibility conformance (herald-schema) against Confluent's and Apicurio's
# vectors in $HERALD_SHARED/vectors. `cargo test --workspace` runs the same test but hides what
# a passing test prints; this runs it alone (already built, well under a second) to show the
# counts in the CI log. Fails when the shared directory is missing or a target is not met.
set -uo pipefail
cd "$(dirname "$0")/../.."
export HERALD_SHARED="${HERALD_SHARED:-$(pwd)/../shared}"
out=$(cargo test -p herald-schema --test conformance --locked -- --nocapture 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
  printf '%s\n' "$out" | grep -E '^(confluent|apicurio)|^test result'
else
  printf '%s\n' "$out" | tail -n 60
fi
exit "$status"
