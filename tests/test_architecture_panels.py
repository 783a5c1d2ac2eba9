"""Lesson 08's panels and filter pictures, driven headless."""

import numpy as np
import pytest
import torch

from coursekit.models.filters import filter_tiles, show_filters
from coursekit.widgets.architecture import FeatureMapPanel, SummaryPanel


def test_summary_panel_follows_its_controls():
    panel = SummaryPanel("vgg16", 224)
    assert panel.summary.params == 138_357_544 and "conv5_3" in panel.table.value
    panel.arch.value = "vgg19_bn"
    assert panel.summary.arch == "vgg19_bn" and "bn5_4" in panel.table.value
    panel.size.value = 448
    assert panel.summary.row("pool5").shape == (512, 14, 14)
    panel.all_layers.value = True
    assert "relu1_1" in panel.table.value


def test_summary_panel_explains_a_too_small_input():
    panel = SummaryPanel("alexnet", 224, min_size=16)
    panel.size.value = 32
    assert panel.summary is None and "cannot take a 32-pixel input" in panel.table.value


def test_feature_map_panel_switches_layers():
    g = torch.Generator().manual_seed(0)
    panel = FeatureMapPanel({"conv1_1": torch.rand(1, 16, 8, 8, generator=g),
                             "conv5_1": torch.rand(1, 4, 2, 2, generator=g)}, caption="random weights")
    first = panel.image.value
    assert first[:4] == b"\x89PNG" and panel.first.max == 8
    panel.first.value = 8
    assert panel.image.value != first
    panel.layer.value = "conv5_1"
    assert panel.first.max == 0 and panel.first.value == 0
    with pytest.raises(ValueError, match="empty"):
        FeatureMapPanel({})


def test_filter_tiles_scale_each_filter_and_lay_them_out():
    weight = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    tiles = filter_tiles(weight, ncols=2, pad=1)
    assert tiles.shape == (2, 5, 3)
    assert tiles[:, 2].tolist() == [[1.0, 1.0, 1.0]] * 2  # white gap column
    assert np.isclose(tiles[:, :2].min(), 0.0) and np.isclose(tiles[:, :2].max(), 1.0)
    grey = filter_tiles(torch.randn(5, 1, 3, 3), ncols=4)
    assert grey.shape == (7, 15, 3)
    with pytest.raises(ValueError, match="first-layer"):
        filter_tiles(torch.randn(4, 8, 3, 3))


def test_show_filters_returns_what_it_drew():
    import matplotlib

    matplotlib.use("Agg")
    drawn = show_filters(torch.randn(8, 3, 5, 5), title="random weights (offline)")
    assert drawn.get_array().shape == (5, 47, 3) and drawn.axes.get_title() == "random weights (offline)"

    import matplotlib.pyplot as plt

    plt.close(drawn.axes.figure)  # leave no pyplot figure behind for the tests that count them
