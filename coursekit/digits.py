"""scikit-learn's handwritten digits: the course's offline image dataset, loaded and resized here only.

1,797 digits of 8x8 pixels with 17 grey levels (0..16), from the UCI optdigits set that ships
inside scikit-learn, so no download is ever needed. ``sklearn_digits`` loads them and
``resize_digits`` is the one resize routine of lessons 07-09. Each lesson then prepares them its own
way: lesson 07 scales them to [-1, 1] for a DCGAN (``coursekit.gan.digits.load_digit_images``),
lesson 08 splits them for small AlexNet- and VGG-style classifiers
(``coursekit.models.classifier.load_digits_data``) and lesson 09 flattens and standardises them for
deep MLPs (``coursekit.gradient_flow.analysis.digits_data``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["sklearn_digits", "resize_digits"]


def sklearn_digits() -> tuple[Tensor, Tensor]:
    """Images (1797, 1, 8, 8) float32 in [0, 1] (grey level / 16, exact) and labels (1797,) int64."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    return images, torch.as_tensor(bunch.target, dtype=torch.int64)


def resize_digits(images: Tensor, size: int) -> Tensor:
    """(N, C, H, W) -> (N, C, size, size), bilinear (antialiased when shrinking); always a new tensor."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images.clone()
    shrink = size < images.shape[-1]
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=shrink)
