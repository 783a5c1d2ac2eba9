"""Lesson 04's panel driven headless: sliders, Run, Stop, uploads, preview bytes."""

import io
from datetime import datetime, timezone

import pytest
import torch
from PIL import Image

from coursekit.models import FeatureExtractor, layer_names, vgg11
from coursekit.samples import sample_image
from coursekit.nst.transfer import TransferSettings
from coursekit.widgets.nst_panel import StyleTransferPanel

LAYERS = [n for n in layer_names("vgg11") if n.startswith(("conv", "relu"))]


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(vgg11(seed=0), LAYERS)


def make_panel(fx, threaded=False, steps=5):
    return StyleTransferPanel(
        fx, {"astronaut": sample_image("astronaut", size=40), "chelsea": sample_image("chelsea", size=40)},
        {"brick": sample_image("brick", size=32), "stripes": sample_image("stripes_orange", size=32)},
        settings=TransferSettings(size=64, steps=steps), threaded=threaded)


def test_run_button_shows_a_preview_and_curves(fx):
    panel = make_panel(fx)
    panel.size.value = 64
    panel.run_button.click()
    assert panel.result is not None and panel.result.evaluations == 5
    assert Image.open(io.BytesIO(panel.preview.value)).size[0] >= 64
    assert panel.curves.value[:4] == b"\x89PNG"
    assert "random features" in panel.status.value


def test_moving_beta_reruns_from_the_last_result_and_changes_the_preview(fx):
    panel = make_panel(fx)
    panel.run_button.click()
    before, first = panel.preview.value, panel.result
    panel.beta.value = 1e7
    assert panel.result is not first
    assert panel.result.settings.beta == pytest.approx(1e7) and panel.result.settings.warm_start
    assert panel.preview.value != before
    assert panel.timings["first_preview"] > 0


def test_a_lambda_slider_changes_the_weights(fx):
    panel = make_panel(fx)
    panel.lambdas["relu1_1"].value = 1.0
    assert panel.result.settings.style_weights["relu1_1"] == 1.0
    assert "style/relu1_1" in panel.result.history


def test_all_zero_lambdas_give_a_message_not_a_crash(fx):
    panel = make_panel(fx)
    panel.auto.value = False
    for slider in panel.lambdas.values():
        slider.value = 0.0
    panel.run_button.click()
    assert "Cannot run" in panel.status.value and "style weight" in panel.status.value


def test_stop_is_honoured(fx):
    panel = make_panel(fx, threaded=True, steps=500)
    panel.run_button.click()
    panel.stop_button.click()
    panel.job.join(60)
    assert panel.result is not None and panel.result.stopped == "stopped"
    assert panel.result.evaluations < 500


def test_uploads(fx, tmp_path):
    panel = make_panel(fx)
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 120, 30)).save(buf, format="PNG")
    panel.upload_style.value = ({"name": "mine.png", "content": memoryview(buf.getvalue()), "type": "image/png",
                                 "size": len(buf.getvalue()), "last_modified": datetime.now(timezone.utc)},)
    assert panel.style.value == "(uploaded)"
    panel.upload_content.value = ({"name": "broken.png", "content": memoryview(b"not an image"), "type": "image/png",
                                   "size": 12, "last_modified": datetime.now(timezone.utc)},)
    assert "Could not use broken.png" in panel.status.value
    assert panel.content.value == "astronaut"


def test_keep_colours_dropdown_shows_a_choice_and_maps_to_settings(fx):
    panel = make_panel(fx)
    assert panel.preserve_color.label == "no" and panel.settings().preserve_color is None
    panel.preserve_color.value = "luminance"
    assert panel.settings().preserve_color == "luminance"


def test_precision_dropdown_maps_to_settings_and_a_bfloat16_start_still_reports_float32(fx):
    panel = make_panel(fx, steps=10)
    assert panel.precision.value == "float32" and panel.settings().precision == "float32"
    panel.precision.value = "bfloat16"
    assert panel.settings().precision == "bfloat16"
    panel.run_button.click()
    result = panel.result
    assert result.evaluations == 10 and 1 <= result.low_precision <= 5
    assert "in bfloat16, then float32" in panel.status.value and panel.curves.value[:4] == b"\x89PNG"
    with torch.no_grad():
        exact = panel.engine().objective(result.settings, tuple(result.image.shape))(result.image)["total"]
    assert result.best_loss == pytest.approx(float(exact.sum()), rel=1e-5)
