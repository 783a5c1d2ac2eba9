"""coursekit: the companion package of the interactive lessons.

The folder listing reads like the course's table of contents:

- ``coursekit.models``        AlexNet and VGG from config tables, named layers, feature extraction
- ``coursekit.style``         Gram (style) matrices, style and content costs, the conventions "zoo"
- ``coursekit.correlations``  channel pairs and correlation coefficients (lesson 01)
- ``coursekit.optimize``      optimising pixels in [0, 1], keeping the best image
- ``coursekit.synthesis``     texture synthesis and reconstruction from one cost (lessons 02, 03)
- ``coursekit.content``       reconstruction figures (lesson 03)
- ``coursekit.transfer``      the neural style transfer engine (lesson 04), ``coursekit.color``
- ``coursekit.data``, ``coursekit.samples``  loading images robustly, offline sample images
- ``coursekit.plots``, ``coursekit.display``, ``coursekit.widgets``  figures, banners, panels
- ``coursekit.grading``       public checks for the exercises
- ``coursekit.setup_check``   what lesson 00 reports about the learner's set-up
- ``coursekit.cli``           ``python -m coursekit stylize ...``

Importing ``coursekit`` does no work: no seeds, no rcParams, no downloads.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
