"""What every graded exercise must offer a learner (registry-wide): real tasks in every lesson,
mistakes with hints that name the idea and never hand over code, hidden cases grouped into
properties that each earn their points all or nothing."""

import re

import pytest

from coursekit.exercise.spec import KINDS
from coursekit.grading import check, exercise_names, registry
from coursekit.grading.grader import lessons

# Code in a hint gives the answer away: library calls, methods, Python operators, assignments in a loop.
CODE = re.compile(r"\b(torch|nn|np|math|F)\.\w|\.(reshape|view|sum|mean|transpose|matmul|bmm|clamp\w*|sqrt|"
                  r"exp|log|pow|abs|item|detach|backward|step|zero_grad|T)\b\(?|\w\s*\*\*?\s*\w|//|<-|\+=|"
                  r"\b(softplus|sigmoid|logsigmoid|relu)\(|\bfor \w+ in\b|\breturn\b|\blambda\b")
GRADED_LESSONS = [f"{n:02d}" for n in range(1, 10)]


def _by_lesson():
    return {lesson[:2]: exercises for lesson, exercises in lessons().items()}


@pytest.mark.parametrize("number", GRADED_LESSONS)
def test_every_lesson_asks_for_real_code_and_a_question(number):
    exercises = _by_lesson().get(number, [])
    kinds = {e.kind for e in exercises}
    assert len(exercises) >= 2, f"lesson {number} has {len(exercises)} graded exercise(s); it needs at least 2"
    assert kinds & {"code", "step", "module"}, (f"lesson {number}: no exercise asks for real code "
                                                f"({', '.join(KINDS[k] for k in ('code', 'step', 'module'))})")
    assert "question" in kinds, f"lesson {number}: no graded question tests understanding"


@pytest.mark.parametrize("name", exercise_names())
def test_hints_name_the_idea_never_the_code(name):
    exercise = registry()[name]
    for hint in [m.hint for m in exercise.mistakes] + [exercise.generic_hint]:
        found = CODE.search(hint)
        assert not found, f"{name}: the hint {hint!r} reads as code ({found.group(0)!r}); state the idea instead"


@pytest.mark.parametrize("name", exercise_names())
def test_each_exercise_has_mistakes_hidden_cases_and_groups(name):
    exercise = registry()[name]
    assert len(exercise.mistakes) >= 2, f"{name}: catalogue at least two typical mistakes"
    questions_without_parameters = exercise.kind == "question" and not any(c.make()[0] for c in exercise.hidden)
    assert len(exercise.hidden) >= (1 if questions_without_parameters else 3), f"{name}: too few hidden cases"
    assert exercise.generic_hint, f"{name}: say which idea to revisit when no catalogued mistake matches"
    for group in exercise.groups:
        assert any(c.group == group for c in exercise.hidden), f"{name}: group {group!r} has no hidden case"


@pytest.mark.parametrize("name", exercise_names())
def test_the_passing_verdict_says_what_the_grader_adds(name, capsys):
    exercise = registry()[name]
    check(name, exercise.reference)
    out = capsys.readouterr().out
    assert f"adds {len(exercise.hidden)} hidden" in out
    for group, points in exercise.groups.items():
        assert f"{group} {points}" in out
