"""A warm sandbox: torch and all of coursekit loaded once, one forked process per graded exercise.

Starting ``python -m coursekit.grading.sandbox`` costs about a second and a half of CPU per
exercise (the interpreter, torch, coursekit), more than most exercises' cases. The fork server
pays it once per batch:

* ``python -m coursekit.grading.forkserver`` (started by ``coursekit.grading.sandboxes`` in the same
  view and namespaces, with the same clean environment, as a single sandbox) imports torch with one
  thread and every coursekit module, runs one small convolution (so torch has read the CPU's
  description before ``/proc`` is hidden), then waits for folders on its standard input. It never
  reads a request or runs submitted code itself.
* For each folder it forks a child that first cuts every tie to the server (a new session; its
  standard input from /dev/null, its output to the folder's ``output.log``, every other file
  descriptor closed, so it cannot write to the server's pipes), moves into the folder, and then
  does exactly what a single sandbox does (``sandbox.run``: its own namespaces, limits, Landlock,
  capabilities, the audit hook, the reference switched off).
* The server reports ``started PID FOLDER`` and ``exited PID CODE``, and on ``kill PID`` kills that
  child's session (the PIDs are the server's: under bubblewrap it has a PID namespace of its own).
  The grader keeps the wall clock.

If the server cannot start, or dies, the grader goes back to one process per exercise.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["ForkServer", "ServerGone", "serve"]

# ---- the server process ------------------------------------------------------------------------
def _child(directory: Path) -> int:
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDONLY)
    log = os.open(directory / "output.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.closerange(3, 1 << 16)  # the server's pipes among them
    os.chdir(directory)
    for key in ("HOME", "TMPDIR", "MPLCONFIGDIR"):
        os.environ[key] = str(directory)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    from .sandbox import run

    return run(directory, preloaded=True)


def serve() -> int:
    """The server's loop (single-threaded, so forking is safe)."""
    import torch

    torch.set_num_threads(1)
    from .namespaces import preload

    preload()

    out = os.fdopen(1, "w", buffering=1)
    print("ready", file=out)
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    pending = b""
    children: set[int] = set()
    started: set[int] = set()  # every child ever forked: a finished one's session may live on
    open_input = True
    while open_input or children:
        if open_input and selector.select(timeout=0.02):
            chunk = os.read(0, 65536)
            if not chunk:
                open_input = False
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.startswith(b"kill "):
                    _kill_child(line, started)
                    continue
                directory = Path(os.fsdecode(line))
                pid = os.fork()
                if pid == 0:
                    code = 1
                    try:
                        code = _child(directory)
                    finally:
                        os._exit(code)
                children.add(pid)
                started.add(pid)
                print(f"started {pid} {os.fsdecode(line)}", file=out)
        elif not open_input:
            time.sleep(0.02)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                break
            if pid == 0:
                break
            children.discard(pid)
            print(f"exited {pid} {os.waitstatus_to_exitcode(status)}", file=out)
    return 0


def _kill_child(line: bytes, started: set[int]) -> None:
    try:
        pid = int(line.split()[1])
    except (IndexError, ValueError):
        return
    if pid in started:
        try:
            os.killpg(pid, signal.SIGKILL)  # the child's session: it and its PID 1, which takes the rest
        except (ProcessLookupError, PermissionError):
            pass


# ---- the grader's side ----------------------------------------------------------------------------
class ServerGone(RuntimeError):
    """The fork server is not running (the grader then starts a sandbox process instead)."""


class ForkServer:
    """The grader's handle on one fork server; ``launch`` is thread-safe."""

    def __init__(self, command: list[str], environment: dict[str, str], cwd: str, startup: float = 300.0):
        self._lock = threading.Lock()
        self._lock_send = threading.Lock()
        self._started: dict[str, int] = {}
        self._exited: dict[int, int] = {}
        self._changed = threading.Condition(self._lock)
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, cwd=cwd, env=environment, start_new_session=True)
        first = self._readline(startup)
        if first != "ready":
            self.close()
            raise ServerGone(f"the fork server did not start ({first or 'no answer'})")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _readline(self, timeout: float) -> str:
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=timeout):
            return ""
        return self.process.stdout.readline().decode("utf-8", "replace").strip()

    def _read(self) -> None:
        for raw in self.process.stdout:
            parts = raw.decode("utf-8", "replace").rstrip("\n").split(" ", 2)
            with self._changed:
                if parts[0] == "started" and len(parts) == 3:
                    self._started[parts[2]] = int(parts[1])
                elif parts[0] == "exited" and len(parts) == 3:
                    self._exited[int(parts[1])] = int(parts[2])
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def alive(self) -> bool:
        return self.process.poll() is None

    def launch(self, key: str, directory: Path, wait_ready: float, timeout: float) -> tuple[int | None, str | None]:
        """Run the sandbox on the folder the server knows as ``key`` (``directory`` here): (its exit
        code, or None; why it was stopped, or None). ``wait_ready`` bounds the start (until
        DIR/ready), ``timeout`` the learner's code."""
        if "\n" in key:
            raise ValueError("a sandbox directory name must be one line")
        with self._changed:
            if not self.alive():
                raise ServerGone("the fork server has stopped")
            self._send(key)
            if not self._changed.wait_for(lambda: key in self._started or not self.alive(), timeout=30):
                raise ServerGone("the fork server did not fork")
            if key not in self._started:
                raise ServerGone("the fork server has stopped")
            pid = self._started.pop(key)
        stopped = None
        start = time.monotonic()
        while not (directory / "ready").exists() and not self._ended(pid):
            if time.monotonic() - start > wait_ready:
                stopped = f"the sandbox did not start within {wait_ready:g} s (machine overloaded?)"
                break
            time.sleep(0.01)
        if stopped is None:
            with self._changed:
                if not self._changed.wait_for(lambda: pid in self._exited or not self.alive(), timeout=timeout):
                    stopped = f"it did not finish within {timeout:g} s"
        try:
            self._send(f"kill {pid}")  # its whole session, finished or not
        except ServerGone:
            pass
        with self._changed:
            self._changed.wait_for(lambda: pid in self._exited or not self.alive(), timeout=10)
            if pid not in self._exited and not self.alive():  # its results cannot be trusted complete
                raise ServerGone("the fork server stopped while the exercise ran")
            return self._exited.pop(pid, None), stopped

    def _send(self, line: str) -> None:
        with self._lock_send:
            try:
                self.process.stdin.write(os.fsencode(line) + b"\n")
                self.process.stdin.flush()
            except (OSError, ValueError) as exc:
                raise ServerGone(f"the fork server has stopped ({exc})") from None

    def _ended(self, pid: int) -> bool:
        with self._lock:
            return pid in self._exited or not self.alive()

    def close(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()

    def __enter__(self) -> "ForkServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    code = serve()
    sys.stdout.flush()
    os._exit(code)
