"""The offline digits that lessons 07-09 share."""

import torch

from coursekit.digits import sklearn_digits


def test_sklearn_digits_are_the_1797_grey_level_images_scaled_exactly():
    images, labels = sklearn_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.float32
    assert labels.shape == (1797,) and labels.dtype == torch.int64
    assert set(labels.tolist()) == set(range(10))
    levels = images * 16
    assert torch.equal(levels, levels.round()) and levels.min() == 0 and levels.max() == 16
