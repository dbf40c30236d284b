"""`Deps`: what handlers, jobs and commands need (settings, database, Slack clients, clock),
built once per process and passed down explicitly."""

from __future__ import annotations

import contextvars
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient

from bot.analysis.analyzer import Analyzer
from bot.analysis.local import LocalAnalyzer
from bot.outreach.delivery import SendOptions
from bot.runtime.settings import Settings
from bot.runtime.slack_client import MessageUpdates, build_client
from storage import Database
from storage.types import utcnow

if TYPE_CHECKING:
    from bot.analysis.model import ModelClient

log = logging.getLogger(__name__)

# Work after acks (modals, message updates, analyses, check-in turns) waiting or running at
# once, at most. Under sustained overload the queue would otherwise grow without bound; past
# this, new work is refused with a warning, or, where the clock also finds it in the
# database (an analysis, a check-in's turn), left to the clock's next tick. 2,000 is minutes
# of work at the rates a 2-core machine serves, and a few MB of queued closures.
AFTER_ACK_LIMIT = 2000


class Overloaded(RuntimeError):
    """Work after an ack that was not taken: too much is waiting already."""


class AckFirst:
    """Holds work that follows an ack while other Slack requests still wait for theirs.

    In one process the acks and the work after them share the interpreter; when a burst of
    clicks arrives, answering all of them first keeps every ack fast, and the modals and
    message updates follow a few milliseconds later. Work never waits longer than `max_wait`.
    """

    def __init__(self, max_wait: float = 0.25) -> None:
        self.max_wait = max_wait
        self._waiting = 0
        self._turn = threading.Condition()

    def enter(self) -> None:
        with self._turn:
            self._waiting += 1

    def leave(self) -> None:
        with self._turn:
            self._waiting -= 1
            if self._waiting <= 0:
                self._turn.notify_all()

    def wait_turn(self) -> None:
        with self._turn:
            self._turn.wait_for(lambda: self._waiting <= 0, timeout=self.max_wait)


class DelayedWork:
    """Work to start after a delay, kept on one timer thread until it is due, then handed to an
    executor: a delay costs no worker thread, however many are waiting."""

    def __init__(self, submit: Callable[[Callable[[], Any]], Any]) -> None:
        self._submit = submit
        self._queue: list[tuple[float, int, Callable[[], Any]]] = []
        self._order = itertools.count()  # ties keep their order, and functions never compare
        self._changed = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def call_later(self, delay: float, work: Callable[[], Any]) -> None:
        """Start `work` in `delay` seconds; at once when closing."""
        with self._changed:
            if self._closed:
                self._submit(work)
                return
            heapq.heappush(self._queue, (time.monotonic() + delay, next(self._order), work))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="later", daemon=True)
                self._thread.start()
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._closed and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._changed.wait(timeout)
                if self._closed:
                    return
                _, _, work = heapq.heappop(self._queue)
            self._submit(work)

    def close(self) -> None:
        """Start everything still waiting now, so that a shutdown loses none of it."""
        with self._changed:
            self._closed = True
            waiting, self._queue = [work for _, _, work in sorted(self._queue)], []
            self._changed.notify()
        for work in waiting:
            self._submit(work)


