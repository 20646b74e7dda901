#!/usr/bin/env bash
# scripts/test removes the variables that make tests rewrite their expectations: with each of
# them set, nothing of them is left after scripts/test-env, and scripts/test sources it.
set -euo pipefail
cd "$(dirname "$0")/../.."
left=$(env HERALD_UPDATE_SCHEMAS=1 TRYBUILD=overwrite INSTA_UPDATE=always INSTA_FORCE_PASS=1 \
  INSTA_FORCE_UPDATE=1 INSTA_FORCE_UPDATE_SNAPSHOTS=1 INSTA_GLOB_FILTER=x INSTA_WORKSPACE_ROOT=/tmp \
  SNAPSHOTS=overwrite UPDATE_EXPECT=1 BLESS=1 \
  bash -c '. scripts/test-env; env' |
  grep -E '^(HERALD_UPDATE_SCHEMAS|TRYBUILD|INSTA_[A-Z_]*|SNAPSHOTS|UPDATE_EXPECT|BLESS)=' || true)
if [ -n "$left" ]; then
  echo "scripts/test-env left these set:" >&2
  echo "$left" >&2
  exit 1
fi
grep -qE '^(\.|source) "\$root/scripts/test-env"$' scripts/test || {
  echo "scripts/test does not source scripts/test-env" >&2
  exit 1
}
echo "test-env: 1 passed, 0 failed"
