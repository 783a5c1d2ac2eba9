"""Generative adversarial networks (Goodfellow et al. 2014): lessons 06-07.

``losses`` (L_D, minimax and non-saturating generator losses on logits), ``data`` (toy
distributions and noise priors), ``models`` (MLP G and D), ``train`` (Algorithm 1 as plain
functions), ``metrics`` (D*, JSD, mode coverage), ``plots`` (decision surface, sample grids, D curves),
``dynamics`` (the generator's output gradient, a training probe, D/G step table, the xy game, a 1-D
Figure 1 run) and ``game_plots`` (their figures);
for lesson 07: ``dcgan`` (DCGAN G and D from a config), ``digits`` (digit images, offline),
``dcgan_train`` (``train_dcgan`` over ``train_gan``, fixed-noise grids, latent interpolation).
"""

from .data import ToyData, noise_sampler, toy_data
from .dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, conv_transpose_output_size, make_dcgan
from .dcgan_train import generate, interpolate_latents, train_dcgan
from .digits import DigitImages, load_digit_images
from .losses import discriminator_loss, generator_loss, value_function
from .metrics import jsd_estimate, mode_coverage, optimal_discriminator
from .models import ToyDiscriminator, ToyGenerator, make_gan
from .train import GANTrainConfig, discriminator_step, generator_step, make_optimizers, train_gan

__all__ = ["ToyData", "noise_sampler", "toy_data", "discriminator_loss", "generator_loss", "value_function",
           "jsd_estimate", "mode_coverage", "optimal_discriminator", "ToyDiscriminator", "ToyGenerator", "make_gan",
           "discriminator_step", "generator_step", "make_optimizers", "GANTrainConfig", "train_gan",
           "DCGANConfig", "DCGANDiscriminator", "DCGANGenerator", "conv_transpose_output_size", "make_dcgan",
           "generate", "interpolate_latents", "train_dcgan", "DigitImages", "load_digit_images"]
