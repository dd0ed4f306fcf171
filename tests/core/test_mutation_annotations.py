"""mutation.mutants.annotation_only: a mutant that changes only a type annotation of a module with
``from __future__ import annotations`` is equivalent by construction (annotations stay strings); one
that changes anything else is not, even on the same line, and a module that evaluates its annotations
gets no such exemption."""

from pathlib import Path

import pytest

from mutation.mutants import annotation_only

pytest.importorskip("cosmic_ray", reason="the mutation extra (cosmic-ray) is not installed")

MODULE = '''from __future__ import annotations


def scaled(x: float | None, k: int = 2) -> float | None:
    return None if x is None else x * k
'''


def _jobs(tmp_path: Path, source: str, operator: str) -> list[dict]:
    (tmp_path / "m.py").write_text(source)
    jobs = []
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    for occurrence in range(8):
        if mutate_code(source, get_operator(operator)(), occurrence) is None:  # no such occurrence
            break
        jobs.append({"module": "m.py", "operator": operator, "occurrence": occurrence, "line": 0, "definition": ""})
    return jobs


def test_a_mutated_annotation_is_equivalent_and_a_mutated_expression_is_not(tmp_path):
    bitor = _jobs(tmp_path, MODULE, "core/ReplaceBinaryOperator_BitOr_Add")
    assert len(bitor) == 2, f"expected the two '|' of the annotations as occurrences, got {len(bitor)}"
    for job in bitor:
        lines = annotation_only(tmp_path, job)
        assert lines, f"a '|' inside an annotation changes nothing: occurrence {job['occurrence']}"
        assert "|" in lines[0] and "+" in lines[1] and "def scaled" in lines[0], f"the changed line: {lines}"
    mul = _jobs(tmp_path, MODULE, "core/ReplaceBinaryOperator_Mul_Add")
    assert len(mul) == 1 and not annotation_only(tmp_path, mul[0]), "x * k -> x + k changes the function"
    number = _jobs(tmp_path, MODULE, "core/NumberReplacer")
    assert number and not any(annotation_only(tmp_path, j) for j in number), "the default k = 2 is code, not a hint"


def test_without_the_future_import_annotations_are_evaluated(tmp_path):
    source = MODULE.replace("from __future__ import annotations\n", "")
    jobs = _jobs(tmp_path, source, "core/ReplaceBinaryOperator_BitOr_Add")
    assert jobs and not any(annotation_only(tmp_path, j) for j in jobs), \
        "annotations evaluated at definition time (float + None raises): not equivalent"  # fmt: skip
