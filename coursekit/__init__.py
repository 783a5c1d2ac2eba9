"""coursekit: the companion package of the interactive lessons.

The folder listing reads like the course's table of contents:

- ``coursekit.models``   AlexNet and VGG from config tables, named layers, feature extraction
- ``coursekit.style``    Gram (style) matrices, style and content costs, the conventions "zoo"
- ``coursekit.data``     loading images robustly, offline sample images
- ``coursekit.plots``    image grids and heatmaps
- ``coursekit.grading``  public checks for the exercises
- ``coursekit.setup_check`` what lesson 00 reports about the learner's set-up

Importing ``coursekit`` does no work: no seeds, no rcParams, no downloads.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
