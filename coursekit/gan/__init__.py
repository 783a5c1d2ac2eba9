"""Generative adversarial networks (Goodfellow et al. 2014) on toy data: lessons 06-07.

``losses`` (L_D, minimax and non-saturating generator losses on logits), ``data`` (toy
distributions and noise priors), ``models`` (MLP G and D), ``train`` (Algorithm 1 as plain
functions), ``metrics`` (D*, JSD, mode coverage), ``plots`` (decision surface and samples).
"""

from .data import ToyData, noise_sampler, toy_data
from .losses import discriminator_loss, generator_loss, value_function
from .metrics import jsd_estimate, mode_coverage, optimal_discriminator
from .models import Discriminator, Generator, make_gan
from .train import discriminator_step, generator_step, make_optimizers, train_gan

__all__ = ["ToyData", "noise_sampler", "toy_data", "discriminator_loss", "generator_loss", "value_function",
           "jsd_estimate", "mode_coverage", "optimal_discriminator", "Discriminator", "Generator", "make_gan",
           "discriminator_step", "generator_step", "make_optimizers", "train_gan"]
