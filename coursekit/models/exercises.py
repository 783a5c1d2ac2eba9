"""Public checks of lesson 08's exercises: ``make_vgg_features``, ``conv_output_size``,
``vgg_param_count``, ``receptive_field`` and the question ``stacked_3x3_saving``.

Listed in ``coursekit.grading.EXERCISE_MODULES``. The arithmetic references live in
:mod:`coursekit.models.arithmetic`; the builder's reference is :func:`coursekit.models.vgg.make_layers`
with its first convolution reading ``in_channels``. Cases are the layers of AlexNet and VGG and
small made-up networks, and each mistake is one learners make (padding on one side only, forgetting
the bias, using the stride where the jump belongs, a pool of stride 1, ...).

``make_vgg_features`` is graded through a driver that turns the learner's ``nn.Sequential`` into
plain data: the layer sequence as strings (type and hyper-parameters), every parameter's name and
shape, and the output on a seeded input after the driver re-draws every parameter from a seeded
generator (so the learner's initialisation does not matter).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..exercise import Case, Exercise, Mistake, Property
from .arithmetic import conv_output_size, receptive_field, vgg_param_count
from .vgg import cfgs, make_layers

__all__ = ["EXERCISES", "make_vgg_features", "stacked_3x3_saving"]

LESSON = "08_alexnet_vgg"


def _args(*args, **kwargs):
    return lambda: (args, kwargs)


# ---- make_vgg_features -------------------------------------------------------------------------
def make_vgg_features(cfg: list[int | str], in_channels: int = 3, batch_norm: bool = False) -> nn.Sequential:
    """VGG's ``features`` for ``cfg``: :func:`~coursekit.models.vgg.make_layers` (which reads 3
    channels), with its first convolution reading ``in_channels`` channels instead."""
    features = make_layers(list(cfg), batch_norm=batch_norm)
    for i, layer in enumerate(features):
        if isinstance(layer, nn.Conv2d):
            features[i] = nn.Conv2d(in_channels, layer.out_channels, kernel_size=3, padding=1)
            break
    return features


def _one(value) -> int | tuple:
    """A square kernel, stride or padding as one int (3, not (3, 3))."""
    if isinstance(value, tuple) and len(set(value)) == 1:
        return value[0]
    return value


def _describe(layer: nn.Module) -> str:
    if isinstance(layer, nn.Conv2d):
        bias = "" if layer.bias is not None else ", no bias"
        return (f"Conv2d({layer.in_channels} -> {layer.out_channels}, kernel {_one(layer.kernel_size)}, "
                f"stride {_one(layer.stride)}, padding {_one(layer.padding)}{bias})")
    if isinstance(layer, nn.MaxPool2d):
        return (f"MaxPool2d(kernel {_one(layer.kernel_size)}, stride {_one(layer.stride)}, "
                f"padding {_one(layer.padding)})")
    if isinstance(layer, nn.BatchNorm2d):
        return f"BatchNorm2d({layer.num_features})"
    return type(layer).__name__


def _reseed_(module: nn.Module, generator: torch.Generator) -> None:
    """Every parameter drawn again from ``generator``, in order: He-scaled weights, BatchNorm's
    gamma near 1, small biases and betas."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float64)
            if p.dim() > 1:
                p.copy_(noise * math.sqrt(2.0 / p[0].numel()))
            elif name.endswith("weight"):
                p.copy_(1 + 0.1 * noise)
            else:
                p.copy_(0.1 * noise)


def _features_driver(fn, cfg, in_channels=3, batch_norm=False, *, view="layers", size=16, seed=0):
    """The learner's builder turned into plain data: ``view`` is "layers" (one string per layer),
    "parameters" (one "name shape" string per parameter) or "output" (the features of a seeded
    (2, in_channels, size, size) float64 batch, every parameter re-drawn from a seeded generator)."""
    features = fn(list(cfg), in_channels=in_channels, batch_norm=batch_norm)
    if not isinstance(features, nn.Module):
        raise TypeError(f"make_vgg_features returned {type(features).__name__}; return an nn.Sequential of the layers")
    if view == "layers":
        return tuple(_describe(layer) for layer in features.children())
    if view == "parameters":
        return tuple(f"{name} {tuple(p.shape)}" for name, p in features.named_parameters())
    generator = torch.Generator().manual_seed(seed)
    features = features.to(torch.float64).train()  # BatchNorm normalises with the batch's statistics
    _reseed_(features, generator)
    x = torch.randn((2, in_channels, size, size), generator=generator, dtype=torch.float64)
    with torch.no_grad():
        return features(x)


