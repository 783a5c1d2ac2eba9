"""Stored notebooks stay light: no widget state in their metadata, compact figures, a size budget."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from coursekit.notebooks import compact_png, lighten

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
# The heaviest lessons (02, 04, 08: photos and noisy textures) weigh about 500 KB today.
BUDGET_EACH = 600 * 1024
BUDGET_ALL = 8 * 1024 * 1024


def _png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def _noisy_figure(alpha: int = 255) -> bytes:
    rng = np.random.default_rng(0)
    rgba = np.full((120, 160, 4), 255, dtype=np.uint8)
    rgba[20:100, 20:100, :3] = rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)  # a photo-like panel
    rgba[..., 3] = alpha
    return _png(rgba)


def test_all_notebooks_are_found():
    assert len(NOTEBOOKS) == 20


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_widget_state_is_stored(path):
    assert "widgets" not in json.loads(path.read_text())["metadata"], "run `make notebooks` (it drops the state)"


def test_notebooks_fit_the_size_budget():
    sizes = {str(p.relative_to(ROOT)): p.stat().st_size for p in NOTEBOOKS}
    heavy = {name: f"{size / 1024:.0f} KB" for name, size in sizes.items() if size > BUDGET_EACH}
    assert not heavy, f"over {BUDGET_EACH // 1024} KB each: {heavy}"
    assert sum(sizes.values()) <= BUDGET_ALL, f"notebooks/ weighs {sum(sizes.values()) / 2**20:.1f} MB"


def test_compact_png_keeps_what_the_figure_shows_in_fewer_bytes():
    data = _noisy_figure()
    small = compact_png(data)
    assert len(small) <= 0.8 * len(data)
    before = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=float)
    after = np.asarray(Image.open(io.BytesIO(small)).convert("RGB"), dtype=float)
    assert after.shape == before.shape
    assert np.abs(after - before).mean() < 12  # a 256-colour palette of a noisy panel: small errors
    assert (after[0] == 255).all()  # the white margin of a plot stays exactly white


def test_compact_png_leaves_transparent_or_tiny_images_alone():
    transparent = _noisy_figure(alpha=128)
    assert compact_png(transparent) is transparent
    tiny = _png(np.zeros((2, 2, 3), dtype=np.uint8))
    assert compact_png(tiny) is tiny


def test_lighten_drops_widget_state_and_compacts_figures():
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    png = base64.b64encode(_noisy_figure()).decode("ascii")
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]
    nb.cells.append(cell)
    lighten(nb)
    assert "widgets" not in nb.metadata
    stored = nb.cells[0].outputs[0]["data"]
    assert len(stored["image/png"]) < 0.8 * len(png) and stored["text/plain"] == "<Figure>"
    Image.open(io.BytesIO(base64.b64decode(stored["image/png"]))).verify()  # still a valid PNG
