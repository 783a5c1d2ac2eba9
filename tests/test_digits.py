"""The offline digits that lessons 07-09 share."""

import torch

from coursekit.digits import resize_digits, sklearn_digits


def test_sklearn_digits_are_the_1797_grey_level_images_scaled_exactly():
    images, labels = sklearn_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.float32
    assert labels.shape == (1797,) and labels.dtype == torch.int64
    assert set(labels.tolist()) == set(range(10))
    levels = images * 16
    assert torch.equal(levels, levels.round()) and levels.min() == 0 and levels.max() == 16


def test_resize_digits_is_bilinear_returns_a_new_tensor_and_leaves_its_input():
    images, _ = sklearn_digits()
    before = images.clone()
    same = resize_digits(images, 8)
    assert torch.equal(same, images) and same.data_ptr() != images.data_ptr()
    up = resize_digits(images[:5], 16)
    assert up.shape == (5, 1, 16, 16)
    # bilinear with align_corners=False: output pixel (0, 0) of a 2x upsampling is the input pixel (0, 0)
    assert torch.equal(up[:, :, 0, 0], images[:5, :, 0, 0])
    assert resize_digits(images[:5], 4).shape == (5, 1, 4, 4)
    assert torch.equal(images, before)


def test_every_lesson_gets_its_digits_from_the_one_loader():
    from coursekit.gan.digits import load_digit_images
    from coursekit.gradient_flow.analysis import digits_data
    from coursekit.models.classifier import load_digits_data

    images, labels = sklearn_digits()
    assert torch.equal(load_digit_images(16).images, resize_digits(images * 2 - 1, 16).clamp(-1, 1))
    split = load_digits_data(16, seed=0)
    assert torch.equal(torch.cat([split.x_train, split.x_test]).sort(0).values,
                       resize_digits(images, 16).clamp(0, 1).sort(0).values)
    x, y = digits_data(torch.float64)
    assert x.shape == (1797, 64) and torch.equal(y, labels)
