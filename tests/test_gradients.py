"""Lesson 05's package code: the hand-derived gradients of Gatys et al. 2015 against autograd,
finite differences and numbers worked out by hand; the exercises' checks and hints."""

import pytest
import torch

from coursekit.nst import gradients as cg
from coursekit.nst import costs
from coursekit.grading import registry
from coursekit.nst.exercises import EXERCISES, features
from coursekit.grading.runner import run_exercise

TOL = 1e-8  # the acceptance bound; the agreement measured is ~1e-15 relative


def t(rows):
    return torch.tensor(rows, dtype=torch.float64)


def pre_activation(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# ---- hand-computed examples --------------------------------------------------------------------
def test_style_one_channel_two_positions_by_hand():
    # F = [1, 2] (N = 1 channel, M = 2 positions), A = [[3]].
    # G = F F^T = 1 + 4 = 5;  E = 1/(4 N^2 M^2) (G - A)^2 = (5 - 3)^2 / 16 = 0.25.
    # dE/dF = 1/(N^2 M^2) (G - A) F = (1/4) * 2 * [1, 2] = [0.5, 1.0].
    # Directly: E(f1, f2) = (f1^2 + f2^2 - 3)^2 / 16, dE/df1 = 2 * 2 * 2 f1 / 16 = 0.5, dE/df2 = 2 * 2 * 4 / 16 = 1.
    a_G = t([1.0, 2.0]).view(1, 1, 1, 2)
    a_S = t([3.0**0.5, 0.0]).view(1, 1, 1, 2)  # its Gram is [[3]]
    assert costs.gram_matrix(a_S).item() == pytest.approx(3.0)
    assert costs.layer_style_cost(a_S, a_G).item() == pytest.approx(0.25)
    grad = cg.style_layer_gradient(a_S, a_G, relu=False)
    assert torch.allclose(grad, t([0.5, 1.0]).view(1, 1, 1, 2), rtol=0, atol=1e-15)
    assert torch.equal(cg.style_layer_gradient(a_S, a_G), grad)  # F > 0 everywhere: the mask keeps all


def test_style_two_channels_mask_by_hand():
    # F = [[1, 2], [0, 3]] (N = M = 2), unit (channel 1, position 0) is off.
    # G = F F^T = [[5, 6], [6, 9]]; take A = [[4, 5], [5, 10]], so G - A = [[1, 1], [1, -1]].
    # (G - A) F = [[1*1 + 1*0, 1*2 + 1*3], [1*1 - 1*0, 1*2 - 1*3]] = [[1, 5], [1, -1]];  1/(N^2 M^2) = 1/16.
    # E = 1/(4*4*4) * (1 + 1 + 1 + 1) = 1/16.
    # Unmasked: [[1, 5], [1, -1]] / 16; the off unit's entry is 1/16, not 0, so the mask changes it to 0.
    a_G = t([[1.0, 2.0], [0.0, 3.0]]).view(1, 2, 1, 2)
    A = t([[4.0, 5.0], [5.0, 10.0]])
    a_S = torch.linalg.cholesky(A).view(1, 2, 1, 2)  # L L^T = A, so its Gram matrix is A
    assert torch.allclose(costs.gram_matrix(a_S)[0], A)
    assert costs.layer_style_cost(a_S, a_G).item() == pytest.approx(1 / 16)
    unmasked = cg.style_layer_gradient(a_S, a_G, relu=False)
    masked = cg.style_layer_gradient(a_S, a_G, relu=True)
    assert torch.allclose(unmasked, t([[1, 5], [1, -1]]).view(1, 2, 1, 2) / 16, atol=1e-14)
    assert torch.allclose(masked, t([[1, 5], [0, -1]]).view(1, 2, 1, 2) / 16, atol=1e-14)


def test_content_by_hand():
    # F = [[1, 2], [0, 3]], P = [[0.5, 1], [1, 1]]: F - P = [[0.5, 1], [-1, 2]], L = (0.25 + 1 + 1 + 4) / 2 = 3.125.
    a_G = t([[1.0, 2.0], [0.0, 3.0]]).view(1, 2, 1, 2)
    a_C = t([[0.5, 1.0], [1.0, 1.0]]).view(1, 2, 1, 2)
    assert costs.content_cost(a_C, a_G).item() == pytest.approx(3.125)
    assert torch.equal(cg.content_cost_gradient(a_C, a_G, relu=False), t([[0.5, 1], [-1, 2]]).view(1, 2, 1, 2))
    assert torch.equal(cg.content_cost_gradient(a_C, a_G), t([[0.5, 1], [0, 2]]).view(1, 2, 1, 2))


# ---- analytic == autograd, finite differences ---------------------------------------------------
CASES = [
    (cg.content_cost_gradient, costs.content_cost),
    (cg.style_layer_gradient, costs.layer_style_cost),
]


@pytest.mark.parametrize("gradient_fn, cost", CASES)
@pytest.mark.parametrize("relu", [True, False])
@pytest.mark.parametrize("shape, target_batch", [((1, 3, 4, 5), 1), ((3, 6, 2, 3), 1), ((2, 4, 3, 3), 2)])
def test_analytic_equals_autograd(gradient_fn, cost, relu, shape, target_batch):
    X = pre_activation(shape, 0)
    target = pre_activation((target_batch,) + shape[1:], 1).relu()
    cmp = cg.check_against_autograd(gradient_fn, cost, target, X, relu=relu)
    assert cmp.relative_error < TOL and cmp.checked == X.numel()
    # and directly, entry by entry
    analytic = gradient_fn(target, X.relu() if relu else X, relu=relu)
    assert torch.allclose(analytic, cg.autograd_gradient(cost, target, X, relu), rtol=0,
                          atol=TOL * analytic.abs().max().item())


@pytest.mark.parametrize("gradient_fn, cost", CASES)
@pytest.mark.parametrize("relu", [True, False])
def test_finite_differences_agree(gradient_fn, cost, relu):
    X = pre_activation((2, 3, 3, 4), 2)
    target = pre_activation((1, 3, 3, 4), 3).relu()
    cmp = cg.check_finite_differences(gradient_fn, cost, target, X, relu=relu, h=1e-5, n=None)
    assert cmp.relative_error < 1e-7
    assert cmp.checked > 0.9 * X.numel()  # only entries within 10 h of the kink are skipped


def test_mask_is_the_derivative_through_the_rectifier():
    # The masked gradient given F = ReLU(X) is autograd's gradient with respect to X, not F.
    X = pre_activation((1, 4, 3, 3), 4)
    a_S = pre_activation((1, 4, 3, 3), 5).relu()
    F = X.relu().requires_grad_(True)
    costs.layer_style_cost(a_S, F).sum().backward()
    assert not torch.allclose(cg.style_layer_gradient(a_S, X.relu()), F.grad)
    assert torch.allclose(cg.style_layer_gradient(a_S, X.relu(), relu=False), F.grad, rtol=1e-12, atol=0)
    assert torch.allclose(cg.style_layer_gradient(a_S, X.relu()), F.grad * (X > 0), rtol=1e-12, atol=0)


def test_finite_difference_gradient_full_and_indexed():
    x = pre_activation((2, 3), 6)
    fn = lambda z: (z**3).sum()  # noqa: E731 ; gradient 3 z^2
    full = cg.finite_difference_gradient(fn, x, h=1e-5)
    assert full.shape == x.shape and torch.allclose(full, 3 * x**2, atol=1e-8)
    part = cg.finite_difference_gradient(fn, x, h=1e-5, indices=[0, 4])
    assert torch.allclose(part, (3 * x**2).reshape(-1)[[0, 4]], atol=1e-8)
    with pytest.raises(ValueError, match="floating-point"):
        cg.finite_difference_gradient(fn, torch.arange(3), h=1)


def test_finite_difference_error_curve_is_u_shaped():
    X = pre_activation((1, 3, 3, 3), 7)
    a_S = pre_activation((1, 3, 3, 3), 8)
    fn = lambda z: costs.layer_style_cost(a_S, z)  # noqa: E731
    grad = cg.style_layer_gradient(a_S, X, relu=False)
    hs = [1e-1, 1e-5, 1e-12]
    errs = cg.finite_difference_errors(fn, X, grad, hs, indices=range(0, 27, 3))
    assert errs[1] < 1e-8 and errs[0] > 100 * errs[1] and errs[2] > 100 * errs[1]  # truncation | best | round-off
    errs32 = cg.finite_difference_errors(lambda z: costs.layer_style_cost(a_S.float(), z), X.float(), grad, [1e-5])
    assert errs32[0] > 1e3 * errs[1]  # float32 round-off swamps the same step


def test_inputs_unchanged_and_dtype_kept():
    a_S, a_G = features((1, 3, 2, 2), 9), features((2, 3, 2, 2), 10)
    before = (a_S.clone(), a_G.clone())
    for fn in (cg.content_cost_gradient, cg.style_layer_gradient):
        out = fn(a_S, a_G)
        assert out.dtype == torch.float64 and out.shape == a_G.shape
        assert torch.equal(a_S, before[0]) and torch.equal(a_G, before[1])
        assert fn(a_S.float(), a_G.float()).dtype == torch.float32


def test_clear_errors():
    with pytest.raises(ValueError, match="not the output of a ReLU"):
        cg.style_layer_gradient(features((1, 2, 2, 2), 0), features((1, 2, 2, 2), 1, rectified=False))
    with pytest.raises(ValueError, match="same layer"):
        cg.content_cost_gradient(features((1, 2, 2, 2), 0), features((1, 3, 2, 2), 1))
    with pytest.raises(ValueError, match="shapes"):
        cg.compare_gradients(torch.zeros(2), torch.zeros(3))


def test_gradient_to_pixels_equals_autograd_through_a_network():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 5, 3, padding=1)).double()
    extractor = lambda x: {"conv1": net[0](x), "conv2": net[2](net[1](net[0](x)))}  # noqa: E731 ; pre-ReLU outputs
    image = torch.rand(1, 3, 6, 6, dtype=torch.float64)
    with torch.no_grad():
        targets = {k: v.relu() for k, v in extractor(torch.rand(1, 3, 6, 6, dtype=torch.float64)).items()}

    def upstream(X):
        return {"conv1": cg.style_layer_gradient(targets["conv1"], X["conv1"].relu()),
                "conv2": cg.content_cost_gradient(targets["conv2"], X["conv2"].relu())}

    by_hand = cg.gradient_to_pixels(extractor, image, upstream)
    x = image.clone().requires_grad_(True)
    X = extractor(x)
    (costs.layer_style_cost(targets["conv1"], X["conv1"].relu()) + costs.content_cost(targets["conv2"], X["conv2"].relu())).sum().backward()
    assert cg.compare_gradients(by_hand, x.grad).relative_error < 1e-12
    with pytest.raises(KeyError, match="did not compute"):
        cg.gradient_to_pixels(extractor, image, lambda X: {"conv9": X["conv1"]})


