"""nbgrader's Execute waits for a cell's reply in short polls, so a missed wake-up costs a second,
not the cell timeout (jupyter/nbclient#312)."""

from __future__ import annotations

import asyncio
from queue import Empty

import pytest

from coursekit.grading.nbgrader_execute import Execute, poll_in_short_intervals
from coursekit.grading.nbgrader_format import NBGRADER_CONFIG


class MissesLongPolls:
    """A shell channel whose reply is already there, but a poll longer than a second misses it and
    waits its whole timeout: what nbclient#312 looks like from nbclient's side."""

    def __init__(self, reply=None):
        self.reply, self.polls, self.missed = reply, [], 0.0

    async def get_msg(self, timeout=None):
        self.polls.append(timeout)
        if self.reply is not None and timeout is not None and timeout <= 1.0:
            return self.reply
        if timeout is not None and timeout <= 1.0:
            await asyncio.sleep(timeout)  # a short poll with nothing to read: waits its timeout
        else:
            self.missed += timeout or 0.0  # the time a real channel would spend waiting
        raise Empty


def test_a_reply_a_long_poll_would_miss_is_found_by_the_first_short_poll():
    plain = MissesLongPolls({"msg_type": "execute_reply"})
    with pytest.raises(Empty):
        asyncio.run(plain.get_msg(timeout=600))
    assert plain.missed == 600  # the whole cell timeout, on an idle kernel
    channel = poll_in_short_intervals(MissesLongPolls({"msg_type": "execute_reply"}))
    assert asyncio.run(channel.get_msg(timeout=600)) == {"msg_type": "execute_reply"}
    assert channel.polls == [1.0]


def test_no_reply_still_ends_at_the_same_deadline_with_empty():
    channel = poll_in_short_intervals(MissesLongPolls(), interval=0.01)
    with pytest.raises(Empty):
        asyncio.run(channel.get_msg(timeout=0.05))
    assert len(channel.polls) >= 2 and all(t <= 0.01 for t in channel.polls)
    assert sum(channel.polls) == pytest.approx(0.05, abs=0.02)


def test_the_course_configuration_autogrades_with_it():
    namespace = {"get_config": lambda: _Config()}
    exec(compile(NBGRADER_CONFIG, "nbgrader_config.py", "exec"), namespace)
    chain = namespace["c"].Autograde.autograde_preprocessors
    assert chain[0] == "coursekit.grading.nbgrader_execute.Execute"
    assert not any(p is Execute.__mro__[1] for p in chain)  # nbgrader's own Execute is replaced
    assert namespace["c"].Execute.timeout == 600


class _Config:
    """The attribute-path object nbgrader's get_config() returns, enough for the course's file."""

    def __getattr__(self, name):
        value = _Config()
        object.__setattr__(self, name, value)
        return value


def test_nbgraders_run_of_a_widget_cell_goes_through_the_short_polls(tmp_path, monkeypatch):
    # A real kernel and nbgrader's preprocess, as `nbgrader autograde` runs a submission.
    import nbformat

    from coursekit.grading import nbgrader_execute

    wrapped = []
    original = nbgrader_execute.poll_in_short_intervals
    monkeypatch.setattr(nbgrader_execute, "poll_in_short_intervals",
                        lambda channel: wrapped.append(channel) or original(channel))
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from ipywidgets import interact\n"
                                  "@interact(x=(0, 10))\ndef shifted(x=3):\n    print(x + 1)"),
        nbformat.v4.new_code_cell("print('after the widget')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    Execute(timeout=120).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert len(wrapped) == 1
    assert nb.cells[1].outputs[0]["text"] == "after the widget\n"
