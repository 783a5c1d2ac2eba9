"""Lesson 07's DCGAN: architecture rules, shapes, parameter counts, init statistics, digit data
(offline, MNIST fallback), train_dcgan over train_gan, fixed-noise grids, NaN guard, latent paths,
the exercise's check and the panel. Tiny sizes: every test runs in a few seconds on a CPU."""

import copy
import gzip
import math
import struct

import pytest
import torch
from torch import nn

from coursekit.gan import dcgan_train
from coursekit.gan.dcgan import (DCGANConfig, DCGANDiscriminator, DCGANGenerator, conv_transpose_output_size,
                                 layer_shapes, make_dcgan)
from coursekit.gan.dcgan_train import generate, interpolate_latents, slerp, train_dcgan
from coursekit.gan.digits import load_digit_images
from coursekit.gan.exercises import EXERCISES
from coursekit.gan.plots import discriminator_curves, moving_average, sample_grid
from coursekit.gan.train import GANTrainConfig, make_optimizers
from coursekit.grading.runner import run_exercise

TINY = DCGANConfig(image_size=8, z_dim=8, g_width=4, d_width=4)


def paper_optimizers(D, G, lr=2e-4):
    """The DCGAN paper's Adam (beta1 = 0.5), as lesson 07 makes them."""
    return make_optimizers(D, G, "adam", lr_D=lr, lr_G=lr, betas=(0.5, 0.999))


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny convolutions: one thread is fastest, and far faster on a shared, busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


# ---- architecture ----------------------------------------------------------------------------
@pytest.mark.parametrize("size", [16, 20, 28])
def test_output_shapes(size):
    D, G = make_dcgan(DCGANConfig(image_size=size), seed=0)
    x = G(torch.randn(5, 32))
    assert x.shape == (5, 1, size, size)
    assert x.abs().max() <= 1  # tanh range, like the data
    assert G(torch.randn(5, 32, 1, 1)).shape == (5, 1, size, size)
    assert D(x).shape == (5,)


def test_bad_sizes_are_refused_clearly():
    for size in (15, 4, 100):
        with pytest.raises(ValueError, match="multiple of 4"):
            DCGANConfig(image_size=size)


def test_parameter_counts_pinned():
    def count(m):
        return sum(p.numel() for p in m.parameters())

    # 16 px: convt1 32*64*4*4, bn1 2*64, convt2 64*32*4*4, bn2 2*32, convt3 32*1*4*4 + 1
    D, G = make_dcgan(DCGANConfig(image_size=16))
    assert count(G) == 32768 + 128 + 32768 + 64 + 513 == 66241
    assert count(D) == (16 * 32 + 32) + 32 * 64 * 16 + 128 + (64 * 16 + 1) == 34465
    D, G = make_dcgan(DCGANConfig(image_size=28))  # first/last kernels are 7x7
    assert count(G) == 32 * 64 * 49 + 128 + 32768 + 64 + 513 == 133825
    assert count(D) == 544 + 32768 + 128 + (64 * 49 + 1) == 36577
    D, G = make_dcgan(DCGANConfig(image_size=16, batch_norm=False))  # biases instead of BatchNorm
    assert count(G) == (32768 + 64) + (32768 + 32) + 513 == 66145


def test_radford_rules():
    D, G = make_dcgan(DCGANConfig(image_size=16))
    g_layers, d_layers = list(G.net), list(D.net)
    every = g_layers + d_layers
    assert not any(isinstance(m, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d)) for m in every)
    # G: transposed convs, BatchNorm + ReLU after each but the last, tanh output with no BatchNorm before it
    expected = [nn.ConvTranspose2d, nn.BatchNorm2d, nn.ReLU] * 2 + [nn.ConvTranspose2d, nn.Tanh]
    assert [type(m) for m in g_layers] == expected
    # D: strided convs, no BatchNorm after the input layer, LeakyReLU(0.2)
    assert [type(m) for m in d_layers] == [nn.Conv2d, nn.LeakyReLU, nn.Conv2d, nn.BatchNorm2d, nn.LeakyReLU, nn.Conv2d]
    assert all(m.negative_slope == 0.2 for m in d_layers if isinstance(m, nn.LeakyReLU))
    assert [m.stride[0] for m in d_layers if isinstance(m, nn.Conv2d)] == [2, 2, 1]
    assert not any(isinstance(m, nn.BatchNorm2d) for m in make_dcgan(DCGANConfig(batch_norm=False))[1].modules())


