"""Offline quality study: which random-weight VGG19 choices give the least noisy textures and transfers.

    COURSEKIT_OFFLINE=1 python benchmarks/nst_offline_quality.py               # the full study
    COURSEKIT_OFFLINE=1 python benchmarks/nst_offline_quality.py --quick       # a smoke run
    COURSEKIT_OFFLINE=1 python benchmarks/nst_offline_quality.py --threads 1   # on cores shared with other jobs

About 10,600 L-BFGS evaluations in all (8,600 at 64 px, 2,000 at 128 px; --quick: 1,800 at 64 px). A
forward and backward pass to relu5_1 took 33 ms (64 px) and 90 ms (128 px) with 2 threads on free
cores, so about 8-9 minutes (--quick about 1.5): an estimate. Timed full runs, on 2 cores shared
with other jobs, took 18 and 22 minutes with --threads 1 (two torch threads fighting other jobs for the
cores were 2-10 times slower).

Offline, every style-transfer figure of the course comes from a seeded random VGG19. Random features
carry texture (He, Wang & Hopcroft, NeurIPS 2016; Ustyuzhaninov et al., ICLR 2017), but deep random
layers also let through, or create, pixel noise. This script varies one choice of the random network
at a time, measures the results and prints a table; ``--out`` (default benchmarks/offline_quality/)
receives one PNG per study and results.csv.

Choices (each study changes one of them from the current offline default ``default``: rectified
responses relu*_1, one rescale factor per layer, average pooling, torchvision's He-normal init):

- ``conv``: raw convolution outputs conv1_1..conv5_1 (content conv4_2) instead of relu1_1..relu5_1 (relu4_2);
- ``filter`` / ``no-rescale``: Gatys' per-filter rescaling (each filter's mean activation over sample
  photos is 1) or none, instead of one factor per layer (``coursekit.models.rescale``);
- ``max-pool``: max instead of average pooling;
- ``zero-mean``: every random filter made zero-mean and unit-norm before the rescaling (a filter with
  zero mean does not respond to flat colour, so depth sees edges and texture, not brightness);
- ``balanced``: He et al.'s automatic weighting: lambda^[l] = 1 / (L J^[l](start)), so that every style
  layer starts with the same share of the cost, instead of lambda^[l] = 1/L;
- image size 64 vs 128 px and 50 / 100 / 200 L-BFGS evaluations (snapshots of one 200-evaluation run:
  L-BFGS-B's iterates do not depend on the budget, and the best image so far is kept, like
  ``coursekit.nst.optimize``);
- a combination of the choices that each helped on their own.

Measures (all network-independent, so a random network cannot grade itself; images are compared at
the same size; lower is better for every column but ``hf``, where 1.0 is best):

- ``hf``, noise ratio: share of the (Hann-windowed, mean-free) power spectrum above half the Nyquist
  frequency (radial frequency > 0.25 cycles/px), of the result divided by that of the style image (for
  a transfer: by the larger of the content's and the style's). 1.0 = as much fine detail as the
  reference, >> 1 = pixel noise a reference does not have, < 1 = blurrier. Pixel noise is exactly power
  near Nyquist, which painterly strokes, edges and glass panes have little of.
  Averaged over styles as a geometric mean.
- ``spec``: distance of radially averaged log power spectra, mean |log10 P_result - log10 P_style|
  over 10 log-spaced frequency bands (decades). A texture statistic of a different kind from a Gram
  matrix: it says whether structures of every scale, from strokes to panes, have the style's contrast.
- ``colour``: total-variation distance of 8x8x8-bin RGB histograms, in [0, 1]: the palette.
  For a transfer, spec and colour (to the style) measure how far the style was taken: lower = more
  stylised, never 0 since the content stays.
- ``left``: the style cost J_style left at the end, divided by J_style at the start (noise for a
  texture, the content image for a transfer), measured in the run's own network: did the optimiser get
  there. Not comparable in absolute terms across networks, only as a reduction.
- ``s/run``: wall seconds per synthesis or transfer (the machine may be shared; same process, same
  order, so compare within the table).

For scale, study 1 also measures each style image with Gaussian noise of sigma 0.1 added (hf about 2-5,
spec 0.1-0.3, colour about 0.5-0.9) and blurred by a 3x3 box (hf about 0.05, spec about 0.5).

Studies: (1) textures at 64 px, 100 evaluations, every single choice; (2) the default, the best single
choice and the combination at 50 / 100 / 200 evaluations, and the default and the winner at 128 px;
(3) transfers (astronaut/brush_strokes, chelsea/swirls, astronaut/stripes_orange) with the default and
the winner, each at lesson 04's beta = 1e4 and at the beta (1e3 for the default, 1e5 for the winner)
that moves it towards the other's style strength, since a network's scale changes what a given beta
does. Last, each layer's share of J_style at the start shows how much depth counts in each network,
and a check that "no rescaling" is only a re-weighting of the layers (lambda^[l] times k_l^4).

Winner rule: rank every choice on |log2 hf|, spec and colour, averaged over styles and both layer
sets of the texture study, and sum the ranks (unit-free); the choices that beat the default are
combined, and the winner among default, best single choice and combination is the best on the same
rank sum at 64 px, paper layers, 100 evaluations. Layer sets: the paper's five layers up to
relu5_1 (lambda 1/5), and the deep layers alone (relu4_1, relu5_1, lambda 1/2), where random networks
are noisiest. Seeded and deterministic: network seed 0 for even-numbered styles and 1 for odd ones,
so a conclusion holds for more than one random draw; noise seed 0.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from coursekit.models.features import FeatureExtractor
from coursekit.models.zoo import get_model
from coursekit.nst.texture import synthesize_texture
from coursekit.nst.transfer import TransferSettings, stylize
from coursekit.samples import sample_image

STYLES = ("brush_strokes", "swirls", "mosaic", "stripes_orange")
PAIRS = (("astronaut", "brush_strokes"), ("chelsea", "swirls"), ("astronaut", "stripes_orange"))
# Layer names spelled out here (not imported), so the study does not move when constants are renamed.
PAPER = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
DEEP = ("relu4_1", "relu5_1")
CONTENT = "relu4_2"
BETA = 1e4  # lesson 04's style weight (alpha = 1, paper convention)
HALF_NYQUIST = 0.25  # cycles per pixel


# ------------------------------------------------------------------ the choices
@dataclass(frozen=True)
class Choice:
    """One random-network set-up. ``features`` "relu" reads relu*_1, "conv" reads conv*_1."""

    name: str
    features: str = "relu"
    rescale: str | bool = "layer"
    pooling: str = "avg"
    init: str = "he"  # "he": torchvision's N(0, 2/fan_out); "zero-mean": each filter zero-mean, unit-norm
    balanced: bool = False

    def layers(self, names: tuple[str, ...]) -> tuple[str, ...]:
        return names if self.features == "relu" else tuple(n.replace("relu", "conv") for n in names)


DEFAULT = Choice("default")
SINGLE = (
    DEFAULT,
    Choice("conv", features="conv"),
    Choice("filter", rescale="filter"),
    Choice("no-rescale", rescale=False),
    Choice("max-pool", pooling="max"),
    Choice("zero-mean", init="zero-mean"),
    Choice("balanced", balanced=True),
)


def zero_mean_unit_norm_(model: torch.nn.Module) -> None:
    """Make every conv filter (C_in, k, k) zero-mean and unit-norm, in place; biases stay 0."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                w = m.weight - m.weight.mean(dim=(1, 2, 3), keepdim=True)
                m.weight.copy_(w / w.flatten(1).norm(dim=1).view(-1, 1, 1, 1))


