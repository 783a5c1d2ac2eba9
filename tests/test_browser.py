"""The lessons in a real browser: JupyterLab runs them, the widgets render and answer a learner.

Starts ``jupyter lab`` from this environment on a copy of every lesson with a panel, drives Debian's
Chromium with Playwright, runs every cell, checks there is no error output, then operates each panel
the way a learner does (types into a slider's readout and presses Enter, picks from a dropdown,
presses Run and Stop) and waits for its picture or table to change. Any error in the browser's
console fails the test. Screenshots go to test-artifacts/browser/. Needs Chromium (``apt-get install chromium``) and the
``playwright`` package: the tests skip without them, and fail instead when COURSEKIT_REQUIRE_UI=1
(set by .ci/run). Run them alone with ``pytest tests/test_browser.py -m ui``.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from browser_helpers import (CHROMIUM_ARGS, LabServer, button, click_button, dropdown, find_chromium, image_src,
                             notebook, open_notebook, press_slider_key, run_all_cells, select_option, set_slider,
                             slider, wait_for, wait_for_new_src)

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[1]
LESSONS = {name: ROOT / "notebooks" / name  # the learners' versions; none reads a file beside it
           for name in ("01_channel_correlations.ipynb", "02_style_cost.ipynb", "03_content_cost.ipynb",
                        "04_neural_style_transfer.ipynb", "06_gan_fundamentals.ipynb", "07_dcgan.ipynb",
                        "08_alexnet_vgg.ipynb", "09_vanishing_exploding_gradients.ipynb")}
ARTIFACTS = ROOT / "test-artifacts" / "browser"
KERNEL = "coursekit"  # the kernelspec `make env` installs into the environment; the lessons name it
INSTALL_HINT = "install Chromium from Debian's packages: apt-get install chromium; .ci/run does this"
UNRENDERED = ("Loading widget...", "IntSlider(", "FloatSlider(", "FloatLogSlider(", "VBox(", "HBox(")


def _missing(reason: str):
    """Skip, or fail where the browser tests are required (CI)."""
    if os.environ.get("COURSEKIT_REQUIRE_UI") == "1":
        pytest.fail(f"{reason} (COURSEKIT_REQUIRE_UI=1 requires the browser tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium():
    executable = find_chromium()
    if executable is None:
        _missing(f"Chromium not found; {INSTALL_HINT}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is missing: pip install -e '.[dev]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def lab(chromium, tmp_path_factory):
    with LabServer(LESSONS.values(), tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture
def page(chromium, lab):
    """A fresh browser tab; the test fails if the browser logged an error (console or uncaught)."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    # Offline, JupyterLab logs no console error of its own (news and update checks are off), so none is ignored.
    page.on("console", lambda msg: msg.type == "error"
            and errors.append(f"console error: {msg.text} (at {msg.location.get('url', '?')})"))
    page.on("pageerror", lambda exc: errors.append(f"uncaught error: {exc}"))
    yield page
    context.close()
    lab.shutdown_kernels()  # a finished lesson's kernel (and a panel's run) must not slow the next one
    assert not errors, "the browser logged errors:\n" + "\n".join(errors)


@contextmanager
def screenshot_on_failure(page, lab, name: str):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException as exc:
        page.screenshot(path=ARTIFACTS / f"{name}_FAILED.png", full_page=True)
        exc.add_note(f"screenshot: {ARTIFACTS / f'{name}_FAILED.png'}\nserver log tail:\n{lab.log_tail(30)}")
        raise


def image_digest(image) -> str:
    """SHA-1 of the picture an ``<img>`` shows (ipywidgets serves it from a blob: URL)."""
    return image.evaluate("""async img => {
        const bytes = await (await fetch(img.src)).arrayBuffer();
        const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
        return Array.from(digest, b => b.toString(16).padStart(2, "0")).join("");
    }""")


def wait_for_new_picture(image, old_digest: str, timeout: float, what: str) -> str:
    """Wait until the ``<img>`` shows different bytes (not just a new blob: URL); return their digest."""
    return wait_for(lambda: image_src(image) and (d := image_digest(image)) != old_digest and d, timeout, what,
                    interval=0.5)


def check_shown_at_size(image, what: str) -> None:
    """The picture is not stretched to the output's width, as a VBox does to an Image without a width.

    A fixed layout width may scale a picture by a little (1.25x in lesson 03); a stretched one is
    scaled by much more (lesson 07's grid was 3.7x, blurred, and pushed the rest out of view)."""
    wait_for(lambda: image.evaluate("img => img.complete && img.naturalWidth > 0"), 10, f"{what} to load")
    drawn, shown = image.evaluate("img => [img.naturalWidth, img.clientWidth]")
    assert shown <= 1.5 * drawn, (f"{what}: a picture drawn {drawn} px wide is shown {shown} px wide, blurred; "
                                  "give its widgets.Image a width or align_self='flex-start'")


