"""Neural style transfer, lessons 01-05, one idea per module in the order of the course:

- ``costs``         Gram (style) matrix, layer style cost, the sum over layers, content and total cost
- ``conventions``   the normalisation zoo (paper, lecture, tutorial, d2l, neural-style), ``convert_weights``
- ``correlations``  channel pairs, correlation coefficients and what a Gram entry measures (lesson 01)
- ``optimize``      optimising pixels in [0, 1] from a start image, keeping the best image
- ``targets``       Gram targets for any image size, activation shapes
- ``texture``       texture synthesis from the style cost alone, the layer study (lesson 02)
- ``reconstruction`` reconstruction from the content cost alone, its measures and figures (lesson 03)
- ``transfer``      ``stylize`` (the whole algorithm in one screen) and the cached engine (lesson 04)
- ``color``         colour preservation (luminance-only transfer, colour matching)
- ``gradients``     the costs' analytic gradients and gradient checks (lesson 05)
- ``exercises``     lessons 01-05's graded exercises

Importing the package does no work; import the module you need.
"""
