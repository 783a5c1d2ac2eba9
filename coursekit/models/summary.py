"""Per-layer summary of AlexNet, VGG (or any ``features``/``avgpool``/``classifier`` network).

``summarize("vgg16")`` walks the network's modules in order and, for an input of 3 x 224 x 224,
gives one row per layer: its name (``conv1_1``, ``pool1``, ``fc6``; from
:mod:`coursekit.models.layers`), output shape, parameters, multiply-adds, activations and
receptive field, all by arithmetic (:mod:`coursekit.models.arithmetic`), without running the
network. Conventions:

- parameters are trainable ones (weights, biases, BatchNorm's gamma and beta; running statistics
  are buffers, not parameters), so the total equals ``sum(p.numel() for p in model.parameters())``;
- multiply-adds (MACs) count the convolutions and fully connected layers only:
  C_out * H_out * W_out * C_in * k * k / groups for a conv, in * out for a Linear; biases, ReLU,
  pooling and BatchNorm (foldable into the conv before it) are not counted. One MAC is two FLOPs;
- the receptive field (``r``, ``jump``, ``start``) is along one axis (all kernels here are square),
  for units of that layer, in input pixels; a fully connected unit sees the whole image (None,
  "all" in the table); an adaptive pool with uneven bins has no single field (None, "?").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from torch import nn

from coursekit.models.arithmetic import Field, conv_output_size, conv_params, receptive_field_step
from coursekit.models.layers import infer_arch, layer_names
from coursekit.models.zoo import skeleton

__all__ = ["LayerSummary", "Summary", "summarize", "format_count"]


@dataclass(frozen=True)
class LayerSummary:
    """One layer: ``shape`` is (C, H, W) or (features,), ``field`` None once every unit sees everything."""

    name: str
    kind: str  # conv, bn, relu, lrn, pool, avgpool, fc, dropout
    part: str  # features, avgpool or classifier
    shape: tuple[int, ...]
    params: int
    macs: int
    field: Field | None

    @property
    def activations(self) -> int:
        """Numbers in this layer's output for one image."""
        total = 1
        for n in self.shape:
            total *= n
        return total


