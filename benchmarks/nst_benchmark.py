"""Speed of coursekit's style transfer against the PyTorch tutorial's algorithm, in one process.

    python benchmarks/nst_benchmark.py            # the full run (about 6 minutes on 2 cores)
    python benchmarks/nst_benchmark.py --quick    # smaller and shorter, for a smoke test

Both sides use the same seeded VGG19 weights (ImageNet when cached, else random), the same images
(astronaut as content, immunohistochemistry as style) and the same machine. Machines here are
noisy, so every figure is a ratio against the reference measured in the same process, with the
two sides interleaved.

1. Identical work: the tutorial's objective (its layers, weights 1e6/1, its normalisation), one
   forward + backward pass per evaluation, at the same size: milliseconds per evaluation and ratio.
2. Time to the tutorial's loss: the tutorial runs its 300 evaluations; coursekit with its best
   settings (bounded L-BFGS-B, channels-last) minimises the same objective; wall-time ratio to reach
   the loss the tutorial ends with (and the best loss it saw).
3. Slider change -> first refreshed preview at 128 px in lesson 04's panel (paper layers).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tutorial_nst as tut  # noqa: E402

from coursekit.models import FeatureExtractor, vgg19  # noqa: E402
from coursekit.models.features import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from coursekit.samples import sample_image  # noqa: E402
from coursekit.nst.costs import TUTORIAL_CONTENT_LAYER, TUTORIAL_STYLE_LAYERS  # noqa: E402
from coursekit.nst.transfer import StyleTransfer, TransferSettings, VGG19_CONV_LAYERS, default_extractor  # noqa: E402

TUTORIAL = TransferSettings(alpha=1.0, beta=1e6, style_weights=dict(TUTORIAL_STYLE_LAYERS),
                            content_layer=TUTORIAL_CONTENT_LAYER, convention="pytorch_tutorial")


def images(size: int):
    return sample_image("astronaut", size=(size, size)), sample_image("immunohistochemistry", size=(size, size))


def coursekit_engine(model, content, style, *, channels_last: bool) -> StyleTransfer:
    fx = FeatureExtractor(model, VGG19_CONV_LAYERS, pooling="max", channels_last=channels_last)
    return StyleTransfer(content, style, fx)


def identical_work(model, size: int, rounds: int, evals: int) -> dict[str, float]:
    content, style = images(size)
    tmodel, s_losses, c_losses = tut.get_style_model_and_losses(model.features, IMAGENET_MEAN, IMAGENET_STD,
                                                                style, content)
    tmodel.requires_grad_(False)
    x_tut = content.clone().requires_grad_(True)
    shape = (1, 3, size, size)
    ours = {}
    for label, cl in (("coursekit NCHW", False), ("coursekit (default layout)", True)):
        engine = coursekit_engine(model, content, style, channels_last=cl)
        ours[label] = engine.objective(TUTORIAL, shape)

    def ck_eval(loss_fn):
        x = content.clone().requires_grad_(True)
        total = loss_fn(x)["total"].sum()
        total.backward()
        return total.item()

    # The work is identical: both compute the same number on the same image.
    ref_value = tut.evaluation(tmodel, s_losses, c_losses, x_tut)
    for label, fn in ours.items():
        value = ck_eval(fn)
        assert abs(value - ref_value) <= 1e-3 * abs(ref_value), (label, value, ref_value)

    times: dict[str, list[float]] = {"tutorial": [], **{k: [] for k in ours}}
    for _ in range(rounds):  # interleaved, so drifts in machine load hit every side alike
        start = time.perf_counter()
        for _ in range(evals):
            tut.evaluation(tmodel, s_losses, c_losses, x_tut)
        times["tutorial"].append((time.perf_counter() - start) / evals)
        for label, fn in ours.items():
            start = time.perf_counter()
            for _ in range(evals):
                ck_eval(fn)
            times[label].append((time.perf_counter() - start) / evals)
    return {k: statistics.median(v) * 1000 for k, v in times.items()}


def time_to_loss(model, size: int, steps: int) -> dict[str, float]:
    content, style = images(size)
    record: list[tuple[float, float]] = []
    tut.run_style_transfer(model.features, IMAGENET_MEAN, IMAGENET_STD, content, style, content.clone(),
                           num_steps=steps, record=record)
    tut_seconds, final_loss = record[-1]
    best_loss = min(v for _, v in record)

    engine = coursekit_engine(model, content, style, channels_last=True)
    reached: dict[str, float] = {}
    start = time.perf_counter()

    def callback(i, loss, image):
        now = time.perf_counter() - start
        for name, target in (("final", final_loss), ("best", best_loss)):
            if name not in reached and loss <= target:
                reached[name] = now

    engine.objective(TUTORIAL, engine.output_shape(None))  # targets, as the tutorial's model build does
    start = time.perf_counter()
    result = engine.run(TUTORIAL, size=None, steps=steps, callback=callback)
    return {"tutorial_seconds": tut_seconds, "tutorial_evals": len(record), "tutorial_final_loss": final_loss,
            "tutorial_best_loss": best_loss, "coursekit_best_loss": result.best_loss,
            "coursekit_seconds_to_final": reached.get("final", float("nan")),
            "coursekit_seconds_to_best": reached.get("best", float("nan"))}


def slider_to_preview(size: int, repeats: int) -> list[float]:
    from coursekit.widgets.nst_panel import StyleTransferPanel

    content, style = images(size)
    panel = StyleTransferPanel(default_extractor(), {"content": content}, {"style": style},
                               settings=TransferSettings(size=size, steps=5), threaded=False)
    panel.run()  # first run: targets computed once, as when the lesson's panel first appears
    delays = []
    changes = [("beta", 3e4), ("alpha", 2.0), ("beta", 1e5), ("alpha", 0.5)]
    for name, value in changes[:repeats]:
        getattr(panel, name).value = value  # the observer re-runs, warm-started
        delays.append(panel.timings["first_preview"])
    panel.lambdas["relu1_1"].value = 0.5
    delays.append(panel.timings["first_preview"])
    return delays


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="128 px, 60 evaluations: a smoke test")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None, help="the tutorial's num_steps (default 300)")
    args = parser.parse_args()
    size = args.size or (128 if args.quick else 256)
    steps = args.steps or (60 if args.quick else 300)
    torch.manual_seed(0)
    model = vgg19(weights="imagenet")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; weights: {model.weights_source}")

    per_eval = identical_work(model, size, rounds=3 if args.quick else 5, evals=2 if args.quick else 4)
    print(f"\n1. Identical work at {size} px (tutorial layers and weights), ms per evaluation:")
    for label, ms in per_eval.items():
        print(f"   {label:<26} {ms:8.1f} ms   ratio {ms / per_eval['tutorial']:.2f}")

    t = time_to_loss(model, size, steps)
    print(f"\n2. Time to the tutorial's loss at {size} px:")
    print(f"   tutorial: {t['tutorial_evals']} evaluations in {t['tutorial_seconds']:.1f} s, final loss "
          f"{t['tutorial_final_loss']:.5g} (best seen {t['tutorial_best_loss']:.5g})")
    print(f"   coursekit (L-BFGS-B, default extractor layout): reached the final loss in {t['coursekit_seconds_to_final']:.1f} s "
          f"-> ratio {t['coursekit_seconds_to_final'] / t['tutorial_seconds']:.3f}; the best loss in "
          f"{t['coursekit_seconds_to_best']:.1f} s -> ratio {t['coursekit_seconds_to_best'] / t['tutorial_seconds']:.3f}; "
          f"its own best after {steps} evaluations {t['coursekit_best_loss']:.5g}")

    delays = slider_to_preview(128, repeats=2 if args.quick else 4)
    print("\n3. Slider change -> first refreshed preview at 128 px (paper layers, warm start):")
    print(f"   median {statistics.median(delays):.2f} s, max {max(delays):.2f} s over {len(delays)} changes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
