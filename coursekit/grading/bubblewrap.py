"""The sandbox's file-system view and host identity, built with bubblewrap (``bwrap``).

bubblewrap is the namespace tool behind Flatpak (Debian package ``bubblewrap``; ``make env``
installs it where it can). ``command(root, program)`` wraps a sandbox program so that it runs:

* as an unprivileged uid on the host: ``SANDBOX_UID`` (nobody) when the grader is root, dropped
  with ``setpriv`` after bubblewrap has built the view (a user namespace that root creates would map
  the sandbox to root on the host, and root reads ``/etc/shadow``); the grader's own uid otherwise,
  through an unprivileged user namespace;
* in a view made of read-only binds of ``/usr`` (with the host's ``/lib``, ``/bin``... links), the
  interpreter's installation, the environment's packages and coursekit's package folder alone (not
  the repository: no ``notebooks/solutions/``), a fresh ``/dev`` and ``/proc``, an empty ``/tmp``,
  and the grader's folder of sandbox folders at ``/grade`` (writable): nothing else of the host,
  no ``/etc/shadow``, no ``/home``, no host socket;
* in new PID, network, IPC and UTS namespaces, killed when the grader dies (``--die-with-parent``),
  in a new session.

Inside, ``coursekit.grading.namespaces`` gives each graded exercise its own namespaces again.
``available()`` runs a probe once and says why not when bubblewrap cannot be used.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .namespaces import GRADE_ROOT

__all__ = ["SANDBOX_UID", "available", "command", "installations", "package_folder"]

SANDBOX_UID = 65534  # nobody/nogroup on Debian


def package_folder() -> Path:
    """coursekit's package folder (bound read-only into the view, then hidden per exercise)."""
    return Path(__file__).resolve().parents[1]


def _host_links() -> list[str]:
    """/lib, /lib64, /bin, /sbin as the host has them (links into /usr on a merged-/usr system)."""
    args: list[str] = []
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    return args


def _binds(paths: list[str], flag: str) -> list[str]:
    """Binds at the same path inside, each parent folder created world-traversable (bubblewrap
    would create some 0700, which an unprivileged uid cannot cross)."""
    args: list[str] = []
    made: set[str] = {"/tmp"}  # the view's own tmpfs
    for path in paths:
        parents = [str(p) for p in reversed(Path(path).parents) if str(p) != "/"]
        for parent in parents:
            if parent not in made and not parent.startswith("/usr"):
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += [flag, path, path]
    return args


def installations() -> list[str]:
    """The interpreter's installation and the environment's packages (a venv and its base)."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    if not os.path.realpath(sys.executable).startswith(tuple(paths)):
        paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    for p in sys.path:  # site-packages outside the prefixes (rare: a --target install)
        if p.endswith("-packages") and os.path.isdir(p) and not os.path.realpath(p).startswith(tuple(paths)):
            paths.add(os.path.realpath(p))
    if sys.prefix != os.path.realpath(sys.prefix):  # the venv's own path, if it is a link
        paths.add(sys.prefix)
    return sorted(p for p in paths if not p.startswith("/usr/"))


def command(root: Path, program: list[str]) -> list[str]:
    """``program`` (absolute paths) inside the view, with ``root`` (the grader's folder of sandbox
    folders) bound writable at ``/grade``."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise FileNotFoundError("bwrap (Debian package bubblewrap) is not installed")
    as_root = os.geteuid() == 0
    args = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr", *_host_links()]
    if not as_root:
        args.insert(1, "--unshare-user")
    # /tmp first: an installation under /tmp (a checkout there) is bound on top of it, not hidden.
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    etc = [name for name in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime") if os.path.exists(name)]
    args += _binds([*etc, *installations(), str(package_folder())], "--ro-bind")
    args += ["--bind", str(root), GRADE_ROOT, "--chdir", "/"]
    if as_root:  # the view is built; from here on the host sees nobody
        args += ["/usr/bin/setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--"]
    return args + program


def prepare(root: Path) -> None:
    """Give the sandbox uid the folder of sandbox folders (when the grader is root)."""
    if os.geteuid() == 0:
        os.chown(root, SANDBOX_UID, SANDBOX_UID)


@functools.lru_cache(maxsize=1)
def available() -> tuple[bool, str]:
    """(whether bubblewrap and the nested namespaces work here, why not). Runs a probe once."""
    if sys.platform != "linux":
        return False, "bubblewrap needs Linux"
    if shutil.which("bwrap") is None:
        return False, "bwrap is not installed (Debian: apt-get install bubblewrap; `make env` tries)"
    if os.geteuid() == 0 and not os.path.exists("/usr/bin/setpriv"):
        return False, "setpriv (util-linux) is missing, so the sandbox could not leave root"
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="coursekit-probe-"))
    try:
        prepare(root)
        (root / "probe").mkdir()
        prepare(root / "probe")
        probe = ("import os, sys\nfrom coursekit.grading import namespaces\n"
                 "from coursekit.grading.bubblewrap import installations, package_folder\n"
                 "keep = (*installations(), str(package_folder()))\n"
                 "namespaces.enter(__import__('pathlib').Path('/grade/probe'), (str(package_folder()),), 8, keep)\n"
                 "print('ok', os.getuid(), os.listdir('/grade'), os.path.exists('/etc/shadow'))\n")
        run = subprocess.run(command(root, [sys.executable, "-c", probe]), capture_output=True, text=True,
                             timeout=60, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(package_folder().parent),
                                              "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
                                              "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}, cwd="/")
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"bubblewrap could not start ({exc})"
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(root)], capture_output=True)
    uid = SANDBOX_UID if os.geteuid() == 0 else os.getuid()
    if run.returncode != 0 or run.stdout.strip() != f"ok {uid} ['probe'] False":
        detail = " ".join((run.stderr or run.stdout).split())[-300:]
        return False, f"bubblewrap or the kernel's namespaces are not usable here ({detail})"
    return True, ""
