#!/usr/bin/env bash
# Benchmark peers in bench/.venv (not needed by the tests or CI) and the release CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/pip install -q 'duckdb==2.0.0' 'polars==2.1.*' 'pyspark[connect]==4.3.0' pyarrow psutil numpy
cargo build --release -p scorelake-cli
