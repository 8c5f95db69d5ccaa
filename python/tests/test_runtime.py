"""Long calls release the GIL and stop on Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
import time

import pyarrow as pa
import pytest

import scorelake as sl

# A query long enough to observe (seconds on a debug build), small in memory.
LONG = (
    "SELECT count(DISTINCT customer_id * 1000 + balance) AS n "
    "FROM p CROSS JOIN (SELECT * FROM unnest(range(40)) AS r(k))"
)


def test_other_threads_run_during_a_long_call() -> None:
    panel = sl.sample(customers=20_000, months=12)
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    thread = threading.Thread(target=count)
    thread.start()
    started = time.monotonic()
    try:
        sl.sql(LONG, p=panel).to_arrow()
    finally:
        stop.set()
        thread.join()
    elapsed = time.monotonic() - started
    assert elapsed > 0.3, "the call was too short to tell"
    # Holding the GIL would leave the thread a few switch intervals (5 ms) at best.
    assert ticks > elapsed * 100, (ticks, elapsed)


def test_ctrl_c_stops_a_long_call() -> None:
    panel = sl.sample(customers=200_000, months=24)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        sl.sql(LONG, p=panel).to_arrow()
    assert time.monotonic() - started < 5


def test_notebooks_see_progress_of_long_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    from scorelake import _progress

    shown: list[str] = []

    class Handle:
        def update(self, obj: object) -> None:
            shown.append(obj.data)

    def display(obj: object, display_id: bool = False) -> Handle:
        shown.append(obj.data)
        return Handle()

    monkeypatch.setattr(_progress, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    schema = pa.schema([("x", pa.int64())])

    def slow():  # two seconds whatever the machine
        for i in range(20):
            time.sleep(0.1)
            yield pa.record_batch([pa.array([i])], schema=schema)

    assert sl.table(pa.RecordBatchReader.from_batches(schema, slow())).count() == 20
    assert "counting rows: running for" in shown[0], shown
    assert "done in" in shown[-1] and len(shown) >= 2
    shown.clear()
    sl.sample(customers=10, months=2).count()  # a short call shows nothing
    assert shown == []
