"""An explicit method="complex" stays complex step next to a kink, where real-step estimates
(and so the support probe's comparison) straddle it; complex step is exact there."""

import numpy as np

from reference_nn.gradcheck import numerical_gradient


def test_explicit_complex_step_is_exact_next_to_a_relu_kink():
    x = np.array([[1.0], [2.0]])

    def f(p):
        z = p["W"] @ x  # z = 1e-5 - 2e-5 + ... just below the kink at 0
        return np.where(z.real > 0, z, 0 * z).sum() + (p["W"] ** 2).sum()

    params = {"W": np.array([[1e-5, -1e-5]])}  # z = 1e-5 - 2e-5 = -1e-5: relu inactive
    numeric = numerical_gradient(f, params, method="complex")["W"]
    # Exact derivative: relu is off, so only d sum(W**2) = 2 W remains.
    # Complex step has no subtraction, so it is exact to ~1 ulp of 2e-5.
    np.testing.assert_allclose(numeric, 2 * params["W"], rtol=1e-14, atol=0)
