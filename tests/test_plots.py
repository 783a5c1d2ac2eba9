"""Tests of coursekit.plots, headless (Agg): each helper returns what it drew, and that is checked."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere in this process

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from PIL import Image  # noqa: E402

from coursekit.images import to_numpy_image  # noqa: E402
from coursekit.plots import feature_maps, heatmap, loss_curves, show_image, show_images  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_show_image_draws_the_image_on_a_new_or_given_axes():
    image = torch.rand(1, 3, 6, 8)
    before = image.clone()
    drawn = show_image(image, title="content")
    assert isinstance(drawn, AxesImage)
    assert np.allclose(drawn.get_array(), image[0].permute(1, 2, 0).numpy())
    assert drawn.axes.get_title() == "content"
    assert torch.equal(image, before)
    fig, ax = plt.subplots()
    for source in (image[0], np.zeros((6, 8, 3), np.uint8), Image.new("RGB", (8, 6))):
        drawn = show_image(source, ax=ax)
        assert drawn.axes is ax and drawn.get_array().shape == (6, 8, 3)
    assert len(ax.images) == 3 and len(plt.get_fignums()) == 2


def test_show_images_makes_a_grid_and_hides_unused_cells():
    images = [torch.rand(3, 4, 5) for _ in range(5)]
    axes = show_images(images, titles=list("abcde"), ncols=3)
    assert len(axes) == 5
    assert [ax.get_title() for ax in axes] == list("abcde")
    for ax, image in zip(axes, images):
        assert np.allclose(ax.images[0].get_array(), to_numpy_image(image))
    figure_axes = axes[0].figure.axes
    assert len(figure_axes) == 6 and sum(not ax.get_visible() for ax in figure_axes) == 1


def test_show_images_accepts_a_batch_a_mapping_and_given_axes():
    batch = torch.rand(3, 3, 4, 4)
    assert len(show_images(batch)) == 3
    axes = show_images({"content": batch[0], "style": batch[1]})
    assert [ax.get_title() for ax in axes] == ["content", "style"]
    _, given = plt.subplots(1, 3)
    used = show_images([batch[0]], axes=given)
    assert used[0] is given[0] and not given[2].get_visible()
    with pytest.raises(ValueError, match="titles"):
        show_images([batch[0], batch[1]], titles=["one"])
    with pytest.raises(ValueError, match="ncols"):
        show_images([batch[0]], ncols=0)
    with pytest.raises(ValueError, match="no images"):
        show_images([])
    with pytest.raises(ValueError, match="axes"):
        show_images(list(batch), axes=given[:2])


def test_heatmap_shows_the_matrix_and_marks_a_cell():
    gram = torch.arange(12.0).reshape(3, 4)
    drawn = heatmap(gram, title="Gram", mark=(2, 1), xlabel="k'", ylabel="k")
    assert isinstance(drawn, AxesImage)
    assert np.array_equal(drawn.get_array(), gram.numpy())
    ax = drawn.axes
    marks = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == "mark"]
    assert len(marks) == 1 and marks[0].get_xy() == (0.5, 1.5)  # column 1, row 2, cell centred on integers
    assert marks[0].get_visible() and marks[0].get_linewidth() >= 2
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Gram", "k'", "k")
    assert len(ax.figure.axes) == 2  # the matrix and its colourbar


def test_heatmap_options_and_errors():
    drawn = heatmap(np.eye(3)[None], colorbar=False, cmap="magma")  # a (1, C, C) batch of one
    assert len(drawn.axes.figure.axes) == 1 and drawn.get_cmap().name == "magma"
    assert not drawn.axes.patches
    with pytest.raises(ValueError, match="outside"):
        heatmap(np.eye(3), mark=(3, 0))
    with pytest.raises(ValueError, match="2-D"):
        heatmap(np.zeros((2, 3, 3)))


def test_feature_maps_draws_the_chosen_channels():
    activations = torch.randn(1, 8, 5, 6)
    before = activations.clone()
    axes = feature_maps(activations, [0, 3, 7])
    assert len(axes) == 3
    assert [ax.get_title() for ax in axes] == ["channel 0", "channel 3", "channel 7"]
    for ax, c in zip(axes, (0, 3, 7)):
        assert np.allclose(ax.images[0].get_array(), activations[0, c].numpy())
        assert ax.images[0].get_cmap().name == "gray"
    assert torch.equal(activations, before)
    assert len(feature_maps(activations[0], 5)) == 1
    with pytest.raises(ValueError, match="8 channels"):
        feature_maps(activations, [8])
    with pytest.raises(ValueError, match="shape"):
        feature_maps(torch.zeros(2, 8, 5, 5), [0])


def test_loss_curves_one_line_per_series():
    history = {"style": [10.0, 1.0, 0.1], "content": [5.0, 4.0, 3.0]}
    lines = loss_curves(history, title="losses")
    assert [line.get_label() for line in lines] == ["style", "content"]
    assert np.array_equal(lines[0].get_ydata(), [10.0, 1.0, 0.1])
    ax = lines[0].axes
    assert ax.get_yscale() == "log" and ax.get_title() == "losses"
    assert ax.get_legend() is not None
    assert history == {"style": [10.0, 1.0, 0.1], "content": [5.0, 4.0, 3.0]}
    lines = loss_curves({"D": [torch.tensor(0.5), 0.0], "G": [1.0, -0.2]})
    assert len(lines) == 2 and lines[0].axes.get_yscale() == "linear"  # a log axis cannot show -0.2
    assert loss_curves({"content": [0.0, 1.0, 2.0], "style": [5.0, 0.5, 0.05]})[0].axes.get_yscale() == "log"
    assert loss_curves({"x": [1.0, 2.0]}, logy=False)[0].axes.get_yscale() == "linear"
    with pytest.raises(ValueError, match="dict"):
        loss_curves([1.0, 2.0])


def test_plots_leave_rcparams_alone():
    before = dict(matplotlib.rcParams)
    show_image(torch.rand(3, 4, 4))
    show_images([torch.rand(3, 4, 4)] * 2)
    heatmap(np.eye(2), mark=(0, 1))
    feature_maps(torch.rand(1, 2, 3, 3), [0, 1])
    loss_curves({"a": [1.0]})
    assert dict(matplotlib.rcParams) == before