def _same_sequence(what: str, hidden: bool = False):
    """Compare tuples of strings; a public failure names the first layer (or parameter) that differs."""

    def compare(got, expected) -> tuple[bool, str]:
        if not isinstance(got, (tuple, list)) or not all(isinstance(g, str) for g in got):
            return False, f"returned {type(got).__name__}, expected a tuple of descriptions"
        got = tuple(got)
        if got == expected:
            return True, ""
        for i, (g, e) in enumerate(zip(got, expected)):
            if g != e:
                told = "" if hidden else f", expected {e}"
                return False, f"{what} {i} is {g}{told}"
        if hidden:
            return False, f"{len(got)} {what}s, which is not what the configuration asks for"
        return False, f"{len(got)} {what}s, expected {len(expected)}"

    return compare


def _f_no_relu(cfg, in_channels=3, batch_norm=False):
    return nn.Sequential(*[m for m in make_vgg_features(cfg, in_channels, batch_norm) if not isinstance(m, nn.ReLU)])


def _f_padding_0(cfg, in_channels=3, batch_norm=False):
    features = make_vgg_features(cfg, in_channels, batch_norm)
    for m in features:
        if isinstance(m, nn.Conv2d):
            m.padding = (0, 0)
    return features


def _f_ignores_in_channels(cfg, in_channels=3, batch_norm=False):
    return make_vgg_features(cfg, 3, batch_norm)


def _f_bn_after_relu(cfg, in_channels=3, batch_norm=False):
    layers = list(make_vgg_features(cfg, in_channels, batch_norm))
    for i in range(len(layers) - 2):
        if isinstance(layers[i], nn.Conv2d) and isinstance(layers[i + 1], nn.BatchNorm2d):
            layers[i + 1], layers[i + 2] = layers[i + 2], layers[i + 1]
    return nn.Sequential(*layers)


def _f_no_batch_norm(cfg, in_channels=3, batch_norm=False):
    return make_vgg_features(cfg, in_channels, False)


def _f_pool_stride_1(cfg, in_channels=3, batch_norm=False):
    features = make_vgg_features(cfg, in_channels, batch_norm)
    for m in features:
        if isinstance(m, nn.MaxPool2d):
            m.stride = 1
    return features


def _f_overlapping_pool(cfg, in_channels=3, batch_norm=False):
    features = make_vgg_features(cfg, in_channels, batch_norm)
    for i, m in enumerate(features):
        if isinstance(m, nn.MaxPool2d):
            features[i] = nn.MaxPool2d(kernel_size=3, stride=2)
    return features


def _features_case(label, cfg, in_channels=3, batch_norm=False, *, view, hidden=False, **kw):
    what = {"layers": "layer", "parameters": "parameter"}.get(view)
    return Case(label, _args(list(cfg), in_channels, batch_norm, view=view, **kw),
                compare=_same_sequence(what, hidden) if what else None,
                group={"layers": "layer sequence", "parameters": "parameter names and shapes",
                       "output": "forward output"}[view])


