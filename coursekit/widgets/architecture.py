"""Lesson 08's panels: the per-layer summary of a network, and its feature maps layer by layer.

Thin wiring: :class:`SummaryPanel` calls :func:`coursekit.models.summary.summarize` when the network
or the input size changes and shows the table; :class:`FeatureMapPanel` shows some channels of
the layer picked from a dict of feature maps computed beforehand (no network runs in the panel).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import ipywidgets as w
from torch import Tensor

from ..models.summary import Summary, summarize
from ..models.zoo import model_names
from ..plots import feature_maps
from .render import figure_png, new_figure

__all__ = ["SummaryPanel", "FeatureMapPanel"]


class SummaryPanel:
    """Dropdown ``arch``, slider ``size`` (input H = W), checkbox ``all_layers``; ``table`` (HTML) shows the summary.

    ``summary`` is the last :class:`Summary` (None when the input is too small for the network,
    and the table then says why). Display the panel as a cell's value.
    """

    def __init__(self, arch: str = "vgg16", size: int = 224, *, min_size: int = 32, max_size: int = 512) -> None:
        self.arch = w.Dropdown(options=model_names(), value=arch, description="network")
        self.size = w.IntSlider(value=size, min=min_size, max=max_size, step=16, description="input size",
                                continuous_update=False)
        self.all_layers = w.Checkbox(value=False, description="ReLU and dropout rows")
        self.table = w.HTML()
        self.summary: Summary | None = None
        for control in (self.arch, self.size, self.all_layers):
            control.observe(lambda _: self.refresh(), names="value")
        self.widget = w.VBox([w.HBox([self.arch, self.size, self.all_layers]), self.table])
        self.refresh()

    def refresh(self) -> None:
        try:
            self.summary = summarize(self.arch.value, self.size.value, all_layers=self.all_layers.value)
            text = self.summary.table()
        except ValueError as error:
            self.summary, text = None, f"{self.arch.value} cannot take a {self.size.value}-pixel input: {error}"
        self.table.value = f"<pre style='font-size:11px;line-height:1.25'>{escape(text)}</pre>"

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class FeatureMapPanel:
    """Dropdown ``layer`` over ``features`` ({name: (1, C, H, W)}), slider ``first`` channel; ``image`` shows 8.

    ``caption`` is printed above the maps (say there whether the weights are random).
    """

    def __init__(self, features: Mapping[str, Tensor], caption: str = "", channels: int = 8) -> None:
        if not features:
            raise ValueError("features is empty: pass {layer name: feature map (1, C, H, W)}")
        self.features = dict(features)
        self.channels = channels
        first = next(iter(self.features))
        self.layer = w.Dropdown(options=list(self.features), value=first, description="layer")
        self.first = w.IntSlider(value=0, min=0, max=self._max_first(first), description="first channel",
                                 continuous_update=False, style={"description_width": "initial"})
        self.image = w.Image(format="png")
        self.caption = w.HTML(escape(caption))
        self.layer.observe(self._layer_changed, names="value")
        self.first.observe(lambda _: self.refresh(), names="value")
        self.widget = w.VBox([self.caption, w.HBox([self.layer, self.first]), self.image])
        self.refresh()

    def _max_first(self, name: str) -> int:
        return max(0, self.features[name].shape[1] - self.channels)

    def _layer_changed(self, _) -> None:
        self.first.max = self._max_first(self.layer.value)
        self.refresh()

    def refresh(self) -> None:
        maps = self.features[self.layer.value]
        chosen = list(range(self.first.value, min(self.first.value + self.channels, maps.shape[1])))
        fig = new_figure((2.0 * len(chosen), 2.3))
        axes = fig.subplots(1, len(chosen), squeeze=False)[0]
        feature_maps(maps, chosen, axes=axes, cmap="viridis")
        fig.suptitle(f"{self.layer.value}: {tuple(maps.shape[1:])}", fontsize=10)
        self.image.value = figure_png(fig)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)
