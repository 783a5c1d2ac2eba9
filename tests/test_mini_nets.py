"""Miniature AlexNet/VGG networks and the digits training loop (tiny, fast settings)."""

import pytest
import torch

from coursekit.models.classifier import Digits, accuracy, load_digits_data, shift_batch, train_classifier
from coursekit.models.mini import build_mini, mini_cfgs
from coursekit.models.summary import summarize


@pytest.fixture(scope="module")
def digits() -> Digits:
    return load_digits_data(16, seed=0)


def test_digits_are_offline_tensors_in_unit_range(digits):
    assert digits.x_train.shape[1:] == (1, 16, 16) and digits.x_train.dtype == torch.float32
    assert len(digits.y_train) + len(digits.y_test) == 1797 and len(digits.y_test) == 359
    assert 0.0 <= float(digits.x_train.min()) and float(digits.x_train.max()) <= 1.0
    assert set(digits.y_test.tolist()) == set(range(10))
    again = load_digits_data(16, seed=0)
    assert torch.equal(again.y_test, digits.y_test)
    assert load_digits_data(8).x_test.shape[-1] == 8
    with pytest.raises(ValueError, match="size"):
        load_digits_data(4)


@pytest.mark.parametrize("name", sorted(mini_cfgs))
def test_mini_nets_have_the_torchvision_layout_and_summaries(name, digits):
    model = build_mini(name, seed=0)
    assert {n for n, _ in model.named_children()} == {"features", "avgpool", "classifier"}
    assert model(digits.x_test[:5]).shape == (5, 10)
    summary = summarize(model, 16)
    assert summary.params == sum(p.numel() for p in model.parameters())
    assert summary.rows[-1].shape == (10,)
    same = build_mini(name, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), same.parameters()))


def test_mini_nets_differ_as_designed():
    alex, vgg = summarize(build_mini("mini_alexnet"), 16), summarize(build_mini("mini_vgg"), 16)
    assert alex.row("conv1").field.r == 5  # one large first kernel
    assert {r.field.r for r in vgg if r.kind == "conv"} >= {3, 5}  # stacked 3x3 kernels
    lrn = summarize(build_mini("mini_alexnet_lrn"), 16)
    assert [r.kind for r in lrn][:3] == ["conv", "lrn", "pool"] and lrn.params == alex.params
    with pytest.raises(ValueError, match="mini_vgg"):
        build_mini("mini_resnet")


def test_training_learns_and_is_reproducible(digits):
    small = Digits(digits.x_train[:256], digits.y_train[:256], digits.x_test[:128], digits.y_test[:128])
    state = torch.random.get_rng_state()
    seen = []
    history = train_classifier(build_mini("mini_vgg"), small, epochs=3, lr=3e-3, seed=1, callback=seen.append)
    assert torch.equal(torch.random.get_rng_state(), state)  # global RNG untouched
    assert history["epoch"] == [1, 2, 3] and len(seen) == 3
    assert history["loss"][-1] < history["loss"][0]
    assert history["seconds"] == sorted(history["seconds"])
    again = train_classifier(build_mini("mini_vgg"), small, epochs=3, lr=3e-3, seed=1)
    assert again["loss"] == history["loss"] and again["test_acc"] == history["test_acc"]


def test_augmentation_shifts_without_touching_the_input():
    x = torch.zeros(4, 1, 6, 6)
    x[:, :, 2, 3] = 1.0
    before = x.clone()
    shifted = shift_batch(x, 2, torch.Generator().manual_seed(0))
    assert torch.equal(x, before) and shifted.shape == x.shape
    assert torch.all(shifted.sum(dim=(1, 2, 3)) <= 1.0)
    assert shift_batch(x, 0, torch.Generator()) is x


def test_accuracy_restores_the_mode(digits):
    model = build_mini("mini_alexnet").train()
    acc = accuracy(model, digits.x_test, digits.y_test)
    assert 0.0 <= acc <= 1.0 and model.training
