#!/usr/bin/env bash
# The test suite: installs the test tools if missing, then runs every test
# (unit, integration with a real S3 server, CLI, doc examples).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-test-tools.sh
export SCORELAKE_WEED="$PWD/.venv/bin/weed"
cargo test --workspace "$@"
