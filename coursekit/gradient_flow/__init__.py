"""Vanishing and exploding gradients (lesson 09).

``mlp`` (a deep MLP from one config: depth, width, sigmoid/tanh/ReLU, too small / too large /
Xavier / He initialisation, batch norm, residual connections), ``analysis`` (per-layer gradient
norms and activation statistics from one pass, the Jacobian-product view, clipping by global
norm, a short SGD run on the digits), ``plots`` (the lesson's and the panel's figures),
``diagnostics`` (symmetric initialisation, dead ReLUs, Karpathy's saturation, grad:data and update:data
ratios, Glorot & Bengio's standard initialisation), ``residual`` (variance growth of a residual stream),
``recurrent`` (a tanh RNN: the gradient through time, clipping), ``diagnostic_plots`` (their figures),
``batchnorm`` and ``exercises`` (the lesson's exercises).
"""

from .analysis import (GradientReport, JacobianView, clip_by_global_norm, clip_factor, clip_grad_norm_, digits_data,
                       global_norm, gradient_report, jacobian_view, sample_batch, train_mlp)
from .mlp import ACTIVATIONS, INITS, DeepMLP, MLPConfig, init_std, make_mlp
from .plots import activation_histograms, grad_norm_profile

__all__ = ["GradientReport", "JacobianView", "clip_by_global_norm", "clip_factor", "clip_grad_norm_", "digits_data",
           "sample_batch", "global_norm", "gradient_report", "jacobian_view", "train_mlp", "ACTIVATIONS", "INITS",
           "DeepMLP", "MLPConfig", "init_std", "make_mlp", "activation_histograms", "grad_norm_profile"]
