"""Where a batch's sandboxes run: one folder per graded exercise, kernel isolation, a warm server.

``Sandboxes()`` (a context manager; one per batch, shared by its threads) decides once how
submitted code is isolated, and says so in every report (``isolation``):

* ``bubblewrap`` (the normal case on Linux): every sandbox process runs in bubblewrap's view as an
  unprivileged uid (``coursekit.grading.bubblewrap``), and each graded exercise enters its own user,
  mount, PID, network and IPC namespaces (``coursekit.grading.namespaces``), with coursekit's
  source hidden once it is loaded;
* otherwise, a network namespace (``unshare --net``) when the machine allows one, or nothing: the
  report names what is missing and why. Landlock, the resource limits and the audit hook apply in
  every case.

``launch(folder, limits)`` runs ``python -m coursekit.grading.sandbox`` on a folder made by
``new_folder()``: forked from a warm fork server (``coursekit.grading.forkserver``) when one is
running, else as a process of its own. If the server fails after it may have been told about a
folder, it is shut down with its children and ``launch`` raises ``FolderAbandoned``: the grader runs
the exercise again in a fresh folder, so no folder ever holds two runs. The batch's folders live
under one root, removed by ``close()`` whatever the submissions left there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import bubblewrap
from .forkserver import ForkServer, ServerGone
from .namespaces import GRADE_ROOT

__all__ = ["Sandboxes", "FolderAbandoned", "remove_tree"]

SANDBOX = ["-m", "coursekit.grading.sandbox"]


def remove_tree(directory: Path) -> None:
    """Remove a folder whatever a submission left in it: coreutils walk a tree of any depth without
    recursion (Python's rmtree recurses), never follow links, stay on one file system, and get back
    into folders whose permissions the submission took away."""
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "timeout": 300}
    try:
        subprocess.run(["chmod", "-R", "u+rwx", "--", str(directory)], **quiet)
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(directory)], **quiet)
    except (OSError, subprocess.SubprocessError):
        pass
    if directory.exists():
        shutil.rmtree(directory, ignore_errors=True)


def _network_prefix() -> tuple[list[str], str]:
    """Without bubblewrap: ``unshare --net`` (as a normal user with ``--map-root-user``) if it works."""
    unshare = shutil.which("unshare")
    if unshare:
        for flags in (["--net"], ["--user", "--map-root-user", "--net"]):
            try:
                ok = subprocess.run([unshare, *flags, "true"], capture_output=True, timeout=10).returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
            if ok:
                return [unshare, *flags, "--"], "a network namespace only"
    return [], "no namespace at all"


class FolderAbandoned(RuntimeError):
    """The fork server failed while it may still start a child in this folder: grade the exercise
    again in a fresh folder (``Sandboxes.launch``)."""


class Sandboxes:
    """The sandboxes of one batch (see the module's docstring). ``fork_server=False`` runs every
    exercise as a process of its own; ``"lazy"`` starts the server at the second ``launch``."""

    def __init__(self, fork_server: bool | str = True, *, isolate: bool = True):
        usable, why = bubblewrap.available() if isolate else (False, "isolation switched off by the caller")
        self.namespaces = usable
        self.root = Path(tempfile.mkdtemp(prefix="coursekit-grade-"))
        if usable:
            bubblewrap.prepare(self.root)
            uid = bubblewrap.SANDBOX_UID if os.geteuid() == 0 else os.getuid()
            self.isolation = (f"bubblewrap: uid {uid} on the host, a view of the interpreter and coursekit's "
                              "package only; per exercise its own user, mount, PID, network and IPC namespaces, "
                              "private /tmp, empty /proc, coursekit's source hidden, a process cap")
            self._prefix: list[str] = []
        else:
            self._prefix, network = _network_prefix()
            self.isolation = (f"no kernel namespaces ({why}): {network}; Landlock, resource limits and the audit "
                              "hook only, so a submission can read what this user can read")
        self._mode = fork_server
        self._launches = 0
        self._lock = threading.Lock()
        self.server: ForkServer | None = None
        if fork_server is True:
            self._start_server()

    # ---- folders ----------------------------------------------------------------------------------
    def new_folder(self) -> Path:
        """A fresh folder for one graded exercise (mode 0700, owned by the sandbox's uid)."""
        folder = Path(tempfile.mkdtemp(prefix="x", dir=self.root))
        if self.namespaces:
            bubblewrap.prepare(folder)
        return folder

    def inside(self, folder: Path) -> str:
        """The folder's path as the sandbox sees it."""
        return f"{GRADE_ROOT}/{folder.name}" if self.namespaces else str(folder)

    def environment(self, home: str) -> dict[str, str]:
        root = str(bubblewrap.package_folder().parent)
        env = {
            "PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "MPLCONFIGDIR": home, "PYTHONPATH": root,
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "LANG": "C.UTF-8", "COURSEKIT_OFFLINE": "1",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
        }
        if self.namespaces:
            env["COURSEKIT_NAMESPACES"] = "1"  # the sandbox enters its own namespaces (namespaces.enter)
        return env

    def _wrap(self, program: list[str]) -> list[str]:
        if self.namespaces:
            return bubblewrap.command(self.root, program)
        return [*self._prefix, *program]

    # ---- running ----------------------------------------------------------------------------------
    def _start_server(self) -> None:
        try:
            home = "/tmp" if self.namespaces else str(self.new_folder())
            self.server = ForkServer(self._wrap([sys.executable, "-m", "coursekit.grading.forkserver"]),
                                     self.environment(home), cwd="/" if self.namespaces else home)
        except (ServerGone, OSError):
            self.server = None

    def launch(self, folder: Path, limits) -> tuple[int | None, str | None]:
        """Run the sandbox on ``folder``: (its exit code or None, why it was stopped or None).

        Raises ``FolderAbandoned`` when the fork server failed after it may have been told about
        ``folder``: a child it forks late would run in that folder beside any other run there (and
        truncate the files a second run writes), so the server is shut down, its children with it,
        and the caller grades the exercise again in a fresh folder, as a process of its own."""
        with self._lock:
            self._launches += 1
            if self._mode == "lazy" and self.server is None and self._launches == 2:
                self._start_server()
            server = self.server
        if server is not None:
            try:
                return server.launch(self.inside(folder), folder, limits.startup, limits.timeout)
            except ServerGone as gone:
                self._retire(server)
                raise FolderAbandoned(str(gone)) from None
        return self._launch_process(folder, limits)

    def _retire(self, server: ForkServer) -> None:
        """Stop using ``server`` (once, whichever thread sees it fail first) and shut it down."""
        with self._lock:
            if self.server is not server:
                return
            self.server = None
        server.close()

    def _launch_process(self, folder: Path, limits) -> tuple[int | None, str | None]:
        """One sandbox process for one exercise."""
        inside = self.inside(folder)
        log = open(folder / "output.log", "wb")
        try:
            process = subprocess.Popen(self._wrap([sys.executable, *SANDBOX, inside]),
                                       cwd="/" if self.namespaces else folder, env=self.environment(inside),
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        stopped = None
        try:
            start = time.monotonic()
            while not (folder / "ready").exists() and process.poll() is None:
                if time.monotonic() - start > limits.startup:
                    stopped = f"the sandbox did not start within {limits.startup:g} s (machine overloaded?)"
                    break
                time.sleep(0.05)
            if stopped is None:
                try:
                    process.wait(timeout=limits.timeout)
                except subprocess.TimeoutExpired:
                    stopped = f"it did not finish within {limits.timeout:g} s"
        finally:
            _kill(process)
        code = process.returncode
        if self.namespaces and code is not None and code > 128:  # bubblewrap's way of saying "signal N"
            code = 128 - code
        return code, stopped

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        remove_tree(self.root)

    def __enter__(self) -> "Sandboxes":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _kill(process: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