def format_count(n: float) -> str:
    """1234 -> '1.2K', 86_704_128 -> '86.7M', 15_470_264_320 -> '15.47G'; below 1000 as is."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{unit}" if unit == "G" else f"{n / scale:.1f}{unit}"
    return f"{n:g}"


@dataclass(frozen=True)
class Summary:
    """Rows of :func:`summarize` plus totals; ``str(summary)`` is the table."""

    arch: str
    input_shape: tuple[int, int, int]
    rows: tuple[LayerSummary, ...]

    @property
    def params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def conv_params(self) -> int:
        """Parameters of ``features`` (convolutions and BatchNorm)."""
        return sum(r.params for r in self.rows if r.part == "features")

    @property
    def fc_params(self) -> int:
        """Parameters of ``classifier`` (the fully connected layers)."""
        return sum(r.params for r in self.rows if r.part == "classifier")

    @property
    def macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def conv_macs(self) -> int:
        return sum(r.macs for r in self.rows if r.part == "features")

    @property
    def activations(self) -> int:
        """Numbers held in all listed layers' outputs for one image (a forward pass's memory, roughly)."""
        return sum(r.activations for r in self.rows)

    def row(self, name: str) -> LayerSummary:
        for r in self.rows:
            if r.name == name:
                return r
        raise ValueError(f"{self.arch} has no row {name!r}; rows: {', '.join(r.name for r in self.rows)}")

    def __iter__(self) -> Iterator[LayerSummary]:
        return iter(self.rows)

    def totals(self) -> str:
        """Two lines: parameters (conv / fc) and multiply-adds."""
        return (
            f"{self.arch} at {'x'.join(map(str, self.input_shape))}: {self.params:,} parameters "
            f"(conv {self.conv_params:,} = {self.conv_params / max(self.params, 1):.1%}, "
            f"fc {self.fc_params:,})\n"
            f"{format_count(self.macs)} multiply-adds ({self.macs:,}; conv {self.conv_macs / max(self.macs, 1):.1%}), "
            f"{format_count(self.activations)} activations"
        )

    def table(self) -> str:
        """A fixed-width table, one line per row, then the totals."""
        head = f"{'layer':<9}{'output':>15}{'params':>13}{'MACs':>10}{'acts':>9}{'RF':>6}{'jump':>6}{'start':>7}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            shape = "x".join(map(str, r.shape))
            if r.field is None:  # every unit sees the whole image (fc), or bins of uneven size (?)
                rf = ("all" if r.part == "classifier" else "?", "-", "-")
            else:
                rf = (str(r.field.r), str(r.field.jump), f"{r.field.start:g}")
            lines.append(
                f"{r.name:<9}{shape:>15}{r.params:>13,}{format_count(r.macs):>10}{format_count(r.activations):>9}"
                f"{rf[0]:>6}{rf[1]:>6}{rf[2]:>7}"
            )
        lines += ["-" * len(head), self.totals()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _one(value: int | tuple[int, ...]) -> int:
    """The single size of a square kernel/stride/padding; ValueError for non-square ones."""
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise ValueError(f"non-square kernel, stride or padding {value} is not supported")
        return int(value[0])
    return int(value)


def _out_size(name: str, hw: tuple[int, int], k: int, s: int, p: int) -> tuple[int, int]:
    try:
        return conv_output_size(hw[0], k, s, p), conv_output_size(hw[1], k, s, p)
    except ValueError as error:
        raise ValueError(f"the input is too small: at {name} the map is {hw[0]}x{hw[1]}, and {error}") from None


def _arch_or_none(features: nn.Sequential) -> str | None:
    try:
        return infer_arch(features)
    except ValueError:
        return None


def _feature_names(features: nn.Sequential) -> list[str]:
    """The layer table's names for AlexNet/VGG; otherwise conv1, relu1, pool1, ... numbered per kind."""
    arch = _arch_or_none(features)
    if arch is None:
        counts: dict[str, int] = {}
        names = []
        for m in features:
            kind = _kind(m)
            counts[kind] = counts.get(kind, 0) + 1
            names.append(f"{kind}{counts[kind]}")
        return names
    return layer_names(arch)


def _kind(m: nn.Module) -> str:
    kinds = {nn.Conv2d: "conv", nn.BatchNorm2d: "bn", nn.ReLU: "relu", nn.MaxPool2d: "pool", nn.AvgPool2d: "pool",
             nn.LocalResponseNorm: "lrn", nn.Linear: "fc", nn.Dropout: "dropout", nn.Flatten: "flatten",
             nn.AdaptiveAvgPool2d: "avgpool"}
    for cls, kind in kinds.items():
        if isinstance(m, cls):
            return kind
    raise ValueError(f"summarize does not know how to handle a {type(m).__name__} layer")


