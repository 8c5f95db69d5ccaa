"""Long calls release the GIL and stop on Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
import time

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
