"""nbgrader's Execute preprocessor, waiting for each cell's reply in one-second polls.

nbclient waits for a cell's execute_reply with one poll of the kernel's shell socket that lasts the
whole cell timeout. After a cell that opens widgets (ipywidgets' ``interact``), that poll sometimes
misses a reply the kernel has already sent: the kernel is idle, both sides sit in ``epoll_wait``,
and the cell waits out its timeout, 600 s in the course's configuration (jupyter/nbclient#312,
jupyter/nbconvert#2029, ucbds-infra/otter-grader#755; seen twice in this project's own nbgrader
test; py-spy shows nbgrader in ``preprocess_cell``). pyzmq's asyncio poll checks the socket again
(``poll(0)``) when its timeout fires, which is why the reply is read at the very end of the 600 s. So
``Execute`` makes its kernel client's shell channel wait in polls of at most ``POLL_SECONDS``, up to
the same deadline: a missed wake-up costs at most a second. Nothing else changes: the same cells
run in the same kernel with the same timeout.

The course's ``nbgrader_config.py`` (``coursekit.grading.nbgrader_format.NBGRADER_CONFIG``) puts it
in place of nbgrader's own ``Execute`` in ``Autograde.autograde_preprocessors``.
"""

from __future__ import annotations

from queue import Empty
from time import monotonic
from typing import Any

from jupyter_core.utils import run_sync
from nbgrader.preprocessors import Execute as NbgraderExecute

__all__ = ["Execute", "poll_in_short_intervals", "POLL_SECONDS"]

POLL_SECONDS = 1.0


def poll_in_short_intervals(channel: Any, interval: float = POLL_SECONDS) -> Any:
    """Make ``channel.get_msg(timeout=T)`` (an async channel of jupyter_client) poll in steps of at
    most ``interval`` seconds until a message comes or T has passed (then ``queue.Empty``, as before;
    T = None waits for ever, as before). Returns the channel."""
    wait = channel.get_msg

    async def get_msg(timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            step = interval if deadline is None else max(0.0, min(interval, deadline - monotonic()))
            try:
                return await wait(timeout=step)
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise

    channel.get_msg = get_msg
    return channel


class Execute(NbgraderExecute):
    """nbgrader's ``Execute`` whose kernel client waits for replies in short polls (module docstring)."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        poll_in_short_intervals(kc.shell_channel)
        return kc

    # nbclient binds its synchronous twin to its own coroutine, so the twin is bound again here
    start_new_kernel_client = run_sync(async_start_new_kernel_client)
