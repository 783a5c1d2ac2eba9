"""An interactive explorer of channel pairs: feature maps, their scatter, G_kk', r_kk' and the Gram matrix.

``correlation_explorer(fx)`` returns a :class:`CorrelationExplorer`; display it in a notebook cell.
Choose an image (a sample, or your own through the upload button), a layer and two channels k, k';
the panel draws the image, the two (nH, nW) maps, the scatter of their nH*nW activation pairs and
the layer's Gram matrix with (k, k') outlined, and prints

    G_kk' = sum_i sum_j a_ijk a_ijk'        and        r_kk' (Pearson correlation).

It opens on a pair worth looking at: the most correlated pair of the first image and layer among
channels that are on at ``MIN_ACTIVE`` (10 %) of the positions or more, i.e. the top of
``ranked_pairs(a, "correlation", "most", min_active=MIN_ACTIVE)``. A new layer opens on its own such pair,
unless it is the same unit before or after its ReLU (conv2_1 <-> relu2_1: the same channels, so k, k'
stay). The buttons jump to the most correlated pair, the least correlated one, or the largest
off-diagonal G_kk', with the same rule (:func:`coursekit.nst.correlations.ranked_pairs`).

Dead channels, never on (never > 0) for the image shown, are counted in the panel and drawn as grey
rows and columns of G; in a rectified layer their maps are empty, their G entries 0 and their r
undefined. "skip dead channels" keeps k and k' on live channels: a slider moved onto a dead channel
goes on to the next live one. A pre-ReLU layer (conv*) has signed values and no dead channel; the
panel says so and counts the channels its ReLU will zero.

Activations, Gram and correlation matrices are cached per (image, layer), so moving a slider only redraws.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from html import escape
from typing import NamedTuple

import ipywidgets as widgets
import numpy as np
import torch
from torch import Tensor

from ..images import load_image, to_numpy_image
from ..models.features import FeatureExtractor
from ..models.layers import layer_kind
from ..nst.correlations import (CHANNEL_COLORS, correlation_matrix, dead_channels, plot_channel_map,
                                plot_pair_scatter, ranked_pairs)
from ..nst.costs import gram_matrix
from ..plots import heatmap
from .render import figure_png, new_figure

__all__ = ["DEFAULT_IMAGES", "MIN_ACTIVE", "CorrelationExplorer", "correlation_explorer", "draw_pair_panel",
           "is_pre_relu"]

DEFAULT_IMAGES = ("stripes_orange", "stripes_only", "orange_only", "astronaut", "chelsea")
MIN_ACTIVE = 0.1  # the opening pair and the buttons use channels on at >= 10 % of the positions
DEAD_GREY = "0.75"


def is_pre_relu(layer: str) -> bool:
    """True for a layer read before its ReLU (conv*, bn*): signed values. relu* and pool* are rectified."""
    try:
        return layer_kind(layer) in ("conv", "bn")
    except ValueError:
        return False


def _unit(layer: str) -> str:
    """"2_1" for conv2_1 and relu2_1: the same channels before and after the ReLU."""
    return re.sub(r"^[a-z]+", "", layer)


def draw_pair_panel(fig, image: Tensor, a: Tensor, gram: Tensor, k: int, k2: int, title: str = "",
                    dead: Tensor | None = None):
    """Draw image | map k | map k' | scatter of the pairs | Gram matrix with (k, k') marked, on ``fig``.

    ``a`` is one image's activations (1, nC, nH, nW) and ``gram`` its (nC, nC) Gram matrix. ``dead``
    (nC,) bool, optional, marks dead channels: their rows and columns of G are drawn grey and their
    maps are titled "(dead)". Returns the five Axes.
    """
    dead_k = [False] * a.shape[1] if dead is None else [bool(d) for d in dead]
    axes = fig.subplots(1, 5, gridspec_kw=dict(width_ratios=[1, 1, 1, 1.15, 1.25], wspace=0.45))
    axes[0].imshow(to_numpy_image(image), vmin=0, vmax=1)
    axes[0].set_axis_off()
    axes[0].set_title("image")
    for ax, channel, name, color in ((axes[1], k, "k", CHANNEL_COLORS[0]), (axes[2], k2, "k'", CHANNEL_COLORS[1])):
        plot_channel_map(a, channel, ax=ax, color=color,
                         title=f"channel {name} = {channel}" + (" (dead)" if dead_k[channel] else ""))
    plot_pair_scatter(a, k, k2, ax=axes[3], title=f"{a.shape[2] * a.shape[3]} pairs (a_ijk, a_ijk')")
    values = gram.detach().cpu().double().numpy().copy()
    if any(dead_k):
        rows = np.asarray(dead_k)
        values[rows, :] = np.nan  # drawn in the colormap's "bad" colour: grey
        values[:, rows] = np.nan
    drawn = heatmap(values, ax=axes[4], mark=(k, k2),
                    title="Gram matrix G" + ("\ngrey: dead channels" if any(dead_k) else ""), xlabel="k'", ylabel="k")
    drawn.set_cmap(drawn.get_cmap().with_extremes(bad=DEAD_GREY))
    if title:
        fig.suptitle(title, y=1.06)
    return axes


class _Stats(NamedTuple):
    a: Tensor  # (1, nC, nH, nW)
    gram: Tensor  # (nC, nC)
    corr: Tensor  # (nC, nC)
    never_on: Tensor  # (nC,) bool: never > 0 on this image
    dead: Tensor  # (nC,) bool: never_on in a rectified layer; nothing in a pre-ReLU layer (signed values)


class CorrelationExplorer:
    """The panel; its controls are attributes so that code and tests can drive it.

    Controls: ``image_name`` (Dropdown), ``upload`` (FileUpload), ``layer`` (Dropdown),
    ``channel_k`` / ``channel_k2`` (IntSliders), ``skip_dead`` (Checkbox), ``most_button``,
    ``least_button``, ``largest_button``. Output: ``image`` (PNG), ``numbers`` (HTML with G_kk',
    r_kk' and the dead channels), ``message`` (HTML: problems with an upload), ``figure`` (the matplotlib Figure
    drawn into ``image``). ``current`` holds what is shown: image, layer, k, k2, G, r, dead (list of
    dead channels), pre_relu.
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        images: Mapping[str, Tensor] | None = None,
        layers: Sequence[str] | None = None,
        *,
        size: int = 128,
        figsize: tuple[float, float] = (15, 3.3),
        skip_dead: bool = False,
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
        self._cache: dict[tuple[str, str], _Stats] = {}
        self._holding = False
        self.current: dict[str, object] = {}

        first = next(iter(self.images))
        n_c = self._stats(first, layers[0]).a.shape[1]
        self.image_name = widgets.Dropdown(options=list(self.images), value=first, description="image")
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload image")
        self.layer = widgets.Dropdown(options=layers, value=layers[0], description="layer")
        k, k2 = self._opening_pair(first, layers[0])
        slider = dict(min=0, max=n_c - 1, continuous_update=False)
        self.channel_k = widgets.IntSlider(value=k, description="channel k", **slider)
        self.channel_k2 = widgets.IntSlider(value=k2, description="channel k'", **slider)
        self.skip_dead = widgets.Checkbox(value=skip_dead, description="skip dead channels", indent=False,
                                          tooltip="keep k and k' on channels that are > 0 somewhere in this image")
        rule = f"among channels on at >= {MIN_ACTIVE:.0%} of the positions"
        self.most_button = widgets.Button(description="most correlated", tooltip=f"largest r_kk', k != k', {rule}")
        self.least_button = widgets.Button(description="least correlated", tooltip=f"r_kk' closest to 0, {rule}")
        self.largest_button = widgets.Button(description="largest G", tooltip=f"largest G_kk', k != k', {rule}")
        self.image = widgets.Image(format="png")
        self.numbers = widgets.HTML()
        self.message = widgets.HTML()
        self.widget = widgets.VBox([
            widgets.HBox([self.image_name, self.upload, self.layer]),
            widgets.HBox([self.channel_k, self.channel_k2, self.skip_dead]),
            widgets.HBox([self.most_button, self.least_button, self.largest_button]),
            self.numbers,
            self.message,
            self.image,
        ])

        self.image_name.observe(self._on_image, names="value")
        self.layer.observe(self._on_layer, names="value")
        self.channel_k.observe(self._on_channel, names="value")
        self.channel_k2.observe(self._on_channel, names="value")
        self.skip_dead.observe(self._on_skip, names="value")
        self.upload.observe(self._on_upload, names="value")
        self.most_button.on_click(lambda _: self.jump("correlation", "most"))
        self.least_button.on_click(lambda _: self.jump("correlation", "least"))
        self.largest_button.on_click(lambda _: self.jump("gram", "most"))
        with self._hold():
            self._keep_live()
        self.redraw()

    # ------------------------------------------------------------ maths, cached
    def _stats(self, image_name: str, layer: str) -> _Stats:
        """Activations, Gram and correlation matrices and dead channels of one image and layer."""
        key = (image_name, layer)
        if key not in self._cache:
            with torch.no_grad():
                a = self.extractor(self.images[image_name], [layer])[layer].detach()
            never_on = dead_channels(a)[0]
            dead = torch.zeros_like(never_on) if is_pre_relu(layer) else never_on
            self._cache[key] = _Stats(a, gram_matrix(a)[0], correlation_matrix(a)[0], never_on, dead)
        return self._cache[key]

    def _ranked(self, image_name: str, layer: str, by: str, order: str) -> list[tuple[int, int, float]]:
        """The top pair by (by, order) among channels on at >= MIN_ACTIVE of the positions.

        In a pre-ReLU layer "on" (> 0) is not what makes a channel useful, so there only constant
        channels are left out. Falls back to all non-constant channels when no pair qualifies."""
        a = self._stats(image_name, layer).a
        min_active = 0.0 if is_pre_relu(layer) else MIN_ACTIVE
        pairs = ranked_pairs(a, by=by, order=order, n=1, min_active=min_active)
        return pairs or ranked_pairs(a, by=by, order=order, n=1)

    def _opening_pair(self, image_name: str, layer: str) -> tuple[int, int]:
        """Where the panel opens: the most correlated pair (see :meth:`_ranked`), else channels 0 and 1."""
        pairs = self._ranked(image_name, layer, "correlation", "most")
        if pairs:
            return pairs[0][0], pairs[0][1]
        return 0, min(1, self._stats(image_name, layer).a.shape[1] - 1)

    def _live_channel(self, k: int, step: int) -> int:
        """k if it is live; else the next live channel in the direction ``step`` (+1 or -1), else the
        nearest live channel the other way; k itself when no channel is live."""
        dead = self._stats(self.image_name.value, self.layer.value).dead.tolist()
        if not dead[k]:
            return k
        step = 1 if step >= 0 else -1
        for direction in (step, -step):
            j = k + direction
            while 0 <= j < len(dead):
                if not dead[j]:
                    return j
                j += direction
        return k

    def _keep_live(self, steps: tuple[int, int] = (1, 1)) -> None:
        """With "skip dead channels" ticked, move k and k' off dead channels (call inside _hold)."""
        if self.skip_dead.value:
            for slider, step in zip((self.channel_k, self.channel_k2), steps):
                slider.value = self._live_channel(slider.value, step)

    # ------------------------------------------------------------ actions
    def jump(self, by: str, order: str) -> tuple[int, int, float]:
        """Set k, k' to the top pair ranked by ``by``/``order`` (see :meth:`_ranked`) and redraw; returns it."""
        pairs = self._ranked(self.image_name.value, self.layer.value, by, order)
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
            self._keep_live()
        self.redraw()

    @contextmanager
    def _hold(self):
        """Change several controls without a redraw for each."""
        holding, self._holding = self._holding, True
        try:
            yield
        finally:
            self._holding = holding

    def _on_image(self, _change=None) -> None:
        # Same layer, same channels: k, k' stay, so one pair can be compared across images.
        if not self._holding:
            with self._hold():
                self._keep_live()
            self.redraw()

    def _on_channel(self, change) -> None:
        if self._holding:
            return
        with self._hold():
            if self.skip_dead.value:
                change["owner"].value = self._live_channel(change["new"], change["new"] - (change["old"] or 0))
        self.redraw()

    def _on_skip(self, _change=None) -> None:
        with self._hold():
            self._keep_live()
        if not self._holding:
            self.redraw()

    def _on_layer(self, change) -> None:
        name, layer = self.image_name.value, change["new"]
        n_c = self._stats(name, layer).a.shape[1]
        same_unit = change["old"] is not None and _unit(change["old"]) == _unit(layer)
        k, k2 = (self.channel_k.value, self.channel_k2.value) if same_unit else self._opening_pair(name, layer)
        with self._hold():
            for slider, value in ((self.channel_k, k), (self.channel_k2, k2)):
                if value > slider.max:  # raise max first, or the slider clamps the value
                    slider.max = n_c - 1
                    slider.value = value
                else:
                    slider.value = value
                    slider.max = n_c - 1
            self._keep_live()
        if not self._holding:
            self.redraw()

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

    def _dead_note(self, layer: str, stats: _Stats, k: int, k2: int) -> str:
        """HTML lines on dead channels: how many, and whether k or k' is one."""
        n_c = stats.a.shape[1]
        if is_pre_relu(layer):
            n_off = int(stats.never_on.sum())
            return (f"{escape(layer)} is the <b>pre-ReLU</b> variant (the paper reads the rectified relu layers): "
                    f"its values are signed, so no channel is dead here; "
                    f"<span class='never-on'>{n_off}</span> of {n_c} channels are never &gt; 0 on this image, "
                    f"and the ReLU after this layer makes them dead.")
        dead = stats.dead.nonzero().flatten().tolist()
        if not dead:
            return (f"<span class='dead'>0</span> of {n_c} channels are dead on this image: "
                    f"each is &gt; 0 somewhere.")
        shown = ", ".join(map(str, dead[:12])) + (", ..." if len(dead) > 12 else "")
        lines = [f"<span class='dead'>{len(dead)}</span> of {n_c} channels are dead on this image "
                 f"(never &gt; 0): shown as grey rows/columns of G (channels {shown})."]
        for name, channel in (("k", k), ("k'", k2)):
            if stats.dead[channel]:
                lines.append(f"Channel {name} = {channel} is dead: its map is empty and every product "
                             f"a<sub>ijk</sub>a<sub>ijk'</sub> is 0, so G<sub>kk'</sub> = 0; r<sub>kk'</sub> is "
                             f"undefined (shown as 0). Tick <i>skip dead channels</i> to step over dead channels.")
        return "<br>".join(lines)

    def redraw(self) -> None:
        """Draw the panel for the current controls and update the numbers."""
        name, layer = self.image_name.value, self.layer.value
        stats = self._stats(name, layer)
        k, k2 = self.channel_k.value, self.channel_k2.value
        g, r = float(stats.gram[k, k2]), float(stats.corr[k, k2])
        _, n_c, n_h, n_w = stats.a.shape
        pre_relu = is_pre_relu(layer)
        self.current = {"image": name, "layer": layer, "k": k, "k2": k2, "G": g, "r": r,
                        "dead": stats.dead.nonzero().flatten().tolist(), "pre_relu": pre_relu}
        self.numbers.value = (
            f"<b>G<sub>kk'</sub></b> = <span class='gram'>{g:.6g}</span> &nbsp;&nbsp; "
            f"<b>r<sub>kk'</sub></b> = <span class='corr'>{r:.4f}</span> &nbsp;&nbsp; "
            f"(k = {k}, k' = {k2}; {escape(layer)}: n<sub>H</sub> &times; n<sub>W</sub> &times; "
            f"n<sub>C</sub> = {n_h} &times; {n_w} &times; {n_c})<br>"
            + self._dead_note(layer, stats, k, k2)
        )
        random = "" if self.extractor.pretrained else " (random features)"
        variant = " (pre-ReLU: signed values)" if pre_relu else ""
        fig = new_figure(self.figsize)
        draw_pair_panel(fig, self.images[name], stats.a, stats.gram, k, k2,
                        title=f"{name} · {layer}{variant}{random}", dead=stats.dead)
        self.figure = fig  # what the picture shows, for code and tests to inspect
        self.image.value = figure_png(fig)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def correlation_explorer(
    extractor: FeatureExtractor,
    images: Mapping[str, Tensor] | None = None,
    layers: Sequence[str] | None = None,
    *,
    size: int = 128,
    skip_dead: bool = False,
) -> CorrelationExplorer:
    """The channel-pair explorer for ``extractor`` (layers: all it reads, unless given).

    ``images`` maps names to images (1, 3, H, W) in [0, 1]; by default the samples
    ``DEFAULT_IMAGES`` at ``size`` pixels (longer side), the size uploads are resized to as well.
    It opens on the first image and layer, on their most correlated pair of live channels;
    ``skip_dead=True`` ticks "skip dead channels" from the start.
    """
    return CorrelationExplorer(extractor, images, layers, size=size, skip_dead=skip_dead)
