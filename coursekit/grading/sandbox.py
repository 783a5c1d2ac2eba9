"""The grader's sandbox process: define one exercise from a submission and call it on the cases.

``python -m coursekit.grading.sandbox DIR`` (or a fork server's child, ``coursekit.grading.forkserver``)
is started by ``coursekit.grading.sandboxes`` with an empty environment, in a fresh session, under
bubblewrap as an unprivileged uid where the machine has it (``coursekit.grading.bubblewrap``). It
reads ``DIR/request.pt`` (written by the grader), loads torch and coursekit, and then, before
touching the submission:

0. enters namespaces of its own (``coursekit.grading.namespaces``, when the grader set
   ``COURSEKIT_NAMESPACES=1``): user, mount, PID, network, IPC; a private ``/tmp``, only its own
   folder, an empty ``/proc``, coursekit's source hidden, a process cap; it then runs as PID 2
   under a reaper, so nothing it starts outlives it;
1. resource limits: address space, CPU seconds, file size (the grader also keeps a wall clock);
2. Landlock: files can be written only inside ``DIR``; no TCP; no signals outside the sandbox;
3. all capabilities dropped;
4. an audit hook that refuses new processes, ctypes, sockets, changing resource limits, writing
   outside ``DIR`` and reloading coursekit, and records each attempt as a violation (a second
   layer: the submission shares this interpreter, so the kernel's namespaces are the first);
5. coursekit's reference implementation of the exercise being graded, and every function of the
   modules that declare exercises (mistakes and their shared helpers) but the exercise's driver
   and the other exercises' references, are disabled (calling one raises and is recorded), and
   ``check`` is replaced by a stub that runs nothing.

It then runs the prelude statements (failures ignored), the target cell (a failure is reported)
and the function on each case, writing each output to ``DIR/results/`` as soon as it has it. The
grader compares those outputs with the reference in its own process; nothing this process prints
or writes can change a score except through the outputs themselves.
"""

from __future__ import annotations

import linecache
import os
import resource
import signal
import sys
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["main", "case_outcome", "plain"]

MAX_MESSAGE = 400
BLOCKED_EVENTS = MappingProxyType({
    "subprocess.Popen": "starting a process", "os.system": "starting a process", "os.exec": "starting a process",
    "os.posix_spawn": "starting a process", "os.spawn": "starting a process", "os.fork": "starting a process",
    "os.forkpty": "starting a process", "pty.spawn": "starting a process",
    "ctypes.dlopen": "loading native code (ctypes)", "ctypes.dlsym": "loading native code (ctypes)",
    "ctypes.call_function": "calling native code (ctypes)", "ctypes.cdata": "reading raw memory (ctypes)",
    "socket.connect": "using the network", "socket.bind": "using the network",
    "socket.getaddrinfo": "using the network", "socket.sendto": "using the network",
    "resource.setrlimit": "changing resource limits", "resource.prlimit": "changing resource limits",
    "os.kill": "sending a signal", "os.killpg": "sending a signal", "signal.pthread_kill": "sending a signal",
})  # read-only: the submission shares this interpreter (the kernel's namespaces are the first layer)
# The refusals about files, as the report words them (their path or event is left out there).
PATH_REFUSALS = ("writing outside its temporary directory", "changing files outside its temporary directory")
PATH_EVENTS = ("os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.symlink",
               "os.link", "os.truncate", "os.utime", "shutil.rmtree", "shutil.copyfile", "shutil.move")
# Libraries load native code and probe the system while they are imported (torchvision's
# extension, matplotlib's font cache...); these events are allowed during an import only.
ALLOWED_WHILE_IMPORTING = ("ctypes.", "subprocess.Popen", "os.posix_spawn", "os.fork", "os.exec")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


