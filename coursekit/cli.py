"""Command line: ``python -m coursekit stylize CONTENT STYLE [STYLE ...] -o OUT [options]``.

Instructors also have ``exercises``, ``grade`` and ``nbgrader`` (see ``coursekit.grading.cli``).

Images are file paths, URLs or ``sample:NAME`` (see ``coursekit.samples.list_samples``).
Ctrl-C stops the optimisation and still saves the best image so far.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Sequence

from .grading.cli import add_commands, exercises, grade, nbgrader

__all__ = ["main", "build_parser"]


def _style_weights(text: str) -> dict[str, float]:
    """'relu1_1=0.2,relu2_1=0.2' -> {'relu1_1': 0.2, 'relu2_1': 0.2}."""
    weights = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"style weight {item!r} must look like relu1_1=0.2") from None
    return weights


def _sizes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"schedule {text!r} must be sizes like 64,128") from None


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"blend {text!r} must be numbers like 0.7,0.3") from None


def build_parser() -> argparse.ArgumentParser:
    from .nst.optimize import METHODS
    from .nst.transfer import COLOR_MODES, PRECISION_MODES, START_IMAGES, TransferSettings

    d = TransferSettings()
    parser = argparse.ArgumentParser(prog="python -m coursekit", description="coursekit command line")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("stylize", help="neural style transfer of CONTENT in the style of STYLE",
                       description="Minimise alpha J_content + beta sum_l lambda_l J_style^[l] (+ tv TV) over the pixels.")
    p.add_argument("content", help="content image: path, URL or sample:NAME")
    p.add_argument("styles", nargs="+", metavar="STYLE", help="style image(s): path, URL or sample:NAME")
    p.add_argument("-o", "--output", required=True, help="where to save the result (.png or .jpg)")
    p.add_argument("--size", type=int, default=d.size, help=f"longer side of the result in pixels (default {d.size})")
    p.add_argument("--steps", type=int, default=d.steps, help=f"loss evaluations per scale (default {d.steps})")
    p.add_argument("--alpha", type=float, default=d.alpha, help=f"content weight (default {d.alpha})")
    p.add_argument("--beta", type=float, default=d.beta, help=f"style weight (default {d.beta:g})")
    p.add_argument("--style-weights", type=_style_weights, default=dict(d.style_weights),
                   help="lambda per layer, e.g. relu1_1=0.2,relu2_1=0.2 (default: the paper's five rectified layers relu1_1..relu5_1 at 0.2; conv1_1.. reads the pre-ReLU variant)")
    p.add_argument("--content-layer", default=d.content_layer, help=f"default {d.content_layer}")
    p.add_argument("--init", choices=START_IMAGES, default=d.init)
    p.add_argument("--optimizer", choices=METHODS, default=d.method,
                   help=f"default {d.method}: bounded L-BFGS in torch; lbfgs: SciPy's L-BFGS-B; adam: clamped Adam")
    p.add_argument("--precision", choices=PRECISION_MODES, default="auto",
                   help="auto (default): a bfloat16 start where this machine runs bfloat16 1.5 times faster "
                        "(CPUs with AMX), measured once; float32: every evaluation in float32; bfloat16: always "
                        "the bfloat16 start. The result is always optimised and reported in float32")
    p.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    p.add_argument("--schedule", type=_sizes, default=(), help="coarser sizes to run first, e.g. 64,128")
    p.add_argument("--tv", type=float, default=d.tv_weight, help="total-variation weight")
    p.add_argument("--preserve-color", choices=[m for m in COLOR_MODES if m], default=None)
    p.add_argument("--blend", type=_floats, default=None, help="weights of several style images, e.g. 0.7,0.3")
    p.add_argument("--convention", default=d.convention, help="cost normalisation (paper, lecture, pytorch_tutorial, d2l, neural_style)")
    p.add_argument("--weights", default="imagenet", help="imagenet (default; falls back to random offline), random, or a .pth file")
    p.add_argument("--pooling", choices=("avg", "max"), default="avg")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_commands(sub)
    return parser


def _image(source: str):
    from .images import load_image
    from .samples import sample_image

    if source.startswith("sample:"):
        return sample_image(source.removeprefix("sample:"))
    return load_image(source)


def stylize_command(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from .images import save_image
    from .nst.transfer import StyleTransfer, TransferSettings, default_extractor

    content = _image(args.content)
    styles = [_image(s) for s in args.styles]
    settings = TransferSettings(
        alpha=args.alpha, beta=args.beta, style_weights=args.style_weights, content_layer=args.content_layer,
        init=args.init, method=args.optimizer, lr=args.lr, steps=args.steps, size=args.size,
        schedule=args.schedule, tv_weight=args.tv, preserve_color=args.preserve_color, style_blend=args.blend,
        convention=args.convention, seed=args.seed, precision=args.precision)
    weights = None if args.weights == "random" else args.weights
    engine = StyleTransfer(content, styles, default_extractor(weights=weights, pooling=args.pooling, seed=args.seed))
    if not engine.extractor.pretrained:
        print(f"note: RANDOM features ({engine.extractor.weights_source})", file=sys.stderr)
    total = args.steps * (1 + sum(1 for s in args.schedule if s < (args.size or 10**9)))
    stop = threading.Event()
    with tqdm(total=total, disable=args.quiet, unit="eval", desc="stylize") as bar:
        def progress(i, loss, image):
            bar.update(i - bar.n)
            bar.set_postfix(loss=f"{loss:.4g}")

        try:
            result = engine.run(settings, callback=progress, stop=stop)
        except KeyboardInterrupt:  # raised outside the optimiser (e.g. while computing targets)
            print("interrupted before the first evaluation; nothing to save", file=sys.stderr)
            return 130
    path = save_image(result.image, args.output)
    print(f"{result.message}; best loss {result.best_loss:.6g}; saved {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "stylize":
            return stylize_command(args)
        if args.command == "exercises":
            return exercises(args)
        if args.command == "grade":
            return grade(args)
        if args.command == "nbgrader":
            return nbgrader(args)
    except (ValueError, KeyError) as exc:  # bad input: one clear line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1