@dataclass
class Deps:
    """What handlers and jobs need, built once per process and passed down explicitly."""

    settings: Settings
    db: Database
    client: WebClient
    # For the durable sender: no retry handlers at all, because the sender retries each call
    # itself, through the pacer all its workers share (one retry layer, not two).
    sending_client: WebClient
    clock: Callable[[], datetime] = utcnow
    # Work done after Slack has been answered (analysis, fan-out, message updates) runs here,
    # so a shutdown can wait for it to finish.
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=16, thread_name_prefix="after-ack")
    )
    # Slow work (a model's answer, a champion's nudge to everyone) has threads of its own, so
    # that it can never hold up a modal, which must open within 3 s of the click.
    slow_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="slow")
    )
    ack_first: AckFirst = field(default_factory=AckFirst)
    # Work that waits a moment first (a check-in's turn) waits here, not in a worker.
    delayed: DelayedWork = field(init=False)
    analyzer: Analyzer = field(default_factory=LocalAnalyzer)
    # The configured model, for what is written from many people's figures (the digest's
    # summary); None when no text may leave the machine.
    llm: ModelClient | None = None
    # Seconds a check-in waits after a reply before answering, so that two quick messages
    # get one answer.
    checkin_settle: float = 2.0
    # Updates of the bot's messages, in the order they were asked for.
    message_updates: MessageUpdates = field(default_factory=MessageUpdates)
    after_ack_limit: int = AFTER_ACK_LIMIT
    # Work refused (or left to the clock) because `after_ack_limit` was reached, since start.
    refused: int = 0

    def __post_init__(self) -> None:
        self._outstanding = 0
        self._count_lock = threading.Lock()
        # A delayed piece of work holds its place from when it is handed over (`after`).
        self.delayed = DelayedWork(
            lambda work: self._submit(self.slow_executor, work, (), {}, held=True)
        )

    @property
    def send_options(self) -> SendOptions:
        settings = self.settings
        return SendOptions(
            concurrency=settings.send_concurrency,
            rate=settings.send_rate,
            round_close_days=settings.round_close_days,
            clock=self.clock,
        )

    def later(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run `work` after Slack has been answered; a failure is logged, never lost silently."""
        return self._submit(self.executor, work, args, kwargs)

    def slowly(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Like `later`, for work that may take seconds: model calls, fan-out."""
        return self._submit(self.slow_executor, work, args, kwargs)

    def when_free(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Like `slowly`, for work the clock also finds in the database (an analysis): when
        too much is waiting, it is left to the clock instead of refused."""
        return self._submit(self.slow_executor, work, args, kwargs, clock_finds_it=True)

    def after(self, delay: float, work: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Like `when_free`, `delay` seconds from now (at once if the process is stopping):
        for a check-in's turn, which the clock also finds in the database."""
        if not self._hold(work, clock_finds_it=True):
            return
        # Taken now: the timer thread that starts it has a context of its own.
        context = contextvars.copy_context()
        self.delayed.call_later(delay, lambda: context.run(work, *args, **kwargs))

    @property
    def outstanding(self) -> int:
        """Work after acks waiting or running now."""
        return self._outstanding

    def _hold(self, work: Callable[..., Any], *, clock_finds_it: bool) -> bool:
        """Take a place for `work`, or say why there is none (False)."""
        with self._count_lock:
            if self._outstanding < self.after_ack_limit:
                self._outstanding += 1
                return True
            self.refused += 1
        log.warning(
            "too much work after acks (%d waiting): %s %s",
            self.after_ack_limit,
            _name(work),
            "is left to the clock, which finds it in the database"
            if clock_finds_it
            else "is refused",
            extra={"outcome": "overloaded"},
        )
        return False

    def _release(self) -> None:
        with self._count_lock:
            self._outstanding -= 1

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        work: Callable[..., Any],
        args: tuple,
        kwargs: dict,
        *,
        clock_finds_it: bool = False,
        held: bool = False,
    ) -> Future[Any]:
        name = _name(work)
        if not held and not self._hold(work, clock_finds_it=clock_finds_it):
            refused: Future[Any] = Future()
            refused.set_exception(Overloaded(f"{name}: too much work after acks"))
            return refused

        def run() -> Any:
            try:
                self.ack_first.wait_turn()
                started = time.perf_counter()
                try:
                    result = work(*args, **kwargs)
                except Exception:
                    log.exception("work after the ack failed: %s", name)
                    raise
                log.debug("%s done in %.1f ms", name, (time.perf_counter() - started) * 1000)
                return result
            finally:
                self._release()

        # The work's log lines name the same pilot and job as the request or tick that handed
        # it over: worker threads do not inherit context variables by themselves.
        try:
            return pool.submit(contextvars.copy_context().run, run)
        except RuntimeError:
            self._release()  # the pool is shut down: nothing will run it
            raise

    def close(self, *, wait: bool = True) -> None:
        """Finish work in hand, then release the database."""
        self.delayed.close()
        self.executor.shutdown(wait=wait)
        self.slow_executor.shutdown(wait=wait)
        self.db.dispose()


def _name(work: Callable[..., Any]) -> str:
    """A name, never a repr: a partial's repr shows its arguments, which may be people's words."""
    func = getattr(work, "func", work)
    return getattr(func, "__name__", type(func).__name__)


def build_deps(
    settings: Settings, *, db: Database | None = None, client: WebClient | None = None
) -> Deps:
    """Deps from settings; tests and the demo pass their own database or client."""
    llm = build_model(settings)
    return Deps(
        settings=settings,
        db=db or Database(settings.database_url),
        client=client or build_client(settings),
        sending_client=build_client(settings, retries=False),
        analyzer=build_analyzer(settings, llm),
        llm=llm,
    )


def build_model(settings: Settings) -> ModelClient | None:
    """The configured model when `OPENAI_API_KEY` is set; None means no text leaves the
    machine."""
    if settings.openai_api_key is None:
        return None
    from bot.analysis.model import ModelClient  # the openai SDK is loaded only when used

    return ModelClient(
        api_key=settings.openai_api_key,
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout,
    )


def build_analyzer(settings: Settings, llm: ModelClient | None = None) -> Analyzer:
    """The model analyzer when a model is configured; otherwise the local one."""
    llm = llm or build_model(settings)
    if llm is None:
        return LocalAnalyzer()
    from bot.analysis.model import ModelAnalyzer

    return ModelAnalyzer(llm)
