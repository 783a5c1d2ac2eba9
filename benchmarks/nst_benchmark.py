"""Speed of coursekit's style transfer against the PyTorch tutorial's algorithm, in one process.

    python benchmarks/nst_benchmark.py            # the full run (about 6 minutes on 2 cores)
    python benchmarks/nst_benchmark.py --quick    # smaller and shorter, for a smoke test
    python benchmarks/nst_benchmark.py --device cuda --size 512   # both sides on a GPU

Both sides use the same seeded VGG19 weights (ImageNet when cached, else random), the same images
(astronaut as content, immunohistochemistry as style) and the same machine. Machines here are
noisy, so every figure is a ratio against the reference measured in the same process, with the
two sides interleaved.

1. Identical work: the tutorial's objective (its layers, weights 1e6/1, its normalisation), one
   forward + backward pass per evaluation, at the same size: milliseconds per evaluation and ratio.
2. Time to the tutorial's loss: the tutorial runs its 300 evaluations; coursekit with its default
   settings (projected L-BFGS in the box [0, 1], the layout measured fastest, float32), with the
   precision the panel and the command line use ("auto": a bfloat16 start where it is measured
   1.5 times faster, as on CPUs with AMX; only its float32 evaluations count), and with SciPy's
   L-BFGS-B, minimises the same objective; wall-time ratio to reach the best loss the tutorial saw
   (the headline) and the loss it ends with, and the milliseconds per evaluation inside the loop.
   ``--schedules`` adds the same race for other optimiser schedules (the history m, a
   coarse-to-fine start).
   2c (always) races precision='auto' on the paper's objective (lesson 04's defaults) to the loss
   float32 reaches in 100 evaluations.
3. Slider change -> first refreshed preview at 128 px in lesson 04's panel (paper layers).

Section 1 also measures the machine's ceiling in the same run (the objective's convolutions alone,
forward plus input gradient, in each layout), reports the fraction of it each side reaches, for the
tutorial's objective and the paper's, and where coursekit's evaluation spends its time by operator.
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import replace
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tutorial_nst as tut  # noqa: E402

from coursekit.models import FeatureExtractor, vgg19  # noqa: E402
from coursekit.models.features import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from coursekit.models.layout import fastest_layout, machine_key  # noqa: E402
from coursekit.samples import sample_image  # noqa: E402
from coursekit.nst.costs import TUTORIAL_CONTENT_LAYER, TUTORIAL_STYLE_LAYERS  # noqa: E402
from coursekit.nst.transfer import StyleTransfer, TransferSettings, VGG19_CONV_LAYERS, default_extractor  # noqa: E402

TUTORIAL = TransferSettings(alpha=1.0, beta=1e6, style_weights=dict(TUTORIAL_STYLE_LAYERS),
                            content_layer=TUTORIAL_CONTENT_LAYER, convention="pytorch_tutorial")


# what section 2 races: coursekit's defaults (float32 throughout), the precision the panel and the
# command line use ("auto": a bfloat16 start where this machine runs bfloat16 1.5 times faster),
# and SciPy's L-BFGS-B
RACED = {"coursekit (projected L-BFGS, the default)": {},
         "coursekit, precision='auto' (panel, CLI)": {"precision": "auto"},
         "coursekit with SciPy's L-BFGS-B": {"method": "lbfgs"}}


def images(size: int, device: torch.device | str = "cpu"):
    return (sample_image("astronaut", size=(size, size)).to(device),
            sample_image("immunohistochemistry", size=(size, size)).to(device))


def now(device: torch.device | str) -> float:
    """perf_counter once the device's queued work is done (a GPU runs asynchronously)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def coursekit_engine(model, content, style, *, channels_last: bool) -> StyleTransfer:
    fx = FeatureExtractor(model, VGG19_CONV_LAYERS, pooling="max", channels_last=channels_last)
    return StyleTransfer(content, style, fx)


def identical_work(model, size: int, rounds: int, evals: int) -> dict[str, float]:
    device = device_of(model)
    content, style = images(size, device)
    tmodel, s_losses, c_losses = tut.get_style_model_and_losses(model.features, IMAGENET_MEAN, IMAGENET_STD,
                                                                style, content)
    tmodel.requires_grad_(False)
    x_tut = content.clone().requires_grad_(True)
    shape = (1, 3, size, size)
    ours = {}
    for label, cl in (("coursekit NCHW", False), ("coursekit channels-last", True)):
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
        start = now(device)
        for _ in range(evals):
            tut.evaluation(tmodel, s_losses, c_losses, x_tut)
        times["tutorial"].append((now(device) - start) / evals)
        for label, fn in ours.items():
            start = now(device)
            for _ in range(evals):
                ck_eval(fn)
            times[label].append((now(device) - start) / evals)
    result = {k: statistics.median(v) * 1000 for k, v in times.items()}
    result["ceiling"] = conv_ceiling(tmodel, content)
    chosen = "coursekit channels-last" if fastest_layout(device=device) == "channels_last" else "coursekit NCHW"
    result["chosen"] = chosen
    result["profile"] = operator_profile(lambda: ck_eval(ours[chosen]), device)
    return result


