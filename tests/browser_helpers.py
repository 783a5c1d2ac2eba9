"""Helpers for tests/test_browser.py: a throw-away JupyterLab server and a few page actions.

``LabServer`` starts ``jupyter lab`` from this environment on loopback, with its own token, port,
settings, config and runtime folders, serving a copy of some lessons. The copy leaves out the code
cells tagged ``not-in-browser-test``: slow experiments and their figures that no panel needs
(nbval runs them in both versions of the lesson). A kept cell that needs one fails with a NameError. The page helpers drive
JupyterLab 4 and ipywidgets 8 through their DOM (class names as in those versions).
Every wait polls with a deadline; nothing sleeps for long.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["CHROMIUM_ARGS", "SKIP_TAG", "LabServer", "browser_copy", "find_chromium", "wait_for", "notebook", "open_notebook", "run_all_cells",
           "error_outputs", "slider", "set_slider", "press_slider_key", "dropdown", "select_option", "button",
           "click_button", "image_src", "wait_for_new_src"]

# Without the last four Chromium tries to reach Google's hosts, which are refused here.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

SKIP_TAG = "not-in-browser-test"


def browser_copy(source: Path, target: Path) -> int:
    """Write ``source`` to ``target`` without its cells tagged SKIP_TAG; returns how many were left out."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    cells = nb["cells"]
    nb["cells"] = [c for c in cells if SKIP_TAG not in c.get("metadata", {}).get("tags", [])]
    target.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    return len(cells) - len(nb["cells"])


def find_chromium() -> str | None:
    """Debian's Chromium (``apt-get install chromium``), or None."""
    return shutil.which("chromium") or next((p for p in ("/usr/bin/chromium",) if os.access(p, os.X_OK)), None)


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.25):
    """Poll ``condition`` until it returns something truthy (returned); TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """``jupyter lab`` serving copies of ``notebooks`` from ``workdir``; use as a context manager."""

    def __init__(self, notebooks: Iterable[Path], workdir: Path, start_timeout: float = 60) -> None:
        self.workdir = workdir
        self.root = workdir / "notebooks"
        self.root.mkdir(parents=True)
        for nb in notebooks:  # copies, so the browser never touches the repository's lessons
            browser_copy(nb, self.root / nb.name)
        self.token = secrets.token_hex(16)
        self.start_timeout = start_timeout
        self.log_path = workdir / "jupyter-lab.log"
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        settings = self.workdir / "lab-settings"
        tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True, exist_ok=True)
        # JupyterLab 4 does not paint off-screen cells unless windowing is off.
        tracker.write_text(json.dumps({"windowingMode": "none"}))
        notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notification.parent.mkdir(parents=True, exist_ok=True)
        # No "get notified about Jupyter news?" toast over the screenshots, no update check.
        notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = dict(os.environ, COURSEKIT_OFFLINE="1", JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(self.workdir / "lab-workspaces"),
                   JUPYTER_CONFIG_DIR=str(self.workdir / "config"), JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"),
                   JUPYTER_DATA_DIR=str(self.workdir / "data"), IPYTHONDIR=str(self.workdir / "ipython"))
        env.pop("MPLBACKEND", None)  # `make test` sets Agg; the kernel should draw inline as for a learner
        return env

    def start(self) -> "LabServer":
        for _ in range(3):  # another process may take the free port between bind and listen
            self.port = _free_port()
            log = self.log_path.open("ab")
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                 f"--port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                 "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                 f"--ServerApp.root_dir={self.root}"],
                cwd=self.workdir, env=self._env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
            try:
                wait_for(self._ready, self.start_timeout, "jupyter lab to answer /api/status")
                return self
            except RuntimeError:  # exited early (port taken?): try another port
                continue
            except TimeoutError as exc:
                self.stop()
                raise RuntimeError(f"{exc}; server log:\n{self.log_tail()}") from None
        raise RuntimeError(f"jupyter lab did not start; server log:\n{self.log_tail()}")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {self.process.returncode}")
        try:
            with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.url}/api/{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def sessions(self) -> list[dict]:
        return self.api("sessions")

    def log_tail(self, n: int = 60) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        return "\n".join(lines[-n:])

    def shutdown_kernels(self) -> None:
        """Ask the server to shut every kernel down (ignoring a server that no longer answers)."""
        try:
            for session in self.api("sessions"):
                self.api(f"sessions/{session['id']}", method="DELETE")
            for kernel in self.api("kernels"):
                self.api(f"kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass

    def _kernel_pids(self) -> list[int]:
        """Kernels started by this server: their command line names our runtime folder."""
        runtime = str(self.workdir / "runtime")
        pids = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if runtime in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(proc.name))
            except OSError:
                continue
        return pids

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        kernels = self._kernel_pids()  # kernels run in their own session, outside the server's group
        self.shutdown_kernels()
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        for pid in kernels:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __enter__(self) -> "LabServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---- page actions (JupyterLab 4, ipywidgets 8) ----------------------------------------------------
def notebook(page):
    """The notebook panel in front (others may be open in hidden tabs)."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def open_notebook(page, server: LabServer, name: str, kernel: str, timeout: float = 90) -> None:
    """Open ``name`` alone and wait for its kernel ``kernel`` to be idle (choosing it if Lab asks)."""
    # `reset`: a fresh workspace, so the tabs of an earlier test are not reopened with their kernels.
    page.goto(f"{server.url}/lab/tree/{name}?token={server.token}&reset")
    notebook(page).locator(".jp-Cell").first.wait_for(timeout=timeout * 1000)

    def ready() -> bool:
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and dialog.locator("select").count():  # "Select Kernel": pick ours
            dialog.locator("select").select_option(kernel)
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        sessions = [s for s in server.sessions() if s.get("path", "").endswith(name)]
        return bool(sessions) and sessions[0]["kernel"]["name"] == kernel and _idle(page)

    wait_for(ready, timeout, f"kernel {kernel!r} of {name} to be idle", interval=0.5)


