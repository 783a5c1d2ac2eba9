"""Lesson 03's reconstruction panel driven headless: layer, Run, Stop, preview bytes, numbers."""

import io

import pytest
import torch
from PIL import Image

from coursekit.nst import costs
from coursekit.models import FeatureExtractor, vgg11
from coursekit.samples import sample_image
from coursekit.widgets.reconstruction import ReconstructionPanel, reconstruction_panel

LAYERS = ["conv1_1", "conv2_1", "conv3_1"]


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(vgg11(seed=0), LAYERS, pooling="avg")


@pytest.fixture(scope="module")
def images():
    return {"astronaut": sample_image("astronaut", size=32), "chelsea": sample_image("chelsea", size=32)}


def test_panel_starts_with_the_original_and_labels_random_features(fx, images):
    panel = ReconstructionPanel(fx, images, threaded=False)
    assert panel.layer.options == tuple(LAYERS) and panel.layer.value == "conv3_1"
    assert panel.image.value[:4] == b"\x89PNG"
    assert Image.open(io.BytesIO(panel.image.value)).size[0] > 100
    assert panel.suffix == " (random features)"
    assert panel.result is None and panel.stop_button.disabled and not panel.run_button.disabled
    for control, label in ((panel.image_choice, "Image"), (panel.layer, "Layer"), (panel.steps, "Steps")):
        assert control.description == label
    assert panel.steps.continuous_update is False


def test_run_sync_changes_the_preview_and_lowers_the_loss(fx, images):
    panel = ReconstructionPanel(fx, images, steps=10, threaded=False)
    panel.layer.value = "conv1_1"
    before_png, before_numbers = panel.image.value, panel.numbers.value
    result = panel.run(sync=True)
    assert result is panel.result and result.evaluations == 10
    assert result.best_loss < 0.5 * result.history["total"][0]
    assert panel.image.value != before_png
    assert panel.numbers.value != before_numbers
    assert "conv1_1" in panel.numbers.value and "random features" in panel.numbers.value
    assert not panel.run_button.disabled and panel.stop_button.disabled


def test_run_button_uses_the_chosen_layer_image_and_cost(fx, images):
    calls = []

    def mine(a_C, a_G):
        calls.append(tuple(a_G.shape))
        return costs.content_cost(a_C, a_G)

    panel = ReconstructionPanel(fx, images, steps=10, cost=mine, threaded=False)
    panel.image_choice.value = "chelsea"
    panel.layer.value = "conv2_1"
    panel.run_button.click()
    assert len(calls) == 10 and all(shape[1] == 128 for shape in calls)  # conv2_1 has 128 channels
    assert panel.result.image.shape == images["chelsea"].shape
    # A new layer clears the result and redraws.
    png = panel.image.value
    panel.layer.value = "conv1_1"
    assert panel.result is None and panel.image.value != png


def test_stop_is_honoured_in_sync_mode(fx, images):
    panel = ReconstructionPanel(fx, images, steps=200, threaded=False)
    panel.layer.value = "conv1_1"
    seen = []

    def stop_after_three(a_C, a_G):
        seen.append(1)
        if len(seen) == 3:
            panel.stop_button.click()
        return costs.content_cost(a_C, a_G)

    panel.cost = stop_after_three
    result = panel.run(sync=True)
    assert result.stopped == "stopped" and result.evaluations == 3
    assert torch.isfinite(torch.tensor(result.best_loss))
    assert "stopped" in panel.numbers.value


def test_background_run_can_be_stopped(fx, images):
    panel = ReconstructionPanel(fx, images, steps=500, max_steps=500)
    panel.layer.value = "conv1_1"
    started = []

    def cost(a_C, a_G):
        started.append(1)
        if len(started) == 5:
            panel.stop()  # what the Stop button does, from the thread (deterministic count)
        return costs.content_cost(a_C, a_G)

    panel.cost = cost
    assert panel.run() is None  # returns at once
    result = panel.wait(timeout=60)
    assert not panel.running
    assert result is not None and result.stopped == "stopped" and result.evaluations == 5


def test_background_run_finishes_and_stop_button_reenables(fx, images):
    panel = ReconstructionPanel(fx, images, steps=10)
    panel.layer.value = "conv1_1"
    panel.run_button.click()
    result = panel.wait(timeout=60)
    assert result.evaluations == 10 and result.stopped == "budget"
    assert not panel.run_button.disabled and panel.stop_button.disabled


def test_builder_loads_samples_and_checks_layers(fx):
    panel = reconstruction_panel(fx, ["astronaut"], ["conv1_1", "conv2_1"], size=24, threaded=False)
    assert panel.original.shape == (1, 3, 24, 24)
    assert panel.layer.options == ("conv1_1", "conv2_1")
    assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()
    with pytest.raises(ValueError, match="not read"):
        reconstruction_panel(fx, ["astronaut"], ["conv5_2"], size=24)
    with pytest.raises(ValueError, match="empty"):
        ReconstructionPanel(fx, {})