def paper_objective(size: int, rounds: int, device: torch.device | str) -> dict[str, float]:
    """Lesson 04's defaults (the paper's rectified relu1_1 ... relu5_1 and relu4_2): ms per
    evaluation, and the ceiling of the convolutions its extractor runs."""
    content, style = images(size, device)
    fx = default_extractor(device=device)
    engine = StyleTransfer(content, style, fx)
    loss_fn = engine.objective(TransferSettings(size=size), (1, 3, size, size))

    def evaluate():
        x = content.clone().requires_grad_(True)
        loss_fn(x)["total"].sum().backward()

    evaluate()
    times = []
    for _ in range(rounds):
        start = now(device)
        evaluate()
        times.append(now(device) - start)
    return {"ms": statistics.median(times) * 1000, "ceiling": conv_ceiling(fx, content)}


def conv_ceiling(module: torch.nn.Module, x: torch.Tensor, rounds: int = 3) -> dict[str, float]:
    """The machine's ceiling for an objective: its convolutions alone (each at the input shape it
    sees when ``module`` runs on ``x``), forward plus the gradient with respect to their input, no
    weight gradient, in NCHW and in channels-last. Returns milliseconds per layout and the work in
    GFLOP (2 FLOPs per weight per output position, for the forward pass and again for the input
    gradient)."""
    convs: list[tuple[torch.nn.Conv2d, tuple[int, ...]]] = []
    hooks = [m.register_forward_hook(lambda m, i, o: convs.append((m, tuple(i[0].shape), tuple(o.shape))))
             for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        module(x)
    for h in hooks:
        h.remove()
    gflop = sum(2 * 2 * c.weight.numel() * out[2] * out[3] for c, _, out in convs) / 1e9
    device = x.device
    result = {"gflop": gflop}
    for layout, fmt in (("NCHW", torch.contiguous_format), ("channels-last", torch.channels_last)):
        layers = []
        for conv, shape, out in convs:
            c = torch.nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding)
            c.load_state_dict(conv.state_dict())
            c.requires_grad_(False)
            # the incoming gradient is made before the clock starts: filling it is not convolution work
            layers.append((c.to(device=device, memory_format=fmt),
                           torch.randn(shape, device=device).contiguous(memory_format=fmt).requires_grad_(True),
                           torch.ones(out, device=device).contiguous(memory_format=fmt)))
        times = []
        for _ in range(rounds + 1):  # the first round warms up
            start = now(device)
            for c, xin, g in layers:
                torch.autograd.grad(c(xin), xin, g)
            times.append(now(device) - start)
        result[layout] = statistics.median(times[1:]) * 1000
    return result


def operator_profile(fn, device: torch.device, top: int = 8) -> list[tuple[str, float]]:
    """Where one call of ``fn`` spends its time: the ``top`` operators by self time (CPU, or the
    GPU's kernels on a GPU), in %."""
    from torch.profiler import ProfilerActivity, profile

    gpu = device.type == "cuda"
    fn()  # warm
    with profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if gpu else [])) as prof:
        fn()
    key = "self_device_time_total" if gpu else "self_cpu_time_total"
    events = sorted(prof.key_averages(), key=lambda e: getattr(e, key), reverse=True)
    total = sum(getattr(e, key) for e in events) or 1
    return [(e.key, 100 * getattr(e, key) / total) for e in events[:top]]


def race(engine, settings: TransferSettings, steps: int, targets: dict[str, float]) -> dict[str, float]:
    """One run of ``settings`` on the tutorial's objective: seconds to each target loss, its own best
    loss, and the wall time per evaluation inside the optimiser's loop (the network's forward and
    backward pass plus the optimiser's own work)."""
    engine.objective(settings, engine.output_shape(None))  # targets, as the tutorial's model build does
    seen: list[tuple[int, float, float]] = []  # (evaluation, seconds, loss)
    start = time.perf_counter()
    result = engine.run(settings, size=None, steps=steps, callback=lambda i, v, x: seen.append(
        (i, time.perf_counter() - start, v)))
    seconds = time.perf_counter() - start
    # only float32 evaluations count: a bfloat16 start's losses approximate J (1-2 % low here)
    counted = [(i, t, v) for i, t, v in seen if i > result.low_precision]
    reached = {name: next(((i, t) for i, t, v in counted if v <= target), (0, float("nan")))
               for name, target in targets.items()}
    return {**{f"to_{name}": t for name, (_, t) in reached.items()},
            **{f"evaluations_to_{name}": i for name, (i, _) in reached.items()}, "best_loss": result.best_loss,
            "ms_per_eval": 1e3 * seconds / result.evaluations, "low_precision": result.low_precision}