MAKE_VGG_FEATURES = Exercise(
    name="make_vgg_features",
    reference=make_vgg_features,
    lesson=LESSON,
    kind="module",
    driver=_features_driver,
    groups={"layer sequence": 2, "parameter names and shapes": 1, "forward output": 1},
    cases=[
        _features_case("the layers of [8, 8, 'M', 16, 'M'], 3 input channels", [8, 8, "M", 16, "M"], view="layers"),
        _features_case("the layers of [8, 'M', 16] for grey images (1 channel), with batch norm",
                       [8, "M", 16], 1, True, view="layers"),
        _features_case("the parameters of VGG11's features with batch norm (config A)", cfgs["A"], 3, True,
                       view="parameters"),
        _features_case("the output of [8, 8, 'M', 16, 'M'] with batch norm on a seeded (2, 3, 16, 16) batch",
                       [8, 8, "M", 16, "M"], 3, True, view="output", size=16),
    ],
    hidden=[
        _features_case("hidden", cfgs["D"], 3, True, view="layers", hidden=True),
        _features_case("hidden", [4, "M", "M", 8], 4, False, view="layers", hidden=True),
        _features_case("hidden", [], 3, False, view="layers", hidden=True),
        _features_case("hidden", [16, "M", 32, 32, "M"], 2, True, view="parameters", hidden=True),
        _features_case("hidden", cfgs["E"], 1, False, view="parameters", hidden=True),
        _features_case("hidden", [4, 4, "M", 8, 8, "M", 16, "M"], 5, True, view="output", size=24, seed=1,
                       hidden=True),
        _features_case("hidden", [6, "M", 12, 12, "M"], 1, False, view="output", size=20, seed=2, hidden=True),
    ],
    mistakes=[
        Mistake(_f_no_relu, "a ReLU follows every convolution (after its batch norm, when there is one): "
                "without it the stack of convolutions is one linear map."),
        Mistake(_f_padding_0, "VGG's 3x3 convolutions keep nH and nW: each pads p = 1 zero on every side, so "
                "only the pools shrink the maps."),
        Mistake(_f_ignores_in_channels, "the first convolution reads in_channels channels (1 for grey images); "
                "each later one reads the channel count of the convolution before it."),
        Mistake(_f_bn_after_relu, "batch norm sits between a convolution and its ReLU (conv, BatchNorm2d, ReLU), "
                "so the ReLU sees the normalised values."),
        Mistake(_f_no_batch_norm, "with batch_norm=True every convolution is followed by a BatchNorm2d over its "
                "output channels, before the ReLU."),
        Mistake(_f_pool_stride_1, "VGG's pool is 2x2 with stride 2: it halves nH and nW. With stride 1 the windows "
                "overlap and the map loses only one pixel."),
        Mistake(_f_overlapping_pool, "that is AlexNet's overlapping 3x3 pool of stride 2; VGG's \"M\" is a 2x2 "
                "pool of stride 2."),
    ],
    generic_hint="walk the configuration once, keeping the current channel count nC (it starts at in_channels): "
                 "a number becomes a 3x3 convolution with padding 1 from nC to that many channels (then a batch "
                 "norm if asked, then a ReLU) and becomes the new nC; \"M\" becomes a 2x2 max pool of stride 2. "
                 "Put the layers, in that order, in one flat Sequential.",
)


# ---- conv_output_size --------------------------------------------------------------------------
def _no_padding(n, kernel, stride=1, padding=0):
    return (n - kernel) // stride + 1


def _one_sided_padding(n, kernel, stride=1, padding=0):
    return (n + padding - kernel) // stride + 1


def _no_plus_one(n, kernel, stride=1, padding=0):
    return (n + 2 * padding - kernel) // stride


def _true_division(n, kernel, stride=1, padding=0):
    return (n + 2 * padding - kernel) / stride + 1


def _rounded(n, kernel, stride=1, padding=0):
    return round((n + 2 * padding - kernel) / stride) + 1


def _ceil(n, kernel, stride=1, padding=0):
    return math.ceil((n + 2 * padding - kernel) / stride) + 1


def _returns_int(fn, reference) -> str | None:
    out = fn(10, 3, 2, 1)
    if isinstance(out, bool) or not isinstance(out, int):
        return f"returned {out!r} ({type(out).__name__}); a size is a whole number: divide rounding down"
    return None


