"""AlexNet and VGG from config tables, named layers, weights with an honest source, feature extraction.

- :mod:`~coursekit.models.vgg`, :mod:`~coursekit.models.alexnet`: config tables + builders
  (state_dicts identical to torchvision's, non-in-place ReLU)
- :mod:`~coursekit.models.layers`: layer names ("conv4_2") <-> indices in ``model.features``
- :mod:`~coursekit.models.weights`: seeded random init, ImageNet weights (cache, offline fallback), files
- :mod:`~coursekit.models.zoo`: ``alexnet()``, ``vgg11()`` ... ``vgg19_bn()``, ``get_model(name)``
- :mod:`~coursekit.models.features`: ``FeatureExtractor`` returning ``{layer name: feature map}``
- :mod:`~coursekit.models.arithmetic`: output sizes, parameter counts, receptive-field recursion
- :mod:`~coursekit.models.summary`: ``summarize("vgg16")``, per-layer shapes, parameters, MACs, fields
- :mod:`~coursekit.models.mini`: miniature AlexNet- and VGG-style networks for digits (lesson 08)
- :mod:`~coursekit.models.classifier`: the digits split into train/test and the Adam loop that trains them
- :mod:`~coursekit.models.filters`: first-layer filters as RGB tiles
- :mod:`~coursekit.models.results`: the papers' ImageNet (ILSVRC) top-5 errors, with split and source
- :mod:`~coursekit.models.vgg_configs`: the VGG paper's configurations A-E (C's 1x1 convolutions), init gains
- :mod:`~coursekit.models.costs`: ImageNet-scale per-layer memory, parameters and multiply-adds (torchvision's nets)
- :mod:`~coursekit.models.erf`: the empirical effective receptive field (gradient of a centre unit)

Typical use::

    from coursekit.models import feature_extractor
    fx = feature_extractor("vgg19", ["conv1_1", "conv4_2"], weights="imagenet", pooling="avg")
    print(fx.weights_source)   # says plainly when the weights are random
    feats = fx(images)         # images: (B, 3, H, W) in [0, 1]
"""

from coursekit.models.alexnet import AlexNet, alexnet_cfg, make_alexnet_layers
from coursekit.models.arithmetic import (
    Field,
    conv_output_exact,
    conv_output_size,
    conv_params,
    receptive_field,
    receptive_field_step,
    receptive_fields,
    vgg_param_count,
)
from coursekit.models.costs import (
    CostRow,
    activation_values,
    cost_rows,
    cost_table,
    imagenet_summary,
    part_shares,
    plot_part_shares,
    torchvision_skeleton,
)
from coursekit.models.erf import ErfStats, effective_receptive_field, erf_stats, show_erf
from coursekit.models.features import IMAGENET_MEAN, IMAGENET_STD, FeatureExtractor, feature_extractor
from coursekit.models.filters import filter_tiles, show_filters
from coursekit.models.layers import architectures, infer_arch, layer_index, layer_kind, layer_names
from coursekit.models.mini import MiniConfig, MiniNet, build_mini, mini_cfgs
from coursekit.models.results import ILSVRC_RESULTS, Result, results_table
from coursekit.models.summary import LayerSummary, Summary, format_count, summarize
from coursekit.models.vgg import VGG, build_vgg, cfgs, make_layers, vgg_archs
from coursekit.models.vgg_configs import (
    PAPER_CONFIGS,
    PAPER_TOP5_VAL,
    config_table,
    init_gain_table,
    paper_param_count,
    signal_gain,
)
from coursekit.models.weights import (
    IMAGENET_WEIGHTS,
    WeightsSpec,
    cached_weights_path,
    imagenet_weights,
    init_weights_,
    is_offline,
    load_weights_file,
    resolve_weights,
    state_dict_problems,
)
from coursekit.models.zoo import (
    alexnet,
    build,
    get_model,
    model_names,
    skeleton,
    vgg11,
    vgg11_bn,
    vgg13,
    vgg13_bn,
    vgg16,
    vgg16_bn,
    vgg19,
    vgg19_bn,
)

__all__ = [
    # architectures
    "AlexNet",
    "alexnet_cfg",
    "make_alexnet_layers",
    "VGG",
    "cfgs",
    "vgg_archs",
    "make_layers",
    "build_vgg",
    # constructors
    "alexnet",
    "vgg11",
    "vgg11_bn",
    "vgg13",
    "vgg13_bn",
    "vgg16",
    "vgg16_bn",
    "vgg19",
    "vgg19_bn",
    "get_model",
    "build",
    "model_names",
    "skeleton",
    # layer names
    "architectures",
    "layer_names",
    "layer_index",
    "layer_kind",
    "infer_arch",
    # weights
    "WeightsSpec",
    "IMAGENET_WEIGHTS",
    "imagenet_weights",
    "cached_weights_path",
    "is_offline",
    "resolve_weights",
    "load_weights_file",
    "state_dict_problems",
    "init_weights_",
    # features
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "FeatureExtractor",
    "feature_extractor",
    # convolution arithmetic and summaries
    "conv_output_size",
    "conv_output_exact",
    "conv_params",
    "vgg_param_count",
    "Field",
    "receptive_field_step",
    "receptive_fields",
    "receptive_field",
    "LayerSummary",
    "Summary",
    "summarize",
    "format_count",
    "filter_tiles",
    "show_filters",
    # ImageNet context: results, configurations, costs, effective receptive field
    "Result",
    "ILSVRC_RESULTS",
    "results_table",
    "PAPER_CONFIGS",
    "PAPER_TOP5_VAL",
    "config_table",
    "paper_param_count",
    "signal_gain",
    "init_gain_table",
    "CostRow",
    "torchvision_skeleton",
    "imagenet_summary",
    "cost_rows",
    "activation_values",
    "cost_table",
    "part_shares",
    "plot_part_shares",
    "ErfStats",
    "effective_receptive_field",
    "erf_stats",
    "show_erf",
    # miniature networks
    "MiniConfig",
    "mini_cfgs",
    "MiniNet",
    "build_mini",
]
