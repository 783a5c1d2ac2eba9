"""coursekit.nst.reconstruction: pixel error, remaining content cost, and the reconstruction figures."""

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere in this process

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from coursekit.nst import costs  # noqa: E402
from coursekit.nst.reconstruction import (FIG1_LAYERS, draw_progress, pixel_error, plot_reconstructions,  # noqa: E402
                                          reconstruct, remaining_costs)
from coursekit.models import FeatureExtractor, vgg11  # noqa: E402
from coursekit.nst.optimize import OptimResult, noise_like  # noqa: E402
from coursekit.samples import sample_image  # noqa: E402
from coursekit.widgets.render import new_figure  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(vgg11(seed=0), ["conv1_1", "conv2_1"], pooling="avg")


def test_fig1_layers_are_the_papers():
    assert FIG1_LAYERS == ("relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2")


def test_pixel_error_is_the_mean_absolute_difference():
    a = torch.zeros(1, 3, 2, 2)
    b = a.clone()
    b[0, 0, 0, 0] = 0.6  # one of 12 values differs by 0.6
    assert pixel_error(b, a) == pytest.approx(0.05)
    assert pixel_error(a, a) == 0.0
    with pytest.raises(ValueError, match="same size"):
        pixel_error(a, torch.zeros(1, 3, 2, 3))


def test_pixel_error_over_blocks_sees_the_layout_not_the_pixel_noise():
    g = torch.Generator().manual_seed(0)
    left_light = torch.zeros(1, 3, 8, 8)
    left_light[..., :4] = 1.0
    # +-0.3 in a checkerboard: large per pixel, 0 on average over every 2 x 2 square
    checker = (torch.arange(8).view(8, 1) + torch.arange(8).view(1, 8)) % 2 * 0.6 - 0.3
    noisy = left_light.clamp(0.3, 0.7) + checker
    assert pixel_error(noisy, left_light.clamp(0.3, 0.7)) == pytest.approx(0.3)
    assert pixel_error(noisy, left_light.clamp(0.3, 0.7), block=2) == pytest.approx(0.0, abs=1e-6)
    # a layout that differs is still seen over blocks: left and right swapped
    swapped = left_light.flip(-1)
    assert pixel_error(swapped, left_light, block=4) == pytest.approx(1.0)
    # sizes that the block does not divide are allowed (the last squares are partial)
    x, y = torch.rand(1, 3, 10, 7, generator=g), torch.rand(1, 3, 10, 7, generator=g)
    assert 0 < pixel_error(x, y, block=4) < pixel_error(x, y)
    with pytest.raises(ValueError, match="block"):
        pixel_error(x, y, block=0)


def test_remaining_costs_are_0_for_the_image_and_1_for_the_start_noise(fx):
    c = sample_image("astronaut", size=24)
    r = remaining_costs(fx, c, {"same": c, "noise": noise_like(c, seed=3)}, ["conv1_1", "conv2_1"], seed=3)
    assert r.shape == (2, 2)
    assert np.allclose(r[0], 0.0) and np.allclose(r[1], 1.0)
    # Any cost works as long as it is the same in numerator and denominator: the lecture's gives the same ratios.
    other = noise_like(c, seed=5)
    paper = remaining_costs(fx, c, {"x": other}, ["conv2_1"], seed=3)
    lecture = remaining_costs(fx, c, {"x": other}, ["conv2_1"], seed=3,
                              cost=lambda a, b: costs.content_cost(a, b, convention="lecture"))
    assert paper[0, 0] == pytest.approx(lecture[0, 0], rel=1e-6)
    with pytest.raises(ValueError, match="must match"):
        remaining_costs(fx, c, {"small": sample_image("astronaut", size=16)}, ["conv1_1"])


def test_remaining_cost_of_a_reconstruction_equals_its_loss_ratio(fx):
    c = sample_image("astronaut", size=24)
    res = reconstruct(fx, c, "conv2_1", steps=10)
    r = remaining_costs(fx, c, {"conv2_1": res.image}, ["conv2_1"])
    # The best image is stored clamped to [0, 1]; L-BFGS-B keeps the iterate in bounds, so they agree.
    assert r[0, 0] == pytest.approx(res.best_loss / res.history["total"][0], rel=1e-4)
    assert r[0, 0] < 1.0


def test_plot_reconstructions_draws_every_image_and_curve():
    original = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    results = {
        name: OptimResult(original * f, 1.0, 3, {"total": [4.0, 2.0, 3.0]})
        for name, f in (("conv1_2", 1.0), ("conv5_2", 0.5))
    }
    axes = plot_reconstructions(original, results, suffix=" (random features)")
    assert list(axes) == ["original", "conv1_2", "conv5_2", "loss"]
    assert axes["conv1_2"].get_title() == "conv1_2\nerror 0.000"
    assert np.allclose(axes["conv5_2"].images[0].get_array(), (original * 0.5)[0].permute(1, 2, 0).numpy())
    lines = axes["loss"].get_lines()
    assert [line.get_label() for line in lines] == ["conv1_2", "conv5_2"]
    assert np.allclose(lines[0].get_ydata(), [1.0, 0.5, 0.5])  # best so far, relative to the start
    assert "(random features)" in axes["loss"].figure._suptitle.get_text()
    with pytest.raises(ValueError, match="empty"):
        plot_reconstructions(original, {})


def test_draw_progress_with_and_without_an_image():
    fig = new_figure()
    original = torch.rand(1, 3, 8, 8)
    ax_o, ax_r, ax_l = draw_progress(fig, original, None, [], title="conv4_2")
    assert len(ax_o.images) == 1 and len(ax_r.images) == 0 and ax_r.get_title() == "conv4_2"
    ax_o, ax_r, ax_l = draw_progress(fig, original, original, [3.0, 1.0, 2.0])
    assert len(fig.axes) == 3 and len(ax_r.images) == 1
    assert np.allclose(ax_l.get_lines()[0].get_ydata(), [3.0, 1.0, 1.0])
    assert ax_l.get_yscale() == "log"