def check_ran_cleanly(page, prompts: list[str]) -> None:
    text = "\n".join(notebook(page).locator(".jp-OutputArea").all_inner_texts())  # not the sources
    if "Traceback" in text:  # JupyterLab stops "Run All" at a failed cell
        raise AssertionError("a traceback is shown in the notebook:\n" + text[text.index("Traceback"):][-2000:])
    not_run = [i for i, p in enumerate(prompts) if not p.strip().strip("[]:").isdigit()]
    assert not not_run, f"code cells {not_run} did not run (prompts {prompts})"
    left = [marker for marker in UNRENDERED if marker in text]
    assert not left, f"widgets not rendered (text {left} in the page): is the ipywidgets extension installed?"


def panel_with(page, *labels: str, image: bool = True):
    """The outermost widget box holding controls described ``labels`` (and an image, unless told not to)."""
    box = notebook(page).locator(".widget-vbox")
    if image:
        box = box.filter(has=page.locator(".widget-image"))
    for label in labels:
        box = box.filter(has=page.locator(".widget-label", has_text=re.compile(f"^{re.escape(label)}$")))
    return box.first


def readout(scope, label: str) -> str:
    return slider(scope, label).locator(".widget-readout").inner_text().strip()


def run_lesson(page, lab, name: str, timeout: float) -> None:
    open_notebook(page, lab, name, KERNEL)
    check_ran_cleanly(page, run_all_cells(page, timeout=timeout))


def run_then_stop(panel, preview, what: str) -> None:
    """Press Run, wait for the first preview, press Stop, wait until the run has ended with the best image."""
    before = image_digest(preview)
    click_button(panel, "Run")
    wait_for_new_picture(preview, before, 120, f"{what}'s first preview after pressing Run")
    click_button(panel, "Stop")  # waits until Stop is enabled: the run is on
    status = panel.locator(".widget-html").first
    wait_for(lambda: "stopped on request" in status.inner_text(), 60, f"{what} to stop", interval=0.5)
    wait_for(lambda: button(panel, "Run").is_enabled(), 10, "Run to be enabled again")


def test_lesson04_style_transfer_panel(page, lab):
    name = "04_neural_style_transfer.ipynb"
    with screenshot_on_failure(page, lab, "lesson04"):
        open_notebook(page, lab, name, KERNEL)
        check_ran_cleanly(page, run_all_cells(page, timeout=480))

        panel = panel_with(page, "β (style)", "λ relu1_1")
        panel.scroll_into_view_if_needed()
        for label in ("α (content)", "β (style)", "λ relu1_1", "λ relu5_1"):
            assert slider(panel, label).is_visible(), f"slider {label!r} is not shown"
        preview = panel.locator("img.widget-image").first  # then the loss curves
        run = panel.locator("button.widget-button", has_text="Run")
        status = panel.locator(".widget-html").first

        set_slider(panel, "β (style)", "1e6")
        assert slider(panel, "β (style)").locator(".widget-readout").inner_text().strip() == "1.0e+6"
        run.click()
        wait_for_new_src(preview, "", 60, "a first preview after changing β and pressing Run")
        wait_for(lambda: "best J" in status.inner_text(), 120, "the run to finish", interval=0.5)
        first = image_digest(preview)
        page.screenshot(path=ARTIFACTS / "lesson04_page.png", full_page=True)

        set_slider(panel, "λ relu1_1", "1")  # "re-run when a slider changes" is ticked
        wait_for_new_picture(preview, first, 60, "the preview to change after moving λ relu1_1")
        wait_for(lambda: "best J" in status.inner_text(), 120, "the second run to finish", interval=0.5)
        panel.screenshot(path=ARTIFACTS / "lesson04_panel.png")


def test_lesson01_correlation_explorer(page, lab):
    name = "01_channel_correlations.ipynb"
    with screenshot_on_failure(page, lab, "lesson01"):
        open_notebook(page, lab, name, KERNEL)
        check_ran_cleanly(page, run_all_cells(page, timeout=300))

        explorer = panel_with(page, "channel k", "channel k'")
        explorer.scroll_into_view_if_needed()
        image = explorer.locator("img.widget-image").first
        wait_for(lambda: image_src(image), 30, "the explorer's picture")
        before = image_digest(image)
        k = int(slider(explorer, "channel k").locator(".widget-readout").inner_text())
        new_k = 0 if k != 0 else 1

        set_slider(explorer, "channel k", str(new_k))
        wait_for_new_picture(image, before, 60, "the explorer's picture to change after moving channel k")
        numbers = explorer.locator(".widget-html").first
        wait_for(lambda: f"k = {new_k}," in numbers.inner_text(), 30, f"the numbers to show k = {new_k}")
        page.screenshot(path=ARTIFACTS / "lesson01_page.png", full_page=True)

        # Channel 0 is dead on the explorer's first image (stripes_orange at relu2_1): the panel says
        # so, and "skip dead channels" moves k on to a live channel.
        assert new_k == 0, f"the explorer opened on channel k = 0 ({k}), not on its most correlated live pair"
        wait_for(lambda: "Channel k = 0 is dead" in explorer.inner_text(), 30, "the panel to say channel 0 is dead")
        before = image_digest(image)
        explorer.locator(".widget-checkbox input[type=checkbox]").first.click()  # "skip dead channels"
        wait_for(lambda: "k = 0," not in numbers.inner_text(), 30, "skip dead channels to move k off channel 0")
        wait_for_new_picture(image, before, 60, "the picture to change after ticking skip dead channels")
        explorer.screenshot(path=ARTIFACTS / "lesson01_explorer.png")


