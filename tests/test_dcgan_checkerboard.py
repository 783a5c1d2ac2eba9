"""Lesson 07's additions: checkerboard artefacts of transposed convolutions against resize-then-convolve
(Odena, Dumoulin & Olah 2016), the text summary that replaces the stored tqdm bar, and latent vector
arithmetic. Hand-computed numbers; tiny float64 networks; every test runs in well under a second."""

import math

import pytest
import torch
from torch import nn

from coursekit.gan.dcgan import DCGANConfig, DCGANGenerator, layer_shapes, make_dcgan
from coursekit.gan.dcgan_train import epoch_summary, train_dcgan
from coursekit.gan.digits import load_digit_images
from coursekit.gan.latent import attribute_direction, class_templates, ink, nearest_template
from coursekit.gan.train import make_optimizers
from coursekit.gan.upsampling import checkerboard_share, overlap_counts, phase_means, resize_conv


# ---- overlap arithmetic -------------------------------------------------------------------------
def test_overlap_counts_by_hand():
    # k = 3, s = 2 on 4 pixels: 9 outputs; stamps at 0..2, 2..4, 4..6, 6..8 overlap on every other pixel
    assert overlap_counts(4, 3, 2).tolist() == [1, 1, 2, 1, 2, 1, 2, 1, 1]
    # k = 4, s = 2, p = 1 (DCGAN): even (k / s = 2) everywhere but the cropped border
    assert overlap_counts(4, 4, 2, 1).tolist() == [1, 2, 2, 2, 2, 2, 2, 1]
    assert overlap_counts(3, 3, 1).tolist() == [1, 2, 3, 2, 1]


@pytest.mark.parametrize("n_in,k,s,p", [(4, 3, 2, 0), (4, 4, 2, 1), (5, 3, 3, 1), (3, 5, 2, 2)])
def test_overlap_counts_match_a_transposed_convolution_of_ones(n_in, k, s, p):
    layer = nn.ConvTranspose2d(1, 1, (1, k), (1, s), (0, p), bias=False).double()
    nn.init.ones_(layer.weight)
    with torch.no_grad():
        out = layer(torch.ones(1, 1, 1, n_in, dtype=torch.float64))[0, 0, 0]
    assert out.tolist() == overlap_counts(n_in, k, s, p).double().tolist()


def test_overlap_counts_refuse_bad_sizes():
    with pytest.raises(ValueError, match="crops the whole output"):
        overlap_counts(1, 2, 1, padding=1)
    with pytest.raises(ValueError, match="stride"):
        overlap_counts(4, 3, 0)


# ---- measuring the pattern ------------------------------------------------------------------------
def test_phase_means_and_checkerboard_share_by_hand():
    i, j = torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij")
    board = ((-1.0) ** (i + j)).double()[None, None]  # the pure 2x2 checkerboard
    assert phase_means(board)[0, 0].tolist() == [[1.0, -1.0], [-1.0, 1.0]]
    assert checkerboard_share(board).item() == pytest.approx(1.0)
    ramp = torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4)  # x = 4i + j
    # phase (r, c) holds 4i + j for i = r, r + 2 and j = c, c + 2: mean 4r + c + 5
    m = phase_means(ramp)[0, 0]
    assert m.tolist() == [[5.0, 6.0], [9.0, 10.0]]
    expected = 4 * ((5 - 7.5) ** 2 + (6 - 7.5) ** 2 + (9 - 7.5) ** 2 + (10 - 7.5) ** 2) / ((ramp - 7.5) ** 2).sum()
    assert checkerboard_share(ramp).item() == pytest.approx(expected.item())  # 68 / 340 = 0.2
    assert checkerboard_share(torch.full((2, 1, 4, 4), 3.0)).tolist() == [0.0, 0.0]
    blocks = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).repeat_interleave(2, 0).repeat_interleave(2, 1)
    smooth = blocks[None, None]  # each value fills a 2x2 block
    assert checkerboard_share(smooth).item() == pytest.approx(0.0, abs=1e-12)  # 2x2 blocks: no period-2 part


