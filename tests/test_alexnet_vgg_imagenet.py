"""Lesson 08's ImageNet context: the papers' results, VGG's configurations A-E, ImageNet-scale costs
of torchvision's AlexNet and VGG-16 (parameters pinned), AlexNet's 227 pixels, the empirical ERF."""

from fractions import Fraction

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from coursekit.models import cfgs, layer_index, make_layers, vgg_param_count  # noqa: E402
from coursekit.models.arithmetic import conv_output_exact, conv_output_size  # noqa: E402
from coursekit.models.costs import (  # noqa: E402
    activation_values,
    cost_rows,
    cost_table,
    imagenet_summary,
    part_shares,
    plot_part_shares,
    torchvision_skeleton,
)
from coursekit.models.erf import effective_receptive_field, erf_stats, show_erf  # noqa: E402
from coursekit.models.results import ILSVRC_RESULTS, results_table  # noqa: E402
from coursekit.models.vgg_configs import (  # noqa: E402
    PAPER_CONFIGS,
    blocks,
    config_table,
    fan_ins,
    init_gain_table,
    paper_param_count,
    signal_gain,
    weight_layers,
)
from coursekit.plots import feature_maps  # noqa: E402

TORCHVISION_PARAMS = {"vgg16": 138_357_544, "alexnet": 61_100_840}


# --- results ----------------------------------------------------------------------------------------


def test_results_carry_the_papers_figures_and_splits():
    by_top5 = {r.top5: r for r in ILSVRC_RESULTS}
    assert by_top5[15.3].split == "test" and by_top5[15.3].year == 2012 and "AlexNet" in by_top5[15.3].entry
    assert by_top5[26.2].split == "test" and "runner-up" in by_top5[26.2].entry
    assert by_top5[7.3].split == "test" and by_top5[7.3].year == 2014 and "submission" in by_top5[7.3].entry
    assert by_top5[6.8].split == "test" and "post-competition" in by_top5[6.8].entry
    assert all(r.split in ("test", "val") and r.source for r in ILSVRC_RESULTS)
    table = results_table()
    assert "15.3" in table and "26.2" in table and "Simonyan & Zisserman 2015" in table


# --- VGG configurations -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["A", "B", "D", "E"])
def test_paper_configs_match_torchvision_tables(name):
    cfg = PAPER_CONFIGS[name]
    channels = [t if t == "M" else t[0] for t in cfg]
    assert channels == cfgs[name]
    assert paper_param_count(cfg) == vgg_param_count(cfgs[name], classifier=True)


