"""coursekit.nst.correlations on numbers: pairs, covariance and correlation, rankings, channels that respond."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from coursekit.nst.correlations import (  # noqa: E402
    active_fraction,
    channel_means,
    channel_pairs,
    channel_scores,
    constant_channels,
    correlation_matrix,
    covariance_matrix,
    dead_channels,
    find_channel,
    orange_mask,
    plot_channel_map,
    plot_channel_stack,
    plot_pair_scatter,
    ranked_pairs,
    region_means,
    resize_mask,
)
from coursekit.models import FeatureExtractor, vgg11  # noqa: E402
from coursekit.samples import sample_image  # noqa: E402
from coursekit.nst.costs import gram_matrix  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def seeded(shape, seed=0, dtype=torch.float64):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_channel_pairs_are_the_positions_of_two_channels_and_sum_to_the_gram_entry():
    a = torch.arange(2 * 3 * 2 * 2, dtype=torch.float64).reshape(2, 3, 2, 2)
    x, y = channel_pairs(a, 0, 2)
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0] and y.tolist() == [8.0, 9.0, 10.0, 11.0]
    assert float((x * y).sum()) == float(gram_matrix(a)[0, 0, 2]) == 0 * 8 + 1 * 9 + 2 * 10 + 3 * 11
    x1, _ = channel_pairs(a, 1, 1, image=1)
    assert x1.tolist() == [16.0, 17.0, 18.0, 19.0]
    x[0] = 100.0  # a copy: the caller's activations stay as they were
    assert a[0, 0, 0, 0] == 0.0
    with pytest.raises(ValueError, match="not a channel"):
        channel_pairs(a, 0, 3)
    with pytest.raises(ValueError, match="not in the batch"):
        channel_pairs(a, 0, 1, image=2)
    with pytest.raises(ValueError, match="unsqueeze"):
        channel_pairs(a[0], 0, 1)


def test_gram_is_positions_times_covariance_plus_product_of_means():
    a = seeded((2, 5, 4, 6)).relu() + 0.3
    m = 4 * 6
    mu = channel_means(a)
    assert mu.shape == (2, 5) and torch.allclose(mu[1, 2], a[1, 2].mean())
    cov = covariance_matrix(a)
    expected = m * (cov + mu[:, :, None] * mu[:, None, :])
    assert torch.allclose(gram_matrix(a), expected, rtol=1e-12, atol=1e-12)
    f = a[0].reshape(5, -1).numpy()
    assert np.allclose(cov[0].numpy(), np.cov(f, bias=True))


def test_correlation_matches_numpy_and_ignores_shift_and_scale():
    a = seeded((2, 4, 5, 5), seed=1)
    r = correlation_matrix(a)
    assert r.shape == (2, 4, 4)
    for b in range(2):
        assert np.allclose(r[b].numpy(), np.corrcoef(a[b].reshape(4, -1).numpy()))
    shifted = a * torch.tensor([2.0, 0.5, 3.0, 1.0], dtype=a.dtype).view(1, 4, 1, 1) + 7.0
    assert torch.allclose(correlation_matrix(shifted), r, atol=1e-12)
    assert not torch.allclose(gram_matrix(shifted), gram_matrix(a))  # G does change
    one = correlation_matrix(a[1:])  # images of a batch are independent
    assert torch.allclose(one[0], r[1])


def test_a_constant_channel_has_r_zero_not_nan():
    a = seeded((1, 3, 4, 4), seed=2)
    a[0, 1] = 3.7  # constant, e.g. a channel whose ReLU is always on at the same value
    a = a.float()
    assert constant_channels(a).tolist() == [[False, True, False]]
    r = correlation_matrix(a)
    assert torch.isfinite(r).all()
    assert r[0, 1].abs().max() == 0 and r[0, :, 1].abs().max() == 0
    assert r[0, 0, 0] == pytest.approx(1.0) and r[0, 2, 2] == pytest.approx(1.0)
    assert torch.isfinite(correlation_matrix(torch.zeros(1, 2, 3, 3))).all()


def test_always_on_channels_have_a_large_gram_entry_but_no_correlation():
    g = torch.Generator().manual_seed(3)
    noise = torch.randn(2, 32, 32, generator=g, dtype=torch.float64)
    on = torch.stack([5 + 0.1 * noise[0], 5 + 0.1 * noise[1]])  # both always on, varying independently
    shared = torch.randn(32, 32, generator=g, dtype=torch.float64)
    together = torch.stack([0.2 * shared, 0.2 * shared + 0.01 * noise[0]])  # small, vary together
    a = torch.cat([on, together])[None]  # (1, 4, 32, 32)
    G, r = gram_matrix(a)[0], correlation_matrix(a)[0]
    assert G[0, 1] > 100 * G[2, 3].abs()
    assert abs(r[0, 1]) < 0.1 and r[2, 3] > 0.99


def test_ranked_pairs_orders_by_gram_or_correlation():
    g = torch.Generator().manual_seed(4)
    base = torch.randn(8, 8, generator=g, dtype=torch.float64)
    other = torch.randn(8, 8, generator=g, dtype=torch.float64)
    a = torch.stack([base, 2 * base + 0.01 * other, other, torch.full((8, 8), 2.0, dtype=torch.float64)])[None]
    r = correlation_matrix(a)[0]
    most = ranked_pairs(a, by="correlation", order="most", n=2)
    assert most[0][:2] == (0, 1) and most[0][2] == pytest.approx(float(r[0, 1]))
    assert len(most) == 2 and most[0][2] >= most[1][2]
    least = ranked_pairs(a, by="correlation", order="least", n=3)
    assert [abs(v) for _, _, v in least] == sorted(abs(v) for _, _, v in least)
    assert all(3 not in pair[:2] for pair in least)  # the constant channel is skipped
    with_constant = ranked_pairs(a, by="correlation", order="least", n=1, skip_constant=False)
    assert with_constant[0][2] == 0.0 and 3 in with_constant[0][:2]
    G = gram_matrix(a)[0]
    top = ranked_pairs(a, by="gram", n=1, skip_constant=False)[0]
    off = G + torch.diag(torch.full((4,), -float("inf"), dtype=G.dtype))
    assert top[2] == pytest.approx(float(off.max()))
    diag = ranked_pairs(a, by="gram", n=1, exclude_diagonal=False)[0]
    assert diag[0] == diag[1] == 1  # channel 1 = 2 * base is the most energetic
    all_pairs = ranked_pairs(a, n=100)
    assert len(all_pairs) == 3 and all(k < k2 for k, k2, _ in all_pairs)
    for bad in (dict(by="pearson"), dict(order="max"), dict(n=0)):
        with pytest.raises(ValueError):
            ranked_pairs(a, **bad)


def test_dead_channels_and_active_fraction():
    x = seeded((2, 4, 4, 5), seed=10)
    a = x.relu()
    a[0, 1] = 0.0  # dead on image 0 only
    a[:, 3] = 0.0  # dead on both images
    a[1, 2] = 0.0
    a[1, 2, 0, 0] = 0.5  # on at one position of 20
    assert dead_channels(a).tolist() == [[False, True, False, True], [False, False, False, True]]
    on = active_fraction(a)
    assert on.shape == (2, 4) and on[1, 2] == pytest.approx(1 / 20) and on[0, 3] == 0
    assert on[0, 0] == pytest.approx(float((x[0, 0] > 0).float().mean()))
    # Pre-ReLU (signed) values: a channel that is never > 0 still varies; it is what the ReLU kills.
    signed = x.clone()
    signed[0, 2] = -signed[0, 2].abs() - 0.1
    assert dead_channels(signed)[0].tolist() == [False, False, True, False]
    assert not constant_channels(signed)[0, 2]
    assert torch.equal(dead_channels(signed.relu()), dead_channels(signed))


def test_ranked_pairs_min_active_leaves_out_nearly_dead_channels():
    g = torch.Generator().manual_seed(11)
    base = torch.rand(10, 10, generator=g, dtype=torch.float64)
    rare = torch.zeros(10, 10, dtype=torch.float64)
    rare[0, :2] = torch.tensor([1.0, 2.0])  # on at 2 of 100 positions
    a = torch.stack([base, base + 0.5 * torch.rand(10, 10, generator=g, dtype=torch.float64),
                     rare, 3 * rare, torch.zeros(10, 10, dtype=torch.float64)])[None]
    top = ranked_pairs(a, by="correlation", n=1)[0]
    assert top[:2] == (2, 3) and top[2] == pytest.approx(1.0)  # two nearly dead channels, r = 1
    live = ranked_pairs(a, by="correlation", n=10, min_active=0.1)
    assert [pair[:2] for pair in live] == [(0, 1)]
    assert ranked_pairs(a, n=10, min_active=0.02) == ranked_pairs(a, n=10)  # 2 % is enough for 2 of 100
    assert ranked_pairs(a[:, 2:], n=3, min_active=0.5) == []
    with pytest.raises(ValueError, match="fraction"):
        ranked_pairs(a, min_active=2)


def test_a_signed_map_is_drawn_grey_below_zero_white_at_zero():
    a = seeded((1, 2, 5, 5), seed=12)  # pre-ReLU: negative and positive values
    drawn = plot_channel_map(a, 0, color="#1f77b4")
    low, high = drawn.get_clim()
    lim = float(a[0, 0].abs().max())
    assert (low, high) == (pytest.approx(-lim), pytest.approx(lim))
    assert drawn.to_rgba(0.0)[:3] == pytest.approx((1.0, 1.0, 1.0), abs=0.01)
    assert drawn.to_rgba(-lim)[:3] == pytest.approx((0.25, 0.25, 0.25), abs=0.01)
    rectified = plot_channel_map(a.relu(), 0)
    assert rectified.get_clim()[0] == 0 and rectified.to_rgba(0.0)[:3] == pytest.approx((1.0, 1.0, 1.0))
    empty = plot_channel_map(torch.zeros(1, 1, 3, 3), 0)  # a dead channel: all white
    assert (empty.to_rgba(np.asarray(empty.get_array()))[..., :3] == 1).all()


def test_ranked_pairs_reads_the_image_it_is_asked_for():
    a = seeded((2, 5, 6, 6), seed=5)
    assert ranked_pairs(a, image=1) == ranked_pairs(a[1:])
    assert ranked_pairs(a, image=1) != ranked_pairs(a[:1])


def test_resize_mask_and_orange_mask():
    mask = torch.zeros(8, 8, dtype=torch.bool)
    mask[:4, :6] = True
    small = resize_mask(mask, (4, 4))
    assert small.dtype == torch.bool
    assert small.tolist() == [[True, True, True, False]] * 2 + [[False] * 4] * 2
    assert torch.equal(resize_mask(mask[None, None], (8, 8)), mask)
    image = sample_image("stripes_orange", 64)
    m = orange_mask(image)
    assert m.shape == (64, 64) and 0.3 < m.float().mean() < 0.6
    background = sample_image("stripes_only", 64)
    # The orange patches are exactly where stripes_only differs from the plain background.
    differs = (background[0] - background[0, :, :1, :1]).abs().sum(0) > 1e-3
    assert torch.equal(m, differs)
    assert not orange_mask(background).any()


def test_channel_scores_find_the_channel_that_responds_to_a_region():
    mask = torch.zeros(6, 6, dtype=torch.bool)
    mask[:3] = True
    a = seeded((1, 4, 6, 6), seed=6).abs() * 0.1
    a[0, 2][mask] += 1.0  # channel 2 fires in the top half
    plain = seeded((1, 4, 6, 6), seed=7).abs() * 0.1
    assert region_means(a, mask)[2] > 1.0 > region_means(a, ~mask)[2]
    assert torch.allclose(region_means(a), a[0].mean(dim=(1, 2)))
    scores = channel_scores(on=[(a, mask)], off=[(a, ~mask), plain])
    assert scores.shape == (4,) and int(scores.argmax()) == 2 and scores[2] > 1
    assert find_channel(on=[(a, mask)], off=[(a, ~mask)]) == 2
    assert find_channel(on=[(a, mask)], off=[(a, ~mask)], exclude=[2]) != 2
    with pytest.raises(ValueError, match="covers no position"):
        region_means(a, torch.zeros(6, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="at least one"):
        channel_scores(on=[a], off=[])


@pytest.mark.parametrize("seed", [0, 1])
def test_the_lectures_example_stripes_and_orange_co_occur_only_in_stripes_orange(seed):
    fx = FeatureExtractor(vgg11(seed=seed), ["relu2_1"], pooling="avg")
    images = {n: sample_image(n, 64) for n in ("stripes_orange", "stripes_only", "orange_only")}
    acts = {n: fx(x)["relu2_1"] for n, x in images.items()}
    m = orange_mask(images["stripes_orange"])
    both, stripes, orange = acts["stripes_orange"], acts["stripes_only"], acts["orange_only"]
    k = find_channel(on=[(both, m), (stripes, m)], off=[(orange, m), (both, ~m)])
    k2 = find_channel(on=[(both, m), (orange, m)], off=[(stripes, m), (both, ~m)], exclude=[k])
    G = {n: float(gram_matrix(a)[0, k, k2]) for n, a in acts.items()}
    assert G["stripes_orange"] > 2 * max(G["stripes_only"], G["orange_only"])


def test_plots_draw_what_they_say():
    a = seeded((1, 6, 5, 7), seed=8).relu()
    images = plot_channel_stack(a, [0, 3, 5], title="volume")
    assert len(images) == 3 and np.allclose(images[1].get_array(), a[0, 3].numpy())
    ax = images[0].axes
    assert ax.get_title() == "volume" and any("n_C = 6" in t.get_text() for t in ax.texts)
    drawn = plot_channel_map(a, 4)
    assert np.allclose(drawn.get_array(), a[0, 4].numpy()) and drawn.axes.get_title() == "channel 4"
    points = plot_pair_scatter(a, 1, 2)
    x, y = channel_pairs(a, 1, 2)
    drawn_pairs = {tuple(p) for p in np.round(points.get_offsets(), 5).tolist()}
    assert drawn_pairs == {tuple(p) for p in np.round(np.stack([x.numpy(), y.numpy()], 1), 5).tolist()}
    sizes = dict(zip(map(tuple, np.round(points.get_offsets(), 5).tolist()), points.get_sizes()))
    assert sizes[(0.0, 0.0)] > max(s for p, s in sizes.items() if p != (0.0, 0.0))  # many positions off
    label = points.get_label()
    assert f"G = {float(gram_matrix(a)[0, 1, 2]):.4g}" in label
    assert f"r = {float(correlation_matrix(a)[0, 1, 2]):.3f}" in label
    sub = plot_pair_scatter(seeded((1, 2, 100, 100), seed=9), 0, 1, max_points=1000)
    assert len(sub.get_offsets()) <= 1000