class Guard:
    """The audit hook's state: the writable directory and the violations seen so far."""

    def __init__(self, writable: Path):
        self.writable = str(writable.resolve())
        self.violations: list[str] = []
        self.active = False
        self.machinery = _import_machinery()

    def refuse(self, what: str) -> None:
        message = f"the grader's sandbox does not allow {what}"
        if message not in self.violations:
            self.violations.append(message)
        raise PermissionError(message)

    def _inside(self, path: Any) -> bool:
        try:
            full = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return full == self.writable or full.startswith(self.writable + os.sep)

    def hook(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS)
            if writing and not isinstance(path, int) and path is not None and not self._inside(path):
                self.refuse(f"{PATH_REFUSALS[0]} ({_short(os.fsdecode(path))})")
        elif event in BLOCKED_EVENTS:
            if event in ("os.kill", "os.killpg") and args and args[0] in (os.getpid(), 0):
                return
            if event.startswith(ALLOWED_WHILE_IMPORTING) and _importing(self.machinery):
                return
            self.refuse(BLOCKED_EVENTS[event])
        elif event in PATH_EVENTS:
            if not all(self._inside(a) for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))):
                self.refuse(f"{PATH_REFUSALS[1]} ({event})")
        elif event == "import" and args and isinstance(args[0], str) and args[0].startswith("coursekit"):
            if args[0] in sys.modules:  # a module already loaded is being looked up again: a reload
                self.refuse("reloading coursekit")


def _import_machinery() -> frozenset:
    """The code objects of the import system's own functions (a submission can name a code object
    "<frozen importlib._bootstrap>", but cannot make one of these)."""
    import importlib._bootstrap as bootstrap
    import importlib._bootstrap_external as external

    codes = set()
    for module in (bootstrap, external):
        for value in vars(module).values():
            for fn in [value, *vars(value).values()] if isinstance(value, type) else [value]:
                fn = getattr(fn, "__func__", fn)
                if hasattr(fn, "__code__"):
                    codes.add(fn.__code__)
    return frozenset(codes)


def _importing(machinery: frozenset) -> bool:
    """True when the current call comes from inside an import of an installed module. (The
    sandbox's working folder is not on sys.path, so the submission cannot add modules.)"""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code in machinery and frame.f_code.co_name in ("_load_unlocked", "exec_module", "_find_and_load"):
            return True
        frame = frame.f_back
    return False


def plain(value: Any, depth: int = 0) -> Any:
    """The output as tensors, numbers, strings and containers only, so the grader can read it as
    plain data (``coursekit.grading.channel``); anything else becomes an 'unsupported' marker."""
    import torch

    if depth > 8:
        return {"__unsupported__": "nesting deeper than 8 levels"}
    if isinstance(value, torch.Tensor):
        if value.layout != torch.strided or value.is_quantized:
            return {"__unsupported__": f"a {value.layout} tensor"}
        return value.detach().as_subclass(torch.Tensor).to("cpu").clone().contiguous()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        items = [plain(v, depth + 1) for v in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: plain(v, depth + 1) for k, v in value.items()}
    return {"__unsupported__": type(value).__name__}