def build_extractor(choice: Choice, seed: int) -> FeatureExtractor:
    """A random VGG19 (weights=None: no download is tried) read at every layer a study uses."""
    model = get_model("vgg19", weights=None, seed=seed)
    if choice.init == "zero-mean":
        zero_mean_unit_norm_(model)
    layers = choice.layers(PAPER + (CONTENT,))
    return FeatureExtractor(model, layers, pooling=choice.pooling, arch="vgg19", rescale=choice.rescale,
                            channels_last=True)


class Extractors:
    """Builds each (choice, seed) network once."""

    def __init__(self) -> None:
        self._built: dict[tuple, FeatureExtractor] = {}

    def __call__(self, choice: Choice, seed: int) -> FeatureExtractor:
        key = (replace(choice, name="", balanced=False), seed)  # balancing does not change the network
        if key not in self._built:
            self._built[key] = build_extractor(choice, seed)
        return self._built[key]


# ------------------------------------------------------------------ the measures
def _power(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(1, 3, H, W) -> power spectrum (H, W) summed over RGB, and radial frequency (H, W) in cycles/px."""
    a = x[0].detach().double().cpu().numpy()
    a = a - a.mean(axis=(1, 2), keepdims=True)
    h, w = a.shape[1:]
    window = np.outer(np.hanning(h), np.hanning(w))  # no false edges where the image wraps around
    power = (np.abs(np.fft.fft2(a * window)) ** 2).sum(axis=0)
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij"))
    return power, radius


def hf_share(x: torch.Tensor) -> float:
    """Share of the image's power above half the Nyquist frequency."""
    power, radius = _power(x)
    return float(power[radius > HALF_NYQUIST].sum() / max(power[radius > 0].sum(), 1e-30))


def spectrum_distance(x: torch.Tensor, ref: torch.Tensor, bands: int = 10) -> float:
    """Mean |log10| difference of radially averaged power in ``bands`` log-spaced bands (decades)."""
    (px, radius), (pr, _) = _power(x), _power(ref)
    edges = np.geomspace(1.0 / min(x.shape[-2:]), 0.5 * math.sqrt(2) + 1e-9, bands + 1)
    gaps = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        ring = (radius >= lo) & (radius < hi)
        if ring.any():
            gaps.append(abs(math.log10(px[ring].mean() + 1e-12) - math.log10(pr[ring].mean() + 1e-12)))
    return float(np.mean(gaps))


def colour_distance(x: torch.Tensor, ref: torch.Tensor, bins: int = 8) -> float:
    """Total-variation distance of the RGB histograms (bins^3 cells), in [0, 1]."""

    def hist(image: torch.Tensor) -> np.ndarray:
        q = (image[0].detach().clamp(0, 1).cpu().numpy() * bins).astype(int).clip(0, bins - 1)
        counts = np.bincount(((q[0] * bins + q[1]) * bins + q[2]).ravel(), minlength=bins**3)
        return counts / counts.sum()

    return float(0.5 * np.abs(hist(x) - hist(ref)).sum())


# ------------------------------------------------------------------ runs
@dataclass
class Run:
    """One synthesis or transfer: what was run, its result images (by evaluations) and measures."""

    study: str
    choice: str
    kind: str  # "texture" or "transfer"
    layer_set: str
    size: int
    evals: int
    style: str
    content: str = ""
    seconds: float = 0.0
    left: float = float("nan")
    image: torch.Tensor | None = field(default=None, repr=False)
    hf: float = float("nan")
    spec: float = float("nan")
    colour: float = float("nan")
    stopped: str = "budget"  # or why the optimiser ended early ("diverged", "converged")


class Snapshots:
    """A callback keeping the best image so far, copied at the given evaluation counts."""

    def __init__(self, at: tuple[int, ...]) -> None:
        self.at, self.best, self.best_loss, self.taken = set(at), None, float("inf"), {}

    def __call__(self, evaluation: int, loss: float, image: torch.Tensor) -> None:
        if loss < self.best_loss:
            self.best_loss, self.best = loss, image.clamp(0, 1).clone()
        if evaluation in self.at:
            self.taken[evaluation] = (self.best, self.best_loss)


def balanced_weights(layers: tuple[str, ...], first_costs: dict[str, float]) -> dict[str, float]:
    """lambda^[l] = 1 / (L J^[l](start)): every layer starts with the same share of J_style."""
    return {name: 1.0 / (len(layers) * max(first_costs[name], 1e-30)) for name in layers}


def texture_runs(extractors: Extractors, choice: Choice, style_name: str, seed: int, layer_set: str, size: int,
                 evals: tuple[int, ...], study: str) -> list[Run]:
    """Synthesise ``style_name``'s texture; one Run per evaluation count in ``evals`` (one optimisation)."""
    fx = extractors(choice, seed)
    style = sample_image(style_name, size=(size, size))
    layers = choice.layers(PAPER if layer_set == "paper" else DEEP)
    weights = {name: 1.0 / len(layers) for name in layers}
    if choice.balanced:
        first = synthesize_texture(fx, style, {name: 1.0 for name in layers}, steps=1, seed=0)
        weights = balanced_weights(layers, {name: first.history[f"style/{name}"][0] for name in layers})
    snaps = Snapshots(evals)
    started = time.perf_counter()
    result = synthesize_texture(fx, style, weights, steps=max(evals), seed=0, callback=snaps)
    seconds = time.perf_counter() - started
    start_loss = result.history["total"][0]
    runs = []
    for n in sorted(evals):
        image, loss = snaps.taken.get(n, (result.image, result.best_loss))
        run = Run(study, choice.name, "texture", layer_set, size, n, style_name, seconds=seconds * n / max(evals),
                  left=loss / start_loss, image=image, stopped=result.stopped if n > result.evaluations else "budget")
        run.hf = hf_share(image) / hf_share(style)
        run.spec, run.colour = spectrum_distance(image, style), colour_distance(image, style)
        runs.append(run)
    return runs


def beta_label(beta: float) -> str:
    return f"{beta:.0e}".replace("e+0", "e")  # 1e4


def transfer_run(extractors: Extractors, choice: Choice, content_name: str, style_name: str, seed: int,
                 size: int, evals: int, study: str, beta: float = BETA) -> Run:
    """Gatys' transfer (alpha 1, paper convention, start from the content) with ``choice``."""
    fx = extractors(choice, seed)
    content = sample_image(content_name, size=(size, size))
    style = sample_image(style_name, size=(size, size))
    layers = choice.layers(PAPER)
    settings = TransferSettings(alpha=1.0, beta=beta, style_weights={name: 1.0 / len(layers) for name in layers},
                                content_layer=choice.layers((CONTENT,))[0], init="content", method="lbfgs",
                                steps=evals, size=size, convention="paper", seed=0)
    if choice.balanced:  # J^[l] at the start, the content image, sets lambda^[l]; beta keeps J_style's start
        first = stylize(fx, content, style, replace(settings, steps=1))
        costs = {name: first.history[f"style/{name}"][0] for name in layers}
        weights = balanced_weights(layers, costs)
        scale = first.history["style"][0] / sum(weights[n] * costs[n] for n in layers)
        settings = replace(settings, style_weights={n: w * scale for n, w in weights.items()})
    result = stylize(fx, content, style, settings)
    best = int(np.argmin(result.history["total"]))
    run = Run(study, choice.name, "transfer", "paper", size, evals, style_name, content_name, result.seconds,
              left=result.history["style"][best] / result.history["style"][0], image=result.image,
              stopped=result.stopped)
    run.hf = hf_share(result.image) / max(hf_share(content), hf_share(style))
    run.spec, run.colour = spectrum_distance(result.image, style), colour_distance(result.image, style)
    return run


def reference_runs(styles: tuple[str, ...], size: int) -> dict[str, list[Run]]:
    """The measures' scale: each style image with Gaussian noise (sigma 0.1) added, and blurred (3x3 box)."""
    refs: dict[str, list[Run]] = {}
    for i, name in enumerate(styles):
        style = sample_image(name, size=(size, size))
        noise = torch.randn(style.shape, generator=torch.Generator().manual_seed(i))
        for label, image in (("ref: style + noise 0.1", (style + 0.1 * noise).clamp(0, 1)),
                             ("ref: style, 3x3 blur", torch.nn.functional.avg_pool2d(style, 3, 1, 1,
                                                                                     count_include_pad=False))):
            run = Run("reference", label, "reference", "", size, 0, name, image=image, left=1.0)
            run.hf = hf_share(image) / hf_share(style)
            run.spec, run.colour = spectrum_distance(image, style), colour_distance(image, style)
            refs.setdefault(label, []).append(run)
    return refs


def layer_shares(extractors: Extractors, choices: list[Choice], style_name: str) -> str:
    """Each paper layer's share of lambda^[l] J^[l] at the start of a 64 px texture: how much depth counts."""
    lines = [f"\nShare of J_style per layer at the start (noise), paper layers, {style_name} at 64 px, seed 0:"]
    for choice in choices:
        layers = choice.layers(PAPER)
        first = synthesize_texture(extractors(choice, 0), sample_image(style_name, size=(64, 64)),
                                   {name: 1.0 / len(layers) for name in layers}, steps=1, seed=0)
        costs = [first.history[f"style/{name}"][0] for name in layers]
        lines.append(f"- {choice.name}: " + ", ".join(f"{n} {c / sum(costs):.1e}" for n, c in zip(layers, costs)))
    return "\n".join(lines)


def rescale_as_weights(extractors: Extractors, style_name: str, evals: int) -> str:
    """Check that no rescaling is the per-layer-rescaled network with lambda^[l] scaled by k_l^4.

    Zero biases, ReLU(c x) = c ReLU(x) and linear average pooling make every unrescaled feature map
    k_l times the rescaled one, so J^[l] scales by k_l^4 and the optimiser (which divides J by its first
    gradient) sees the same problem. Synthesises both ways from the same noise and compares.
    """
    plain, scaled = extractors(Choice("no-rescale", rescale=False), 0), extractors(DEFAULT, 0)
    style = sample_image(style_name, size=(64, 64))
    probe = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = plain(probe, list(PAPER)), scaled(probe, list(PAPER))
    k = {n: float(a[n].norm() / b[n].norm()) for n in PAPER}
    spread = max(float((a[n] - k[n] * b[n]).abs().max() / a[n].abs().max()) for n in PAPER)
    x = synthesize_texture(plain, style, {n: 1 / len(PAPER) for n in PAPER}, steps=evals, seed=0).image
    y = synthesize_texture(scaled, style, {n: k[n] ** 4 / len(PAPER) for n in PAPER}, steps=evals, seed=0).image
    return (f"\nNo rescaling = per-layer rescaling with lambda^[l] * k_l^4: k_l = "
            + ", ".join(f"{n} {k[n]:.3g}" for n in PAPER)
            + f" (features proportional to {spread:.0e}); {style_name} textures after {evals} evaluations: "
            f"hf {hf_share(x) / hf_share(style):.2f} vs {hf_share(y) / hf_share(style):.2f}, "
            f"max pixel difference {float((x - y).abs().max()):.3f} (float rounding through L-BFGS).")


# ------------------------------------------------------------------ summaries
def summarise(runs: list[Run]) -> dict[str, float]:
    """Geometric mean of hf, arithmetic means of the rest, over the runs given (styles, layer sets)."""
    return {
        "hf": float(np.exp(np.mean([np.log(r.hf) for r in runs]))),
        "abs_log2_hf": float(np.mean([abs(np.log2(r.hf)) for r in runs])),
        "spec": float(np.mean([r.spec for r in runs])),
        "colour": float(np.mean([r.colour for r in runs])),
        "left": float(np.exp(np.mean([np.log(max(r.left, 1e-12)) for r in runs]))),
        "seconds": float(np.mean([r.seconds for r in runs])),
        "n": len(runs),
        "early": sum(r.stopped != "budget" for r in runs),
    }


def rank_sum(summaries: dict[str, dict[str, float]]) -> dict[str, float]:
    """Sum over |log2 hf|, spec and colour of each choice's rank (1 = best; ties share)."""
    total = {name: 0.0 for name in summaries}
    for key in ("abs_log2_hf", "spec", "colour"):
        values = sorted(s[key] for s in summaries.values())
        for name, s in summaries.items():
            positions = [i + 1 for i, v in enumerate(values) if v == s[key]]
            total[name] += float(np.mean(positions))
    return total


def table(rows: list[tuple[str, dict[str, float]]], title: str, extra: dict[str, float] | None = None) -> str:
    lines = [f"\n{title}", "| choice | hf (1 = style) | spec | colour | left | s/run | runs (stopped early) |" +
             (" rank sum |" if extra else ""), "|---|---|---|---|---|---|---|" + ("---|" if extra else "")]
    for label, s in rows:
        early = f" ({s['early']})" if s["early"] else ""
        rank = "" if extra is None else f" {extra[label]:.1f} |" if label in extra else " |"
        lines.append(f"| {label} | {s['hf']:.2f} | {s['spec']:.3f} | {s['colour']:.3f} | {s['left']:.2g} | "
                     f"{s['seconds']:.1f} | {s['n']}{early} |" + rank)
    return "\n".join(lines)


# ------------------------------------------------------------------ figures
def save_grid(path: Path, columns: list[str], rows: list[tuple[str, list[torch.Tensor]]], title: str,
              cell: int) -> int:
    """A grid of images (row label, one image per column), drawn at ``cell`` px and stored as 256-colour PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    dpi, label_w, head_h = 100, 90, 44
    width = (label_w + cell * len(columns)) / dpi
    height = (head_h + cell * len(rows)) / dpi
    fig = plt.figure(figsize=(width, height), dpi=dpi)
    fig.text(0.5, 1 - 10 / (height * dpi), title, ha="center", va="center", fontsize=7)
    for c, name in enumerate(columns):
        fig.text((label_w + cell * (c + 0.5)) / (width * dpi), 1 - 30 / (height * dpi), name, ha="center",
                 va="center", fontsize=5)
    for r, (label, images) in enumerate(rows):
        bottom = 1 - (head_h + cell * (r + 1)) / (height * dpi)
        wrapped = label.replace(": ", ":\n").replace(" + ", " +\n")
        fig.text(4 / (width * dpi), bottom + cell / 2 / (height * dpi), wrapped, ha="left", va="center", fontsize=5)
        for c, image in enumerate(images):
            ax = fig.add_axes(((label_w + cell * c) / (width * dpi), bottom, cell / (width * dpi) * 0.97,
                               cell / (height * dpi) * 0.97))
            ax.imshow(image[0].permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
            ax.set_axis_off()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.open(buffer).convert("RGB").quantize(256).save(path, optimize=True)
    return path.stat().st_size


# ------------------------------------------------------------------ the studies
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "offline_quality")
    parser.add_argument("--quick", action="store_true", help="2 styles, 64 px, fewer evaluations (1-2 minutes)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's choice); 1 is faster when other jobs share the cores")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)  # nothing here draws from it; set so that nothing can differ between runs
    styles = STYLES[:2] if args.quick else STYLES
    evals = 50 if args.quick else 100
    sizes = (64,) if args.quick else (64, 128)
    extractors = Extractors()
    all_runs: list[Run] = []
    report: list[str] = []
    started = time.perf_counter()

    # 1. Textures at 64 px: every single choice, both layer sets.
    study1: dict[str, list[Run]] = {}
    for choice in SINGLE:
        for layer_set in ("paper", "deep"):
            for i, style in enumerate(styles):
                runs = texture_runs(extractors, choice, style, i % 2, layer_set, 64, (evals,), "1-textures")
                study1.setdefault(choice.name, []).extend(runs)
        print(f"  textures with {choice.name}: {time.perf_counter() - started:.0f} s", flush=True)
    summaries1 = {name: summarise(runs) for name, runs in study1.items()}
    ranks = rank_sum(summaries1)
    references = {label: summarise(runs) for label, runs in reference_runs(styles, 64).items()}
    report.append(table([(name, summaries1[name]) for name in study1] + list(references.items()),
                        f"Study 1: textures at 64 px, {evals} evaluations, {len(styles)} styles x 2 layer sets "
                        "(paper relu1_1..relu5_1, deep relu4_1+relu5_1)", ranks))
    for layer_set in ("paper", "deep"):
        report.append(table([(name, summarise([r for r in runs if r.layer_set == layer_set]))
                             for name, runs in study1.items()], f"Study 1, {layer_set} layers only"))
    all_runs += [r for runs in study1.values() for r in runs]
    save_grid(args.out / "1_textures_64px.png", [f"{s}\n{sl}" for sl in ("paper", "deep") for s in styles],
              [("style", [sample_image(s, size=(64, 64)) for _ in ("paper", "deep") for s in styles])]
              + [(name, [r.image for r in runs]) for name, runs in study1.items()],
              f"Textures at 64 px, {evals} L-BFGS evaluations, random VGG19", 64)

    # The combination: every single choice that beat the default on the rank sum, applied together (where
    # two change the same setting, the better-ranked one wins).
    better = sorted((c for c in SINGLE[1:] if ranks[c.name] < ranks[DEFAULT.name]), key=lambda c: ranks[c.name])
    best_single = better[0] if better else DEFAULT
    candidates = [DEFAULT] + better[:1]
    if len(better) > 1:
        combo = DEFAULT
        for c in reversed(better):  # the best-ranked one applied last
            combo = replace(combo, **{k: getattr(c, k) for k in ("features", "rescale", "pooling", "init", "balanced")
                                      if getattr(c, k) != getattr(DEFAULT, k)})
        candidates.append(replace(combo, name="combined: " + " + ".join(c.name for c in better)))
    report.append("\nSingle choices better than the default (rank sum): "
                  + (", ".join(f"{c.name} ({ranks[c.name]:.1f})" for c in better) or "none")
                  + f"; default {ranks[DEFAULT.name]:.1f}.")

    # 2. Evaluations at 64 px for the candidates (paper layers); the winner also at 128 px (first 2 styles).
    checkpoints = (25, 50) if args.quick else (50, 100, 200)
    study2: dict[tuple[str, int, int], list[Run]] = {}

    def size_study(choice: Choice, size: int, names: tuple[str, ...]) -> None:
        for i, style in enumerate(names):
            for run in texture_runs(extractors, choice, style, i % 2, "paper", size, checkpoints, "2-size-evals"):
                study2.setdefault((choice.name, size, run.evals), []).append(run)
        print(f"  evaluations with {choice.name} at {size} px: {time.perf_counter() - started:.0f} s", flush=True)

    for choice in candidates:
        size_study(choice, 64, styles)
    at = evals if evals in checkpoints else checkpoints[-1]
    s2 = {c.name: summarise(study2[(c.name, 64, at)]) for c in candidates}
    ranks2 = rank_sum(s2)
    winner = min(candidates, key=lambda c: (ranks2[c.name], c != DEFAULT))
    report.append(f"\nCandidates at 64 px, paper layers, {at} evaluations (rank sum): "
                  + ", ".join(f"{c.name} {ranks2[c.name]:.1f}" for c in candidates) + f"; winner: {winner.name}.")
    if 128 in sizes:
        for choice in dict.fromkeys([DEFAULT, winner]):
            size_study(choice, 128, styles[:2])
    report.append(table([(f"{name}, {size} px, {n} evals", summarise(runs))
                         for (name, size, n), runs in study2.items()],
                        f"Study 2: textures, paper layers, by evaluations; 64 px: {len(styles)} styles, "
                        f"128 px: {', '.join(styles[:2])}"))
    all_runs += [r for runs in study2.values() for r in runs]
    show = styles[:2]
    save_grid(args.out / "2_size_evaluations.png", [f"{s}\n{n} evals" for s in show for n in checkpoints],
              [(f"{name} {size}px", [next(r.image for r in study2[(name, size, n)] if r.style == s)
                                      for s in show for n in checkpoints])
               for (name, size) in dict.fromkeys((name, size) for name, size, _ in study2)],
              "Textures (paper layers) after " + " / ".join(map(str, checkpoints)) + " evaluations", 96)

    # 3. Transfers: the default against the winner (or, if the default won, the best other choice). A
    # network's scale sets how strongly beta pulls towards the style, so each finalist also runs at the
    # beta that moves it towards the other's style strength: noise is compared at equal style strength.
    runner_up = winner if winner != DEFAULT else min(SINGLE[1:], key=lambda c: ranks[c.name])
    pairs = PAIRS[:1] if args.quick else PAIRS
    variants = [(DEFAULT, BETA), (DEFAULT, BETA / 10), (runner_up, BETA), (runner_up, BETA * 10)]
    study3: dict[tuple[str, float, int], list[Run]] = {}
    for choice, beta in variants:
        for size in sizes:
            for i, (content, style) in enumerate(pairs):
                run = transfer_run(extractors, choice, content, style, i % 2, size, evals, "3-transfers", beta)
                study3.setdefault((choice.name, beta, size), []).append(run)
        print(f"  transfers with {choice.name}, beta {beta_label(beta)}: {time.perf_counter() - started:.0f} s",
              flush=True)
    report.append(table([(f"{name}, beta {beta_label(beta)}, {size} px", summarise(runs))
                         for (name, beta, size), runs in sorted(study3.items(), key=lambda kv: kv[0][2])],
                        f"Study 3: transfers, {evals} evaluations, alpha 1, start: content, "
                        f"pairs {', '.join(c + '/' + s for c, s in pairs)}"))
    all_runs += [r for runs in study3.values() for r in runs]
    save_grid(args.out / "3_transfers.png", [f"{c}/{s}\n{size} px" for size in sizes for c, s in pairs],
              [("style", [sample_image(s, size=(size, size)) for size in sizes for _, s in pairs])]
              + [(f"{c.name}\nbeta {beta_label(beta)}",
                  [r.image for size in sizes for r in study3[(c.name, beta, size)]]) for c, beta in variants],
              f"Transfers, {evals} evaluations", 96)
    report.append(layer_shares(extractors, [DEFAULT, runner_up], styles[0]))
    report.append(rescale_as_weights(extractors, styles[0], evals))

    with open(args.out / "results.csv", "w", newline="") as f:
        writer = csv.writer(f)
        keys = ("study", "choice", "kind", "layer_set", "size", "evals", "style", "content", "seconds", "left",
                "hf", "spec", "colour", "stopped")
        writer.writerow(keys)
        for r in all_runs:
            writer.writerow([f"{v:.4g}" if isinstance(v, float) else v for v in (getattr(r, k) for k in keys)])
    print("\n".join(report))
    pngs = sorted(args.out.glob("*.png"))
    print(f"\nfigures: {', '.join(p.name for p in pngs)} ({sum(p.stat().st_size for p in pngs) / 1e6:.2f} MB); "
          f"total {time.perf_counter() - started:.0f} s; torch threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
