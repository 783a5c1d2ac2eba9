"""Long work behind Run/Stop buttons: one background thread at a time, stoppable, testable.

``BackgroundJob.start(work)`` stops the job that is running (if any), waits for it, then runs
``work(stop_event)`` in a new thread (or in the caller's thread with ``threaded=False``, which is
what headless tests use). ``work`` must check ``stop_event`` (``coursekit.nst.optimize`` does).
Errors inside ``work`` are handed to ``on_error`` instead of vanishing in the thread.
"""

from __future__ import annotations

import threading
from typing import Callable

__all__ = ["BackgroundJob", "RunStopPanel"]


class BackgroundJob:
    def __init__(self, *, threaded: bool = True, on_error: Callable[[BaseException], None] | None = None):
        self.threaded = threaded
        self.on_error = on_error
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, wait: bool = True, timeout: float = 30.0) -> None:
        """Ask the running job to stop; with ``wait``, block until it has."""
        self._stop.set()
        if wait and self.running and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def start(self, work: Callable[[threading.Event], None]) -> None:
        """Stop any running job, then run ``work(stop_event)``."""
        self.stop(wait=True)
        self._stop = stop = threading.Event()

        def target() -> None:
            try:
                work(stop)
            except BaseException as exc:  # shown in the panel; a widget thread has nowhere else to go
                if self.on_error is None:
                    raise
                self.on_error(exc)

        if self.threaded:
            self._thread = threading.Thread(target=target, daemon=True)
            self._thread.start()
        else:
            target()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


class RunStopPanel:
    """Run/Stop wiring shared by panels that own ``run_button``, ``stop_button``, ``job`` (a
    BackgroundJob), ``threaded``, ``result``, ``widget`` (what to display) and a ``_work(stop_event)``
    method."""

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    @property
    def running(self) -> bool:
        return self.job.running

    def _buttons(self, running: bool) -> None:
        self.run_button.disabled, self.stop_button.disabled = running, not running

    def _start(self, sync: bool | None):
        """``sync=True`` works in this thread and returns the result; otherwise (the default when
        ``threaded``) it starts a background thread and returns None."""
        sync = not self.threaded if sync is None else sync
        self.job.threaded = not sync
        self._buttons(running=True)
        self.job.start(self._work)
        return self.result if sync else None

    def stop(self) -> None:
        """Ask the run to end; it keeps the best image so far."""
        self.job.stop(wait=False)

    def wait(self, timeout: float | None = None):
        """Block until a background run has ended (tests, scripts); returns its result."""
        self.job.join(timeout)
        return self.result
