"""Lesson 09's panel, headless: each control changes the stored report and the picture."""

import pytest

from coursekit.widgets.gradient_flow import gradient_flow_panel


def test_controls_change_the_report_and_the_image():
    panel = gradient_flow_panel(depth=8, batch_size=64)
    png0 = bytes(panel.image.value)
    assert png0.startswith(b"\x89PNG") and panel.report.depth == 8
    assert panel.report.config.activation == "sigmoid" and "ratio" in panel.numbers.value

    panel.depth.value = 12
    assert panel.report.depth == 12 and len(panel.report.weight_grad_norms) == 13
    png1 = bytes(panel.image.value)
    assert png1 != png0

    ratio_plain = panel.report.ratio_first_last
    panel.batch_norm.value = True
    assert panel.report.config.batch_norm and panel.report.ratio_first_last > 100 * ratio_plain
    panel.batch_norm.value = False
    panel.residual.value = True
    assert panel.report.config.residual and panel.report.ratio_first_last > 100 * ratio_plain

    panel.activation.value, panel.init.value = "relu", "too_large"
    assert panel.report.config.init == "too_large" and panel.report.global_grad_norm > 1e6
    assert bytes(panel.image.value) != png1


def test_clipping_scales_every_gradient_by_one_factor():
    panel = gradient_flow_panel(depth=6, batch_size=64, activation="relu", init="he")
    assert panel.clip_factor == 1.0
    panel.max_norm.value = 0.01
    assert panel.clip_factor == 1.0  # threshold moves nothing until clipping is on
    png = bytes(panel.image.value)
    panel.clip.value = True
    norm = panel.report.global_grad_norm
    assert panel.clip_factor == pytest.approx(0.01 / (norm + 1e-6))
    assert "clipped to c = 0.01" in panel.numbers.value and bytes(panel.image.value) != png


def test_bad_start_values_fail_clearly():
    with pytest.raises(ValueError, match="activation"):
        gradient_flow_panel(activation="swish")
