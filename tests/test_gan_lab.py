"""The GAN Lab panel, headless: Step D changes only D, Step G only G, Run/Stop, Reset."""

import torch

from coursekit.widgets.gan_lab import gan_lab


def _params(m):
    return [p.detach().clone() for p in m.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_step_buttons_change_only_their_player():
    panel = gan_lab(threaded=False, hidden=16, m=32)
    png0 = bytes(panel.image.value)
    assert png0.startswith(b"\x89PNG")
    d0, g0 = _params(panel.D), _params(panel.G)
    panel.step_d_button.click()
    d1, g1 = _params(panel.D), _params(panel.G)
    assert not _same(d0, d1) and _same(g0, g1)
    assert bytes(panel.image.value) != png0 and "D updates 1" in panel.numbers.value
    panel.step_g_button.click()
    assert _same(d1, _params(panel.D)) and not _same(g1, _params(panel.G))
    assert panel.iterations == 1


def test_run_k_and_stop_and_reset():
    panel = gan_lab(threaded=False, hidden=16, m=32, max_steps=5, redraw_every=5)
    panel.k.value = 3
    panel.run_button.click()
    assert panel.iterations == 5 and len(panel.history["loss_D"]) == 15
    assert "iteration 5" in panel.numbers.value
    panel.stop_button.click()  # nothing running: harmless
    panel.loss.value = "minimax"
    panel.dataset.value = "grid"  # resets
    assert panel.iterations == 0 and panel.history["loss_D"] == []


def test_threaded_run_stops():
    panel = gan_lab(threaded=True, hidden=16, m=32, max_steps=100000, redraw_every=20)
    panel.run_button.click()
    import time
    time.sleep(0.5)
    panel.stop_button.click()
    panel.job.join(10)
    assert not panel.job.running and panel.iterations > 0


def test_step_effect_readout_shows_before_and_after_each_step():
    panel = gan_lab(threaded=False, hidden=16, m=32)
    assert "press Step D" in panel.step_effect.value
    before = panel.view_outputs()
    panel.step_d_button.click()
    (dx0, dg0), (dx1, dg1) = panel.last_d_step
    assert (dx0, dg0) == before and (dx1, dg1) == panel.view_outputs()
    assert f"D(x) {dx0:.3f} → {dx1:.3f}" in panel.step_effect.value
    panel.step_g_button.click()
    (gx0, gg0), (gx1, gg1) = panel.last_g_step
    assert gx0 == gx1 == dx1  # G's step leaves D, hence D(x), unchanged
    assert gg0 == dg1 and "last G step" in panel.step_effect.value
    panel.reset_button.click()
    assert panel.last_d_step is None and "press Step D" in panel.step_effect.value
