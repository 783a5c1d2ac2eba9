"""The style-transfer engine on a tiny random VGG11: costs, caching, warm starts, stop, colour, blends."""

import threading

import pytest
import torch

from coursekit.nst import color, costs
from coursekit.models import FeatureExtractor, layer_names, vgg11
from coursekit.samples import sample_image
from coursekit.nst.transfer import StyleTransfer, TransferSettings, stylize, total_variation

LAYERS = [n for n in layer_names("vgg11") if n.startswith(("conv", "relu"))]
FAST = dict(size=32, steps=6)


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(vgg11(seed=0), LAYERS)


@pytest.fixture()
def engine(fx):
    return StyleTransfer(sample_image("astronaut", size=48), sample_image("stripes_orange", size=40), fx)


def test_run_lowers_the_total_cost_and_records_every_part(engine):
    res = engine.run(**FAST)
    assert res.image.shape == (1, 3, 32, 32) and 0 <= res.image.min() and res.image.max() <= 1
    assert res.best_loss < res.history["total"][0]
    expected = {"total", "content", "style"} | {f"style/{n}" for n in costs.PAPER_STYLE_LAYERS}
    assert set(res.history) == expected
    assert res.settings.size == 32 and res.evaluations <= 6


def test_total_is_alpha_content_plus_beta_weighted_style(engine):
    s = TransferSettings(alpha=2.0, beta=300.0, tv_weight=0.5, **FAST)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    parts = engine.objective(s, (1, 3, 32, 32))(x)
    J_style = sum(s.style_weights[n] * parts[f"style/{n}"] for n in s.style_weights)
    assert torch.allclose(parts["style"], J_style)
    assert torch.allclose(parts["total"], 2.0 * parts["content"] + 300.0 * J_style + 0.5 * total_variation(x))


def test_stylize_alone_gives_what_the_engine_gives(fx):
    content, style = sample_image("astronaut", size=48), sample_image("stripes_orange", size=40)
    s = TransferSettings(beta=1e3, **FAST)
    seen = []
    alone = stylize(fx, content, style, s, callback=lambda i, v, x: seen.append(i))
    engine = StyleTransfer(content, style, fx).run(s)
    assert alone.image.shape == (1, 3, 32, 32) and seen == list(range(1, alone.evaluations + 1))
    assert torch.equal(alone.image, engine.image)
    assert alone.history == engine.history and alone.settings == s


def test_stylize_starts_from_noise_or_the_style_image_when_asked(fx):
    content, style = sample_image("astronaut", size=32), sample_image("brick", size=32)
    starts = {}
    for init in ("noise", "style", "content"):
        first = []
        stylize(fx, content, style, TransferSettings(init=init, size=32, steps=1),
                callback=lambda i, v, x: first.append(x.clone()))
        starts[init] = first[0]
    assert torch.allclose(starts["content"], content, atol=1e-6)
    assert torch.allclose(starts["style"], style, atol=1e-6)
    assert not torch.allclose(starts["noise"], content, atol=0.1)


def test_targets_are_cached_across_runs(engine):
    engine.run(**FAST)
    cached = len(engine._cache)
    engine.run(beta=1e6, alpha=0.1, method="adam", **FAST)
    assert len(engine._cache) == cached  # new alpha/beta/optimiser: no new targets
    engine.run(content_layer="conv3_1", **FAST)
    assert len(engine._cache) == cached + 1  # one new content target


def test_warm_start_continues_from_the_previous_result(engine):
    first = engine.run(**FAST)
    seen = []
    engine.run(warm_start=True, callback=lambda i, v, x: seen.append(v), **FAST)
    assert seen[0] == pytest.approx(first.best_loss, rel=1e-4)


def test_stop_returns_the_best_image(engine):
    stop = threading.Event()

    def callback(i, value, image):
        if i == 2:
            stop.set()

    res = engine.run(callback=callback, stop=stop, size=32, steps=50)
    assert res.stopped == "stopped" and res.evaluations == 2
    assert res.best_loss == min(res.history["total"])


def test_interrupt_returns_the_best_image(engine):
    def callback(i, value, image):
        if i == 3:
            raise KeyboardInterrupt

    res = engine.run(callback=callback, size=32, steps=50, method="adam")
    assert res.stopped == "interrupted" and torch.isfinite(res.image).all()


