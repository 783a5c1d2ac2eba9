"""What an exercise is (``spec``) and the property checks exercises share (``properties``).

Topics declare their exercises with these types beside their code; ``coursekit.grading`` runs
them. Nothing here imports the topics or the grading machinery.
"""

from .properties import batch_independent, gradient_flows, keeps_dtype, not_mutating, symmetric, zero_when_equal
from .spec import (Case, Exercise, Mistake, NotImplementedYet, Property, call_on_copies, matching_mistakes,
                   number, outputs_match)

__all__ = ["Case", "Exercise", "Mistake", "NotImplementedYet", "Property", "call_on_copies", "matching_mistakes",
           "number", "outputs_match", "batch_independent", "gradient_flows", "keeps_dtype", "not_mutating", "symmetric",
           "zero_when_equal"]
