"""Small HTML tables for notebook display (no external assets)."""

from __future__ import annotations

import html
from typing import Any, Sequence

STATUS_COLOURS = {
    "PASS": "#d9f2d9",
    "WARN": "#fff2cc",
    "FAIL": "#f8d0d0",
    "stable": "#d9f2d9",
    "watch": "#fff2cc",
    "shifted": "#f8d0d0",
}


def _cell(value: Any) -> str:
    if value is None:
        return '<td style="color:#999">null</td>'
    if isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = str(value)
    colour = STATUS_COLOURS.get(text)
    style = f' style="background:{colour}"' if colour else ""
    return f"<td{style}>{html.escape(text)}</td>"


def table_html(
    header: Sequence[str], rows: Sequence[Sequence[Any]], note: str | None = None
) -> str:
    """An HTML table of ``rows`` under ``header``, status words coloured."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    caption = f"<caption>{html.escape(note)}</caption>" if note else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