def test_divergence_returns_the_best_image(engine):
    res = engine.run(method="adam", lr=50.0, beta=1e12, size=32, steps=40)
    assert res.stopped in {"diverged", "budget"}
    assert res.best_loss == min(res.history["total"][: res.evaluations])
    assert torch.isfinite(res.image).all()


def test_learner_cost_functions_are_plugged_in(fx):
    calls = {"content": 0, "layer": 0, "total": 0}

    def content(a_C, a_G):
        calls["content"] += 1
        return costs.content_cost(a_C, a_G)

    def layer(a_S, a_G):
        calls["layer"] += 1
        return costs.layer_style_cost(a_S, a_G)

    def total(jc, js, alpha, beta):
        calls["total"] += 1
        return alpha * jc + beta * js

    c, s = sample_image("astronaut", size=32), sample_image("brick", size=32)
    mine = StyleTransfer(c, s, fx, content_cost_fn=content, layer_style_cost_fn=layer, total_cost_fn=total)
    ref = StyleTransfer(c, s, fx)
    a, b = mine.run(**FAST), ref.run(**FAST)
    assert calls["content"] >= 1 and calls["layer"] >= 5 and calls["total"] >= 1
    assert a.history["total"][0] == pytest.approx(b.history["total"][0], rel=1e-5)


def test_coarse_to_fine_schedule(engine):
    res = engine.run(size=32, steps=4, schedule=(16,))
    assert res.image.shape == (1, 3, 32, 32)
    assert res.evaluations == 8 and len(res.history["total"]) == 8


def test_luminance_only_keeps_the_content_colours(engine):
    res = engine.run(preserve_color="luminance", **FAST)
    content = torch.nn.functional.interpolate(engine.content, size=(32, 32), mode="bicubic", antialias=True)
    iq_res, iq_content = color.rgb_to_yiq(res.image)[:, 1:], color.rgb_to_yiq(content.clamp(0, 1))[:, 1:]
    assert (iq_res - iq_content).abs().mean() < 0.02


def test_blend_of_styles(fx):
    c = sample_image("astronaut", size=32)
    s1, s2 = sample_image("brick", size=32), sample_image("stripes_orange", size=32)
    single = StyleTransfer(c, s1, fx).run(**FAST)
    blended = StyleTransfer(c, [s1, s2], fx).run(style_blend=(1.0, 0.0), **FAST)
    assert blended.history["total"][0] == pytest.approx(single.history["total"][0], rel=1e-5)
    mixed = StyleTransfer(c, [s1, s2], fx).run(style_blend=(0.5, 0.5), **FAST)
    assert mixed.history["total"][0] != pytest.approx(single.history["total"][0], rel=1e-3)


def test_total_variation_formula():
    x = torch.tensor([[[[0.0, 1.0], [3.0, 7.0]]]]).repeat(1, 3, 1, 1)
    # vertical |3-0| + |7-1| = 9, horizontal |1-0| + |7-3| = 5, per channel; 3 channels.
    assert total_variation(x).item() == pytest.approx(3 * 14)


@pytest.mark.parametrize("bad, match", [
    (dict(content_layer="conv9_9"), "content_layer"),
    (dict(style_weights={"conv1_1": 0.0}), "every style weight"),
    (dict(init="zeros"), "init"),
    (dict(preserve_color="sepia"), "preserve_color"),
    (dict(style_blend=(1.0, 2.0)), "style_blend"),
    (dict(beta=-1.0), "beta"),
])
def test_bad_settings_are_named(engine, bad, match):
    with pytest.raises(ValueError, match=match):
        engine.run(**FAST, **bad)


def test_bad_images_are_named(fx):
    with pytest.raises(ValueError, match="content"):
        StyleTransfer(torch.zeros(3, 8, 8), sample_image("brick", size=8), fx)


def test_color_helpers():
    x = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.allclose(color.yiq_to_rgb(color.rgb_to_yiq(x)), x, atol=1e-10)
    c = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 0.5 + 0.25
    s = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 0.3
    m = color.match_color(s, c)
    assert torch.allclose(m.mean(dim=(2, 3)), c.mean(dim=(2, 3)), atol=1e-6)
    lum = color.match_luminance(color.luminance(s), color.luminance(c))
    assert lum.mean().item() == pytest.approx(color.luminance(c).mean().item(), abs=1e-6)
