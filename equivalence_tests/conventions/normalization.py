"""Normalization conventions (BatchNorm / LayerNorm momentum and epsilon), measured live.

The family's rows arrive with the reference's normalization layers; until then the family is
declared so that the table's order and the registry in ``__init__`` do not change when they do.
"""

from __future__ import annotations

from equivalence_tests.conventions.measuring import Convention

ROWS: tuple[Convention, ...] = ()