def case_outcome(exercise: Any, fn: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """Call ``fn`` on one case (through the exercise's driver for a step or a module): its output
    as plain data, "not_implemented", or the exception it raised, described in one line. Shared by
    the sandbox and the in-kernel autograder (``coursekit.grading.autograder``)."""
    from ..exercise import NotImplementedYet

    try:
        return {"kind": "value", "value": plain(exercise.run(fn, args, kwargs))}
    except (NotImplementedError, NotImplementedYet):
        return {"kind": "not_implemented"}
    except BaseException as exc:  # noqa: BLE001  SystemExit and KeyboardInterrupt included
        return {"kind": "error", "message": f"raised {_describe(exc)}"}


def _describe(exc: BaseException) -> str:
    from .runner import describe_exception

    try:
        return _short(describe_exception(exc))
    except Exception:  # a hostile exception whose str() itself raises
        return type(exc).__name__


def _disable_reference(reference: Any, name: str, guard: Guard) -> bool:
    """Make coursekit's reference for ``name`` raise wherever it is referenced from.

    The function object keeps its identity and gets a new body, so every alias (the module
    attribute, ``reference(name)``, ``check(...).reference``) reaches the blocked body.
    """
    code = getattr(reference, "__code__", None)
    if code is None or code.co_freevars:
        return False
    reference.__globals__["__coursekit_blocked__"] = (guard, name)
    reference.__code__ = _blocked_body.__code__
    return True


def _exercise_modules() -> list[Any]:
    """The modules that declare exercises (each topic's ``exercises`` module or package, whole),
    found among the loaded modules: in the sandbox the source folders are hidden by then."""
    import importlib
    import pkgutil

    from .catalogue import TOPIC_MODULES

    modules = []
    for name in TOPIC_MODULES:
        package = importlib.import_module(name)
        for info in pkgutil.iter_modules(getattr(package, "__path__", [])):  # outside the sandbox
            importlib.import_module(f"{name}.{info.name}")
        modules += [m for key, m in list(sys.modules.items()) if key == name or key.startswith(name + ".")]
    return modules


def _methods(cls: type) -> list[Any]:
    """The plain functions defined in a class (static and class methods unwrapped)."""
    found = []
    for value in vars(cls).values():
        value = getattr(value, "__func__", value)
        if hasattr(value, "__code__"):
            found.append(value)
    return found


def _called_by(*fns: Any, stop: Any = None) -> set[Any]:
    """The functions ``fns`` call by name, transitively (a class named in them brings its methods),
    not looking into ``stop`` (the graded reference, switched off whoever calls it)."""
    seen: set[Any] = set()
    todo = list(fns)
    while todo:
        f = todo.pop()
        if f in seen or f is stop or not hasattr(f, "__code__"):
            continue
        seen.add(f)
        codes = [f.__code__]
        while codes:
            code = codes.pop()
            codes += [c for c in code.co_consts if hasattr(c, "co_names")]
            for name in code.co_names:
                value = f.__globals__.get(name)
                if isinstance(value, type) and value.__module__.startswith("coursekit."):
                    todo += _methods(value)
                elif callable(value):
                    todo.append(value)
    return seen


def _computing_functions(module: Any) -> list[Any]:
    """What in the graded reference's own module may compute its result: the module's functions,
    and the forward and backward of its autograd Functions (``_GramTargetCost`` forms F F^T and
    keeps it for its backward pass)."""
    import inspect

    import torch

    found = [v for v in vars(module).values() if inspect.isfunction(v) and v.__module__ == module.__name__]
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, torch.autograd.Function) and value.__module__ == module.__name__:
            found += [f for f in _methods(value) if f.__name__ in ("forward", "backward")]
    return found


def disable_grading_helpers(exercise: Any, guard: Guard) -> int:
    """Switch off what could stand in for the graded exercise's reference:

    * every function of the modules that declare exercises (the mistakes and the helpers they
      share, which can hold a correct core: ``_adam_loop`` with its defaults is the reconstruction
      loop); the grader builds the cases and compares outputs in its own process;
    * every function of the reference's own module, and the forward and backward of its autograd
      Functions (``style_cost_from_grams`` is most of ``layer_style_cost``; ``_GramTargetCost``
      keeps F F^T for its backward pass, where a submission can read it);

    except the graded exercise's driver and the other exercises' references, with everything they
    call. Returns how many were switched off."""
    import inspect

    from .catalogue import all_exercises

    # The driver, and other exercises' references with all they call, stay: a later cell may use
    # one (``use_or_reference``).
    others = [other.reference for other in all_exercises().values() if other.name != exercise.name]
    keep = _called_by(*others, *([exercise.driver] if exercise.driver is not None else []), stop=exercise.reference)
    targets = [v for module in _exercise_modules() for v in list(vars(module).values())
               if inspect.isfunction(v) and v.__module__ == module.__name__]
    home = sys.modules.get(getattr(exercise.reference, "__module__", ""), None)
    if home is not None and home.__name__.startswith("coursekit."):
        targets += _computing_functions(home)
    return sum(_disable_reference(f, exercise.name, guard) for f in set(targets) if f not in keep)


def _blocked_body(*args, **kwargs):
    # Runs with the reference's module globals, where _disable_reference left (guard, name).
    guard, name = __coursekit_blocked__  # noqa: F821
    guard.violations.append(f"called coursekit's reference implementation of {name}")
    raise RuntimeError(f"coursekit's own {name} is switched off while your {name} is graded: "
                       "the exercise asks for your code")


def _check_stub(passed: set[str]):
    from . import reference
    from .runner import CheckResult

    def check(name, fn, *, quiet=True):
        ok = name in passed
        return CheckResult(name, "passed" if ok else "failed", function=fn if ok else None,
                           reference=reference(name))

    return check


