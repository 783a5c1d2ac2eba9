"""Property checks shared by exercises: they need no expected value, only the learner's function.

Each factory returns a ``Property`` whose test calls the learner's function on seeded inputs and
returns a failure message or None.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .spec import NotImplementedYet, Property, outputs_match

__all__ = ["not_mutating", "gradient_flows", "batch_independent", "symmetric", "zero_when_equal", "keeps_dtype"]

MakeArgs = Callable[[], tuple]


def call(fn: Callable, *args):
    try:
        return fn(*args)
    except NotImplementedError as exc:
        raise NotImplementedYet() from exc


def _tensors(args: tuple) -> list[Tensor]:
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(a)
        elif isinstance(a, dict):
            out += [v for v in a.values() if isinstance(v, Tensor)]
    return out


def not_mutating(make: MakeArgs) -> Property:
    """The function leaves its input tensors unchanged (no in-place edits of the caller's data)."""

    def test(fn, ref):
        args = make()
        before = [t.clone() for t in _tensors(args)]
        call(fn, *args)
        if any(not torch.equal(b, t) for b, t in zip(before, _tensors(args))):
            return "changed its input in place; work on a copy (avoid in-place ops such as -=, .sub_())"
        return None

    return Property("inputs not mutated", test)


def gradient_flows(make: MakeArgs, index: int = -1) -> Property:
    """Autograd reaches argument ``index`` (the generated image's activations)."""

    def test(fn, ref):
        args = list(make())
        x = args[index].clone().requires_grad_(True)
        args[index] = x
        out = call(fn, *args)
        if not isinstance(out, Tensor) or not out.requires_grad:
            return ("the output is not connected to the input by autograd; do not use .detach(), "
                    ".item(), .numpy() or torch.no_grad() inside")
        out.sum().backward()
        if x.grad is None or not torch.isfinite(x.grad).all():
            return "no finite gradient reaches the input"
        return None

    return Property("gradients flow", test)


def batch_independent(make_single: Callable[[int], tuple], batch_arg: int = -1) -> Property:
    """Image b of a batch gives the same result as image b alone: images are never mixed."""

    def test(fn, ref):
        one, two = make_single(1), make_single(2)
        args = list(one)
        args[batch_arg] = torch.cat([one[batch_arg], two[batch_arg]])
        both = call(fn, *args)
        alone = [call(fn, *one), call(fn, *two)]
        if not isinstance(both, Tensor) or both.shape[:1] != (2,):
            return "a batch of 2 images must give 2 results (one per image) along dimension 0"
        for b, single in enumerate(alone):
            ok, _ = outputs_match(both[b:b + 1] if single.dim() == both.dim() else both[b], single)
            if not ok:
                return (f"image {b} of a batch differs from the same image alone: the images are mixed; "
                        "keep the batch dimension separate (reshape to (B, nC, nH*nW), use torch.bmm)")
        return None

    return Property("batch independence", test)


def symmetric(make: MakeArgs) -> Property:
    def test(fn, ref):
        out = call(fn, *make())
        if not isinstance(out, Tensor) or out.dim() < 2:
            return "expected a matrix"
        if not torch.allclose(out, out.transpose(-1, -2)):
            return "the result is not symmetric, but G_kk' = G_k'k for a style matrix"
        return None

    return Property("symmetry", test)


def zero_when_equal(make: MakeArgs) -> Property:
    """A cost of an image against itself is zero."""

    def test(fn, ref):
        args = make()
        out = call(fn, args[0], args[0].clone(), *args[2:])
        value = out.detach().abs().max().item() if isinstance(out, Tensor) else abs(float(out))
        return None if value <= 1e-12 else f"the cost of identical activations is {value:.3g}, not 0"

    return Property("zero for identical inputs", test)


def keeps_dtype(make: MakeArgs) -> Property:
    def test(fn, ref):
        out = call(fn, *make())
        if isinstance(out, Tensor) and out.dtype != torch.float64:
            return f"float64 input gave a {out.dtype} result; avoid .float() or hard-coded dtypes"
        return None

    return Property("keeps float64", test)
