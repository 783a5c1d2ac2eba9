"""nbgrader preprocessor: its ``generate_assignment`` gives the same learner notebooks as coursekit's.

``nbgrader_config.py`` (``coursekit.grading.nbgrader_format.NBGRADER_CONFIG``) puts
``CoursekitRelease`` first among ``GenerateAssignment.preprocessors``. It does what coursekit's
generator does beyond nbgrader's own steps: drops the cells tagged ``solution-only`` (the
"solution version" note), adds the exercise note after the title, and records the lesson in
``metadata.coursekit`` so that ``coursekit grade`` knows the lesson of a submission. nbgrader's
own preprocessors then replace the solutions by ``# YOUR CODE HERE`` / ``raise NotImplementedError()``
and strip the hidden tests, exactly as ``coursekit.grading.generate`` does.
"""

from __future__ import annotations

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from .generate import BEGIN, learner_cells, lesson_metadata

__all__ = ["CoursekitRelease"]


class CoursekitRelease(Preprocessor):
    enabled = Bool(True)  # nbconvert's preprocessors are off unless enabled

    def preprocess(self, nb, resources):
        lesson = resources.get("unique_key") or resources.get("metadata", {}).get("name", "")
        graded = any(c.cell_type == "code" and BEGIN in c.source for c in nb.cells)
        nb.cells = learner_cells(nb.cells, lesson, graded, make_cell=nbformat.from_dict)
        if nb.get("nbformat_minor", 0) >= 5:  # cell ids are required from nbformat 4.5
            for cell in nb.cells:
                cell.setdefault("id", "exercise-note")
        nb.metadata["coursekit"] = lesson_metadata(lesson)
        return nb, resources
