#!/usr/bin/env bash
# The Python package's tests: builds the package into ./.venv (maturin
# develop, the debug profile the Rust tests built), then runs the pytest
# suite with the package's doctests, executes the playbook notebook and
# builds the documentation site (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-test-tools.sh
export VIRTUAL_ENV="$PWD/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
maturin develop --quiet
export SCORELAKE_BIN="${SCORELAKE_BIN:-$PWD/target/debug/scorelake}"
[ -x "$SCORELAKE_BIN" ] || cargo build --quiet -p scorelake-cli
python -m pytest -q -p no:cacheprovider python/tests --doctest-modules python/scorelake
SCORELAKE_PLAYBOOK_CUSTOMERS="${SCORELAKE_PLAYBOOK_CUSTOMERS:-500}" \
    python -m pytest -q -p no:cacheprovider --nbmake examples/playbook.ipynb
scripts/docs.sh
