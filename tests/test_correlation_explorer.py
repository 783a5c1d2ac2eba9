"""The channel-pair explorer, driven headless: sliders, buttons, layers, uploads, caching."""

from __future__ import annotations

import io
import re
from datetime import datetime

import numpy as np
import pytest
import torch
from PIL import Image

from coursekit.models import FeatureExtractor, feature_extractor, vgg11
from coursekit.nst.correlations import active_fraction, correlation_matrix, dead_channels, ranked_pairs
from coursekit.nst.costs import gram_matrix
from coursekit.samples import sample_image
from coursekit.widgets.correlation_explorer import (MIN_ACTIVE, CorrelationExplorer, correlation_explorer,
                                                    is_pre_relu)

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
                                      panel.skip_dead, panel.most_button, panel.least_button,
                                      panel.largest_button)}
    assert labels == {"image", "layer", "channel k", "channel k'", "skip dead channels", "most correlated",
                      "least correlated", "largest G"}
    assert panel.skip_dead.value is False


def test_moving_a_slider_redraws_without_a_forward_pass(panel, fx):
    before, calls = panel.image.value, panel.extractor.calls
    panel.channel_k.value = 7
    assert panel.image.value != before
    panel.channel_k2.value = 12
    assert panel.extractor.calls == calls  # activations come from the cache
    assert panel.current["k"] == 7 and panel.current["k2"] == 12
    assert_numbers_match(panel, fx)


def top_pair(a, layer, by, order):
    """What the buttons promise: the top pair among channels on at >= MIN_ACTIVE of the positions
    (any non-constant channel in a pre-ReLU layer)."""
    return ranked_pairs(a, by=by, order=order, n=1, min_active=0.0 if is_pre_relu(layer) else MIN_ACTIVE)[0]


@pytest.mark.parametrize("layer", ["conv1_1", "relu2_1"])
def test_buttons_jump_to_the_ranked_pairs(panel, fx, layer):
    panel.layer.value = layer
    for button, by, order in ((panel.most_button, "correlation", "most"),
                              (panel.least_button, "correlation", "least"),
                              (panel.largest_button, "gram", "most")):
        panel.channel_k.value, panel.channel_k2.value = 1, 2  # somewhere else first
        before = panel.image.value
        button.click()
        a = expected(panel, fx)[0]
        k, k2, value = top_pair(a, layer, by, order)
        assert (panel.channel_k.value, panel.channel_k2.value) == (k, k2)
        assert panel.current["r" if by == "correlation" else "G"] == pytest.approx(value, rel=1e-5, abs=1e-6)
        assert panel.image.value != before
        assert_numbers_match(panel, fx)
        if not is_pre_relu(layer):
            assert (active_fraction(a)[0, [k, k2]] >= MIN_ACTIVE).all()
    assert abs(panel.current["G"]) > 0


def test_changing_the_layer_opens_the_new_layers_pair_or_keeps_the_same_units(panel, fx):
    panel.channel_k.value, panel.channel_k2.value = 60, 3
    panel.layer.value = "relu1_1"  # conv1_1 -> relu1_1: the same 64 channels after the ReLU, so k, k' stay
    assert (panel.current["k"], panel.current["k2"]) == (60, 3)
    assert_numbers_match(panel, fx)
    panel.layer.value = "relu2_1"  # another layer: its own most correlated pair of live channels
    assert panel.channel_k.max == panel.channel_k2.max == 127
    a = expected(panel, fx)[0]
    assert (panel.current["k"], panel.current["k2"]) == top_pair(a, "relu2_1", "correlation", "most")[:2]
    assert panel.current["layer"] == "relu2_1"
    assert_numbers_match(panel, fx)
    panel.channel_k.value = 120
    panel.layer.value = "relu1_1"
    assert panel.channel_k.max == 63
    a = expected(panel, fx)[0]
    assert (panel.current["k"], panel.current["k2"]) == top_pair(a, "relu1_1", "correlation", "most")[:2]
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


# ---------------------------------------------------------------- the lesson's panel, as a learner opens it
LESSON_LAYERS = ["relu2_1", "conv2_1", "relu3_1"]


@pytest.fixture(scope="module")
def vgg19():
    # What lesson 01 builds offline: VGG19 with seeded random weights (seed 0) and average pooling.
    return feature_extractor("vgg19", LESSON_LAYERS, weights=None, pooling="avg")


@pytest.fixture()
def lesson(vgg19):
    """The explorer exactly as lesson 01 creates it: nothing set by the notebook."""
    return correlation_explorer(vgg19, layers=LESSON_LAYERS, size=128)