def test_checkerboard_share_of_white_noise_is_3_over_hw_minus_1():
    noise = torch.randn(4000, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert checkerboard_share(noise).mean().item() == pytest.approx(3 / 63, rel=0.05)
    with pytest.raises(ValueError, match="multiples of the period"):
        phase_means(torch.zeros(1, 1, 5, 4))


def test_resize_conv_keeps_a_constant_input_constant_where_transposed_paints_a_pattern():
    g = torch.Generator().manual_seed(0)
    (_, up), (_, conv) = resize_conv(3, 2)
    transposed = nn.ConvTranspose2d(3, 2, 4, 2, 1)
    for layer in (conv, transposed):
        nn.init.normal_(layer.weight, 0, 1, generator=g)
    ones = torch.ones(1, 3, 6, 6)
    with torch.no_grad():
        fixed = conv(up(ones))[..., 2:-2, 2:-2]  # away from the zero padding
        painted = transposed(ones)[..., 2:-2, 2:-2]  # away from the cropped border
    assert fixed.shape == painted.shape == (1, 2, 8, 8)
    assert torch.allclose(fixed, fixed[..., :1, :1].expand_as(fixed))
    assert checkerboard_share(painted.double()).min().item() == pytest.approx(1.0)  # a pure period-2 pattern
    # each phase's value is the sum of that phase's taps, summed over input channels
    taps = transposed.weight.sum(0)  # (out, 4, 4)
    even = taps[:, 1::2, 1::2].sum((1, 2)) + transposed.bias  # output pixel j + p odd -> taps 1, 3
    assert torch.allclose(painted[0, :, 0, 0], even, atol=1e-5)
    with pytest.raises(ValueError, match="odd kernel"):
        resize_conv(1, 1, kernel=4)


def test_resize_generator_has_the_same_shapes_and_first_layer():
    for size in (16, 28):
        cfg = DCGANConfig(image_size=size, upsampling="resize")
        rows = layer_shapes(DCGANGenerator(cfg), torch.zeros(1, cfg.z_dim))
        assert [name for name, _, _ in rows] == ["input", "convt1", "bn1", "relu1", "up2", "conv2", "bn2", "relu2",
                                                 "up3", "conv3", "tanh"]
        assert rows[-1][2] == (1, 1, size, size)
        assert rows[4][1] == "Upsample x2 (nearest)" and rows[5][1] == "Conv2d 64->32, k 3, s 1, p 1"
    (_, g_t), (_, g_r) = make_dcgan(DCGANConfig(), seed=3), make_dcgan(DCGANConfig(upsampling="resize"), seed=3)
    assert torch.equal(g_t.net.convt1.weight, g_r.net.convt1.weight)
    # 32·64·16 (convt1) + 64·32·9 (conv2) + 32·9 + 1 (conv3) + BatchNorm 2·(64 + 32)
    assert sum(p.numel() for p in g_r.parameters()) == 32 * 64 * 16 + 64 * 32 * 9 + 32 * 9 + 1 + 2 * 96
    with pytest.raises(ValueError, match="upsampling"):
        DCGANConfig(upsampling="bilinear")


def test_untrained_transposed_generator_has_the_larger_period_2_share():
    z = torch.randn(64, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    shares = {}
    for kind in ("transposed", "resize"):
        _, G = make_dcgan(DCGANConfig(upsampling=kind), seed=0)
        with torch.no_grad():
            shares[kind] = checkerboard_share(G.double()(z)).mean().item()
    assert shares["transposed"] > 10 * shares["resize"]


# ---- the text summary instead of a tqdm bar ----------------------------------------------------------
def test_epoch_summary_averages_one_epoch():
    h = {"D(x)": [0.9, 0.7, 0.5, 0.3], "D(G(z))": [0.1, 0.3, 0.2, 0.4], "loss_D": [1.0, 2.0, 3.0, 5.0],
         "loss_G": [0.5, 0.5, 2.0, 3.0]}
    assert epoch_summary(h, 1, 2) == "epoch  1: D(x) 0.80  D(G(z)) 0.20  L_D 1.50  L_G 0.50"
    assert epoch_summary(h, 2, 2) == "epoch  2: D(x) 0.40  D(G(z)) 0.30  L_D 4.00  L_G 2.50"
    with pytest.raises(ValueError, match="not in a history"):
        epoch_summary(h, 3, 2)


def test_train_dcgan_reports_every_n_epochs_and_the_last(capsys):
    data = load_digit_images(8)
    cfg = DCGANConfig(image_size=8, z_dim=8, g_width=4, d_width=4)
    D, G = make_dcgan(cfg, seed=0)
    opt_D, opt_G = make_optimizers(D, G, "adam", lr_D=2e-4, lr_G=2e-4, betas=(0.5, 0.999))
    h = train_dcgan(D, G, data, opt_D, opt_G, epochs=3, m=512, report_every=2)
    lines = capsys.readouterr().out.splitlines()
    per = math.ceil(1797 / 512)
    assert lines == [epoch_summary(h, 2, per), epoch_summary(h, 3, per)]
    with pytest.raises(ValueError, match="report_every"):
        train_dcgan(D, G, data, opt_D, opt_G, epochs=1, report_every=-1)


# ---- latent arithmetic ------------------------------------------------------------------------------
def test_ink_and_attribute_direction_by_hand():
    images = torch.tensor([-1.0, 0.0, 1.0]).reshape(3, 1, 1, 1).expand(3, 1, 2, 2)
    assert ink(images).tolist() == [0.0, 0.5, 1.0]
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 2.0], [3.0, 0.0], [4.0, 4.0]])
    scores = torch.tensor([5.0, 1.0, 2.0, 4.0, 3.0])  # order: z1, z2, z4, z3, z0
    assert attribute_direction(z, scores, 0.2).tolist() == [0.0 - 1.0, 0.0]  # top z0 minus bottom z1
    assert attribute_direction(z, scores, 0.4).tolist() == [(0 + 3) / 2 - (1 + 2) / 2, 0 - 1.0]
    with pytest.raises(ValueError, match="fraction"):
        attribute_direction(z, scores, 0.1)  # 0.1 · 5 rounds to no sample
    with pytest.raises(ValueError, match="scores"):
        attribute_direction(z, scores[:4])


def test_templates_and_nearest_template():
    images = torch.tensor([0.0, 2.0, 10.0, 12.0]).reshape(4, 1, 1, 1)
    templates = class_templates(images, torch.tensor([0, 0, 1, 1]))
    assert templates.flatten().tolist() == [1.0, 11.0]
    assert nearest_template(torch.tensor([5.9, 6.1, -3.0]).reshape(3, 1, 1, 1), templates).tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="class"):
        class_templates(images, torch.tensor([0, 0, 2, 2]))
