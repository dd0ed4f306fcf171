"""Gradient checking for hand-written gradients.

    report = check_gradients(f, grad_f, params)   # f(params) -> float, grad_f(params) -> dict
    print(report)                                 # a short table; report.passed, report.to_dict()

Code as people write it, one call each, the same report (README: "Which function do I call"):

    check_vjp(affine_forward, affine_backward, x, w, b)       # (out, cache) / backward(dout, cache)
    check_value_and_grad(model.loss, model.params, X, y)      # -> (loss, grads); also fn(params)
    check_layer(layer, x)                                     # forward/backward object, params found

Methods: "auto" (complex step where f supports it, else Richardson), "central", "richardson",
"complex", "directional"; plus taylor_test (a verdict independent of any step size) and
check_layer (forward/backward objects). Rules written inside frameworks (torch Functions and
Modules, JAX custom_vjp / custom_jvp, TF custom_gradient): check_torch / check_jax / check_tf
(frameworks/; each framework imported only when its function is called). Tolerances and their reasoning: tolerances.py.

report.verdict is PASS (every element verified), FAIL (a wrong element: named, with both values and
a diagnosis hint) or INCONCLUSIVE (nothing wrong found, some elements not verified: report.reasons);
report.passed is True only for PASS. See report.py for the contract.
"""

from .check import METHODS, assert_gradients, check_gradients, numerical_gradient
from .frameworks import ContractCheck, FrameworkReport, check_jax, check_tf, check_torch
from .kinks import one_sided_differences
from .layer import check_layer
from .numerical import central_difference, complex_step, directional_derivative, random_direction, richardson
from .report import FAIL, INCONCLUSIVE, PASS, GradientReport, ParameterResult, Verdict
from .taylor import ParameterTaylor, TaylorReport, taylor_test
from .validation import BadReturnValue, GradientKeyError, UserCodeError
from .value_and_grad import check_value_and_grad
from .vjp import check_vjp

__all__ = [
    "FAIL",
    "INCONCLUSIVE",
    "METHODS",
    "PASS",
    "BadReturnValue",
    "ContractCheck",
    "FrameworkReport",
    "UserCodeError",
    "Verdict",
    "GradientKeyError",
    "GradientReport",
    "ParameterResult",
    "ParameterTaylor",
    "TaylorReport",
    "assert_gradients",
    "central_difference",
    "check_gradients",
    "check_jax",
    "check_layer",
    "check_tf",
    "check_torch",
    "check_value_and_grad",
    "check_vjp",
    "complex_step",
    "directional_derivative",
    "numerical_gradient",
    "one_sided_differences",
    "random_direction",
    "richardson",
    "taylor_test",
]
