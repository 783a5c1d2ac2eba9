"""Kernel namespaces of one graded exercise, entered from inside the bubblewrap view.

The grader starts the sandbox (or the fork server) with bubblewrap (``coursekit.grading.bubblewrap``):
an unprivileged uid on the host, a file-system view of the interpreter, its packages and coursekit's
package alone, a private ``/tmp``, no network, its own PID and IPC namespaces. Processes started from
that view still share it with each other, so ``enter(directory, hide)`` gives each graded exercise
namespaces of its own before any submitted code runs:

* a user namespace (the same uid, mapped to itself; the capabilities it brings are used only to
  mount, then dropped by ``confine.drop_capabilities``);
* a mount namespace in which ``/tmp`` and ``/dev/shm`` are fresh tmpfs, the folder of sandboxes (``/grade``) holds
  only this exercise's own folder, each path in ``hide`` is an empty read-only tmpfs (coursekit's
  source, once every module is loaded, so the graded reference cannot be read back or re-imported),
  and ``/proc`` is empty (no other process to see, read or signal). Mounts made here are locked for
  any namespace the submission creates below it, so they cannot be lifted;
* network and IPC namespaces of its own (loopback only, no shared memory with anyone);
* a PID namespace whose PID 1 is a reaper that waits for PID 2, the process that goes on to run
  the submission. When PID 2 ends or is killed, or their parent dies (``PR_SET_PDEATHSIG``), PID 1
  exits and the kernel kills every process left in the namespace, including ones that left the
  session. (PID 2 is an ordinary process: the CPU-time signal and the grader's kill reach it; a
  namespace's PID 1 ignores signals it has no handler for.)
* a process cap (``RLIMIT_NPROC``, counted in this user namespace).

``enter`` forks twice: it returns in PID 2, and the caller's process waits and exits with PID 2's
exit status or signal, so the grader sees one process as before. Each step raises ``IsolationError`` with what
failed; nothing here is optional once the grader asked for it.
"""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path

__all__ = ["IsolationError", "enter", "preload", "GRADE_ROOT", "NOT_PRELOADED"]

GRADE_ROOT = "/grade"  # where bubblewrap binds the grader's folder of sandbox folders

_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
_CLONE_NEWNET, _CLONE_NEWIPC = 0x40000000, 0x08000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_BIND, _MS_MOVE, _MS_REC, _MS_PRIVATE = 4096, 8192, 16384, 1 << 18
_PR_SET_PDEATHSIG = 1


# Modules a graded exercise never needs (the command line, nbgrader's preprocessor, the notebook
# runner): not loaded in the server, so not importable by a submission once the source is hidden.
NOT_PRELOADED = ("coursekit.__main__", "coursekit.cli", "coursekit.grading.cli", "coursekit.grading.nbgrader_release",
                 "coursekit.grading.forkserver", "coursekit.notebooks")


def preload() -> None:
    """Import every coursekit module (each sandbox hides the source afterwards, so what a
    submission may import must already be loaded), and run one small convolution with its
    gradient so torch has initialised its CPU description while ``/proc`` is visible."""
    import importlib
    import pkgutil

    import torch

    import coursekit

    for info in pkgutil.walk_packages(coursekit.__path__, "coursekit."):
        if info.name not in NOT_PRELOADED and not info.name.startswith(NOT_PRELOADED):
            try:
                importlib.import_module(info.name)
            except Exception:  # noqa: BLE001  an optional module (its package absent): not preloaded
                pass
    x = torch.randn(1, 2, 6, 6, requires_grad=True)
    torch.nn.functional.conv2d(x, torch.randn(2, 2, 3, 3), padding=1).square().sum().backward()


class IsolationError(RuntimeError):
    """A namespace step failed; the sandbox stops rather than run the submission without it."""


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise IsolationError(f"{what} failed: {os.strerror(errno)} (errno {errno})")


def _mount(libc: ctypes.CDLL, source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _empty(libc: ctypes.CDLL, target: str) -> None:
    """An empty, read-only, non-executable tmpfs over ``target``."""
    _mount(libc, "tmpfs", target, "tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, "size=4k,mode=555")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter(directory: Path, hide: tuple[str, ...], max_processes: int, keep: tuple[str, ...] = ()) -> None:
    """Enter this exercise's namespaces (see the module's docstring); returns in PID 2 of the new
    PID namespace, with ``directory`` as the working folder. Never returns in the caller's process:
    that one waits for the child and leaves with its exit status. ``keep``: paths of the view that
    must stay visible even if they lie under ``/tmp`` (the interpreter of a checkout in ``/tmp``)."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    own = os.path.realpath(directory)
    if os.path.dirname(own) != GRADE_ROOT:
        raise IsolationError(f"the sandbox folder {own} is not directly under {GRADE_ROOT}")
    _check(libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC),
           "unshare (user, mount, PID, network and IPC namespaces)")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")

    _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)
    kept = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
            for path in sorted(set(keep)) if path.startswith("/tmp/") and os.path.isdir(path)]
    _mount(libc, "tmpfs", "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64m,mode=1777")
    for path, fd in kept:  # bound back, read-only as before, from the descriptors opened above
        os.makedirs(path, 0o755, exist_ok=True)
        _mount(libc, f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        os.close(fd)
    staging = "/tmp/.own"
    os.mkdir(staging, 0o700)
    _mount(libc, own, staging, None, _MS_BIND | _MS_REC)  # keep this folder while /grade is covered
    _mount(libc, "tmpfs", GRADE_ROOT, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=4k,mode=755")
    os.mkdir(own, 0o700)
    _mount(libc, staging, own, None, _MS_MOVE)
    os.rmdir(staging)
    if os.path.isdir("/dev/shm"):  # bubblewrap's /dev is shared by the processes of one view
        _mount(libc, "tmpfs", "/dev/shm", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64m,mode=1777")
    for path in hide:
        _empty(libc, path)
    _empty(libc, "/proc")
    os.chdir(own)

    status_read, status_write = os.pipe()
    pid = os.fork()  # PID 1 of the new namespace: a reaper
    if pid == 0:
        os.close(status_read)
        _check(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
        worker = os.fork()  # PID 2: runs the submission, an ordinary process that signals can reach
        if worker == 0:
            os.close(status_write)
            _check(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")
            import resource

            resource.setrlimit(resource.RLIMIT_NPROC, (max_processes, max_processes))
            return
        status = _wait_for(worker)  # reaping orphans on the way; when PID 1 exits, the kernel
        os.write(status_write, str(status).encode())  # kills whatever else is left in here
        os._exit(0)
    # The caller's process: it can no longer start threads (its children are in the new PID
    # namespace); it waits, passes on the worker's exit status or signal, and dies with the
    # grader's kill like the rest of the session.
    os.close(status_write)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _wait_for(pid)
    reported = os.read(status_read, 32)
    code = os.waitstatus_to_exitcode(int(reported)) if reported.strip().isdigit() else -signal.SIGKILL
    if code < 0:  # killed by a signal: leave the same way, so the grader reads the same death
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


def _wait_for(pid: int) -> int:
    """Reap children until ``pid`` has ended; its wait status."""
    while True:
        try:
            done, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            return 9  # (cannot happen: pid is our child) as if killed
        if done == pid:
            return status
