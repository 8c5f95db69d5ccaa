"""Shared fixtures: the repository, the command-line binary, a sample panel."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import scorelake as sl

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def cli() -> "callable":
    """Runs the ``scorelake`` binary (``$SCORELAKE_BIN``, else the debug
    build the Rust tests made) and returns its completed process."""
    binary = Path(os.environ.get("SCORELAKE_BIN", REPO / "target" / "debug" / "scorelake"))
    assert binary.is_file(), f"{binary} is missing: run `cargo build -p scorelake-cli` first"

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(binary), *args], capture_output=True, text=True)
        if check:
            assert done.returncode == 0, done.stderr
        return done

    return run


@pytest.fixture(scope="session")
def panel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 customers × 24 months of the sample panel, as Parquet."""
    path = tmp_path_factory.mktemp("panel") / "panel.parquet"
    sl.sample(customers=400, seed=11).write(path)
    return path