def test_config_c_has_1x1_convolutions_and_the_papers_counts():
    c = PAPER_CONFIGS["C"]
    assert [b[-1] for b in blocks(c)[2:]] == [(256, 1), (512, 1), (512, 1)]
    one_by_one = (256 * 256 + 256) + 2 * (512 * 512 + 512)  # k = 1: (C_in + 1) C_out
    assert paper_param_count(c) == paper_param_count(PAPER_CONFIGS["B"]) + one_by_one == 133_638_952
    assert paper_param_count(PAPER_CONFIGS["A-LRN"]) == paper_param_count(PAPER_CONFIGS["A"])
    # the paper's Table 2, in millions
    assert {n: round(paper_param_count(cfg) / 1e6) for n, cfg in PAPER_CONFIGS.items()} == {
        "A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}
    assert {n: weight_layers(cfg) for n, cfg in PAPER_CONFIGS.items()} == {
        "A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}
    table = config_table()
    assert "1x1:256" in table and "LRN" in table and "9.4" in table


def test_signal_gain_is_the_product_of_he_factors():
    cfg = [(4, 3), "M", (8, 1), "M"]
    assert fan_ins(cfg) == [27, 4, 512 * 7 * 7, 4096, 4096]
    var = 1e-3
    expected = 1.0
    for n in fan_ins(cfg):
        expected *= n * var / 2
    assert signal_gain(cfg, var) == pytest.approx(expected, rel=1e-12)
    assert signal_gain(PAPER_CONFIGS["E"]) == pytest.approx(1.0, rel=1e-12)
    # fixed variances: the deeper net drifts further from 1 (D has 16 layers against A's 11)
    for var in (1e-2, 1e-4):
        assert abs(torch.log10(torch.tensor(signal_gain(PAPER_CONFIGS["D"], var)))) > abs(
            torch.log10(torch.tensor(signal_gain(PAPER_CONFIGS["A"], var))))
    assert "1.9e+11" in init_gain_table() and "1.00" in init_gain_table()


# --- ImageNet-scale costs of torchvision's networks ---------------------------------------------------


@pytest.mark.parametrize("arch", ["vgg16", "alexnet"])
def test_parameter_counts_are_torchvisions(arch):
    tv = torchvision_skeleton(arch)
    assert sum(p.numel() for p in tv.parameters()) == TORCHVISION_PARAMS[arch]
    summary = imagenet_summary(arch)
    assert summary.params == TORCHVISION_PARAMS[arch]
    assert sum(r.params for r in cost_rows(summary)) == TORCHVISION_PARAMS[arch]


def test_vgg16_activation_values_sum_to_15_2_million_not_24():
    summary = imagenet_summary("vgg16")
    # CS231n's rows by hand: input, 13 conv outputs, 5 pools, 3 fc outputs
    convs = 2 * 64 * 224**2 + 2 * 128 * 112**2 + 3 * 256 * 56**2 + 3 * 512 * 28**2 + 3 * 512 * 14**2
    pools = 64 * 112**2 + 128 * 56**2 + 256 * 28**2 + 512 * 14**2 + 512 * 7**2
    by_hand = 3 * 224**2 + convs + pools + 4096 + 4096 + 1000
    assert activation_values(summary) == by_hand == 15_237_608
    assert activation_values(summary) < 24e6
    names = [r.name for r in cost_rows(summary)]
    assert names[0] == "input" and "avgpool" not in names and names[-3:] == ["fc6", "fc7", "fc8"]
    assert summary.macs == 15_470_264_320
    assert "15,237,608" in cost_table(summary) and "61 MB" in cost_table(summary)


def test_conv_and_fc_shares():
    vgg, alex = imagenet_summary("vgg16"), imagenet_summary("alexnet")
    assert part_shares(vgg)["parameters"] == pytest.approx(14_714_688 / 138_357_544)
    fc_macs = 25088 * 4096 + 4096 * 4096 + 4096 * 1000  # a * b per Linear(a, b)
    assert part_shares(vgg)["multiply-adds"] == pytest.approx(1 - fc_macs / 15_470_264_320)
    assert part_shares(alex)["parameters"] == pytest.approx(2_469_696 / 61_100_840)
    ax = plot_part_shares([alex, vgg])
    assert len(ax.patches) == 8 and ax.get_xlabel()
    plt.close(ax.figure)


def test_cost_rows_follow_a_real_shape_trace():
    tv = torchvision_skeleton("alexnet").to_empty(device="cpu").eval()
    shapes = []
    x = torch.zeros(1, 3, 224, 224)
    with torch.no_grad():
        for m in tv.features:
            x = m(x)
            if isinstance(m, (nn.Conv2d, nn.MaxPool2d)):
                shapes.append(tuple(x.shape[1:]))
    rows = [r for r in cost_rows(imagenet_summary("alexnet")) if r.name.startswith(("conv", "pool"))]
    assert [r.shape for r in rows] == shapes


# --- AlexNet's 224 against 227 -------------------------------------------------------------------------


def test_alexnet_input_arithmetic():
    assert conv_output_exact(227, 11, 4) == 55
    assert conv_output_exact(224, 11, 4) == Fraction(217, 4)  # 54.25: no whole number of windows
    assert conv_output_exact(224, 11, 4, 2) == Fraction(221, 4)
    assert conv_output_size(224, 11, 4, 2) == 55 == int(conv_output_exact(224, 11, 4, 2))


# --- effective receptive field -------------------------------------------------------------------------


def ones_stack(n: int) -> nn.Sequential:
    layers = []
    for i in range(n):
        conv = nn.Conv2d(3 if i == 0 else 1, 1, 3, padding=1, bias=False)
        nn.init.ones_(conv.weight)
        layers.append(conv)
    return nn.Sequential(*layers)


def test_erf_of_two_ones_convs_is_the_path_count():
    erf = effective_receptive_field(ones_stack(2), 1, 9, n_images=2)
    profile = torch.tensor([1.0, 2, 3, 2, 1], dtype=torch.float64)
    expected = torch.zeros(9, 9, dtype=torch.float64)
    expected[2:7, 2:7] = torch.outer(profile, profile) / 81
    assert torch.allclose(erf, expected)
    assert erf_stats(erf, 0.9).support == 5 and erf_stats(erf, 0.9).side == 5
    assert erf_stats(erf, 0.5).side == 3  # the centre 3x3 holds 49/81 = 0.60
    assert erf_stats(erf).centre == (4.0, 4.0)


def test_erf_support_is_the_theoretical_field_and_features_are_untouched():
    features = make_layers([8, 8, "M", 8])
    before = {k: v.clone() for k, v in features.state_dict().items()}
    erf = effective_receptive_field(features, 5, 24, n_images=2)  # conv2_1: r = 3 + 2 + 1 + 2 * 2 = 10
    stats = erf_stats(erf)
    assert stats.support == 10 and erf_stats(erf, 0.5).side < 10
    assert abs(erf.sum().item() - 1) < 1e-12 and erf.dtype == torch.float64
    assert all(torch.equal(v, features.state_dict()[k]) for k, v in before.items())
    assert next(features.parameters()).dtype == torch.float32 and next(features.parameters()).requires_grad
    with pytest.raises(ValueError, match="upto"):
        effective_receptive_field(features, 9, 24)
    assert layer_index("vgg16", "conv3_3") == 14
    drawn = show_erf(erf, 10)
    assert len(drawn.axes.patches) == 2 and drawn.axes.get_xlabel()
    plt.close(drawn.axes.figure)


def test_feature_maps_share_one_colour_scale_when_asked():
    axes = feature_maps(torch.rand(1, 4, 5, 5), [0, 1], vmin=-1.0, vmax=2.0)
    assert [ax.images[0].get_clim() for ax in axes] == [(-1.0, 2.0)] * 2
    plt.close(axes[0].figure)
