"""equivalence_tests: the harness that cross-checks reference_nn against finite differences,
PyTorch autograd and TensorFlow GradientTape, and the Hypothesis suite built on it.

Data flows one way: ``reference_nn`` knows nothing of this package; the oracles here know
the reference's conventions (layout, parameter names) and translate.
"""