def summarize(
    model: str | nn.Module, input_size: int | tuple[int, int] = 224, *, all_layers: bool = False,
    num_classes: int = 1000,
) -> Summary:
    """Per-layer output shapes, parameters, multiply-adds and receptive fields of ``model``.

    Args:
        model: an architecture name ("alexnet", "vgg16", "vgg19_bn", ...; built on the meta device,
            instantly) or a module with ``features`` (and optionally ``avgpool``, ``classifier``).
        input_size: H = W, or (H, W), of the input image; its channels are the first conv's C_in.
        all_layers: also list ReLU, Dropout rows (no parameters, no MACs); default: the layers that
            change shapes or hold parameters (conv, bn, lrn, pool, avgpool, fc).
        num_classes: classes of the last Linear when ``model`` is a name.
    """
    net = skeleton(model, num_classes=num_classes) if isinstance(model, str) else model
    features = getattr(net, "features", None)
    if not isinstance(features, nn.Sequential):
        raise ValueError(f"model must have a .features nn.Sequential (an AlexNet or VGG); got {type(net).__name__}")
    arch = model if isinstance(model, str) else getattr(model, "arch", None) or _arch_or_none(features)
    arch = arch or type(net).__name__
    h, w = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    first_conv = next((m for m in features if isinstance(m, nn.Conv2d)), None)
    if first_conv is None:
        raise ValueError("model.features holds no Conv2d")
    c = first_conv.in_channels
    input_shape = (c, h, w)
    field: Field | None = Field(1, 1, 0.0)
    rows: list[LayerSummary] = []

    def add(name: str, kind: str, part: str, shape: tuple[int, ...], params: int = 0, macs: int = 0) -> None:
        if all_layers or kind not in ("relu", "dropout", "flatten"):
            rows.append(LayerSummary(name, kind, part, shape, params, macs, field))

    for name, m in zip(_feature_names(features), features):
        kind = _kind(m)
        if kind == "conv":
            k, s, p = _one(m.kernel_size), _one(m.stride), _one(m.padding)
            if _one(m.dilation) != 1:
                raise ValueError(f"{name}: dilated convolutions are not supported")
            if m.in_channels != c:
                raise ValueError(f"{name} expects {m.in_channels} channels but receives {c}")
            h, w = _out_size(name, (h, w), k, s, p)
            params = conv_params(m.in_channels, m.out_channels, k, bias=m.bias is not None, groups=m.groups)
            c = m.out_channels
            field = receptive_field_step(field, k, s, p)
            add(name, kind, "features", (c, h, w), params, c * h * w * (m.in_channels // m.groups) * k * k)
        elif kind == "pool":
            if getattr(m, "ceil_mode", False):
                raise ValueError(f"{name}: ceil_mode=True pooling is not supported")
            k, s, p = _one(m.kernel_size), _one(m.stride), _one(m.padding)
            h, w = _out_size(name, (h, w), k, s, p)
            field = receptive_field_step(field, k, s, p)
            add(name, kind, "features", (c, h, w))
        elif kind == "bn":
            add(name, kind, "features", (c, h, w), 2 * m.num_features if m.affine else 0)
        else:  # relu, lrn: same shape, no parameters
            add(name, kind, "features", (c, h, w))

    avgpool = getattr(net, "avgpool", None)
    if avgpool is not None:
        if not isinstance(avgpool, nn.AdaptiveAvgPool2d):
            raise ValueError(f"avgpool must be an AdaptiveAvgPool2d; got {type(avgpool).__name__}")
        oh, ow = (avgpool.output_size,) * 2 if isinstance(avgpool.output_size, int) else avgpool.output_size
        if field is not None and (h, w) != (oh, ow):
            # bins of equal size (kernel = stride = h / oh) have a receptive field; uneven bins do not
            field = receptive_field_step(field, h // oh, h // oh) if h % oh == 0 and h // oh == w // ow else None
        h, w = oh, ow
        add("avgpool", "avgpool", "avgpool", (c, h, w))

    classifier = getattr(net, "classifier", None)
    if classifier is not None:
        field = None  # a fully connected unit sees the whole image
        n = c * h * w
        fc = 6 if arch in ("alexnet",) or arch.startswith("vgg") else 1  # Caffe's fc6, fc7, fc8
        modules = list(classifier) if isinstance(classifier, nn.Sequential) else [classifier]
        for m in modules:
            kind = _kind(m)
            if kind == "fc":
                if m.in_features != n:
                    raise ValueError(f"fc{fc} expects {m.in_features} inputs but receives {n}")
                n = m.out_features
                add(f"fc{fc}", kind, "classifier", (n,), m.in_features * n + (n if m.bias is not None else 0),
                    m.in_features * n)
                fc += 1
            else:
                add(f"{kind}{fc - 1}", kind, "classifier", (n,))
    return Summary(arch, input_shape, tuple(rows))