CONV_OUTPUT_SIZE = Exercise(
    name="conv_output_size",
    reference=conv_output_size,
    lesson=LESSON,
    kind="formula",
    groups={"value": 2},
    cases=[
        Case("AlexNet conv1: n=224, kernel 11, stride 4, padding 2", _args(224, 11, 4, 2)),
        Case("an overlapping pool: n=55, kernel 3, stride 2", _args(55, 3, 2, 0)),
        Case("VGG's 3x3 conv: n=224, kernel 3, stride 1, padding 1", _args(224, 3, 1, 1)),
        Case("a 2x2 pool of stride 2 on an odd size, n=9 (the floor matters)", _args(9, 2, 2, 0)),
        Case("n=10, kernel 3, stride 4 (the floor matters)", _args(10, 3, 4, 0)),
        Case("defaults: n=28, kernel 5", _args(28, 5)),
    ],
    properties=[Property("returns an int", _returns_int)],
    mistakes=[
        Mistake(_no_padding, "the padding is missing: p zeros are added on BOTH sides of the n pixels."),
        Mistake(_one_sided_padding, "padding p is added on each side of the input, so the padded size is n + 2p, "
                "not n + p."),
        Mistake(_no_plus_one, "count the first window too: the number of strides that fit, plus one."),
        Mistake(_true_division, "the result must be a whole number: a last window that does not fit is dropped, "
                "so round the division down (the floor)."),
        Mistake(_rounded, "rounding to the nearest whole number keeps a last window that sticks out when the "
                "fraction is .5 or more; a window that does not fit is dropped: take the floor."),
        Mistake(_ceil, "round down, not up: PyTorch drops a last window that does not fit (ceil_mode=False)."),
    ],
    generic_hint="count the positions of the window: pad n with p zeros on each side, see how many strides s "
                 "of the kernel k fit (rounded down), and add one for the first position.",
    hidden=[
        Case("the 2012 paper's 227-pixel input, kernel 11, stride 4", _args(227, 11, 4, 0)),
        Case("ResNet's stem: n=112, kernel 7, stride 2, padding 3", _args(112, 7, 2, 3)),
        Case("a kernel as large as the input", _args(6, 6, 1, 0)),
        Case("n=100, kernel 4, stride 3, padding 2", _args(100, 4, 3, 2)),
        Case("AlexNet conv3: n=13, kernel 3, padding 1", _args(13, 3, 1, 1)),
        Case("n=13, kernel 2, stride 2", _args(13, 2, 2, 0)),
    ],
)


# ---- vgg_param_count ---------------------------------------------------------------------------
def _convs(cfg, in_channels, per_conv):
    total, c_in = 0, in_channels
    for v in cfg:
        if v != "M":
            total += per_conv(c_in, v)
            c_in = v
    return total, c_in


def _head(c_last, num_classes, bias=True, spatial=49):
    b = 1 if bias else 0
    return (c_last * spatial + b) * 4096 + (4096 + b) * 4096 + (4096 + b) * num_classes


def _p_no_bias(cfg, in_channels=3, classifier=False, num_classes=1000):
    total, c = _convs(cfg, in_channels, lambda i, o: 9 * i * o)
    return total + (_head(c, num_classes, bias=False) if classifier else 0)


def _p_conv_no_bias(cfg, in_channels=3, classifier=False, num_classes=1000):
    total, c = _convs(cfg, in_channels, lambda i, o: 9 * i * o)
    return total + (_head(c, num_classes) if classifier else 0)


def _p_no_kernel(cfg, in_channels=3, classifier=False, num_classes=1000):
    total, c = _convs(cfg, in_channels, lambda i, o: (i + 1) * o)
    return total + (_head(c, num_classes) if classifier else 0)


def _p_ignores_in_channels(cfg, in_channels=3, classifier=False, num_classes=1000):
    return vgg_param_count(cfg, 3, classifier, num_classes)


def _p_head_512(cfg, in_channels=3, classifier=False, num_classes=1000):
    total, _ = _convs(cfg, in_channels, lambda i, o: (9 * i + 1) * o)
    return total + (_head(512, num_classes) if classifier else 0)


def _p_head_no_7x7(cfg, in_channels=3, classifier=False, num_classes=1000):
    total, c = _convs(cfg, in_channels, lambda i, o: (9 * i + 1) * o)
    return total + (_head(c, num_classes, spatial=1) if classifier else 0)


def _p_head_always(cfg, in_channels=3, classifier=False, num_classes=1000):
    return vgg_param_count(cfg, in_channels, True, num_classes)


