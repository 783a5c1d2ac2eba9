"""The paper's layers are rectified responses (Gatys et al. 2015; seed 004's ReLU mask), everywhere.

Gatys' Caffe network applied each ReLU in place, so what the paper calls conv1_1 ... conv5_1 and conv4_2
are relu1_1 ... relu5_1 and relu4_2. The engine (lesson 04), the panels and the CLI default to them, and
lesson 05's hand-made gradient (pre-activations X, the mask [F > 0]) is the gradient of the very
objective lesson 04's engine minimises.
"""

import torch

from coursekit.cli import build_parser
from coursekit.models import FeatureExtractor, layer_names, vgg11
from coursekit.nst import costs
from coursekit.nst import gradients as cg
from coursekit.nst.reconstruction import FIG1_LAYERS
from coursekit.nst.transfer import TransferSettings, compute_targets, default_extractor, transfer_objective
from coursekit.samples import sample_image

RELU = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]


def test_the_defaults_are_the_rectified_paper_layers():
    assert list(costs.PAPER_STYLE_LAYERS) == RELU and set(costs.PAPER_STYLE_LAYERS.values()) == {0.2}
    assert costs.PAPER_CONTENT_LAYER == "relu4_2"
    settings = TransferSettings()
    assert dict(settings.style_weights) == costs.PAPER_STYLE_LAYERS
    assert settings.content_layer == "relu4_2"
    args = build_parser().parse_args(["stylize", "sample:astronaut", "sample:swirls", "-o", "x.png"])
    assert args.style_weights == costs.PAPER_STYLE_LAYERS and args.content_layer == "relu4_2"
    assert FIG1_LAYERS == ("relu1_2", "relu2_2", "relu3_2", "relu4_2", "relu5_2")
    # the pre-ReLU reading stays available, as a named variant
    assert list(costs.PRE_RELU_STYLE_LAYERS) == [n.replace("relu", "conv") for n in RELU]
    assert costs.PRE_RELU_CONTENT_LAYER == "conv4_2"


def test_the_default_extractors_paper_features_are_non_negative():
    fx = default_extractor(weights=None)
    assert fx.rescale == "layer"  # random weights: one factor per layer (see default_extractor)
    with torch.no_grad():
        feats = fx(sample_image("astronaut", size=64), RELU + ["relu4_2"])
    for name, a in feats.items():
        assert a.min() >= 0, name
        assert a.max() > 0, name  # and not all dead
    with torch.no_grad():
        assert fx(sample_image("astronaut", size=64), ["conv4_2"])["conv4_2"].min() < 0  # the variant is signed


def test_per_filter_rescaling_makes_every_live_filters_mean_one():
    from coursekit.models.rescale import calibration_images

    fx = FeatureExtractor(vgg11(seed=0), ["relu1_1", "relu2_1"], pooling="avg", rescale="filter")
    with torch.no_grad():
        feats = fx(calibration_images())
    for name, a in feats.items():
        means = a.mean(dim=(0, 2, 3))
        live = means > 0
        assert live.sum() > 0
        assert torch.allclose(means[live], torch.ones_like(means[live]), rtol=1e-3), name


def test_lesson05_hand_gradient_is_the_gradient_of_lesson04s_objective():
    layers = [n for n in layer_names("vgg11") if n.startswith(("conv", "relu"))]
    fx = FeatureExtractor(vgg11(seed=0), layers, pooling="avg").double()
    C = sample_image("astronaut", size=32).double()
    S = sample_image("stripes_orange", size=32).double()
    settings = TransferSettings(alpha=1.0, beta=1e3, size=None)  # the engine's defaults: the paper's layers
    J = transfer_objective(fx, compute_targets(fx, C, [S], settings), settings)

    x0 = torch.rand(C.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x = x0.clone().requires_grad_(True)
    J(x)["total"].sum().backward()  # lesson 04's objective, through autograd

    with torch.no_grad():
        X_C, X_S = fx(C), fx(S)

    def upstream(X):  # lesson 05: pre-activations X^l, F = ReLU(X), gradients by hand with the mask
        pre = lambda name: name.replace("relu", "conv")  # noqa: E731
        grads = {pre(n): settings.beta * w * cg.style_layer_gradient(X_S[pre(n)].relu(), X[pre(n)].relu())
                 for n, w in settings.style_weights.items()}
        c = pre(settings.content_layer)
        grads[c] = grads.get(c, 0) + settings.alpha * cg.content_cost_gradient(X_C[c].relu(), X[c].relu())
        return grads

    by_hand = cg.gradient_to_pixels(fx, x0, upstream)
    assert cg.compare_gradients(by_hand, x.grad).relative_error < 1e-10
