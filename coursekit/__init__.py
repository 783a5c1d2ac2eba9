"""coursekit: the companion package of the interactive lessons.

The folder listing reads like the course's table of contents:

- ``coursekit.setup_check``    what lesson 00 reports about the learner's set-up
- ``coursekit.nst``            neural style transfer, lessons 01-05 (costs, texture, reconstruction, transfer)
- ``coursekit.gan``            generative adversarial networks and DCGAN, lessons 06-07
- ``coursekit.models``         AlexNet and VGG from config tables, named layers, features, lesson 08
- ``coursekit.gradient_flow``  vanishing and exploding gradients, lesson 09
- ``coursekit.widgets``        the lessons' panels
- ``coursekit.exercise``       what an exercise is; each topic keeps its own ``exercises`` module
- ``coursekit.grading``        public checks, exercise notebooks, the sandboxed grader
- shared by the lessons: ``images`` and ``samples`` (loading images, offline sample images),
  ``digits`` (scikit-learn's digits), ``plots``, ``tables``, ``display``, ``notebooks``, ``cli``

Importing ``coursekit`` does no work: no seeds, no rcParams, no downloads.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
