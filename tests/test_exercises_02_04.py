"""Lesson 02's question on the size of a style matrix, lesson 04's optimisation step (its reference,
its driver on the tiny network, its catalogued mistakes) and its question on the alpha/beta grid."""

import torch

from coursekit.models.vgg import cfgs
from coursekit.nst import costs
from coursekit.nst.exercises import style, transfer
from coursekit.nst.step import transfer_step


def test_style_matrix_entries_follow_vgg19_and_ignore_the_image_size():
    # relu{b}_1 is the first conv of block b: its n_C, after b - 1 poolings.
    blocks = [[]]
    for v in cfgs["E"]:
        blocks[-1].append(v) if v != "M" else blocks.append([])
    for b, (layer, (n_C, pools)) in enumerate(style.VGG19_STYLE.items()):
        assert layer == f"relu{b + 1}_1" and (n_C, pools) == (blocks[b][0], b)
        assert {style.style_matrix_entries(layer, size) for size in (64, 128, 512)} == {n_C * n_C}
    a = torch.zeros(1, 128, 64, 64)  # relu2_1 of a 128 px image
    assert costs.gram_matrix(a)[0].numel() == style.style_matrix_entries("relu2_1", 128)


def test_one_sgd_step_is_the_clamped_gradient_step():
    extractor = transfer.tiny_extractor(5)
    g = torch.Generator().manual_seed(6)
    C, S, G0 = (torch.rand(1, 3, 10, 10, generator=g, dtype=torch.float64) for _ in range(3))
    weights = {"relu1_1": 0.3, "relu2_1": 0.7}
    with torch.no_grad():
        a_C, a_S = extractor(C, ["relu2_2"]), extractor(S, list(weights))
    G = G0.clone().requires_grad_(True)
    lr, alpha, beta = 0.01, 2.0, 300.0
    J = transfer_step(G, torch.optim.SGD([G], lr=lr), extractor, a_C, a_S, weights, alpha, beta)

    X = G0.clone().requires_grad_(True)
    a_X = extractor(X)
    J_expected = (alpha * costs.content_cost(a_C["relu2_2"], a_X["relu2_2"])
                  + beta * costs.style_cost(a_S, a_X, weights)).sum()
    (grad,) = torch.autograd.grad(J_expected, X)
    assert abs(J - J_expected.item()) <= 1e-12 * abs(J_expected.item())
    torch.testing.assert_close(G.detach(), (G0 - lr * grad).clamp(0, 1), rtol=1e-12, atol=1e-14)
    assert (G0 - lr * grad).gt(1).any() or (G0 - lr * grad).lt(0).any(), "the case should test the clamp"


def test_the_driver_is_deterministic_and_many_steps_lower_the_cost():
    first = transfer.run_steps(transfer_step, 7, steps=30, lr=0.02, start="noise")
    again = transfer.run_steps(transfer_step, 7, steps=30, lr=0.02, start="noise")
    assert torch.equal(first, again)
    image, J = first[:300], first[300:]
    assert image.min() >= 0 and image.max() <= 1
    assert J[-1] < 0.5 * J[0]


def test_every_step_mistake_differs_from_the_reference_on_some_public_case():
    for mistake in transfer.STEP.mistakes:
        differs = []
        for case in transfer.STEP.cases:
            args, kwargs = case.make()
            ok, _ = case.compare(transfer.STEP.run(mistake.fn, args, kwargs),
                                 transfer.STEP.run(transfer_step, args, kwargs))
            differs.append(not ok)
        assert any(differs), mistake.hint


def test_grid_question_answers_with_the_largest_alpha_over_beta():
    assert transfer.grid_corner_with_content(*transfer.GRID) == "bottom left"
    assert transfer.grid_corner_with_content([100.0, 10.0, 1.0], [1e6, 1e5, 1e4]) == "top right"
    answers = {m.fn(*transfer.GRID) for m in transfer.CORNER.mistakes}
    assert answers == set(transfer.CORNERS) - {"bottom left"}
