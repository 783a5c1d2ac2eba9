"""scikit-learn's handwritten digits: the course's offline image dataset.

1,797 digits of 8x8 pixels with 17 grey levels (0..16), from the UCI optdigits set that ships
inside scikit-learn, so no download is ever needed. Lesson 07 trains a DCGAN on them
(``coursekit.gan.digits``), lesson 08 small AlexNet- and VGG-style classifiers
(``coursekit.classifier``) and lesson 09 deep MLPs (``coursekit.gradient_flow``).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["sklearn_digits"]


def sklearn_digits() -> tuple[Tensor, Tensor]:
    """Images (1797, 1, 8, 8) float32 in [0, 1] (grey level / 16, exact) and labels (1797,) int64."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    return images, torch.as_tensor(bunch.target, dtype=torch.int64)