VGG_PARAM_COUNT = Exercise(
    name="vgg_param_count",
    reference=vgg_param_count,
    lesson=LESSON,
    kind="code",
    groups={"value": 3},
    cases=[
        Case("one conv: [64], 3 input channels", _args([64], 3)),
        Case("VGG's block 1: [64, 64, 'M']", _args([64, 64, "M"], 3)),
        Case("VGG11's convolutions (config A)", _args(list(cfgs["A"]), 3)),
        Case("VGG16 with its classifier (config D, 1000 classes)", _args(list(cfgs["D"]), 3, True, 1000)),
        Case("a small grey-scale VGG [8, 'M', 16, 'M'] with a 10-class classifier",
             _args([8, "M", 16, "M"], 1, True, 10)),
    ],
    mistakes=[
        Mistake(_p_no_bias, "every convolution and every Linear layer has a bias: one more parameter per output "
                "channel (or output feature)."),
        Mistake(_p_conv_no_bias, "each 3x3 convolution also has one bias per output channel, C_out of them."),
        Mistake(_p_no_kernel, "a 3x3 kernel has 9 weights per input channel, for each output channel: k^2 C_in "
                "weights per output channel."),
        Mistake(_p_ignores_in_channels, "the first convolution reads in_channels channels (1 for grey images), "
                "not always 3."),
        Mistake(_p_head_512, "fc6 reads the LAST convolution's C_last channels on the 7x7 average-pooled map; "
                "C_last is 512 only in the paper's networks."),
        Mistake(_p_head_no_7x7, "the classifier's first Linear layer reads the 7x7 average-pooled map: 49 "
                "positions for each of the C_last channels."),
        Mistake(_p_head_always, "add the classifier only when classifier=True; otherwise count the convolutions "
                "only."),
    ],
    generic_hint="walk the configuration keeping the current channel count C_in (it starts at in_channels): each "
                 "number is a 3x3 convolution with (k^2 C_in + 1) C_out parameters whose C_out becomes the next "
                 "C_in; \"M\" has none. The classifier adds three Linear layers from a to b, (a + 1) b each.",
    hidden=[
        Case("VGG19 with its classifier (config E)", _args(list(cfgs["E"]), 3, True, 1000)),
        Case("VGG13's convolutions on grey images (config B, 1 channel)", _args(list(cfgs["B"]), 1)),
        Case("two pools in a row, [32, 32, 'M', 'M', 64], 5 classes", _args([32, 32, "M", "M", 64], 3, True, 5)),
        Case("an empty configuration", _args([], 3)),
        Case("VGG16's convolutions on 4-channel images", _args(list(cfgs["D"]), 4)),
    ],
)


# ---- receptive_field ---------------------------------------------------------------------------
def _rf_stride_not_jump(layers):
    r = 1
    for k, s in layers:
        r += (k - 1) * s
    return r


def _rf_no_stride(layers):
    return 1 + sum(k - 1 for k, _ in layers)


def _rf_jump_first(layers):
    r, j = 1, 1
    for k, s in layers:
        j *= s
        r += (k - 1) * j
    return r


def _rf_sum_kernels(layers):
    return sum(k for k, _ in layers)


def _rf_from_zero(layers):
    r, j = 0, 1
    for k, s in layers:
        r += (k - 1) * j
        j *= s
    return r


