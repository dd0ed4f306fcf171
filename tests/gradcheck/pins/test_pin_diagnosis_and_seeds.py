"""Pins of when a diagnosis hint is given (failed, finite tensors only) and of the seed words of a
projection's direction (the set's first index among them)."""

import numpy as np


def test_the_diagnosis_speaks_only_of_failed_finite_tensors():
    from reference_nn.gradcheck.diagnosis import diagnose

    n = np.array([[1.0, -2.0], [3.0, 0.5]])
    failed = np.ones((2, 2), bool)
    assert diagnose(2 * n, n, failed).startswith("every element x 2: a factor of 2"), "the pattern, when failed"
    assert diagnose(2 * n, n, ~failed) == "", "nothing failed: no hint"
    with_nan = n.copy()
    with_nan[0, 1] = np.nan
    assert diagnose(2 * n, with_nan, failed) == "", "a non-finite numerical value: no pattern is read"


def test_directions_of_sets_differing_in_their_first_index_differ():
    from reference_nn.gradcheck.evaluation import LossEvaluator
    from reference_nn.gradcheck.projection import TensorProblem

    ev = LossEvaluator(lambda p: np.sum(p["w"] ** 2), {"w": np.linspace(-1, 1, 12)}, np.float64)
    problem = TensorProblem(ev, "w", np.linspace(-2, 2, 12), np.float64, "complex", None, 0.0, (0, 0))
    # seeded by (seed, first index, size, last index, draw): only the first index differs here
    first = problem.direction(np.array([2, 3, 5, 11]), 0)[[3, 5, 11]]
    other = problem.direction(np.array([1, 3, 5, 11]), 0)[[3, 5, 11]]
    assert not np.array_equal(first, other), "the first index is a seed word"