def _idle(page) -> bool:
    return notebook(page).locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').count() > 0


def _prompts(page) -> list[str]:
    return notebook(page).locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()


def run_all_cells(page, timeout: float) -> list[str]:
    """Clear the outputs, run every cell, wait until the kernel is idle and no cell waits ``[*]``.

    Clearing first makes ``[ ]`` prompts that only a new execution turns into ``[n]``, so the stored
    outputs of the notebook cannot pass for fresh ones. Returns the prompts at the end.
    """
    notebook(page).locator(".jp-Cell").first.click()  # focus, so the menu acts on this notebook
    _menu(page, "Edit", "Clear Outputs of All Cells")
    wait_for(lambda: all(p.strip() in ("[ ]:", "") for p in _prompts(page)), 20, "outputs to be cleared")
    _menu(page, "Run", "Run All Cells")
    wait_for(lambda: any("*" in p for p in _prompts(page)), 30, "the first cell to start")
    stable = [0]

    def finished() -> bool:
        errors = error_outputs(page)
        if errors:  # stop early: nothing after a failed cell will run
            raise AssertionError("a cell raised an error:\n" + "\n---\n".join(errors))
        done = _idle(page) and not any("*" in p for p in _prompts(page))
        stable[0] = stable[0] + 1 if done else 0
        return stable[0] >= 3  # idle over three polls, not a gap between two cells

    wait_for(finished, timeout, "all cells to finish", interval=1.0)
    return _prompts(page)


def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def error_outputs(page) -> list[str]:
    """Texts of error outputs (tracebacks); stderr (warnings) is allowed."""
    errors = notebook(page).locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"],'
                          ' .jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]')
    return [text[-2000:] for text in errors.all_inner_texts()]


def slider(scope, label: str):
    """The ipywidgets slider whose description is exactly ``label``."""
    page = getattr(scope, "page", scope)  # a Locator knows its page; a Page is one
    return scope.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(f"^{re.escape(label)}$")))


def set_slider(scope, label: str, value: str) -> None:
    """Type ``value`` into the slider's readout and press Enter (as a learner can)."""
    readout = slider(scope, label).locator(".widget-readout")
    readout.click()
    readout.press("Control+A")
    readout.press_sequentially(value)
    readout.press("Enter")


def press_slider_key(scope, label: str, key: str) -> None:
    """Focus the slider's handle and press ``key`` (Home, End, ArrowLeft...), as a keyboard user does.

    For SelectionSlider, whose readout does not take typing."""
    slider(scope, label).locator(".noUi-handle").first.press(key)


def dropdown(scope, label: str):
    """The ``<select>`` of the ipywidgets Dropdown whose description is exactly ``label``."""
    page = getattr(scope, "page", scope)
    return scope.locator(".widget-dropdown").filter(
        has=page.locator(".widget-label", has_text=re.compile(f"^{re.escape(label)}$"))).locator("select")


def select_option(scope, label: str, option: str) -> None:
    """Pick the entry shown as ``option`` in the dropdown ``label``."""
    dropdown(scope, label).select_option(label=option)


def button(scope, text: str):
    """The ipywidgets Button whose caption is exactly ``text`` (an icon beside it is allowed)."""
    return scope.locator("button.widget-button", has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))


def click_button(scope, text: str) -> None:
    """Click the button ``text``, waiting until it is enabled (Stop is, once a run has started)."""
    button(scope, text).click()


def image_src(image) -> str:
    return image.get_attribute("src") or ""


def wait_for_new_src(image, old: str, timeout: float, what: str) -> str:
    """Wait until the ``<img>`` shows a non-empty picture different from ``old``; return its src."""
    return wait_for(lambda: (src := image_src(image)) and src != old and src, timeout, what, interval=0.5)