def test_init_statistics_and_seeding():
    state = torch.random.get_rng_state()
    D, G = make_dcgan(DCGANConfig(image_size=16, g_width=64, d_width=64), seed=3)
    assert torch.equal(state, torch.random.get_rng_state())  # global RNG untouched
    for net in (D, G):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.weight.numel() > 10000:
                assert abs(m.weight.mean().item()) < 0.002
                assert m.weight.std().item() == pytest.approx(0.02, rel=0.05)
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m.bias is not None:
                assert torch.count_nonzero(m.bias) == 0
            if isinstance(m, nn.BatchNorm2d):
                assert m.weight.mean().item() == pytest.approx(1.0, abs=0.01)
                assert 0.01 < m.weight.std().item() < 0.03
                assert torch.count_nonzero(m.bias) == 0
    D2, G2 = make_dcgan(DCGANConfig(image_size=16, g_width=64, d_width=64), seed=3)
    assert _same(_params(G), _params(G2)) and _same(_params(D), _params(D2))
    assert not _same(_params(G), _params(make_dcgan(DCGANConfig(16, g_width=64, d_width=64), seed=4)[1]))


def test_layer_shapes_follow_the_transposed_conv_formula():
    G = DCGANGenerator(DCGANConfig(image_size=28))
    rows = layer_shapes(G, torch.zeros(2, 32))
    assert rows[0] == ("input", "", (2, 32, 1, 1)) and rows[-1][2] == (2, 1, 28, 28)
    n = 1
    for layer, (name, text, shape) in zip(G.net, rows[1:]):
        if isinstance(layer, nn.ConvTranspose2d):
            n = conv_transpose_output_size(n, layer.kernel_size[0], layer.stride[0], layer.padding[0])
            assert text.startswith("ConvTranspose2d")
        assert shape[-1] == n, name
    assert [r[2][-1] for r in rows if r[0].startswith("convt")] == [7, 14, 28]
    assert G.training  # mode restored
    d_rows = layer_shapes(DCGANDiscriminator(DCGANConfig(16)), torch.zeros(1, 1, 16, 16))
    assert d_rows[-1][2] == (1, 1, 1, 1)


def test_conv_transpose_output_size_hand_values_and_torch():
    assert conv_transpose_output_size(4, 4, 2, 1) == 8  # (4-1)*2 - 2 + 4
    assert conv_transpose_output_size(1, 7, 1, 0) == 7
    assert conv_transpose_output_size(3, 3, 2, 1, 1) == 6  # (3-1)*2 - 2 + 3 + 1
    for n, k, s, p, op in [(5, 3, 2, 1, 1), (6, 5, 3, 2, 2), (2, 4, 2, 0, 0), (9, 1, 1, 0, 0)]:
        layer = nn.ConvTranspose2d(1, 1, k, s, p, output_padding=op)
        assert conv_transpose_output_size(n, k, s, p, op) == layer(torch.zeros(1, 1, n, n)).shape[-1]


# ---- the exercise ------------------------------------------------------------------------------
def test_exercise_reference_passes_and_is_registered():
    from coursekit.grading import registry

    ex = registry()["conv_transpose_output_size"]
    assert ex.lesson == "07_dcgan" and ex.points >= 2 and len(ex.hidden) >= 3
    assert run_exercise(ex, ex.reference).passed
    public = {c.make()[0] for c in ex.cases}
    assert not public & {c.make()[0] for c in ex.hidden}  # hidden cases are not copies


