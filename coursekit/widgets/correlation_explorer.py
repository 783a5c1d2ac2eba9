"""An interactive explorer of channel pairs: feature maps, their scatter, G_kk', r_kk' and the Gram matrix.

``correlation_explorer(fx)`` returns a :class:`CorrelationExplorer`; display it in a notebook cell.
Choose an image (a sample, or your own through the upload button), a layer and two channels k, k';
the panel draws the image, the two (nH, nW) maps, the scatter of their nH*nW activation pairs and
the layer's Gram matrix with (k, k') outlined, and prints

    G_kk' = sum_i sum_j a_ijk a_ijk'        and        r_kk' (Pearson correlation).

The buttons jump to the most correlated pair, the least correlated one, or the largest off-diagonal
G_kk' (:func:`coursekit.nst.correlations.ranked_pairs`). Activations, Gram and correlation matrices are
cached per (image, layer), so moving a slider only redraws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from html import escape

import ipywidgets as widgets
import torch
from torch import Tensor

from ..nst.correlations import CHANNEL_COLORS, correlation_matrix, plot_channel_map, plot_pair_scatter, ranked_pairs
from ..images import load_image, to_numpy_image
from ..models.features import FeatureExtractor
from ..plots import heatmap
from ..nst.costs import gram_matrix
from .render import figure_png, new_figure

__all__ = ["DEFAULT_IMAGES", "CorrelationExplorer", "correlation_explorer", "draw_pair_panel"]

DEFAULT_IMAGES = ("stripes_orange", "stripes_only", "orange_only", "astronaut", "chelsea")


def draw_pair_panel(fig, image: Tensor, a: Tensor, gram: Tensor, k: int, k2: int, title: str = ""):
    """Draw image | map k | map k' | scatter of the pairs | Gram matrix with (k, k') marked, on ``fig``.

    ``a`` is one image's activations (1, nC, nH, nW) and ``gram`` its (nC, nC) Gram matrix.
    Returns the five Axes.
    """
    axes = fig.subplots(1, 5, gridspec_kw=dict(width_ratios=[1, 1, 1, 1.15, 1.25], wspace=0.45))
    axes[0].imshow(to_numpy_image(image), vmin=0, vmax=1)
    axes[0].set_axis_off()
    axes[0].set_title("image")
    plot_channel_map(a, k, ax=axes[1], color=CHANNEL_COLORS[0], title=f"channel k = {k}")
    plot_channel_map(a, k2, ax=axes[2], color=CHANNEL_COLORS[1], title=f"channel k' = {k2}")
    plot_pair_scatter(a, k, k2, ax=axes[3], title=f"{a.shape[2] * a.shape[3]} pairs (a_ijk, a_ijk')")
    heatmap(gram, ax=axes[4], mark=(k, k2), title="Gram matrix G", xlabel="k'", ylabel="k")
    if title:
        fig.suptitle(title, y=1.06)
    return axes


class CorrelationExplorer:
    """The panel; its controls are attributes so that code and tests can drive it.

    Controls: ``image_name`` (Dropdown), ``upload`` (FileUpload), ``layer`` (Dropdown),
    ``channel_k`` / ``channel_k2`` (IntSliders), ``most_button``, ``least_button``,
    ``largest_button``. Output: ``image`` (PNG), ``numbers`` (HTML with G_kk' and r_kk'),
    ``message`` (HTML: problems with an upload). ``current`` holds the numbers shown.
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        images: Mapping[str, Tensor] | None = None,
        layers: Sequence[str] | None = None,
        *,
        size: int = 128,
        figsize: tuple[float, float] = (15, 3.3),
    ) -> None:
        self.extractor = extractor
        self.size = size
        self.figsize = figsize
        layers = list(extractor.layers if layers is None else layers)
        unknown = [name for name in layers if name not in extractor.layers]
        if not layers or unknown:
            raise ValueError(f"layers {unknown or layers} are not read by this extractor; it reads "
                             f"{list(extractor.layers)}")
        if images is None:
            from ..samples import sample_image

            images = {name: sample_image(name, size) for name in DEFAULT_IMAGES}
        if not images:
            raise ValueError("images is empty: give at least one, e.g. {'cat': sample_image('chelsea', 128)}")
        self.images: dict[str, Tensor] = {name: load_image(img) for name, img in images.items()}
        self._cache: dict[tuple[str, str], tuple[Tensor, Tensor, Tensor]] = {}
        self._holding = False
        self.current: dict[str, object] = {}

        first = next(iter(self.images))
        n_c = self._stats(first, layers[0])[0].shape[1]
        self.image_name = widgets.Dropdown(options=list(self.images), value=first, description="image")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload image")
        self.layer = widgets.Dropdown(options=layers, value=layers[0], description="layer")
        slider = dict(min=0, max=n_c - 1, continuous_update=False)
        self.channel_k = widgets.IntSlider(value=0, description="channel k", **slider)
        self.channel_k2 = widgets.IntSlider(value=min(1, n_c - 1), description="channel k'", **slider)
        self.most_button = widgets.Button(description="most correlated", tooltip="largest r_kk', k != k'")
        self.least_button = widgets.Button(description="least correlated", tooltip="r_kk' closest to 0")
        self.largest_button = widgets.Button(description="largest G", tooltip="largest G_kk', k != k'")
        self.image = widgets.Image(format="png")
        self.numbers = widgets.HTML()
        self.message = widgets.HTML()
        self.widget = widgets.VBox([
            widgets.HBox([self.image_name, self.upload, self.layer]),
            widgets.HBox([self.channel_k, self.channel_k2]),
            widgets.HBox([self.most_button, self.least_button, self.largest_button]),
            self.numbers,
            self.message,
            self.image,
        ])

        self.image_name.observe(self._on_change, names="value")
        self.layer.observe(self._on_layer, names="value")
        self.channel_k.observe(self._on_change, names="value")
        self.channel_k2.observe(self._on_change, names="value")
        self.upload.observe(self._on_upload, names="value")
        self.most_button.on_click(lambda _: self.jump("correlation", "most"))
        self.least_button.on_click(lambda _: self.jump("correlation", "least"))
        self.largest_button.on_click(lambda _: self.jump("gram", "most"))
        self.redraw()

    # ------------------------------------------------------------ maths, cached
    def _stats(self, image_name: str, layer: str) -> tuple[Tensor, Tensor, Tensor]:
        """(activations (1, nC, nH, nW), Gram (nC, nC), correlation (nC, nC)) of one image and layer."""
        key = (image_name, layer)
        if key not in self._cache:
            with torch.no_grad():
                a = self.extractor(self.images[image_name], [layer])[layer].detach()
            self._cache[key] = (a, gram_matrix(a)[0], correlation_matrix(a)[0])
        return self._cache[key]

    # ------------------------------------------------------------ actions
    def jump(self, by: str, order: str) -> tuple[int, int, float]:
        """Set k, k' to the top pair of ``ranked_pairs(a, by, order)`` and redraw; returns it."""
        a = self._stats(self.image_name.value, self.layer.value)[0]
        pairs = ranked_pairs(a, by=by, order=order, n=1)
        if not pairs:
            self._show_problem("this layer has no pair of non-constant channels")
            return (self.channel_k.value, self.channel_k2.value, float("nan"))
        k, k2, value = pairs[0]
        with self._hold():
            self.channel_k.value, self.channel_k2.value = k, k2
        self.redraw()
        return k, k2, value

    def add_image(self, name: str, image: Tensor, select: bool = True) -> None:
        """Add (or replace) an image in the dropdown and optionally show it."""
        self.images[name] = load_image(image)
        for key in [key for key in self._cache if key[0] == name]:
            del self._cache[key]
        with self._hold():
            if name not in self.image_name.options:
                self.image_name.options = list(self.images)
            if select:
                self.image_name.value = name
        self.redraw()

    @contextmanager
    def _hold(self):
        """Change several controls without a redraw for each."""
        holding, self._holding = self._holding, True
        try:
            yield
        finally:
            self._holding = holding

    def _on_change(self, _change=None) -> None:
        if not self._holding:
            self.redraw()

    def _on_layer(self, _change=None) -> None:
        n_c = self._stats(self.image_name.value, self.layer.value)[0].shape[1]
        with self._hold():
            for slider in (self.channel_k, self.channel_k2):
                slider.value = min(slider.value, n_c - 1)
                slider.max = n_c - 1
        self._on_change()

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        upload = files[-1]
        name = f"upload: {upload.get('name', 'image')}"
        self.upload.value = ()  # so that the same file can be chosen again; this change returns above
        try:
            image = load_image(bytes(upload["content"]), size=self.size)
        except ValueError as exc:  # ImageLoadError says what was wrong and what to do
            self._show_problem(f"could not use {name}: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - show any other failure in the panel too, never a traceback
            self._show_problem(f"could not use {name}: {type(exc).__name__}: {exc}")
            return
        self.message.value = ""
        self.add_image(name, image)

    # ------------------------------------------------------------ output
    def _show_problem(self, text: str) -> None:
        self.message.value = f"<span style='color:#b00020'>{escape(text)}</span>"

    def redraw(self) -> None:
        """Draw the panel for the current controls and update the numbers."""
        name, layer = self.image_name.value, self.layer.value
        a, gram, corr = self._stats(name, layer)
        k, k2 = self.channel_k.value, self.channel_k2.value
        g, r = float(gram[k, k2]), float(corr[k, k2])
        _, n_c, n_h, n_w = a.shape
        self.current = {"image": name, "layer": layer, "k": k, "k2": k2, "G": g, "r": r}
        self.numbers.value = (
            f"<b>G<sub>kk'</sub></b> = <span class='gram'>{g:.6g}</span> &nbsp;&nbsp; "
            f"<b>r<sub>kk'</sub></b> = <span class='corr'>{r:.4f}</span> &nbsp;&nbsp; "
            f"(k = {k}, k' = {k2}; {escape(layer)}: n<sub>H</sub> &times; n<sub>W</sub> &times; "
            f"n<sub>C</sub> = {n_h} &times; {n_w} &times; {n_c})"
        )
        random = "" if self.extractor.pretrained else " (random features)"
        fig = new_figure(self.figsize)
        draw_pair_panel(fig, self.images[name], a, gram, k, k2, title=f"{name} · {layer}{random}")
        self.image.value = figure_png(fig)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def correlation_explorer(
    extractor: FeatureExtractor,
    images: Mapping[str, Tensor] | None = None,
    layers: Sequence[str] | None = None,
    *,
    size: int = 128,
) -> CorrelationExplorer:
    """The channel-pair explorer for ``extractor`` (layers: all it reads, unless given).

    ``images`` maps names to images (1, 3, H, W) in [0, 1]; by default the samples
    ``DEFAULT_IMAGES`` at ``size`` pixels (longer side), the size uploads are resized to as well.
    """
    return CorrelationExplorer(extractor, images, layers, size=size)