def test_lesson02_style_weights_panel(page, lab):
    with screenshot_on_failure(page, lab, "lesson02"):
        run_lesson(page, lab, "02_style_cost.ipynb", timeout=300)

        panel = panel_with(page, "λ relu1_1", "λ relu5_1", "Steps")
        panel.scroll_into_view_if_needed()
        preview = panel.locator("img.widget-image").first
        wait_for(lambda: image_src(preview), 30, "the panel's first picture")
        set_slider(panel, "λ relu1_1", "1")
        set_slider(panel, "Steps", "500")  # the longest budget, so Stop comes before the end
        wait_for(lambda: readout(panel, "λ relu1_1") == "1.00" and readout(panel, "Steps") == "500", 10,
                 "the readouts to show λ relu1_1 = 1.00 and 500 steps")

        run_then_stop(panel, preview, "the texture")
        numbers = panel.locator(".widget-html").first.inner_text()
        assert "relu1_1 1.00" in numbers, f"the run did not use λ relu1_1 = 1 ({numbers!r})"
        check_shown_at_size(preview, "the texture panel's picture")
        panel.screenshot(path=ARTIFACTS / "lesson02_panel.png")


def test_lesson03_reconstruction_panel(page, lab):
    with screenshot_on_failure(page, lab, "lesson03"):
        run_lesson(page, lab, "03_content_cost.ipynb", timeout=300)

        panel = panel_with(page, "Image", "Layer", "Steps")
        panel.scroll_into_view_if_needed()
        preview = panel.locator("img.widget-image").first
        before = wait_for(lambda: image_src(preview) and image_digest(preview), 30, "the panel's first picture")
        select_option(panel, "Image", "chelsea")
        before = wait_for_new_picture(preview, before, 30, "the original to change after picking 'chelsea'")
        select_option(panel, "Layer", "relu2_2")
        wait_for_new_picture(preview, before, 30, "the picture to change after picking relu2_2")
        set_slider(panel, "Steps", "500")
        wait_for(lambda: readout(panel, "Steps") == "500", 10, "the readout to show 500 steps")

        run_then_stop(panel, preview, "the reconstruction")
        numbers = panel.locator(".widget-html").first.inner_text()
        assert numbers.startswith("relu2_2"), f"the run did not use relu2_2 ({numbers!r})"
        check_shown_at_size(preview, "the reconstruction panel's picture")
        panel.screenshot(path=ARTIFACTS / "lesson03_panel.png")


def test_lesson06_gan_lab(page, lab):
    with screenshot_on_failure(page, lab, "lesson06"):
        run_lesson(page, lab, "06_gan_fundamentals.ipynb", timeout=180)

        panel = panel_with(page, "data set", "k (D steps per G step)", "learning rate D")
        panel.scroll_into_view_if_needed()
        picture = panel.locator("img.widget-image").first
        numbers = panel.locator(".widget-html").first
        before = wait_for(lambda: image_src(picture) and image_digest(picture), 30, "the lab's first picture")

        def counts() -> tuple[int, int]:  # (iteration, D updates) from "iteration 3 · D updates 7 · ..."
            found = re.match(r"iteration (\d+) · D updates (\d+)", numbers.inner_text())
            return (int(found[1]), int(found[2])) if found else (-1, -1)

        click_button(panel, "Step D")
        before = wait_for_new_picture(picture, before, 30, "the picture to change after Step D")
        wait_for(lambda: counts() == (0, 1), 10, "the numbers to show one D update")
        set_slider(panel, "k (D steps per G step)", "2")
        wait_for(lambda: readout(panel, "k (D steps per G step)") == "2", 10, "the readout to show k = 2")

        click_button(panel, "Run")
        wait_for(lambda: counts()[0] >= 50, 60, "Run to draw its first 50 iterations")
        click_button(panel, "Stop")
        iterations, updates = counts()  # every redraw follows a whole iteration: k = 2 D steps, then G
        assert updates == 2 * iterations + 1, f"k = 2 did not reach the kernel ({numbers.inner_text()!r})"
        before = wait_for_new_picture(picture, before, 30, "the picture to change after Run")

        select_option(panel, "data set", "grid")  # resets D and G, after waiting for the run to end
        wait_for(lambda: counts() == (0, 0), 60, "the reset on the grid data set")
        wait_for_new_picture(picture, before, 30, "the picture to change after picking 'grid'")
        check_shown_at_size(picture, "the GAN lab's picture")
        panel.screenshot(path=ARTIFACTS / "lesson06_panel.png")