def test_exercise_mistakes_get_their_hints():
    ex = EXERCISES["conv_transpose_output_size"]
    res = run_exercise(ex, lambda n, k, s, p, op=0: (n + 2 * p - k) // s + 1)
    assert not res.passed and "ordinary" in res.hints[0]
    res = run_exercise(ex, lambda n, k, s, p, op=0: n * s - 2 * p + k + op)
    assert not res.passed and "(n_in - 1)" in res.hints[0]
    res = run_exercise(ex, lambda n, k, s, p, op=0: (n - 1) * s - 2 * p + k)
    assert not res.passed and "output_padding" in res.hints[0]
    res = run_exercise(ex, lambda n, k, s, p, op=0: float((n - 1) * s - 2 * p + k + op))
    assert not res.passed and any("int" in f for f in res.failures)


# ---- data --------------------------------------------------------------------------------------
def test_sklearn_digits_scaled_and_resized():
    data = load_digit_images(16)
    assert data.images.shape == (1797, 1, 16, 16) and data.images.dtype == torch.float32
    assert data.images.min() == -1 and data.images.max() <= 1 and data.images.max() > 0.9
    assert sorted(data.labels.unique().tolist()) == list(range(10))
    assert "scikit-learn digits" in data.source and data.notice == ""
    assert load_digit_images(28).images.shape[-2:] == (28, 28)
    a = data.sample(10, torch.Generator().manual_seed(0))
    assert a.shape == (10, 1, 16, 16) and torch.equal(a, data.sample(10, torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="digits"):
        load_digit_images(16, source="cifar")


def test_mnist_offline_falls_back_with_one_line_notice(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    data = load_digit_images(16, source="mnist", root=tmp_path)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "COURSEKIT_OFFLINE=1" in err and "scikit-learn" in err
    assert "COURSEKIT_OFFLINE" in data.notice and len(data) == 1797
    assert not any(tmp_path.iterdir())  # nothing was downloaded


def test_mnist_unreachable_fails_fast_without_downloading(tmp_path, monkeypatch, capsys):
    from coursekit.gan import digits

    monkeypatch.delenv("COURSEKIT_OFFLINE", raising=False)
    probed = []
    monkeypatch.setattr(digits, "_reachable", lambda url, timeout=2.0: probed.append(url) or False)
    data = load_digit_images(16, source="mnist", root=tmp_path)
    assert probed and "not reachable" in data.notice and "not reachable" in capsys.readouterr().err
    assert len(data) == 1797 and not any(tmp_path.iterdir())


def _write_idx(path, array, magic):
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape))
        f.write(array.numpy().tobytes())


def test_cached_mnist_is_used_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_OFFLINE", "1")
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = torch.zeros(6, 28, 28, dtype=torch.uint8)
    images[:, 4:24, 12:16] = 255  # a "1"
    labels = torch.tensor([1, 1, 1, 7, 7, 7], dtype=torch.uint8)
    for split in ("train", "t10k"):
        _write_idx(raw / f"{split}-images-idx3-ubyte", images, 0x803)
        _write_idx(raw / f"{split}-labels-idx1-ubyte", labels, 0x801)
    data = load_digit_images(16, source="mnist", root=tmp_path)
    assert data.source.startswith("MNIST") and data.notice == ""
    assert data.images.shape == (6, 1, 16, 16) and data.labels.tolist() == [1, 1, 1, 7, 7, 7]
    assert data.images.min() == -1 and data.images.max() > 0.9


# ---- training ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_data():
    return load_digit_images(8)


def test_train_dcgan_is_train_gan_with_k_1_counted_in_epochs(tiny_data, monkeypatch):
    seen = {}
    real = dcgan_train.train_gan

    def spy(D, G, data_sampler, noise_sampler, opt_D, opt_G, config, **kwargs):
        seen.update(opt_D=opt_D, opt_G=opt_G, config=config)
        return real(D, G, data_sampler, noise_sampler, opt_D, opt_G, config, **kwargs)

    monkeypatch.setattr(dcgan_train, "train_gan", spy)
    D, G = make_dcgan(TINY, seed=0)
    opt_D, opt_G = paper_optimizers(D, G)
    h = train_dcgan(D, G, tiny_data, opt_D, opt_G, epochs=1, m=256)
    assert seen["opt_D"] is opt_D and seen["opt_G"] is opt_G
    assert seen["config"] == GANTrainConfig(steps=math.ceil(1797 / 256), k=1, m=256, g_loss="non_saturating", seed=0)
    assert h["iterations_per_epoch"] == 8 and len(h["loss_D"]) == 8


def test_train_dcgan_grids_from_fixed_noise(tiny_data):
    D, G = make_dcgan(TINY, seed=0)
    G0 = copy.deepcopy(G)
    z = torch.randn(16, TINY.z_dim, generator=torch.Generator().manual_seed(9))
    state = torch.random.get_rng_state()
    h = train_dcgan(D, G, tiny_data, *paper_optimizers(D, G), epochs=3, m=128, fixed_noise=z, grid_epochs=[2])
    assert torch.equal(state, torch.random.get_rng_state())
    assert sorted(h["grids"]) == [0, 2, 3]  # untrained, asked for, last
    assert torch.equal(h["grids"][0], generate(G0, z)) and torch.equal(h["fixed_noise"], z)
    assert torch.equal(h["grids"][3], generate(G, z))
    assert h["grids"][2].shape == (16, 1, 8, 8) and h["epochs"] == 3
    assert len(h["D(x)"]) == len(h["D(G(z))"]) == len(h["loss_G"]) == 3 * 15
    assert all(0 < v < 1 for v in h["D(x)"] + h["D(G(z))"])
    # deterministic given the seed
    D2, G2 = make_dcgan(TINY, seed=0)
    again = train_dcgan(D2, G2, tiny_data, *paper_optimizers(D2, G2), epochs=3, m=128, fixed_noise=z, grid_epochs=[2])
    assert again["loss_D"] == h["loss_D"]


def test_train_dcgan_learns_the_digits_mean(tiny_data):
    """A real learning signal in a few seconds: G's average image moves towards the data's."""
    D, G = make_dcgan(DCGANConfig(image_size=8, z_dim=8, g_width=16, d_width=16), seed=0)
    z = torch.randn(256, 8, generator=torch.Generator().manual_seed(1))
    h = train_dcgan(D, G, tiny_data, *paper_optimizers(D, G, lr=1e-3), epochs=6, m=64, fixed_noise=z, grid_epochs=[])
    target = tiny_data.images.mean(0)
    before = (h["grids"][0].mean(0) - target).abs().mean().item()
    after = (h["grids"][6].mean(0) - target).abs().mean().item()
    assert after < 0.5 * before
    assert h["grids"][6].std(0).mean() > 0.1  # and its samples differ from each other


def test_nan_stops_dcgan_training_keeping_last_good_weights(tiny_data):
    D, G = make_dcgan(TINY, seed=0)
    snapshots = []

    def poison(it, history):
        snapshots.append(copy.deepcopy(G.state_dict()))
        if it == 9:
            with torch.no_grad():
                D.net.conv1.weight.fill_(float("nan"))

    with pytest.warns(RuntimeWarning, match="NaN"):
        h = train_dcgan(D, G, tiny_data, *paper_optimizers(D, G), epochs=3, m=128, callback=poison)
    assert len(h["loss_D"]) == 10 and "iteration 10" in h["message"]
    assert all(torch.isfinite(p).all() for p in D.parameters())
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), snapshots[-1].values()))
    assert h["epochs"] == pytest.approx(10 / 15) and torch.isfinite(h["grids"][max(h["grids"])]).all()


