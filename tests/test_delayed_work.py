"""Work that waits before it starts (a check-in's turn, two seconds after a reply) waits on a
timer, not in a worker: a burst of replies does not fill the pool with sleepers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.runtime.deps import DelayedWork


def test_waiting_work_holds_no_worker_and_starts_on_time() -> None:
    pool = ThreadPoolExecutor(max_workers=2)
    delayed = DelayedWork(pool.submit)
    started: list[float] = []
    lock = threading.Lock()
    begin = time.monotonic()

    def turn() -> None:
        with lock:
            started.append(time.monotonic() - begin)

    # Forty turns due in half a second: with two workers, sleeping in them would take ten
    # seconds (forty half-second sleeps, two at a time).
    for _ in range(40):
        delayed.call_later(0.5, turn)
    # Meanwhile the workers are free for work that does not wait.
    quick = pool.submit(lambda: time.monotonic() - begin)
    assert quick.result(timeout=1) < 0.3
    deadline = time.monotonic() + 5
    while len(started) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(started) == 40
    assert min(started) >= 0.45 and max(started) < 1.5
    delayed.close()
    pool.shutdown(wait=True)


def test_work_still_waiting_at_shutdown_starts_at_once_and_in_order() -> None:
    pool = ThreadPoolExecutor(max_workers=1)
    delayed = DelayedWork(pool.submit)
    done: list[str] = []
    delayed.call_later(60, lambda: done.append("later"))
    delayed.call_later(30, lambda: done.append("sooner"))
    begin = time.monotonic()
    delayed.close()
    # Closed: new work starts at once too.
    delayed.call_later(60, lambda: done.append("after close"))
    pool.shutdown(wait=True)
    assert time.monotonic() - begin < 5
    assert done == ["sooner", "later", "after close"]
