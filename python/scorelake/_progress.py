"""Progress of long calls in Jupyter: the running step and its time, shown
under the cell and updated in place (terminals get the engine's spinner on
stderr instead). The engine calls :func:`update` while a call runs."""

from __future__ import annotations

import html
from typing import Any

__all__ = ["update"]

_shown: dict[str, Any] = {}


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _html(label: str, seconds: float, done: bool) -> Any:
    from IPython.display import HTML

    state = f"done in {seconds:.1f} s" if done else f"running for {seconds:.0f} s"
    mark = "✓" if done else "⏳"
    return HTML(f'<div style="font-family:monospace">{mark} {html.escape(label)}: {state}</div>')


def update(label: str, seconds: float, done: bool) -> None:
    """Shows ``label`` and its time under the running cell (a notebook
    only); ``done`` marks the end of the call."""
    if not _in_notebook():
        return
    from IPython.display import display

    handle = _shown.get(label)
    if handle is None:
        if done:
            return
        _shown[label] = display(_html(label, seconds, done), display_id=True)
        return
    handle.update(_html(label, seconds, done))
    if done:
        del _shown[label]