RECEPTIVE_FIELD = Exercise(
    name="receptive_field",
    reference=receptive_field,
    lesson=LESSON,
    kind="code",
    groups={"value": 3},
    cases=[
        Case("two 3x3 convs, stride 1", _args([(3, 1), (3, 1)])),
        Case("VGG's pool1: [(3, 1), (3, 1), (2, 2)]", _args([(3, 1), (3, 1), (2, 2)])),
        Case("VGG's conv2_1: [(3, 1), (3, 1), (2, 2), (3, 1)]", _args([(3, 1), (3, 1), (2, 2), (3, 1)])),
        Case("AlexNet's conv1, pool1, conv2, pool2", _args([(11, 4), (3, 2), (5, 1), (3, 2)])),
    ],
    mistakes=[
        Mistake(_rf_stride_not_jump, "a layer widens the field by (k - 1) jumps j_in, where the jump is the product "
                "of ALL the earlier strides, not this layer's stride alone."),
        Mistake(_rf_no_stride, "strides make later kernels cover more input pixels: neighbouring units below are "
                "j_in input pixels apart, the product of the earlier strides."),
        Mistake(_rf_jump_first, "a layer's own stride only spaces the units ABOVE it: widen the field with the "
                "jump j_in from before this layer, then multiply in its stride."),
        Mistake(_rf_sum_kernels, "neighbouring windows overlap: a layer adds k - 1 steps of the jump, not k pixels."),
        Mistake(_rf_from_zero, "start from r_0 = 1: before any layer a unit (a pixel) sees one pixel."),
    ],
    generic_hint="follow two numbers layer by layer from a pixel (r_0 = 1, j_0 = 1): the field r grows by k - 1 "
                 "jumps of the layer below, and the jump j grows by the factor s of this layer's stride.",
    hidden=[
        Case("no layers at all", _args([])),
        Case("AlexNet up to pool5", _args([(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)])),
        Case("a ResNet-like stem and two 3x3 convs", _args([(7, 2), (3, 2), (3, 1), (3, 1)])),
        Case("five 2x2 pools", _args([(2, 2)] * 5)),
        Case("VGG16 up to conv3_3", _args([(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (3, 1)])),
    ],
)


# ---- the question: stacked_3x3_saving ----------------------------------------------------------
def stacked_3x3_saving(k: int) -> float:
    """The fraction of the weights saved when one k x k convolution (k odd, C channels in and out, no
    bias) is replaced by the stack of 3x3 convolutions with the same receptive field.

    n stacked 3x3 convolutions see 2n + 1 pixels, so n = (k - 1) / 2; they hold 9 n C^2 weights
    against k^2 C^2. VGG paper §2.3: 28% saved for k = 5, 45% for k = 7.
    """
    if not isinstance(k, int) or k < 3 or k % 2 == 0:
        raise ValueError(f"k must be an odd int >= 3 (a 3x3 stack has an odd field); got {k!r}")
    n = (k - 1) // 2
    return 1 - 9 * n / k**2


def _q_kept(k):
    return 9 * ((k - 1) // 2) / k**2


def _q_thirds(k):
    return 1 - 9 * (k / 3) / k**2


def _q_one_per_pixel(k):
    return 1 - 9 * (k - 2) / k**2


def _q_one_axis(k):
    return 1 - 3 * ((k - 1) // 2) / k


def _q_percent(k):
    return 100 * stacked_3x3_saving(k)


STACKED_3X3_SAVING = Exercise(
    name="stacked_3x3_saving",
    reference=stacked_3x3_saving,
    lesson=LESSON,
    kind="question",
    groups={"value": 2},
    cases=[Case("a 7x7 convolution", _args(7))],
    mistakes=[
        Mistake(_q_kept, "that is the share of the weights the stack KEEPS; the question asks for the share it "
                "saves."),
        Mistake(_q_thirds, "a 3x3 convolution on top of another widens the field by k - 1 = 2 pixels, not 3 "
                "(neighbouring windows overlap): use the receptive-field rule to count the convolutions."),
        Mistake(_q_one_per_pixel, "each 3x3 convolution in the stack adds 2 pixels to the field (starting from 1), "
                "not 1: fewer convolutions are needed."),
        Mistake(_q_one_axis, "a kernel is two-dimensional: a k x k kernel has k^2 weights for each pair of "
                "channels, a 3x3 one 9."),
        Mistake(_q_percent, "answer with a fraction between 0 and 1, not a percentage."),
    ],
    generic_hint="first count the 3x3 convolutions whose stacked receptive field is k (each adds 2 pixels to r), "
                 "then compare their weights, 9 C^2 each, with the k^2 C^2 of the single convolution; the "
                 "saving is the share of the single convolution's weights that the stack does not need.",
    hidden=[
        Case("hidden", _args(5)),
        Case("hidden", _args(9)),
        Case("hidden", _args(11)),
        Case("hidden", _args(3)),
    ],
)

EXERCISES: dict[str, Exercise] = {e.name: e for e in (MAKE_VGG_FEATURES, CONV_OUTPUT_SIZE, VGG_PARAM_COUNT,
                                                        RECEPTIVE_FIELD, STACKED_3X3_SAVING)}
