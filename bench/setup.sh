#!/usr/bin/env bash
# Benchmark peers in bench/.venv (not needed by the tests or CI), the release
# CLI, and the Python package built in release mode (bench/python).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/pip install -q 'duckdb==2.0.0' 'polars==2.1.*' 'pyspark[connect]==4.3.0' pyarrow pandas psutil numpy
cargo build --release -p scorelake-cli
bench/.venv/bin/pip install -q .
