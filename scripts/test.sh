#!/usr/bin/env bash
# The test suite: installs the test tools if missing, then runs every test
# (unit, integration with a real S3 server, CLI, doc examples; then the
# Python package's tests, playbook notebook and documentation build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-test-tools.sh
export SCORELAKE_WEED="$PWD/.venv/bin/weed"
cargo test --workspace "$@"
scripts/test-python.sh
