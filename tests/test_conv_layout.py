"""The convolution layout is chosen by measuring this machine, once, and can be forced."""

from __future__ import annotations

import json

import pytest
import torch

from coursekit.models import layout
from coursekit.models.features import FeatureExtractor
from coursekit.models import vgg19


def test_the_measurement_is_cached_under_this_machines_key(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path))
    monkeypatch.delenv("COURSEKIT_LAYOUT", raising=False)
    calls = []
    monkeypatch.setattr(layout, "measure_layouts", lambda **kw: calls.append(kw) or {"nchw": 2.0, "channels_last": 1.0})
    assert layout.fastest_layout() == "channels_last"
    assert layout.fastest_layout() == "channels_last" and calls == [{"device": "cpu"}]  # read back, not measured again
    saved = json.loads((tmp_path / "layout.json").read_text())
    assert saved[layout.machine_key()] == {"fastest": "channels_last", "ms": {"nchw": 2.0, "channels_last": 1.0}}
    monkeypatch.setattr(layout, "measure_layouts", lambda **kw: {"nchw": 1.0, "channels_last": 3.0})
    assert layout.fastest_layout(refresh=True) == "nchw"


def test_a_broken_cache_is_measured_again_and_a_forced_layout_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path))
    (tmp_path / "layout.json").write_text("{ not json")
    monkeypatch.setattr(layout, "measure_layouts", lambda **kw: {"nchw": 1.0, "channels_last": 3.0})
    monkeypatch.delenv("COURSEKIT_LAYOUT", raising=False)
    assert layout.fastest_layout() == "nchw"
    monkeypatch.setenv("COURSEKIT_LAYOUT", "channels_last")
    assert layout.fastest_layout() == "channels_last"
    monkeypatch.setenv("COURSEKIT_LAYOUT", "nhwc")
    with pytest.raises(ValueError, match="COURSEKIT_LAYOUT='nhwc' is not a layout"):
        layout.fastest_layout()


def test_the_measurement_times_both_layouts_and_leaves_the_callers_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ms = layout.measure_layouts(rounds=1)
    assert set(ms) == set(layout.LAYOUTS) and all(v > 0 for v in ms.values())
    # a machine that measures (no cache yet) draws the same random numbers afterwards as one that reads the cache
    assert torch.equal(torch.rand(3), expected)


def test_an_auto_extractor_follows_the_measurement_and_gives_the_same_features(monkeypatch):
    model = vgg19(weights=None, seed=0)
    x = torch.rand(1, 3, 32, 32)
    got = {}
    for forced in layout.LAYOUTS:
        monkeypatch.setenv("COURSEKIT_LAYOUT", forced)
        fx = FeatureExtractor(model, ["relu1_1", "relu2_1"], channels_last="auto")
        assert fx.channels_last == (forced == "channels_last")
        got[forced] = fx(x)
    for name in ("relu1_1", "relu2_1"):
        torch.testing.assert_close(got["nchw"][name], got["channels_last"][name], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="channels_last must be True, False or 'auto'"):
        FeatureExtractor(model, ["relu1_1"], channels_last="fast")


def test_the_layout_is_measured_for_the_device_the_extractor_runs_on(monkeypatch):
    # The filters are rescaled where the model is (the CPU); the layout is asked for the device the
    # extractor is moved to (a GPU's answer is measured and cached under the card's name, not the
    # CPU's). "meta" stands in for a GPU here: it takes the move without computing anything.
    from coursekit.nst import transfer

    asked = []
    monkeypatch.setattr(layout, "fastest_layout", lambda device: asked.append(torch.device(device).type) or "nchw")
    fx = FeatureExtractor(vgg19(weights=None, seed=0), ["relu1_1"], channels_last="auto", rescale="layer",
                          device="meta")
    assert asked == ["meta"] and fx.channels_last is False
    assert {p.device.type for p in fx.parameters()} == {"meta"} and fx.mean.device.type == "meta"
    fx = transfer.default_extractor(weights=None, device="cpu")  # default_extractor passes its device on
    assert asked == ["meta", "cpu"] and next(fx.parameters()).device.type == "cpu"
    FeatureExtractor(vgg19(weights=None, seed=0), ["relu1_1"], channels_last="auto")  # no device: the model's
    assert asked == ["meta", "cpu", "cpu"]
    assert layout.machine_key("cpu") == layout.machine_key()