def activations(panel, layer=None):
    return panel.extractor(panel.images[panel.image_name.value])[layer or panel.layer.value]


def dead_line(panel):
    match = re.search(r"<span class='dead'>(\d+)</span> of (\d+) channels are dead on this image", panel.numbers.value)
    return None if match is None else (int(match.group(1)), int(match.group(2)))


def titles(panel):
    fig = panel.figure
    return fig._suptitle.get_text(), [ax.get_title() for ax in fig.axes]


def test_the_lessons_panel_opens_on_a_live_strongly_correlated_pair(lesson):
    assert (lesson.image_name.value, lesson.layer.value) == ("stripes_orange", "relu2_1")
    a = activations(lesson)
    k, k2 = lesson.channel_k.value, lesson.channel_k2.value
    assert (k, k2) == ranked_pairs(a, by="correlation", n=1, min_active=MIN_ACTIVE)[0][:2]
    assert lesson.current["k"] == k and lesson.current["k2"] == k2 and k != k2
    assert lesson.current["r"] > 0.9  # strongly correlated
    on = active_fraction(a)[0]
    assert on[k] >= MIN_ACTIVE and on[k2] >= MIN_ACTIVE  # both channels live, and on at many positions
    dead = dead_channels(a)[0]
    assert not dead[k] and not dead[k2]
    # The two maps drawn are those channels' maps, and neither is empty.
    suptitle, axes_titles = titles(lesson)
    maps = [lesson.figure.axes[i].images[0].get_array() for i in (1, 2)]
    assert np.allclose(maps[0], a[0, k].numpy()) and np.allclose(maps[1], a[0, k2].numpy())
    assert all(float(np.asarray(m).max()) > 0 for m in maps)
    assert axes_titles[1] == f"channel k = {k}" and axes_titles[2] == f"channel k' = {k2}"
    assert suptitle == "stripes_orange · relu2_1 (random features)"


def test_dead_channels_are_counted_named_and_grey(lesson):
    a = activations(lesson)
    dead = dead_channels(a)[0]
    n_dead = int(dead.sum())
    assert n_dead > 0  # channel 0 of relu2_1 is dead on stripes_orange: what the learner met before
    assert dead_line(lesson) == (n_dead, 128)
    assert "(never &gt; 0): shown as grey rows/columns of G" in lesson.numbers.value
    assert lesson.current["dead"] == dead.nonzero().flatten().tolist()
    # The Gram matrix drawn: G itself, except the dead rows and columns, which are "bad" (grey) values.
    heat = lesson.figure.axes[4].images[0]
    drawn = np.ma.filled(heat.get_array().astype(float), np.nan)
    G = gram_matrix(a)[0].double().numpy()
    rows = dead.numpy()
    assert np.isnan(drawn[rows]).all() and np.isnan(drawn[:, rows]).all()
    assert np.allclose(drawn[~rows][:, ~rows], G[~rows][:, ~rows], rtol=1e-5)
    assert tuple(heat.get_cmap().get_bad()[:3]) == pytest.approx((0.75, 0.75, 0.75))
    assert "grey: dead channels" in titles(lesson)[1][4]


def test_a_dead_channel_is_named_when_the_learner_moves_onto_it(lesson):
    dead = dead_channels(activations(lesson))[0].nonzero().flatten().tolist()
    before = lesson.image.value
    lesson.channel_k.value = dead[0]  # skip dead channels is off: the slider goes there
    assert lesson.current["k"] == dead[0] and lesson.image.value != before
    assert lesson.current["G"] == 0 and lesson.current["r"] == 0
    assert f"Channel k = {dead[0]} is dead: its map is empty" in lesson.numbers.value
    assert titles(lesson)[1][1] == f"channel k = {dead[0]} (dead)"
    assert float(np.asarray(lesson.figure.axes[1].images[0].get_array()).max()) == 0  # an empty map
    lesson.channel_k.value = lesson.channel_k2.value  # a live channel: the line goes
    assert "is dead: its map is empty" not in lesson.numbers.value