def test_sample_diversity():
    from coursekit.gan.metrics import sample_diversity

    same = torch.ones(5, 1, 4, 4)
    assert sample_diversity(same) == 0.0
    two = torch.stack([torch.zeros(1, 2, 2), torch.full((1, 2, 2), 2.0)])  # std of {0, 2} is sqrt(2)
    assert sample_diversity(two) == pytest.approx(math.sqrt(2))
    with pytest.raises(ValueError, match="two images"):
        sample_diversity(same[:1])


def test_generate_leaves_batch_norm_statistics_and_mode_alone():
    _, G = make_dcgan(TINY, seed=0)
    G.eval()
    before = copy.deepcopy(G.state_dict())
    z = torch.randn(32, 8)
    batch, running = generate(G, z), generate(G, z, batch_norm="running")
    assert not G.training and not torch.equal(batch, running)
    assert all(torch.equal(a, b) for a, b in zip(before.values(), G.state_dict().values()))
    assert torch.allclose(running[:1], generate(G, z[:1], batch_norm="running"), atol=1e-6)  # independent samples
    assert not torch.allclose(batch[:1], generate(G, z[:2]), atol=1e-3)  # batch statistics couple them


# ---- latent interpolation ------------------------------------------------------------------
def test_interpolation_paths():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(64, generator=g, dtype=torch.float64), torch.randn(64, generator=g, dtype=torch.float64)
    for method in ("linear", "slerp"):
        path = interpolate_latents(z0, z1, 9, method)
        assert path.shape == (9, 64)
        assert torch.allclose(path[0], z0) and torch.allclose(path[-1], z1)
    assert torch.allclose(interpolate_latents(z0, z1, 3, "linear")[1], (z0 + z1) / 2)
    # equal norms: slerp stays on the sphere, the straight line cuts inside it
    u0, u1 = z0 / z0.norm() * 8, z1 / z1.norm() * 8
    norms = interpolate_latents(u0, u1, 7, "slerp").norm(dim=1)
    assert torch.allclose(norms, torch.full((7,), 8.0, dtype=torch.float64))
    assert interpolate_latents(u0, u1, 3, "linear")[1].norm() < 7
    # angles: slerp moves at constant angular speed
    path = interpolate_latents(u0, u1, 5, "slerp")
    angles = [torch.arccos(torch.dot(path[0], p) / 64).item() for p in path]
    assert angles == pytest.approx([i * angles[-1] / 4 for i in range(5)], abs=1e-9)
    # parallel ends fall back to the line; single positions work
    assert torch.allclose(slerp(u0, 2 * u0, torch.tensor([0.5], dtype=torch.float64))[0], 1.5 * u0)
    assert interpolate_latents(z0, z1, torch.tensor([0.25]), "slerp").shape == (1, 64)
    with pytest.raises(ValueError, match="slerp"):
        interpolate_latents(z0, z1, 3, "cubic")


