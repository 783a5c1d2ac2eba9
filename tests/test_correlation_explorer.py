"""The channel-pair explorer, driven headless: sliders, buttons, layers, uploads, caching."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
import torch
from PIL import Image

from coursekit.nst.correlations import correlation_matrix, ranked_pairs
from coursekit.models import FeatureExtractor, vgg11
from coursekit.samples import sample_image
from coursekit.nst.costs import gram_matrix
from coursekit.widgets.correlation_explorer import CorrelationExplorer, correlation_explorer

LAYERS = ["conv1_1", "relu1_1", "relu2_1"]


class CountingExtractor:
    """Wraps a FeatureExtractor and counts forward passes (to test the cache)."""

    def __init__(self, fx):
        self.fx, self.calls = fx, 0
        self.layers, self.pretrained = fx.layers, fx.pretrained

    def __call__(self, x, layers=None):
        self.calls += 1
        return self.fx(x, layers)


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(vgg11(seed=0), LAYERS, pooling="avg")


@pytest.fixture()
def images():
    return {name: sample_image(name, 32) for name in ("stripes_orange", "chelsea")}


@pytest.fixture()
def panel(fx, images):
    return correlation_explorer(CountingExtractor(fx), images, size=32)


def shown(panel):
    """(G, r) as printed in the panel's numbers."""
    g = re.search(r"class='gram'>([^<]+)<", panel.numbers.value).group(1)
    r = re.search(r"class='corr'>([^<]+)<", panel.numbers.value).group(1)
    return float(g), float(r)


def expected(panel, fx):
    x = panel.images[panel.image_name.value]
    a = fx(x)[panel.layer.value]
    k, k2 = panel.channel_k.value, panel.channel_k2.value
    return a, float(gram_matrix(a)[0, k, k2]), float(correlation_matrix(a)[0, k, k2])


def assert_numbers_match(panel, fx):
    _, g, r = expected(panel, fx)
    g_shown, r_shown = shown(panel)
    assert g_shown == pytest.approx(g, rel=1e-5, abs=1e-6)
    assert r_shown == pytest.approx(r, abs=6e-5)
    assert panel.current["G"] == pytest.approx(g, rel=1e-6, abs=1e-6)
    assert panel.current["r"] == pytest.approx(r, abs=1e-6)


def test_the_panel_renders_a_png_and_shows_g_and_r(panel, fx):
    assert isinstance(panel, CorrelationExplorer)
    assert panel.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(panel.layer.options) == LAYERS and panel.channel_k.max == 63
    assert_numbers_match(panel, fx)
    labels = {w.description for w in (panel.image_name, panel.layer, panel.channel_k, panel.channel_k2,
                                      panel.most_button, panel.least_button, panel.largest_button)}
    assert labels == {"image", "layer", "channel k", "channel k'", "most correlated", "least correlated",
                      "largest G"}


def test_moving_a_slider_redraws_without_a_forward_pass(panel, fx):
    before, calls = panel.image.value, panel.extractor.calls
    panel.channel_k.value = 7
    assert panel.image.value != before
    panel.channel_k2.value = 12
    assert panel.extractor.calls == calls  # activations come from the cache
    assert panel.current["k"] == 7 and panel.current["k2"] == 12
    assert_numbers_match(panel, fx)


def test_buttons_jump_to_the_ranked_pairs(panel, fx):
    for button, by, order in ((panel.most_button, "correlation", "most"),
                              (panel.least_button, "correlation", "least"),
                              (panel.largest_button, "gram", "most")):
        before = panel.image.value
        button.click()
        a = expected(panel, fx)[0]
        k, k2, value = ranked_pairs(a, by=by, order=order, n=1)[0]
        assert (panel.channel_k.value, panel.channel_k2.value) == (k, k2)
        assert panel.current["r" if by == "correlation" else "G"] == pytest.approx(value, rel=1e-5, abs=1e-6)
        assert panel.image.value != before
        assert_numbers_match(panel, fx)
    assert abs(panel.current["G"]) > 0


def test_changing_the_layer_updates_the_sliders_and_numbers(panel, fx):
    panel.channel_k.value, panel.channel_k2.value = 60, 3
    panel.layer.value = "relu2_1"
    assert panel.channel_k.max == panel.channel_k2.max == 127
    assert panel.current["layer"] == "relu2_1"
    assert_numbers_match(panel, fx)
    panel.channel_k.value = 120
    panel.layer.value = "relu1_1"
    assert panel.channel_k.max == 63 and panel.channel_k.value == 63
    assert_numbers_match(panel, fx)


def test_the_image_dropdown_and_the_cache(panel, fx):
    calls = panel.extractor.calls
    panel.image_name.value = "chelsea"
    assert panel.extractor.calls == calls + 1
    assert_numbers_match(panel, fx)
    panel.image_name.value = "stripes_orange"
    panel.image_name.value = "chelsea"
    assert panel.extractor.calls == calls + 1  # both images cached for this layer


def upload(panel, name, content):
    panel.upload.value = ({"name": name, "type": "image/png", "size": len(content),
                           "content": memoryview(content), "last_modified": datetime(2024, 1, 1)},)


def test_a_bad_upload_shows_the_message_not_a_traceback(panel):
    before = (list(panel.image_name.options), panel.image.value)
    upload(panel, "notes.png", b"this is not an image")
    assert "could not use upload: notes.png" in panel.message.value
    assert "not in an image format" in panel.message.value
    assert (list(panel.image_name.options), panel.image.value) == before
    assert panel.upload.value == ()  # cleared, so the learner can pick a file again


def test_a_good_upload_is_resized_and_selected(panel, fx):
    buf = io.BytesIO()
    Image.new("RGB", (80, 40), (250, 140, 20)).save(buf, format="PNG")
    upload(panel, "orange.png", buf.getvalue())
    assert panel.message.value == ""
    assert panel.image_name.value == "upload: orange.png"
    assert panel.images["upload: orange.png"].shape == (1, 3, 16, 32)
    assert_numbers_match(panel, fx)


def test_default_images_and_bad_layers(fx):
    with pytest.raises(ValueError, match="not read by this extractor"):
        correlation_explorer(fx, {"cat": sample_image("chelsea", 32)}, layers=["conv5_1"])
    with pytest.raises(ValueError, match="images is empty"):
        correlation_explorer(fx, {})
    panel = correlation_explorer(fx, layers=["relu1_1"], size=32)
    assert "stripes_orange" in panel.image_name.options and "(random features)" not in panel.numbers.value
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert torch.equal(panel.images["astronaut"], sample_image("astronaut", 32))
