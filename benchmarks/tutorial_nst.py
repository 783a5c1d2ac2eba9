"""The PyTorch "Neural Transfer Using PyTorch" tutorial's algorithm, re-implemented from its published
description, as the reference for ``nst_benchmark.py``.

What it does (and what we reproduce): a ``nn.Sequential`` copy of ``vgg19.features`` with a
Normalization module first, ContentLoss after ``conv_4`` and StyleLoss after ``conv_1``..``conv_5``
(its numbering counts convolutions, so these are conv2_2 and conv1_1, conv1_2, conv2_1, conv2_2,
conv3_1), ReLUs replaced by non-in-place ones, layers after the last loss trimmed; Gram
G = F F^T / (a b c d) with ``view(a*b, c*d)``; losses by ``mse_loss``; style weight 1e6, content
weight 1; ``torch.optim.LBFGS`` on the input image, which the closure clamps to [0, 1] before each
evaluation; the loop counts closure calls up to ``num_steps`` (default 300).
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

CONTENT_LAYERS = ("conv_4",)
STYLE_LAYERS = ("conv_1", "conv_2", "conv_3", "conv_4", "conv_5")


class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


def gram_matrix(input):
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        self.loss = F.mse_loss(gram_matrix(input), self.target)
        return input


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean.to(img)) / self.std.to(img)  # the tutorial moves these to its device


def get_style_model_and_losses(cnn, mean, std, style_img, content_img,
                               content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS):
    normalization = Normalization(mean, std)
    content_losses, style_losses = [], []
    model = nn.Sequential(normalization)
    i = 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv_{i}"
        elif isinstance(layer, nn.ReLU):
            name = f"relu_{i}"
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = f"pool_{i}"
        elif isinstance(layer, nn.BatchNorm2d):
            name = f"bn_{i}"
        else:
            raise RuntimeError(f"Unrecognized layer: {layer.__class__.__name__}")
        model.add_module(name, layer)
        if name in content_layers:
            target = model(content_img).detach()
            content_loss = ContentLoss(target)
            model.add_module(f"content_loss_{i}", content_loss)
            content_losses.append(content_loss)
        if name in style_layers:
            target_feature = model(style_img).detach()
            style_loss = StyleLoss(target_feature)
            model.add_module(f"style_loss_{i}", style_loss)
            style_losses.append(style_loss)
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], (ContentLoss, StyleLoss)):
            break
    return model[: i + 1], style_losses, content_losses


def run_style_transfer(cnn, mean, std, content_img, style_img, input_img, num_steps=300,
                       style_weight=1e6, content_weight=1, record=None):
    """The tutorial's loop. ``record`` (a list) receives (seconds since start, loss) per closure call."""
    model, style_losses, content_losses = get_style_model_and_losses(cnn, mean, std, style_img, content_img)
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = torch.optim.LBFGS([input_img])
    run = [0]
    start = time.perf_counter()
    while run[0] <= num_steps:
        def closure():
            with torch.no_grad():
                input_img.clamp_(0, 1)
            optimizer.zero_grad()
            model(input_img)
            style_score = sum(sl.loss for sl in style_losses) * style_weight
            content_score = sum(cl.loss for cl in content_losses) * content_weight
            loss = style_score + content_score
            loss.backward()
            run[0] += 1
            if record is not None:
                record.append((time.perf_counter() - start, loss.item()))
            return style_score + content_score

        optimizer.step(closure)
    with torch.no_grad():
        input_img.clamp_(0, 1)
    return input_img


def evaluation(model, style_losses, content_losses, input_img, style_weight=1e6, content_weight=1):
    """One closure's work (forward, loss, backward), for timing identical work."""
    input_img.grad = None
    model(input_img)
    loss = sum(sl.loss for sl in style_losses) * style_weight + sum(cl.loss for cl in content_losses) * content_weight
    loss.backward()
    return loss.item()
