"""The bfloat16 start: measured per machine, cached, and honest (the loss it reports is float32's)."""

from __future__ import annotations

import json
import threading

import pytest
import torch

from coursekit.models import FeatureExtractor, layer_names, precision, vgg11
from coursekit.nst import costs, transfer
from coursekit.nst.precision import LowPrecision, low_precision_copy, still_falling
from coursekit.nst.transfer import StyleTransfer, TransferSettings
from coursekit.samples import sample_image

LAYERS = [n for n in layer_names("vgg11") if n.startswith(("conv", "relu"))]


@pytest.fixture(scope="module")
def fx():
    return FeatureExtractor(vgg11(seed=0), LAYERS)


@pytest.fixture()
def engine(fx):
    return StyleTransfer(sample_image("astronaut", size=48), sample_image("stripes_orange", size=40), fx)


def float32_loss(engine, s, image):
    with torch.no_grad():
        return float(engine.objective(s, tuple(image.shape))(image)["total"].sum())


def test_bfloat16_is_chosen_only_when_it_is_clearly_faster():
    assert precision.choose_precision({"float32": 30.0, "bfloat16": 6.0}) == "bfloat16"  # AMX
    assert precision.choose_precision({"float32": 30.0, "bfloat16": 25.0}) == "float32"  # gains too little
    assert precision.choose_precision({"float32": 30.0, "bfloat16": float("inf")}) == "float32"  # cannot run it


def test_the_measurement_is_cached_per_machine_and_can_be_forced(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path))
    monkeypatch.delenv("COURSEKIT_PRECISION", raising=False)
    calls = []
    monkeypatch.setattr(precision, "measure_precisions", lambda device: calls.append(device) or
                        {"float32": 30.0, "bfloat16": 6.0})
    assert precision.fastest_precision() == "bfloat16"
    assert precision.fastest_precision() == "bfloat16" and calls == ["cpu"]  # read back, not measured again
    saved = json.loads((tmp_path / "precision.json").read_text())
    assert saved[precision.machine_key()] == {"fastest": "bfloat16", "ms": {"float32": 30.0, "bfloat16": 6.0}}
    monkeypatch.setenv("COURSEKIT_PRECISION", "float32")
    assert precision.fastest_precision() == "float32"
    monkeypatch.setenv("COURSEKIT_PRECISION", "fp16")
    with pytest.raises(ValueError, match="COURSEKIT_PRECISION='fp16' is not a precision"):
        precision.fastest_precision()


def test_the_measurement_times_real_convolutions_in_both_precisions():
    ms = precision.measure_precisions()
    assert set(ms) == {"float32", "bfloat16"} and all(v > 0 for v in ms.values())


def test_the_start_stays_in_bfloat16_while_the_loss_falls_by_one_percent_per_ten_evaluations():
    assert still_falling([5.0, 4.0])  # too few to judge
    falling = [100.0 * 0.99 ** i for i in range(30)]  # 1 % per evaluation: about 10 % per 10
    assert still_falling(falling)
    stalled = falling + [falling[-1] * (1 - 1e-4 * i) for i in range(1, 11)]  # 0.1 % over the last 10
    assert not still_falling(stalled)
    assert not still_falling(falling + [falling[-1] + 1.0] * 10)  # a rise is no progress either


def test_the_low_precision_copy_computes_the_same_features_in_bfloat16(fx):
    x = sample_image("astronaut", size=32)
    low = low_precision_copy(fx)
    assert low is low_precision_copy(fx)  # made once per extractor
    assert isinstance(low, LowPrecision)
    assert all(key.startswith("net.") for key in fx.state_dict())  # the copy is not one of its modules
    assert next(fx.parameters()).dtype == torch.float32  # the extractor itself is untouched
    ref, got = fx(x, ["relu2_1"])["relu2_1"], low(x, ["relu2_1"])["relu2_1"]
    assert got.dtype == torch.bfloat16
    assert (got.float() - ref).norm() <= 0.02 * ref.norm()


def test_a_bfloat16_start_reports_float32_losses_and_spends_the_budget(engine):
    s = TransferSettings(size=32, steps=16, precision="bfloat16")
    seen = []
    res = engine.run(s, callback=lambda i, v, x: seen.append(i))
    assert res.evaluations == 16 == len(res.history["total"]) and seen == list(range(1, 17))
    assert res.message.startswith("the first ") and "in bfloat16, then float32" in res.message
    low = res.low_precision
    assert 1 <= low <= 8 and f"the first {low} evaluations" in res.message  # at most half the budget
    assert res.best_loss == pytest.approx(float32_loss(engine, s, res.image), rel=1e-5)
    assert res.best_loss <= min(res.history["total"][low:]) * (1 + 1e-6)  # the best float32 evaluation
    plain = engine.run(s, precision="float32")
    assert res.best_loss < plain.history["total"][0]  # it optimised
    assert plain.message == "finished 16 evaluations" and plain.low_precision == 0


def test_stop_during_the_bfloat16_start_returns_its_best_image_with_a_float32_loss(engine):
    s = TransferSettings(size=32, steps=16, precision="bfloat16")
    stop = threading.Event()
    res = engine.run(s, stop=stop, callback=lambda i, v, x: stop.set() if i == 3 else None)
    assert res.stopped == "stopped" and res.evaluations == 3
    assert res.best_loss == pytest.approx(float32_loss(engine, s, res.image), rel=1e-5)


def test_auto_follows_the_measurement(engine, monkeypatch):
    s = TransferSettings(size=32, steps=8, precision="auto")
    monkeypatch.setattr(transfer, "fastest_precision", lambda device: "float32")
    auto = engine.run(s)
    same = engine.run(s, precision="float32")
    assert torch.equal(auto.image, same.image) and auto.message == same.message
    monkeypatch.setattr(transfer, "fastest_precision", lambda device: "bfloat16")
    assert "in bfloat16" in engine.run(s).message
    with pytest.raises(ValueError, match="precision 'half' is not known"):
        engine.run(s, precision="half")


def test_a_learners_cost_functions_see_float32_and_auto_keeps_them_in_float32(monkeypatch):
    seen = []

    def my_layer_cost(a_S, a_G):  # a learner's function, written for float32 tensors
        seen.append(a_G.dtype)
        return costs.layer_style_cost(a_S, a_G)

    fx = FeatureExtractor(vgg11(seed=0), LAYERS)
    image = sample_image("astronaut", size=32)
    engine = StyleTransfer(image, sample_image("stripes_orange", size=32), fx, layer_style_cost_fn=my_layer_cost)
    monkeypatch.setattr(transfer, "fastest_precision", lambda device: "bfloat16")
    auto = engine.run(TransferSettings(size=32, steps=6, precision="auto"))
    assert auto.low_precision == 0 and set(seen) == {torch.float32}  # their function is checked in float32
    seen.clear()
    forced = engine.run(TransferSettings(size=32, steps=6, precision="bfloat16"))
    assert forced.low_precision >= 1 and set(seen) == {torch.float32}  # bfloat16 inside, float32 handed over


def test_a_second_copy_does_not_copy_the_first():
    fx = FeatureExtractor(vgg11(seed=0), ["relu1_1"])
    first = low_precision_copy(fx, torch.bfloat16)
    second = low_precision_copy(fx, torch.float16)
    assert first is not second and second.dtype == torch.float16
    assert not second.inner.__dict__.get("_low_precision_copies")  # the copy carries no copies of its own
