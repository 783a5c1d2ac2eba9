"""The VGG paper's six configurations A, A-LRN, B, C, D, E (Simonyan & Zisserman 2015, Table 1).

:data:`coursekit.models.vgg.cfgs` holds the four that torchvision builds (A, B, D, E = VGG-11, -13,
-16, -19). This table adds the two it leaves out: **A-LRN** (A with local response normalisation
after the first convolution) and **C**, which puts a **1x1 convolution** at the end of blocks 3, 4
and 5 where D has a third 3x3 one. Tokens: ``(channels, kernel)`` for a convolution (stride 1,
"same" padding, ReLU after it), ``"LRN"``, ``"M"`` (2x2 max pool, stride 2).

Every network ends with the same classifier, 512 * 7 * 7 -> 4096 -> 4096 -> 1000 (biases included).

The paper trained A from random initialisation, "zero mean and 10^-2 variance" (Sec. 3.1), then
initialised the first four convolutional and the last three fully connected layers of the deeper
nets from trained A. :func:`signal_gain` gives the arithmetic of lesson 09 behind that trick.
"""

from __future__ import annotations

from coursekit.models.arithmetic import conv_params
from coursekit.tables import format_table

__all__ = ["PAPER_CONFIGS", "PAPER_TOP5_VAL", "blocks", "paper_param_count", "weight_layers", "config_table",
           "fan_ins", "signal_gain", "init_gain_table"]

_B = [(64, 3), (64, 3), "M", (128, 3), (128, 3), "M"]
PAPER_CONFIGS: dict[str, list] = {
    "A": [(64, 3), "M", (128, 3), "M", (256, 3), (256, 3), "M", (512, 3), (512, 3), "M", (512, 3), (512, 3), "M"],
    "A-LRN": [(64, 3), "LRN", "M", (128, 3), "M", (256, 3), (256, 3), "M", (512, 3), (512, 3), "M",
              (512, 3), (512, 3), "M"],
    "B": [*_B, (256, 3), (256, 3), "M", (512, 3), (512, 3), "M", (512, 3), (512, 3), "M"],
    "C": [*_B, (256, 3), (256, 3), (256, 1), "M", (512, 3), (512, 3), (512, 1), "M", (512, 3), (512, 3), (512, 1), "M"],
    "D": [*_B, *[(256, 3)] * 3, "M", *[(512, 3)] * 3, "M", *[(512, 3)] * 3, "M"],
    "E": [*_B, *[(256, 3)] * 4, "M", *[(512, 3)] * 4, "M", *[(512, 3)] * 4, "M"],
}

# Table 3 of the paper: top-5 validation error (%) at a single test scale, trained and tested at S = Q = 256.
PAPER_TOP5_VAL: dict[str, float] = {"A": 10.4, "A-LRN": 10.5, "B": 9.9, "C": 9.4, "D": 8.8, "E": 9.0}

_FC = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]


def blocks(cfg: list) -> list[list]:
    """The config split at its max pools: five lists of ``(channels, kernel)`` tokens (and "LRN")."""
    out, current = [], []
    for token in cfg:
        if token == "M":
            out.append(current)
            current = []
        else:
            current.append(token)
    return out


def weight_layers(cfg: list) -> int:
    """Convolutions plus the three fully connected layers: A 11, B 13, C and D 16, E 19."""
    return sum(isinstance(t, tuple) for t in cfg) + len(_FC)


def paper_param_count(cfg: list, in_channels: int = 3) -> int:
    """Parameters: sum of (k^2 C_in + 1) C_out over the convolutions, plus (a + 1) b per Linear(a, b) of the head."""
    total, c_in = 0, in_channels
    for token in cfg:
        if isinstance(token, tuple):
            channels, kernel = token
            total += conv_params(c_in, channels, kernel)
            c_in = channels
    return total + sum((a + 1) * b for a, b in _FC)


def fan_ins(cfg: list, in_channels: int = 3) -> list[int]:
    """n = k^2 C_in of every convolution, then a of every Linear(a, b): the inputs each unit sums."""
    out, c_in = [], in_channels
    for token in cfg:
        if isinstance(token, tuple):
            channels, kernel = token
            out.append(kernel * kernel * c_in)
            c_in = channels
    return out + [a for a, _ in _FC]


def signal_gain(cfg: list, weight_var: float | None = None) -> float:
    """Factor by which the mean square of the signal grows from the input to the last layer, at initialisation.

    He et al. 2015 (Eq. 10): through a layer with n inputs, weights of variance Var[w] and a ReLU,
    E[y^2] is multiplied by n Var[w] / 2. The product runs over every weight layer of ``cfg``
    (convolutions and the three Linear layers). ``weight_var=None`` uses He's choice 2 / n for each
    layer, whose factor is exactly 1.
    """
    gain = 1.0
    for n in fan_ins(cfg):
        gain *= n * (2.0 / n if weight_var is None else weight_var) / 2
    return gain


def _block_cell(block: list) -> str:
    parts = [("LRN" if t == "LRN" else (str(t[0]) if t[1] == 3 else f"1x1:{t[0]}")) for t in block]
    return " ".join(parts)


def config_table(configs: dict[str, list] = PAPER_CONFIGS) -> str:
    """One row per configuration: the five blocks (3x3 convs as their channels, 1x1 ones as "1x1:C"),
    weight layers, parameters (millions, as the paper's Table 2 rounds them) and Table 3's top-5 error."""
    rows = []
    for name, cfg in configs.items():
        rows.append([name, *(_block_cell(b) for b in blocks(cfg)), str(weight_layers(cfg)),
                     f"{paper_param_count(cfg) / 1e6:.0f} M", f"{PAPER_TOP5_VAL.get(name, float('nan')):.1f}"])
    return format_table(["net", "block 1", "block 2", "block 3", "block 4", "block 5", "layers", "params",
                         "top-5 val %"], rows)


def init_gain_table(configs: dict[str, list] = PAPER_CONFIGS, variances: tuple[float, ...] = (1e-2, 1e-4)) -> str:
    """:func:`signal_gain` of every configuration for fixed weight variances and for He's 2 / n."""
    headers = ["net", "weight layers", *(f"Var[w] = {v:g}" for v in variances), "Var[w] = 2/n (He)"]
    rows = [[name, str(weight_layers(cfg)), *(f"{signal_gain(cfg, v):.1e}" for v in variances),
             f"{signal_gain(cfg):.2f}"] for name, cfg in configs.items() if name != "A-LRN"]
    return format_table(headers, rows)
