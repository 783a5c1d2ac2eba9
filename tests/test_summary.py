"""coursekit.models.summary and .arithmetic against torchvision's models and hand computations.

Offline: torchvision models are built with ``weights=None`` on the meta device (parameter counts)
or materialised with uninitialised memory (only output shapes are read from hooks).
"""

import pytest
import torch
import torchvision
from torch import nn

from coursekit.models import cfgs, get_model, skeleton
from coursekit.models.arithmetic import (
    Field,
    conv_output_size,
    conv_params,
    receptive_field,
    receptive_fields,
    vgg_param_count,
)
from coursekit.models.summary import format_count, summarize

ARCHS = ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]


def tv_meta(arch: str) -> nn.Module:
    with torch.device("meta"):
        return getattr(torchvision.models, arch)(weights=None)


def tv_real(arch: str) -> nn.Module:
    """torchvision's model with real (uninitialised) CPU memory: fine for shapes, instant to build."""
    return tv_meta(arch).to_empty(device="cpu").eval()


def hooked_run(model: nn.Module, x: torch.Tensor) -> list[tuple[nn.Module, tuple[int, ...], tuple[int, ...]]]:
    """(module, input shape, output shape without the batch) of every leaf module, in execution order."""
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append((m, tuple(i[0].shape[1:]), tuple(o.shape[1:]))))
             for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return seen


def independent_macs(module: nn.Module, out_shape: tuple[int, ...]) -> int:
    if isinstance(module, nn.Conv2d):
        c_out, h, w = out_shape
        k = module.kernel_size[0] * module.kernel_size[1]
        return c_out * h * w * module.in_channels * k // module.groups
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    return 0


# --- arithmetic ---------------------------------------------------------------------------------


def test_conv_output_size_by_hand():
    assert conv_output_size(224, 11, 4, 2) == 55  # AlexNet conv1: floor(217 / 4) + 1
    assert conv_output_size(55, 3, 2) == 27  # overlapping pool
    assert conv_output_size(224, 3, 1, 1) == 224  # VGG's "same" 3x3 conv
    assert conv_output_size(224, 2, 2) == 112
    assert conv_output_size(7, 3, 2) == 3 and conv_output_size(3, 3) == 1
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_size(2, 5)
    with pytest.raises(ValueError, match="stride"):
        conv_output_size(8, 3, 0)


def test_conv_params_by_hand():
    assert conv_params(3, 64, 3) == 3 * 64 * 9 + 64 == 1792
    assert conv_params(3, 64, 3, bias=False) == 1728
    assert conv_params(64, 64, 3, groups=2) == 64 * 32 * 9 + 64


@pytest.mark.parametrize("arch, column", [("vgg11", "A"), ("vgg13", "B"), ("vgg16", "D"), ("vgg19", "E")])
def test_vgg_param_count_equals_torchvision(arch, column):
    model = tv_meta(arch)
    assert vgg_param_count(cfgs[column]) == sum(p.numel() for p in model.features.parameters())
    assert vgg_param_count(cfgs[column], classifier=True) == sum(p.numel() for p in model.parameters())
    small = getattr(torchvision.models, arch)  # other in_channels / num_classes: build on meta as well
    with torch.device("meta"):
        ten = small(weights=None, num_classes=10)
    assert vgg_param_count(cfgs[column], classifier=True, num_classes=10) == sum(p.numel() for p in ten.parameters())
    assert vgg_param_count([64, "M", 128], in_channels=1) == (9 * 1 + 1) * 64 + (9 * 64 + 1) * 128


def test_receptive_field_recursion_by_hand():
    assert receptive_field([]) == 1
    assert receptive_field([(3, 1), (3, 1)]) == 5  # two 3x3 see 5x5
    assert receptive_field([(3, 1)] * 3) == 7  # three see 7x7
    assert receptive_field([(3, 1), (3, 1), (2, 2), (3, 1)]) == 10  # VGG conv2_1
    assert receptive_field([(11, 4), (3, 2), (5, 1)]) == 51  # AlexNet conv2
    fields = receptive_fields([(11, 4, 2), (3, 2)])
    assert fields == [Field(11, 4, 3.0), Field(19, 8, 7.0)]


def test_format_count():
    assert [format_count(n) for n in (999, 1234, 86_704_128, 15_470_264_320)] == ["999", "1.2K", "86.7M", "15.47G"]


# --- summary against torchvision -----------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHS)
def test_parameters_equal_torchvision_per_layer_and_in_total(arch):
    model, summary = tv_meta(arch), summarize(arch)
    assert summary.params == sum(p.numel() for p in model.parameters())
    assert summary.conv_params == sum(p.numel() for p in model.features.parameters())
    assert summary.fc_params == sum(p.numel() for p in model.classifier.parameters())
    with_params = [m for m in model.modules() if not list(m.children()) and list(m.parameters())]
    rows = [r for r in summary if r.params]
    assert [r.params for r in rows] == [sum(p.numel() for p in m.parameters()) for m in with_params]


@pytest.mark.parametrize("arch, size", [("alexnet", 224), ("vgg16", 224), *[(a, 64) for a in ARCHS],
                                        ("alexnet", (96, 128)), ("vgg13", 40)])