def time_to_loss(model, size: int, steps: int) -> dict[str, object]:
    """The tutorial's 300 evaluations, then each of ``RACED`` on the same objective, raced to the
    tutorial's final and best loss."""
    content, style = images(size, device_of(model))
    record: list[tuple[float, float]] = []
    tut.run_style_transfer(model.features, IMAGENET_MEAN, IMAGENET_STD, content, style, content.clone(),
                           num_steps=steps, record=record)
    tut_seconds, final_loss = record[-1]
    best_loss = min(v for _, v in record)
    best_at = next(t for t, v in record if v == best_loss)
    targets = {"final": final_loss, "best": best_loss}
    engine = coursekit_engine(model, content, style, channels_last="auto")
    return {"tutorial_seconds": tut_seconds, "tutorial_evals": len(record), "tutorial_final_loss": final_loss,
            "tutorial_best_loss": best_loss, "tutorial_best_at": best_at,
            "tutorial_ms_per_eval": 1e3 * tut_seconds / len(record),
            "methods": {label: race(engine, replace(TUTORIAL, **overrides), steps, targets)
                        for label, overrides in RACED.items()}}


def schedules(model, size: int, steps: int, targets: dict[str, float]) -> list[tuple[str, dict[str, float]]]:
    """Optimiser schedules on the tutorial's objective, with the default method (projected L-BFGS):
    the history m, and a coarse-to-fine start at half size (its time included, its own losses,
    another objective, not compared with the targets)."""
    content, style = images(size, device_of(model))
    engine = coursekit_engine(model, content, style, channels_last="auto")
    rows = []
    for label, overrides in (("m = 20 (the default)", {}), ("m = 5", {"history": 5}), ("m = 50", {"history": 50}),
                             (f"coarse start at {size // 2} px, 30 evaluations", {"coarse": 30})):
        coarse = overrides.pop("coarse", 0)
        settings = replace(TUTORIAL, **overrides)
        if coarse:
            start = time.perf_counter()
            engine.run(settings, size=size // 2, steps=coarse)
            spent = time.perf_counter() - start
            row = race(engine, replace(settings, warm_start=True), steps, targets)
            row = {k: v + spent if k.startswith("to_") else v for k, v in row.items()}
        else:
            row = race(engine, settings, steps, targets)
        rows.append((label, row))
    return rows


def paper_race(size: int, steps: int, device: torch.device | str) -> dict[str, float]:
    """Lesson 04's objective (the paper's layers): ``steps`` evaluations in float32 set the target
    (their best loss), then precision='auto' races to it, counting only float32 evaluations."""
    content, style = images(size, device)
    engine = StyleTransfer(content, style, default_extractor(device=device))
    settings = TransferSettings(size=None, steps=steps)
    engine.objective(settings, engine.output_shape(None))  # targets first, outside both timings
    start = now(device)
    reference = engine.run(settings)
    seconds = now(device) - start
    r = race(engine, replace(settings, precision="auto"), 2 * steps, {"target": reference.best_loss})
    return {"target": reference.best_loss, "evaluations": reference.evaluations, "seconds": seconds,
            "to_target": r["to_target"], "low_precision": r["low_precision"]}


def slider_to_preview(size: int, repeats: int) -> list[float]:
    from coursekit.widgets.nst_panel import StyleTransferPanel

    content, style = images(size)
    panel = StyleTransferPanel(default_extractor(), {"content": content}, {"style": style},
                               settings=TransferSettings(size=size, steps=5, precision="auto"), threaded=False)
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
    parser.add_argument("--device", default="cpu", help="where both sides run: cpu (default) or cuda")
    parser.add_argument("--schedules", action="store_true",
                        help="also time optimiser schedules (the L-BFGS history m, a coarse start) to the tutorial's losses")
    args = parser.parse_args()
    size = args.size or (128 if args.quick else 256)
    steps = args.steps or (60 if args.quick else 300)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device here; run without --device to use the CPU")
    torch.manual_seed(0)
    model = vgg19(weights="imagenet").to(device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {where}; weights: {model.weights_source}")

    per_eval = identical_work(model, size, rounds=3 if args.quick else 5, evals=2 if args.quick else 4)
    ceiling, profile, chosen = per_eval.pop("ceiling"), per_eval.pop("profile"), per_eval.pop("chosen")
    best = min(ceiling["NCHW"], ceiling["channels-last"])
    print(f"\n1. Identical work at {size} px (tutorial layers and weights), ms per evaluation:")
    for label, ms in per_eval.items():
        print(f"   {label:<26} {ms:8.1f} ms   ratio {ms / per_eval['tutorial']:.2f}   "
              f"{100 * best / ms:5.1f} % of the ceiling")
    print(f"   ceiling: its {ceiling['gflop']:.1f} GFLOP of convolutions alone (forward + input gradient) take "
          f"{ceiling['NCHW']:.1f} ms in NCHW ({ceiling['gflop'] / ceiling['NCHW'] * 1e3:.0f} GFLOP/s) and "
          f"{ceiling['channels-last']:.1f} ms channels-last ({ceiling['gflop'] / ceiling['channels-last'] * 1e3:.0f} GFLOP/s)")
    print(f"   the layout measured fastest here ({machine_key(device)}), which the lessons use: {chosen} "
          f"(ratio {per_eval[chosen] / per_eval['tutorial']:.2f})")
    print(f"   where coursekit's evaluation spends its time (self {'GPU' if device.type == 'cuda' else 'CPU'} time): "
          + ", ".join(f"{name} {share:.0f} %" for name, share in profile))
    paper = paper_objective(size, rounds=3, device=device)
    pbest = min(paper["ceiling"]["NCHW"], paper["ceiling"]["channels-last"])
    print(f"   the paper's objective (lesson 04's defaults): {paper['ms']:.1f} ms per evaluation, "
          f"{100 * pbest / paper['ms']:.1f} % of its ceiling ({paper['ceiling']['gflop']:.1f} GFLOP, "
          f"NCHW {paper['ceiling']['NCHW']:.1f} ms, channels-last {paper['ceiling']['channels-last']:.1f} ms)")

    t = time_to_loss(model, size, steps)
    tut_s = t["tutorial_seconds"]
    print(f"\n2. Time to the tutorial's loss at {size} px (ratio = seconds / the tutorial's wall time):")
    print(f"   tutorial: {t['tutorial_evals']} evaluations in {tut_s:.1f} s ({t['tutorial_ms_per_eval']:.0f} ms each), "
          f"final loss {t['tutorial_final_loss']:.5g}; best seen {t['tutorial_best_loss']:.5g} after "
          f"{t['tutorial_best_at']:.1f} s ({t['tutorial_best_at'] / tut_s:.3f} of its time)")
    for label, r in t["methods"].items():
        if r["low_precision"]:
            label = f"{label}: bfloat16 start, {r['low_precision']} evaluations"
        print(f"   {label:<44} to the best loss {r['to_best']:5.1f} s -> ratio {r['to_best'] / tut_s:.3f} "
              f"(evaluation {r['evaluations_to_best']}); "
              f"to the final loss {r['to_final']:4.1f} s -> {r['to_final'] / tut_s:.3f}; "
              f"{r['ms_per_eval']:.0f} ms per evaluation in the loop; own best after {steps} {r['best_loss']:.5g}")

    if args.schedules:
        print(f"\n2b. Optimiser schedules on the tutorial's objective at {size} px (projected L-BFGS):")
        targets = {"best": t["tutorial_best_loss"], "final": t["tutorial_final_loss"]}
        for label, r in schedules(model, size, steps // 2, targets):
            print(f"   {label:<42} to the best loss {r['to_best']:5.1f} s ({r['to_best'] / tut_s:.3f}), "
                  f"to the final {r['to_final']:5.1f} s ({r['to_final'] / tut_s:.3f}); own best {r['best_loss']:.5g}")

    paper = paper_race(size, steps=40 if args.quick else 100, device=device)
    print(f"\n2c. The paper's objective at {size} px (lesson 04's defaults): float32 throughout reaches "
          f"{paper['target']:.5g} after {paper['evaluations']} evaluations in {paper['seconds']:.1f} s; "
          f"precision='auto' (bfloat16 start, {paper['low_precision']} evaluations) reaches it in "
          f"{paper['to_target']:.1f} s (ratio {paper['to_target'] / paper['seconds']:.2f})")

    delays = slider_to_preview(128, repeats=2 if args.quick else 4)
    print("\n3. Slider change -> first refreshed preview at 128 px (paper layers, precision='auto' as in "
          "lesson 04's panel, warm start, on the CPU):")
    print(f"   median {statistics.median(delays):.2f} s, max {max(delays):.2f} s over {len(delays)} changes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
