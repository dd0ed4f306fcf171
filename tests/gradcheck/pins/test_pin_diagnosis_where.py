"""Pins of the diagnosis' "where" hints (diagnosis._where) and the dropped-Jacobian pattern (_diagonal_only):
one element, one row, one column, never a "row" or "column" of a tensor that has only one, and the diagonal
rule's thresholds (no diagonal element wrong, at least half and at least 2 off-diagonal ones)."""

import numpy as np

from reference_nn.gradcheck.diagnosis import _diagonal_only, _where


def _failed(shape, cells):
    failed = np.zeros(shape, bool)
    for cell in cells:
        failed[cell] = True
    return failed


def test_where_names_one_element_a_row_or_a_column():
    assert _where(_failed((3, 4), [(1, 2)])) == "one element wrong, (1, 2); the rest agree: an indexing slip?"
    assert _where(_failed((1,), [(0,)])) == "", "a one-element tensor: nothing to say"
    assert _where(_failed((3, 4), [(2, 0), (2, 3)])) == (
        "only row 2 is wrong (2 elements): one unit's or one output's term?"
    )
    assert _where(_failed((3, 4), [(0, 1), (2, 1)])) == (
        "only column 1 is wrong (2 elements): one input's or one sample's term?"
    )
    assert _where(_failed((3, 4), [(0, 1), (2, 2)])) == "", "no pattern"


def test_where_never_names_the_only_row_or_the_only_column():
    assert _where(_failed((3, 1), [(0, 0), (2, 0)])) == "", "a column vector has one column: not 'only column 0'"
    assert _where(_failed((1, 4), [(0, 0), (0, 3)])) == "", "a row vector has one row: not 'only row 0'"
    assert _where(_failed((4,), [(0,), (3,)])) == "", "a vector: neither"


def test_only_the_diagonal_right():
    a, n = np.ones((3, 3)), np.ones((3, 3))
    size = 3.0
    off = [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    assert _diagonal_only(a, n, _failed((3, 3), off), size).startswith("only the diagonal is right"), "all off"
    assert _diagonal_only(a, n, _failed((3, 3), off[:3]), size).startswith("only the diagonal is right"), "half"
    assert _diagonal_only(a, n, _failed((3, 3), off[:2]), size) == "", "fewer than half the off-diagonal ones"
    assert _diagonal_only(a, n, _failed((3, 3), [*off, (1, 1)]), size) == "", "a diagonal element wrong too"
    two = [(0, 1), (1, 0)]
    assert _diagonal_only(np.ones((2, 2)), np.ones((2, 2)), _failed((2, 2), two), 2.0) != "", "2 of 2 off-diagonal"
    assert _diagonal_only(np.ones((2, 2)), np.ones((2, 2)), _failed((2, 2), two[:1]), 2.0) == "", "one: an element"
    assert _diagonal_only(np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1), bool), 1.0) == "", "1 x 1: no diagonal"
    assert _diagonal_only(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3), bool), 1.0) == "", "not square"