# ---- the exercises' checks -----------------------------------------------------------------------
def test_registered_with_lesson_points_and_hidden_cases():
    for name in ("content_cost_gradient", "style_layer_gradient"):
        ex = registry()[name]
        assert ex.lesson == "05_gradients_by_hand" and ex.points >= 2 and len(ex.hidden) >= 3
        public_labels = {c.label for c in ex.cases}
        assert not public_labels & {c.label for c in ex.hidden}
        for case in list(ex.cases) + list(ex.hidden):  # every case's reference output is finite
            args, kwargs = case.make()
            assert torch.isfinite(ex.reference(*args, **kwargs)).all()


def _solution_style(a_S, a_G, relu=True):  # a learner's correct answer, written independently
    b, c, h, w = a_G.shape
    F = a_G.reshape(b, c, h * w)
    FS = a_S.reshape(a_S.shape[0], c, h * w)
    D = F @ F.transpose(1, 2) - FS @ FS.transpose(1, 2)
    grad = (F.transpose(1, 2) @ D).transpose(1, 2).reshape(a_G.shape) / (c**2 * (h * w) ** 2)
    return grad * (a_G > 0) if relu else grad


def test_independent_solution_passes():
    assert run_exercise(EXERCISES["style_layer_gradient"], _solution_style).passed