def test_skip_dead_channels_keeps_the_sliders_on_live_channels(lesson):
    dead = dead_channels(activations(lesson))[0].tolist()
    first_live = dead.index(False)
    inner = next(i for i in range(1, len(dead) - 1) if dead[i] and not dead[i - 1] and not dead[i + 1])
    lesson.channel_k.value = 0 if dead[0] else inner
    assert dead[lesson.channel_k.value]
    lesson.skip_dead.value = True  # ticking it moves k off the dead channel it sits on
    assert not dead[lesson.channel_k.value] and lesson.current["k"] == lesson.channel_k.value
    assert "is dead: its map is empty" not in lesson.numbers.value
    # Moving onto a dead channel goes on to the next live one, in the direction of the move.
    lesson.channel_k.value = inner - 1
    lesson.channel_k.value = inner
    assert lesson.channel_k.value == inner + 1 and lesson.current["k"] == inner + 1
    lesson.channel_k.value = inner
    assert lesson.channel_k.value == inner - 1
    lesson.channel_k2.value = 60
    lesson.channel_k2.value = 0  # typed into the readout: nothing live below, so the first live one above
    assert lesson.channel_k2.value == first_live
    assert dead_line(lesson) == (sum(dead), 128)  # still counted
    # Unticked, the sliders reach dead channels again.
    lesson.skip_dead.value = False
    lesson.channel_k.value = inner
    assert lesson.current["k"] == inner and "is dead" in lesson.numbers.value


def test_skip_dead_channels_follows_the_image(vgg19):
    panel = correlation_explorer(vgg19, layers=LESSON_LAYERS, size=128, skip_dead=True)
    assert panel.skip_dead.value is True
    for name in ("stripes_only", "orange_only", "astronaut"):
        panel.image_name.value = name
        dead = dead_channels(activations(panel))[0]
        assert not dead[panel.channel_k.value] and not dead[panel.channel_k2.value]
        assert dead_line(panel) == (int(dead.sum()), 128)
        assert panel.current["dead"] == dead.nonzero().flatten().tolist()


def test_the_image_dropdown_keeps_the_pair_and_recounts_the_dead(lesson):
    k, k2 = lesson.channel_k.value, lesson.channel_k2.value
    lesson.image_name.value = "astronaut"  # same channels on another image: the lesson compares them
    assert (lesson.current["k"], lesson.current["k2"]) == (k, k2)
    a = activations(lesson)
    assert lesson.current["G"] == pytest.approx(float(gram_matrix(a)[0, k, k2]), rel=1e-5)
    assert not dead_channels(a).any()  # on the astronaut every channel of relu2_1 is on somewhere
    assert dead_line(lesson) == (0, 128) and "each is &gt; 0 somewhere" in lesson.numbers.value
    assert "grey" not in titles(lesson)[1][4] and lesson.current["dead"] == []
    lesson.image_name.value = "stripes_orange"
    assert dead_line(lesson) == (int(dead_channels(activations(lesson))[0].sum()), 128) != (0, 128)


def test_the_pre_relu_layer_is_labelled_as_the_variant_with_signed_values(lesson):
    k, k2 = lesson.channel_k.value, lesson.channel_k2.value
    never_on = int(dead_channels(activations(lesson))[0].sum())
    lesson.layer.value = "conv2_1"  # the same channels before their ReLU
    assert (lesson.current["k"], lesson.current["k2"]) == (k, k2) and lesson.current["pre_relu"] is True
    a = activations(lesson)
    assert float(a.min()) < 0  # signed values
    assert "pre-ReLU" in lesson.numbers.value and "no channel is dead here" in lesson.numbers.value
    never_on_line = rf"<span class='never-on'>{never_on}</span> of 128 channels are never &gt; 0"
    assert re.search(never_on_line, lesson.numbers.value)
    assert dead_line(lesson) is None and lesson.current["dead"] == []
    suptitle, axes_titles = titles(lesson)
    assert suptitle == "stripes_orange · conv2_1 (pre-ReLU: signed values) (random features)"
    assert "grey" not in axes_titles[4]
    # Negative values are drawn (grey, below white at 0) on a scale symmetric about 0.
    low, high = lesson.figure.axes[1].images[0].get_clim()
    assert low == pytest.approx(-high) and low < 0
    lesson.skip_dead.value = True  # nothing is dead, so nothing is skipped
    lesson.channel_k.value = 0
    assert lesson.current["k"] == 0
    lesson.layer.value = "relu3_1"  # another unit: its own pair, live channels
    a = activations(lesson)
    assert lesson.current["pre_relu"] is False
    assert (lesson.current["k"], lesson.current["k2"]) == ranked_pairs(
        a, by="correlation", n=1, min_active=MIN_ACTIVE)[0][:2]
    assert dead_line(lesson) == (int(dead_channels(a)[0].sum()), 256)
