"""coursekit.gan.game_plots and the decision surface (lesson 06): what each figure draws, on numbers."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from coursekit.gan import make_gan, noise_sampler, toy_data  # noqa: E402
from coursekit.gan.dynamics import Figure1Snapshot, bilinear_game, figure1_densities  # noqa: E402
from coursekit.gan.game_plots import (coverage_figure, figure1_frame, figure1_stepper, orbit_plot,  # noqa: E402
                                      samples_row, saturation_figure)
from coursekit.gan.plots import decision_surface  # noqa: E402


def test_saturation_figure_plots_the_records_and_log_scales():
    rec = {"step": [0, 10], "D(G(z))": [0.01, 0.2], "grad": [0.005, 0.3]}
    fig, axes = plt.subplots(1, 3)
    lines = saturation_figure({("sgd", "minimax"): rec}, axes)
    assert lines == list(axes[1].lines)
    np.testing.assert_allclose(axes[1].lines[0].get_ydata(), [0.005, 0.3])
    np.testing.assert_allclose(axes[2].collections[0].get_offsets(), [[0.01, 0.005], [0.2, 0.3]])
    assert axes[2].get_xscale() == axes[2].get_yscale() == "log" and axes[1].get_ylabel()
    assert axes[0].get_legend().get_texts()[0].get_text() == "minimax, SGD + momentum"
    plt.close(fig)


def test_coverage_figure_and_samples_row():
    fig, axes = plt.subplots(1, 2)
    coverage_figure({"a": {"step": [0, 20], "modes": [0, 8], "high_quality": [0.0, 0.5]}}, axes, n_modes=8)
    np.testing.assert_allclose(axes[0].lines[0].get_ydata(), [0, 8])
    assert "of 8" in axes[0].get_ylabel()
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    samples_row({5: torch.zeros(3, 2), 1: torch.ones(3, 2)}, torch.zeros(4, 2), axes, name="x,")
    assert axes[0].get_title() == "x, iteration 1"  # sorted by iteration
    np.testing.assert_allclose(axes[0].collections[1].get_offsets(), np.ones((3, 2)))
    plt.close(fig)


def test_figure1_frame_draws_the_densities_and_d():
    grid = torch.linspace(-3, 5, 50, dtype=torch.float64)
    snap = Figure1Snapshot(7, 1.8, 0.2, torch.full((50,), 0.5, dtype=torch.float64))
    ax = figure1_frame(grid, snap)
    p_data, p_g = figure1_densities(grid, snap)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), p_g.numpy())
    assert ax.get_ylim()[1] >= float(p_g.max())  # a narrow p_g is not clipped
    assert "iteration 7" in ax.get_title() and ax.get_ylabel()
    plt.close(ax.figure)
    box = figure1_stepper(grid, [snap, Figure1Snapshot(9, 2.0, 0.5, snap.d)])
    slider, image = box.children
    first = bytes(image.value)
    slider.value = 1
    assert bytes(image.value) != first and first.startswith(b"\x89PNG")


def test_orbit_plot_and_decision_surface_colour_bar():
    ax = orbit_plot({"alt": bilinear_game(steps=3, order="alternating")})
    np.testing.assert_allclose(ax.lines[0].get_xydata(), bilinear_game(steps=3, order="alternating").numpy())
    assert ax.get_xlabel() and ax.get_ylabel()
    plt.close(ax.figure)
    D, G = make_gan(2, 2, hidden=8, seed=0)
    g = torch.Generator().manual_seed(0)
    fig, ax = plt.subplots()
    out = decision_surface(D, G, toy_data("ring").sample(20, g), noise_sampler(2)(20, g), ax=ax)
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "D(x)"  # the colour bar
    assert out["surface"].get_clim() == (0, 1) and ax.get_xlabel() == "$x_1$"
    plt.close(fig)