@pytest.mark.parametrize("wrong, words", [
    (lambda a_S, a_G, relu=True: _solution_style(a_S, a_G, relu=False), "mask is missing"),
    (lambda a_S, a_G, relu=True: _solution_style(a_S, a_G, relu) * (a_G.shape[1] * a_G.shape[2] * a_G.shape[3]) ** 2,
     "1/(N² M²) is missing"),
    (lambda a_S, a_G, relu=True: _solution_style(a_S, a_G, relu) / 4, "factor 4"),
    (lambda a_S, a_G, relu=True: _solution_style(a_S, a_G, relu) / 2, "F appears twice"),
])
def test_style_mistakes_get_their_hint(wrong, words):
    result = run_exercise(EXERCISES["style_layer_gradient"], wrong)
    assert not result.passed and result.hints and words in result.hints[0], result.verdict()


def test_transposed_result_gets_its_hint():
    def transposed(a_S, a_G, relu=True):
        b, c, h, w = a_G.shape
        F = a_G.reshape(b, c, h * w)
        FS = a_S.reshape(a_S.shape[0], c, h * w)
        D = F @ F.transpose(1, 2) - FS @ FS.transpose(1, 2)
        grad = (F.transpose(1, 2) @ D).reshape(a_G.shape) / (c**2 * (h * w) ** 2)
        return grad * (a_G > 0) if relu else grad

    result = run_exercise(EXERCISES["style_layer_gradient"], transposed)
    assert not result.passed and "Transpose before going back" in result.hints[0], result.verdict()


