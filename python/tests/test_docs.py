"""The Python blocks of the README and docs/python.md run as written, in
order, in a folder with the examples and a sample panel."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import scorelake as sl

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", REPO / "docs" / "python.md"]


def python_blocks(page: Path) -> list[tuple[int, str]]:
    text = page.read_text()
    return [
        (text[: m.start()].count("\n") + 1, m.group(1))
        for m in re.finditer(r"^```python\n(.*?)^```$", text, re.S | re.M)
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_blocks_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    sl.sample(customers=200).write(tmp_path / "panel.parquet")
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(page)
    assert blocks, f"no Python blocks in {page.name}"
    scope: dict[str, object] = {}
    try:
        for line, code in blocks:
            try:
                exec(compile(code, f"{page.name}:{line}", "exec"), scope)
            except Exception as e:
                raise AssertionError(f"{page.name}:{line}: {e!r}") from e
    finally:
        sl.config()  # the blocks may change the default session
