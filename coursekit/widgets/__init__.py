"""Interactive panels for the lessons: thin ipywidgets wiring over pure functions.

Each panel module builds its widgets from plain functions of the package, exposes its controls as
attributes so tests (and the browser test) can set values and click buttons, and renders figures
into an ``ipywidgets.Image`` as PNG bytes, so it works headless.
"""