@pytest.mark.parametrize("wrong, words", [
    (lambda a_C, a_G, relu=True: a_G - a_C, "mask is missing"),
    (lambda a_C, a_G, relu=True: (a_C - a_G) * (a_G > 0) if relu else a_C - a_G, "sign is flipped"),
    (lambda a_C, a_G, relu=True: (a_G - a_C) * (a_C > 0) if relu else a_G - a_C, "not from the content image"),
    (lambda a_C, a_G, relu=True: (a_G - a_C) * (a_G > 0), "no mask"),
])
def test_content_mistakes_get_their_hint(wrong, words):
    result = run_exercise(EXERCISES["content_cost_gradient"], wrong)
    assert not result.passed and result.hints and words in result.hints[0], result.verdict()


# ---- figures (headless) --------------------------------------------------------------------------
def test_plots_draw_and_return_what_they_drew():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = cg.plot_relu_mask(t([1.0, -0.5, 0.3]), t([0.5, 0.2, 0.9]))
    assert len(axes) == 2 and len(axes[1].patches) >= 6  # two bars per unit (+ grey bands)
    lines = cg.plot_fd_errors([1e-3, 1e-2], {"float64": [1e-8, 1e-6]}, h_mark=1e-3)
    assert len(lines) == 2 and lines[0].axes.get_xscale() == "log"
    plt.close("all")


def test_gradient_image_maps_zero_to_grey():
    g = t([[[[0.0, 2.0], [-2.0, 1.0]]]]).expand(1, 3, 2, 2)
    img = cg.gradient_image(g)
    assert img.min() >= 0 and img.max() <= 1
    assert torch.allclose(img[0, 0], t([[0.5, 1.0], [0.0, 0.75]]))
    assert torch.equal(cg.gradient_image(torch.zeros(1, 3, 2, 2)), torch.full((1, 3, 2, 2), 0.5))


# ---- lesson 05 differentiates lesson 04's objective -----------------------------------------------
def test_lesson05_checks_its_hand_gradient_against_lesson04s_objective():
    """The stored lesson builds lesson 04's extractor and objective and shows the agreement (the
    mathematics itself is pinned in test_paper_layers.py)."""
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).parents[1] / "notebooks/solutions/05_gradients_by_hand.ipynb").read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    source = "\n".join(code)
    assert "fx = default_extractor().double()" in source
    assert "J = transfer_objective(fx, compute_targets(fx, C, [S], settings), settings)" in source
    assert "TransferSettings(alpha=ALPHA, beta=BETA, size=None)" in source
    assert "costs.PAPER_STYLE_LAYERS" in source and "costs.PRE_RELU_STYLE_LAYERS" in source
    outputs = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    assert "equal to autograd's of lesson 04's J to 1e-12 relative: True" in outputs
    assert "and to autograd's of the plain-cost J to 1e-12 relative: True" in outputs