def test_lesson07_dcgan_browser(page, lab):
    with screenshot_on_failure(page, lab, "lesson07"):
        run_lesson(page, lab, "07_dcgan.ipynb", timeout=300)

        panel = panel_with(page, "epoch", "t", "path")
        panel.scroll_into_view_if_needed()
        grid, latent = panel.locator("img.widget-image").nth(0), panel.locator("img.widget-image").nth(1)
        grid_before = wait_for(lambda: image_src(grid) and image_digest(grid), 30, "the grid of samples")
        latent_before = wait_for(lambda: image_src(latent) and image_digest(latent), 30, "the latent path")

        press_slider_key(panel, "epoch", "Home")  # a SelectionSlider's readout takes no typing
        wait_for(lambda: readout(panel, "epoch") == "0", 10, "the epoch readout to show 0")
        wait_for_new_picture(grid, grid_before, 30, "the samples of epoch 0")

        set_slider(panel, "t", "1")
        latent_before = wait_for_new_picture(latent, latent_before, 30, "G(z_t) at t = 1")
        select_option(panel, "path", "linear")
        wait_for_new_picture(latent, latent_before, 30, "the linear path")
        text = panel.locator(".widget-html").first.inner_text()
        norms = re.findall(r"\|(?:z_t|z1)\| = ([\d.]+)", text)
        assert len(norms) == 2 and norms[0] == norms[1], f"at t = 1, |z_t| should be |z1| ({text!r})"
        check_shown_at_size(grid, "the grid of samples")
        check_shown_at_size(latent, "the latent path")
        panel.screenshot(path=ARTIFACTS / "lesson07_panel.png")


def test_lesson08_summary_and_feature_maps(page, lab):
    with screenshot_on_failure(page, lab, "lesson08"):
        run_lesson(page, lab, "08_alexnet_vgg.ipynb", timeout=300)

        summary = panel_with(page, "network", "input size", image=False)
        summary.scroll_into_view_if_needed()
        table = summary.locator(".widget-html").first
        before = wait_for(lambda: table.inner_text().strip(), 30, "the summary table")
        select_option(summary, "network", "alexnet")
        before = wait_for(lambda: (t := table.inner_text()) != before and t, 30, "the table of alexnet")
        set_slider(summary, "input size", "128")
        wait_for(lambda: (t := table.inner_text()) != before and t, 30, "the table for a 128-pixel input")
        summary.screenshot(path=ARTIFACTS / "lesson08_summary_panel.png")

        maps = panel_with(page, "layer", "first channel")
        maps.scroll_into_view_if_needed()
        image = maps.locator("img.widget-image").first
        before = wait_for(lambda: image_src(image) and image_digest(image), 30, "the feature maps")
        set_slider(maps, "first channel", "8")
        before = wait_for_new_picture(image, before, 30, "channels 8-15")
        layers = dropdown(maps, "layer").locator("option").all_inner_texts()
        select_option(maps, "layer", layers[-1])
        wait_for_new_picture(image, before, 30, f"the maps of {layers[-1]}")
        check_shown_at_size(image, "the feature maps")
        maps.screenshot(path=ARTIFACTS / "lesson08_feature_map_panel.png")


def test_lesson09_gradient_flow_panel(page, lab):
    with screenshot_on_failure(page, lab, "lesson09"):
        run_lesson(page, lab, "09_vanishing_exploding_gradients.ipynb", timeout=180)

        panel = panel_with(page, "depth L", "activation g", "initialisation")
        panel.scroll_into_view_if_needed()
        plots = panel.locator("img.widget-image").first
        before = wait_for(lambda: image_src(plots) and image_digest(plots), 30, "the gradient plots")
        set_slider(panel, "depth L", "10")
        before = wait_for_new_picture(plots, before, 30, "the plots for depth 10")
        select_option(panel, "activation g", "relu")
        before = wait_for_new_picture(plots, before, 30, "the plots for ReLU")
        select_option(panel, "initialisation", "He")
        wait_for_new_picture(plots, before, 30, "the plots for He initialisation")
        check_shown_at_size(plots, "the gradient plots")
        panel.screenshot(path=ARTIFACTS / "lesson09_panel.png")