# ---- plots and panel -------------------------------------------------------------------------
def test_sample_grid_and_discriminator_curves():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2)
    images = torch.linspace(-1, 1, 12 * 16 * 16).reshape(12, 1, 16, 16)
    im = sample_grid(images, nrow=4, ax=a1)
    arr = im.get_array()
    assert arr.shape == (3 * 17 + 1, 4 * 17 + 1) and arr.min() == 0 and arr.max() == 1
    h = {"D(x)": [0.9] * 30, "D(G(z))": [0.1] * 30}
    lines = discriminator_curves(h, ax=a2, window=10, per_epoch=10)
    assert [l.get_label() for l in lines] == ["D(x)", "D(G(z))"] and len(lines[0].get_xdata()) == 21
    assert moving_average([1.0, 2.0, 3.0, 4.0], 2).tolist() == [1.5, 2.5, 3.5]
    assert moving_average(torch.tensor([1.0, 3.0]), 5).tolist() == [2.0]  # a longer window: the mean of all
    plt.close(fig)


def test_browser_panel_headless(tiny_data):
    from coursekit.widgets.dcgan_browser import dcgan_browser

    D, G = make_dcgan(TINY, seed=0)
    h = train_dcgan(D, G, tiny_data, *paper_optimizers(D, G), epochs=2, m=256)
    panel = dcgan_browser(h, G)
    assert list(panel.epoch.options) == [0, 1, 2] and panel.epoch.value == 2
    png = bytes(panel.grid_image.value)
    assert png.startswith(b"\x89PNG")
    panel.epoch.value = 0
    assert bytes(panel.grid_image.value) != png
    latent = bytes(panel.latent_image.value)
    text = panel.latent_text.value
    panel.method.value = "linear"
    assert bytes(panel.latent_image.value) != latent and panel.latent_text.value != text
    panel.t.value = 0.0
    assert f"|z_t| = {h['fixed_noise'][0].norm():.2f}" in panel.latent_text.value
