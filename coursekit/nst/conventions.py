"""The normalisation zoo: one objective, five sets of constants, and how to translate between them.

For a layer with N = nC channels and M = nH*nW positions, with F the (N, M) unrolled activations:

| source                      | style coefficient of sum (F_S F_S^T - F_G F_G^T)^2 | content coefficient |
|-----------------------------|----------------------------------------------------|---------------------|
| Gatys et al. 2015 (paper)   | 1/(4 N^2 M^2)                                      | 1/2                 |
| Ng's lecture                | 1/(2 nH nW nC)^2 = 1/(4 N^2 M^2)                   | 1/(4 nH nW nC)      |
| PyTorch tutorial, d2l,      | 1/(N^4 M^2) (Gram / (N M), then the mean over N^2) | 1/(N M) (the mean)  |
| jcjohnson/neural-style      |                                                    |                     |

The popular codes differ from the paper by a per-layer factor 4/N^2, so relu5_1 (N = 512) weighs 64x
less against relu1_1 than in the paper: that is why a "good" beta ranges from 40 to 1e6.
``convert_weights`` translates alpha, beta and the lambda^[l] from one convention to another so that
the objective is the same, term by term; ``conversion_table`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from ..tables import format_table

__all__ = ["Convention", "CONVENTIONS", "get_convention", "CostWeights", "convert_weights", "conversion_table"]


@dataclass(frozen=True)
class Convention:
    """One implementation's normalisation, written against un-normalised sums.

    ``style_coef(N, M)`` multiplies sum_{k,k'} (F_S F_S^T - F_G F_G^T)^2 for one layer and
    ``content_coef(N, M)`` multiplies sum (F - P)^2, with N = nC and M = nH*nW.
    """

    name: str
    source: str
    style_coef: Callable[[int, int], float]
    content_coef: Callable[[int, int], float]
    gram_description: str


def _mse_style(n: int, m: int) -> float:
    # Gram divided by N*M, then the mean over N^2 entries: 1/(N M)^2 * 1/N^2.
    return 1.0 / (n**4 * m**2)


CONVENTIONS: dict[str, Convention] = {
    "paper": Convention(
        "paper", "Gatys et al. 2015",
        style_coef=lambda n, m: 1.0 / (4 * n**2 * m**2),
        content_coef=lambda n, m: 0.5,
        gram_description="F F^T",
    ),
    "lecture": Convention(
        "lecture", "Ng, deeplearning.ai (Convolutional Neural Networks, week 4)",
        style_coef=lambda n, m: 1.0 / (4 * n**2 * m**2),
        content_coef=lambda n, m: 1.0 / (4 * n * m),
        gram_description="A A^T",
    ),
    "pytorch_tutorial": Convention(
        "pytorch_tutorial", "PyTorch Neural Transfer tutorial",
        style_coef=_mse_style, content_coef=lambda n, m: 1.0 / (n * m),
        gram_description="F F^T / (N M)",
    ),
    "d2l": Convention(
        "d2l", "Dive into Deep Learning, 14.12",
        style_coef=_mse_style, content_coef=lambda n, m: 1.0 / (n * m),
        gram_description="F F^T / (N M)",
    ),
    "neural_style": Convention(
        "neural_style", "jcjohnson/neural-style",
        style_coef=_mse_style, content_coef=lambda n, m: 1.0 / (n * m),
        gram_description="F F^T / (N M)",
    ),
}


def get_convention(convention: str | Convention) -> Convention:
    """Look a convention up by name (or pass one through)."""
    if isinstance(convention, Convention):
        return convention
    try:
        return CONVENTIONS[convention]
    except (KeyError, TypeError):
        raise ValueError(
            f"convention {convention!r} is not known; use one of {sorted(CONVENTIONS)}"
        ) from None


@dataclass(frozen=True)
class CostWeights:
    """alpha, beta and the per-layer lambda^[l] of one convention."""

    alpha: float
    beta: float
    style_weights: dict[str, float]
    convention: str


def _n_m(shape: tuple[int, ...]) -> tuple[int, int]:
    """(nC, nH, nW) or (B, nC, nH, nW) -> (N, M)."""
    dims = tuple(shape)[-3:]
    if len(dims) != 3:
        raise ValueError(f"layer shape {shape} must be (nC, nH, nW)")
    return dims[0], dims[1] * dims[2]


def convert_weights(
    alpha: float,
    beta: float,
    style_weights: Mapping[str, float],
    *,
    style_shapes: Mapping[str, tuple[int, ...]],
    content_shape: tuple[int, ...],
    source: str,
    target: str,
) -> CostWeights:
    """Translate (alpha, beta, lambda^[l]) from one convention to another, same objective.

    With c_X(l) the convention's style coefficient at layer l (see ``Convention``), the
    objectives agree term by term when
        beta' lambda'_l c_target(l) = beta lambda_l c_source(l)    and
        alpha' k_target = alpha k_source   (k = content coefficient).
    The new lambda' keep the old sum (sum_l lambda'_l = sum_l lambda_l); beta' absorbs the rest, so
    converting there and back returns the original numbers.
    """
    src, dst = get_convention(source), get_convention(target)
    missing = [name for name in style_weights if name not in style_shapes]
    if missing:
        raise ValueError(f"style_shapes lacks {missing}: give (nC, nH, nW) for every style layer")
    n_c, m_c = _n_m(content_shape)
    new_alpha = alpha * src.content_coef(n_c, m_c) / dst.content_coef(n_c, m_c)
    raw = {}
    for name, lam in style_weights.items():
        n, m = _n_m(style_shapes[name])
        raw[name] = beta * lam * src.style_coef(n, m) / dst.style_coef(n, m)
    lam_sum, raw_sum = sum(style_weights.values()), sum(raw.values())
    if lam_sum == 0 or raw_sum == 0:
        return CostWeights(new_alpha, 0.0, {k: float(v) for k, v in style_weights.items()}, dst.name)
    new_beta = raw_sum / lam_sum
    return CostWeights(new_alpha, new_beta, {k: v / new_beta for k, v in raw.items()}, dst.name)


def conversion_table(
    alpha: float,
    beta: float,
    style_weights: Mapping[str, float],
    *,
    shapes: Mapping[str, tuple[int, ...]],
    content_shape: tuple[int, ...],
    source: str,
    target: str,
    digits: int = 4,
    labels: tuple[str, str] | None = None,
) -> str:
    """``convert_weights`` as a table: per layer lambda^[l] and beta lambda^[l] in both conventions.

    The last lines give alpha and beta before and after. Same objective, other numbers: for every
    layer beta' lambda'^[l] c_target(l) = beta lambda^[l] c_source(l). ``labels`` names the two
    columns' sources in the headers and the last lines (default: the convention names), e.g.
    ("assignment", "PyTorch tutorial") when the numbers come from a course's assignment that uses
    the "lecture" convention.
    """
    new = convert_weights(alpha, beta, style_weights, style_shapes=shapes,
                                content_shape=content_shape, source=source, target=target)
    if labels is None:
        labels = (source, target)
    if len(labels) != 2 or not all(isinstance(label, str) and label for label in labels):
        raise ValueError(f"labels must be two non-empty names (source, target), got {labels!r}")
    source, target = labels
    headers = ["layer", "n_C", "n_H*n_W", f"λ {source}", f"λ {target}", f"βλ {source}", f"βλ {target}"]
    rows = []
    for name, lam in style_weights.items():
        n_C, n_H, n_W = shapes[name][-3:]
        rows.append([name, n_C, n_H * n_W, float(lam), new.style_weights[name],
                     float(beta * lam), new.beta * new.style_weights[name]])
    table = format_table(headers, rows, digits)
    return (f"{table}\n"
            f"α: {alpha:.{digits}g} ({source})  ->  {new.alpha:.{digits}g} ({target})\n"
            f"β: {beta:.{digits}g} ({source})  ->  {new.beta:.{digits}g} ({target})")