def test_shapes_and_macs_equal_a_hooked_torchvision_run(arch, size):
    h, w = (size, size) if isinstance(size, int) else size
    seen = hooked_run(tv_real(arch), torch.zeros(1, 3, h, w))
    summary = summarize(arch, size, all_layers=True)
    assert [r.shape for r in summary] == [out for _, _, out in seen]
    assert [r.macs for r in summary] == [independent_macs(m, out) for m, _, out in seen]
    assert summary.input_shape == (3, h, w)


@pytest.mark.parametrize("arch", ["alexnet", "vgg16", "vgg19_bn"])
def test_total_macs_equal_torchvision_documented_ops(arch):
    documented = torchvision.models.get_model_weights(arch).IMAGENET1K_V1.meta["_ops"]  # "GFLOPS", really GMACs
    assert round(summarize(arch).macs / 1e9, 3) == documented


def test_summary_of_a_model_equals_summary_of_its_name():
    assert summarize(tv_meta("vgg11_bn")).rows == summarize("vgg11_bn").rows
    assert summarize(get_model("alexnet")).rows == summarize("alexnet").rows


def test_names_follow_the_layer_table():
    names = [r.name for r in summarize("vgg16")]
    assert names[:5] == ["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2"]
    assert names[-4:] == ["avgpool", "fc6", "fc7", "fc8"]
    assert [r.name for r in summarize("vgg11_bn")][:3] == ["conv1_1", "bn1_1", "pool1"]
    every = [r.name for r in summarize("alexnet", all_layers=True)]
    assert every[:4] == ["conv1", "relu1", "pool1", "conv2"] and "dropout6" in every and "relu7" in every


def test_receptive_fields_by_hand():
    vgg = summarize("vgg16")
    assert [vgg.row(n).field.r for n in ("conv1_1", "conv1_2", "pool1", "conv2_1")] == [3, 5, 6, 10]
    assert (vgg.row("pool5").field.r, vgg.row("pool5").field.jump) == (212, 32)
    alex = summarize("alexnet")
    assert (alex.row("conv1").field.r, alex.row("conv1").field.jump, alex.row("conv1").field.start) == (11, 4, 3.0)
    assert alex.row("pool5").field.r == 195
    assert vgg.row("fc6").field is None


def _support(grad: torch.Tensor) -> tuple[int, int, int, int]:
    rows = grad.abs().sum(dim=(0, 1, 3)).nonzero().flatten()
    cols = grad.abs().sum(dim=(0, 1, 2)).nonzero().flatten()
    return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


@pytest.mark.parametrize("arch, layer, size, unit", [("vgg16", "conv3_1", 48, 5), ("vgg16", "pool2", 40, 4),
                                                     ("alexnet", "conv3", 128, 3), ("alexnet", "pool1", 64, 3)])
def test_receptive_field_equals_the_support_of_an_input_gradient(arch, layer, size, unit):
    """Positive weights and biases keep every ReLU open; average pools spread the gradient over
    their whole window (a max pool would pick one pixel). The input pixels with a nonzero gradient
    of one interior unit are then exactly its receptive field, centred at start + unit * jump."""
    from coursekit.models import layer_index

    model = skeleton(arch).to_empty(device="cpu").double()
    features = model.features[: layer_index(arch, layer) + 1]
    for i, m in enumerate(features):
        if isinstance(m, nn.Conv2d):
            nn.init.constant_(m.weight, 1.0 / m.weight[0].numel())
            nn.init.constant_(m.bias, 0.1)
        elif isinstance(m, nn.MaxPool2d):
            features[i] = nn.AvgPool2d(m.kernel_size, m.stride, m.padding)
    x = torch.ones(1, 3, size, size, dtype=torch.float64, requires_grad=True)
    out = features(x)
    assert unit < out.shape[-1] - 1
    out[0, 0, unit, unit].backward()
    field = summarize(arch, size).row(layer).field
    centre = field.start + unit * field.jump
    low, high = int(centre - (field.r - 1) / 2), int(centre + (field.r - 1) / 2)
    assert 0 <= low and high < size  # the field lies inside the image: no clipping
    assert _support(x.grad) == (low, high, low, high)


def test_adaptive_pool_and_bad_input():
    small = summarize("vgg11", 64)  # 2x2 after pool5, replicated to 7x7: uneven bins have no field
    assert small.row("pool5").shape == (512, 2, 2) and small.row("avgpool").field is None
    big = summarize("vgg11", 448)  # 14x14 -> 7x7: a 2x2 average, its field grows
    assert big.row("avgpool").field.r == big.row("pool5").field.r + 32
    with pytest.raises(ValueError, match="does not fit"):
        summarize("alexnet", 32)
    with pytest.raises(ValueError, match="no row"):
        small.row("conv9_9")


def test_table_lists_every_row_and_the_totals():
    summary = summarize("alexnet")
    text = str(summary)
    assert "61,100,840 parameters" in text and "714.2M multiply-adds" in text
    assert all(r.name in text for r in summary)
    assert text.count("\n") == len(summary.rows) + 4