def _limit(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + cpu_seconds
    # The CPU soft limit sends SIGXCPU (reported as a time limit); the hard one, 2 s later, SIGKILL.
    for which, soft, hard in ((resource.RLIMIT_AS, memory_bytes, memory_bytes), (resource.RLIMIT_CPU, cpu, cpu + 2),
                              (resource.RLIMIT_FSIZE, file_bytes, file_bytes), (resource.RLIMIT_CORE, 0, 0)):
        if soft or which == resource.RLIMIT_CORE:
            try:
                resource.setrlimit(which, (soft, hard))
            except (ValueError, OSError):
                pass


def run(directory: Path, preloaded: bool = False) -> int:
    import torch

    from . import confine
    from .catalogue import topic_exercises
    from .channel import write

    torch.set_num_threads(1)
    # ``python -m`` put the working folder (where the submission may write) on sys.path.
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd(), str(directory))]
    request = torch.load(directory / "request.pt", weights_only=False)  # written by the grader
    exercise = topic_exercises(request["topic"])[request["name"]]  # that topic alone: faster to start
    protections: dict[str, Any] = {}
    if os.environ.get("COURSEKIT_NAMESPACES") == "1":  # set by the grader when bubblewrap runs us
        from . import namespaces
        from .bubblewrap import installations, package_folder

        if not preloaded:  # a fork server's child has it all already
            namespaces.preload()
        namespaces.enter(directory, (str(package_folder()),), request["max_processes"],
                         keep=(*installations(), str(package_folder())))
        linecache.clearcache()
        protections["namespaces"] = "user, mount, pid, network, ipc"
        protections["source_hidden"] = True
    results = directory / "results"
    results.mkdir(exist_ok=True)
    (directory / "ready").write_text(str(time.time()))

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-long write fails instead of killing us
    _limit(request["memory_bytes"], request["cpu_seconds"], request["file_bytes"])
    protections["landlock_abi"] = confine.landlock(directory)
    protections["capabilities_dropped"] = confine.drop_capabilities()
    guard = Guard(directory)
    sys.addaudithook(guard.hook)
    protections["reference_disabled"] = _disable_reference(exercise.reference, exercise.name, guard)
    protections["helpers_disabled"] = disable_grading_helpers(exercise, guard)
    import coursekit.grading as grading

    grading.check = _check_stub(set(request["passed"]))
    write({"protections": protections}, results, "protections")
    guard.active = True

    namespace: dict[str, Any] = {"__name__": "__main__"}
    for statement in request["prelude"]:
        try:
            exec(compile(statement, "<notebook>", "exec"), namespace)
        except BaseException:  # noqa: BLE001  another cell's problem is not this exercise's
            pass
    status: dict[str, Any] = {"kind": "ok"}
    # Lets tracebacks quote the learner's line ("at line 3: `return F @ F.T`").
    linecache.cache["<your cell>"] = (len(request["target"]), None, request["target"].splitlines(True), "<your cell>")
    try:
        exec(compile(request["target"], "<your cell>", "exec"), namespace)
    except NotImplementedError:
        status = {"kind": "error", "message": "the cell raised NotImplementedError when it was run"}
    except BaseException as exc:  # noqa: BLE001  SystemExit and KeyboardInterrupt included
        status = {"kind": "error", "message": f"the cell raised {_describe(exc)} when it was run"}
    fn = namespace.get(exercise.name)
    if status["kind"] == "ok" and not callable(fn):
        status = {"kind": "error", "message": f"after running the cell, {exercise.name} is not a function"}
    write({"status": status, "violations": list(guard.violations)}, results, "load")
    if status["kind"] != "ok":
        return 0

    for i, (args, kwargs) in enumerate(request["cases"]):
        outcome = case_outcome(exercise, fn, args, kwargs)
        outcome["violations"] = list(guard.violations)
        try:
            write(outcome, results, f"case_{i}")
        except Exception as exc:  # noqa: BLE001  e.g. over the file-size limit
            write({"kind": "error", "message": f"the output could not be saved ({_describe(exc)})",
                   "violations": list(guard.violations)}, results, f"case_{i}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m coursekit.grading.sandbox DIR", file=sys.stderr)
        return 2
    return run(Path(argv[0]))


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # threads the submission started must not keep the process alive
