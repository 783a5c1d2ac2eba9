"""Public checks of lesson 08's exercises: ``conv_output_size``, ``vgg_param_count``, ``receptive_field``.

Listed in ``coursekit.grading.EXERCISE_MODULES``. The references live in
:mod:`coursekit.models.arithmetic`; the cases are the layers of AlexNet and VGG and small made-up
networks, and each mistake is one learners make (padding on one side only, forgetting the bias,
using the stride where the jump belongs, ...).
"""

from __future__ import annotations

import math

from ..exercise import Case, Exercise, Mistake, Property
from .arithmetic import conv_output_size, receptive_field, vgg_param_count
from .vgg import cfgs

__all__ = ["EXERCISES"]

LESSON = "08_alexnet_vgg"


def _args(*args, **kwargs):
    return lambda: (args, kwargs)


# ---- conv_output_size --------------------------------------------------------------------------
def _no_padding(n, kernel, stride=1, padding=0):
    return (n - kernel) // stride + 1


def _one_sided_padding(n, kernel, stride=1, padding=0):
    return (n + padding - kernel) // stride + 1


def _no_plus_one(n, kernel, stride=1, padding=0):
    return (n + 2 * padding - kernel) // stride


def _true_division(n, kernel, stride=1, padding=0):
    return (n + 2 * padding - kernel) / stride + 1


def _ceil(n, kernel, stride=1, padding=0):
    return math.ceil((n + 2 * padding - kernel) / stride) + 1


def _returns_int(fn, reference) -> str | None:
    out = fn(10, 3, 2, 1)
    if isinstance(out, bool) or not isinstance(out, int):
        return f"returned {out!r} ({type(out).__name__}); a size is a whole number: use // (floor division)"
    return None


CONV_OUTPUT_SIZE = Exercise(
    name="conv_output_size",
    reference=conv_output_size,
    lesson=LESSON,
    groups={"value": 2},
    cases=[
        Case("AlexNet conv1: n=224, kernel 11, stride 4, padding 2", _args(224, 11, 4, 2)),
        Case("an overlapping pool: n=55, kernel 3, stride 2", _args(55, 3, 2, 0)),
        Case("VGG's 3x3 conv: n=224, kernel 3, stride 1, padding 1", _args(224, 3, 1, 1)),
        Case("n=32, kernel 5, stride 2, padding 1 (the floor matters)", _args(32, 5, 2, 1)),
        Case("defaults: n=28, kernel 5", _args(28, 5)),
    ],
    properties=[Property("returns an int", _returns_int)],
    mistakes=[
        Mistake(_no_padding, "the padding is missing: p zeros are added on BOTH sides, n + 2p."),
        Mistake(_one_sided_padding, "padding p is added on each side of the input: use n + 2p, not n + p."),
        Mistake(_no_plus_one, "count the first position too: floor((n + 2p - k) / s) + 1."),
        Mistake(_true_division, "floor the division: a window that does not fit is dropped; use //."),
        Mistake(_ceil, "round down, not up: PyTorch drops a last window that does not fit (ceil_mode=False)."),
    ],
    generic_hint="n_out = floor((n + 2 * padding - kernel) / stride) + 1; "
                 "in Python (n + 2*padding - kernel) // stride + 1.",
    hidden=[
        Case("the 2012 paper's 227-pixel input, kernel 11, stride 4", _args(227, 11, 4, 0)),
        Case("ResNet's stem: n=112, kernel 7, stride 2, padding 3", _args(112, 7, 2, 3)),
        Case("a kernel as large as the input", _args(6, 6, 1, 0)),
        Case("n=100, kernel 4, stride 3, padding 2", _args(100, 4, 3, 2)),
        Case("AlexNet conv3: n=13, kernel 3, padding 1", _args(13, 3, 1, 1)),
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
        Mistake(_p_no_bias, "every conv and every Linear has a bias: add C_out (or out_features) per layer."),
        Mistake(_p_conv_no_bias, "each 3x3 conv also has C_out biases: (9 * C_in + 1) * C_out."),
        Mistake(_p_no_kernel, "a 3x3 kernel has 9 weights per input channel: 9 * C_in * C_out weights per conv."),
        Mistake(_p_ignores_in_channels, "the first conv reads in_channels channels (1 for grey images), not always 3."),
        Mistake(_p_head_512, "fc6 reads the LAST conv's channels times 7 * 7 (C_last * 49), which is 512 * 49 only "
                "in the paper's networks."),
        Mistake(_p_head_no_7x7, "the classifier's first Linear reads the 7x7 average-pooled map: "
                "C_last * 7 * 7 inputs."),
        Mistake(_p_head_always, "add the classifier only when classifier=True; otherwise count the convolutions only."),
    ],
    generic_hint="walk the list keeping the current channel count c_in (start: in_channels); each int v adds "
                 "(9 * c_in + 1) * v and sets c_in = v; 'M' adds nothing. With classifier=True add "
                 "(c_in*49 + 1)*4096 + (4096 + 1)*4096 + (4096 + 1)*num_classes.",
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
    groups={"value": 3},
    cases=[
        Case("two 3x3 convs, stride 1", _args([(3, 1), (3, 1)])),
        Case("VGG's pool1: [(3, 1), (3, 1), (2, 2)]", _args([(3, 1), (3, 1), (2, 2)])),
        Case("VGG's conv2_1: [(3, 1), (3, 1), (2, 2), (3, 1)]", _args([(3, 1), (3, 1), (2, 2), (3, 1)])),
        Case("AlexNet's conv1, pool1, conv2, pool2", _args([(11, 4), (3, 2), (5, 1), (3, 2)])),
    ],
    mistakes=[
        Mistake(_rf_stride_not_jump, "use the jump (the product of ALL earlier strides), not this layer's stride: "
                "r <- r + (k - 1) * j, then j <- j * s."),
        Mistake(_rf_no_stride, "strides make later kernels cover more input pixels: r <- r + (k - 1) * j with j "
                "the product of the earlier strides."),
        Mistake(_rf_jump_first, "update r with the jump BEFORE this layer's stride: "
                "r <- r + (k - 1) * j, then j <- j * s."),
        Mistake(_rf_sum_kernels, "neighbouring windows overlap: a layer adds (k - 1) * j pixels, not k."),
        Mistake(_rf_from_zero, "start from r = 1: before any layer a unit (a pixel) sees one pixel."),
    ],
    generic_hint="r = 1, j = 1; for each (k, s): r = r + (k - 1) * j; j = j * s. Return r.",
    hidden=[
        Case("no layers at all", _args([])),
        Case("AlexNet up to pool5", _args([(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)])),
        Case("a ResNet-like stem and two 3x3 convs", _args([(7, 2), (3, 2), (3, 1), (3, 1)])),
        Case("five 2x2 pools", _args([(2, 2)] * 5)),
        Case("VGG16 up to conv3_3", _args([(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (3, 1)])),
    ],
)

EXERCISES: dict[str, Exercise] = {e.name: e for e in (CONV_OUTPUT_SIZE, VGG_PARAM_COUNT, RECEPTIVE_FIELD)}
