"""Lesson 02's lambda panel driven headless: sliders, Run, Stop, zero weights, preview bytes, numbers."""

import io
import time

import pytest
import torch
from PIL import Image

from coursekit.nst import costs
from coursekit.models import FeatureExtractor, vgg11
from coursekit.widgets.style_weights import StyleWeightsPanel, style_weights_panel

LAYERS = ["conv1_1", "conv2_1", "conv3_1"]


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(vgg11(seed=0), LAYERS, pooling="avg")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:4] == b"\x89PNG"
    return Image.open(io.BytesIO(data)).size


def test_controls_are_labelled_and_start_at_the_paper_weights(fx):
    panel = style_weights_panel(fx, "stripes_orange", size=32, threaded=False)
    assert list(panel.sliders) == LAYERS  # the paper's layers this extractor reads
    for name, slider in panel.sliders.items():
        assert slider.description == f"λ {name}" and slider.value == pytest.approx(0.2)
        assert slider.continuous_update is False
    assert (panel.size.description, panel.steps.description) == ("Size (px)", "Steps")
    assert panel.size.continuous_update is False and panel.steps.continuous_update is False
    assert png_size(panel.image.value)[0] > 300
    assert panel.suffix == " (random features)"
    assert panel.result is None and panel.stop_button.disabled and not panel.run_button.disabled
    assert panel.widget.children  # the VBox to display


def test_run_button_synthesises_with_the_slider_weights(fx):
    panel = StyleWeightsPanel(fx, "stripes_orange", size=32, steps=10, threaded=False)
    panel.sliders["conv1_1"].value = 1.0
    panel.sliders["conv2_1"].value = 0.0
    panel.sliders["conv3_1"].value = 0.5
    before_png, before_numbers = panel.image.value, panel.numbers.value
    panel.run_button.click()
    result = panel.result
    assert result is not None and result.evaluations == 10
    assert set(result.history) == {"total", "style/conv1_1", "style/conv3_1"}  # lambda 0: not computed
    assert result.best_loss < 0.5 * result.history["total"][0]
    assert result.image.shape == (1, 3, 32, 32)
    assert panel.image.value != before_png and panel.numbers.value != before_numbers
    assert "conv1_1 1.00" in panel.numbers.value and "conv2_1" not in panel.numbers.value.split(":")[0]
    assert "random features" in panel.numbers.value
    assert not panel.run_button.disabled and panel.stop_button.disabled


def test_other_weights_give_another_texture(fx):
    panel = StyleWeightsPanel(fx, "stripes_orange", size=32, steps=10, threaded=False)
    panel.sliders["conv2_1"].value = panel.sliders["conv3_1"].value = 0.0
    first = panel.run(sync=True)
    png = panel.image.value
    panel.sliders["conv1_1"].value, panel.sliders["conv3_1"].value = 0.0, 1.0
    second = panel.run(sync=True)
    assert not torch.equal(first.image, second.image)
    assert set(second.history) == {"total", "style/conv3_1"}
    assert panel.image.value != png


def test_all_zero_weights_give_a_message_not_a_crash(fx):
    panel = StyleWeightsPanel(fx, "stripes_orange", size=32, steps=10, threaded=False)
    for slider in panel.sliders.values():
        slider.value = 0.0
    png = panel.image.value
    assert panel.run(sync=True) is None
    panel.run_button.click()
    assert "All λ" in panel.numbers.value and "above 0" in panel.numbers.value
    assert panel.result is None and panel.image.value == png and not panel.run_button.disabled


def test_size_and_seed_controls(fx):
    panel = StyleWeightsPanel(fx, torch.rand(1, 3, 40, 60, generator=torch.Generator().manual_seed(0)),
                              size=32, steps=10, threaded=False)
    panel.size.value = 48
    assert panel.style_image().shape == (1, 3, 32, 48)  # longer side 48, aspect kept
    a = panel.run(sync=True)
    assert a.image.shape == (1, 3, 32, 48)
    panel.seed.value = 1
    b = panel.run(sync=True)
    assert not torch.equal(a.image, b.image)


def test_learner_cost_is_used_and_stop_is_honoured_in_sync_mode(fx):
    calls = []

    def mine(a_S, a_G):
        calls.append(1)
        if len(calls) == 4:
            panel.stop_button.click()
        return costs.layer_style_cost(a_S, a_G)

    panel = StyleWeightsPanel(fx, "stripes_orange", weights={"conv1_1": 1.0}, size=32, steps=200,
                              layer_cost=mine, threaded=False)
    result = panel.run(sync=True)
    assert calls and result.stopped == "stopped" and result.evaluations < 10
    assert "stopped" in panel.numbers.value


def test_threaded_run_stops_on_request(fx):
    panel = StyleWeightsPanel(fx, "stripes_orange", weights={"conv1_1": 1.0, "conv2_1": 1.0}, size=32,
                              steps=500, preview_every=1, threaded=True)
    assert panel.run() is None
    deadline = time.monotonic() + 30
    while "evaluations" not in panel.numbers.value or " 0 of" in panel.numbers.value:
        assert time.monotonic() < deadline, "the background run never started"
        time.sleep(0.05)
    assert panel.running and not panel.stop_button.disabled
    panel.stop_button.click()
    result = panel.wait(timeout=30)
    assert not panel.running
    assert result is not None and result.stopped == "stopped" and result.evaluations < 500
    assert panel.run_button.disabled is False


def test_bad_layers_are_refused(fx):
    with pytest.raises(ValueError, match="not read by the extractor"):
        StyleWeightsPanel(fx, "stripes_orange", ["conv5_1"])
    with pytest.raises(ValueError, match="no slider"):
        StyleWeightsPanel(fx, "stripes_orange", ["conv1_1"], weights={"conv2_1": 1.0})
    with pytest.raises(ValueError, match="unknown sample"):
        StyleWeightsPanel(fx, "stripes_orangee")
