"""Every bad input gets a ValueError/TypeError that names the argument, the expectation and
what was received; nothing broadcasts silently and no NaN travels on."""

import numpy as np
import pytest

import reference_nn as rn


@pytest.fixture
def network():
    params = rn.initialize_parameters([3, 4, 1], seed=1)
    X = np.random.default_rng(0).standard_normal((3, 5))
    Y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])
    return params, X, Y


def test_x_rows_must_match_first_layer(network):
    params, X, _ = network
    with pytest.raises(ValueError, match=r"X must have shape \(n_features=3, m\).*got shape \(4, 5\)"):
        rn.model_forward(np.zeros((4, 5)), params)


def test_x_must_be_two_dimensional(network):
    params, _, _ = network
    with pytest.raises(ValueError, match=r"X must be 2-D .*got shape \(3,\)"):
        rn.model_forward(np.zeros(3), params)


def test_empty_batch_is_refused(network):
    params, _, _ = network
    with pytest.raises(ValueError, match="empty batch"):
        rn.model_forward(np.zeros((3, 0)), params)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x_is_refused(network, bad):
    params, X, _ = network
    X = X.copy()
    X[1, 2] = bad
    with pytest.raises(ValueError, match=r"X contains 1 non-finite value.*index \(1, 2\)"):
        rn.model_forward(X, params)


def test_non_finite_parameter_is_refused(network):
    params, X, _ = network
    params["W2"][0, 3] = np.nan
    with pytest.raises(ValueError, match=r"params\['W2'\] contains 1 non-finite.*\(0, 3\)"):
        rn.model_forward(X, params)


def test_non_finite_y_is_refused(network):
    params, X, Y = network
    AL, _ = rn.model_forward(X, params)
    Y = Y.copy()
    Y[0, 0] = np.nan
    with pytest.raises(ValueError, match="Y contains 1 non-finite"):
        rn.compute_cost(AL, Y)


def test_y_shape_must_equal_al_shape_no_broadcast(network):
    params, X, _ = network
    AL, caches = rn.model_forward(X, params)
    with pytest.raises(ValueError, match=r"Y must have the shape of AL \(1, 5\).*got shape \(5,\)"):
        rn.compute_cost(AL, np.zeros(5))
    with pytest.raises(ValueError, match=r"shape of AL \(1, 5\).*got shape \(1, 1\)"):
        rn.model_backward(AL, np.zeros((1, 1)), caches)


def test_integer_labels_are_accepted_for_bce_but_float_dtype_mismatch_is_not(network):
    params, X, _ = network
    AL, _ = rn.model_forward(X, params)
    assert np.isfinite(rn.compute_cost(AL, np.array([[0, 1, 1, 0, 1]])))
    with pytest.raises(TypeError, match="Y has dtype float32 but AL has dtype float64"):
        rn.compute_cost(AL, np.zeros((1, 5), dtype=np.float32))


@pytest.mark.parametrize("label", [-0.1, 1.5, 2.0])
def test_bce_labels_outside_unit_interval(network, label):
    params, X, Y = network
    AL, _ = rn.model_forward(X, params)
    Y = Y.copy()
    Y[0, 3] = label
    with pytest.raises(ValueError, match=r"Y for binary cross-entropy must lie in \[0, 1\].*index \(0, 3\)"):
        rn.compute_cost(AL, Y, "bce")


def test_bce_predictions_outside_unit_interval():
    with pytest.raises(ValueError, match=r"AL for bce must hold probabilities in \[0, 1\]"):
        rn.compute_cost(np.array([[1.2, 0.5]]), np.array([[1.0, 0.0]]), "bce")


def test_softmax_targets_must_be_distributions():
    logits = np.zeros((3, 2))
    with pytest.raises(ValueError, match="column 1 sums to 0.5"):
        rn.compute_cost(logits, np.array([[1.0, 0.5], [0.0, 0.0], [0.0, 0.0]]), "softmax_cross_entropy")
    with pytest.raises(ValueError, match="probability distributions.*< 0"):
        rn.compute_cost(logits, np.array([[1.5, 1.0], [-0.5, 0.0], [0.0, 0.0]]), "softmax_cross_entropy")


def test_integer_class_labels_out_of_range():
    logits = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"class labels in Y must lie in \[0, 2\], got 3"):
        rn.compute_cost(logits, np.array([0, 3]), "softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"integer class labels Y must have shape \(2,\)"):
        rn.compute_cost(logits, np.array([0, 1, 2]), "softmax_cross_entropy")


@pytest.mark.parametrize(
    ("kind", "call", "message"),
    [
        (
            "activation",
            lambda p, X: rn.model_forward(X, p, ["relu", "swish"]),
            r"unknown activation 'swish'; expected one of",
        ),
        (
            "loss",
            lambda p, X: rn.compute_cost(np.full((1, 5), 0.5), np.zeros((1, 5)), "hinge"),
            r"unknown loss 'hinge'",
        ),
        ("init", lambda p, X: rn.initialize_parameters([3, 1], init="orthogonal"), r"unknown init 'orthogonal'"),
        ("optimizer", lambda p, X: rn.make_optimizer("lamb"), r"unknown optimizer 'lamb'"),
    ],
)
def test_unknown_names_list_the_valid_ones(network, kind, call, message):
    params, X, _ = network
    with pytest.raises(ValueError, match=message):
        call(params, X)


def test_number_of_activations_must_match_layers(network):
    params, X, _ = network
    with pytest.raises(ValueError, match=r"one entry per layer: expected 2, got 3"):
        rn.model_forward(X, params, ["relu", "relu", "sigmoid"])


def test_parameter_keys_and_shapes(network):
    params, X, _ = network
    broken = dict(params)
    del broken["b2"]
    with pytest.raises(ValueError, match=r"missing \['b2'\]"):
        rn.model_forward(X, broken)
    broken = dict(params, W2=np.zeros((1, 5)))
    with pytest.raises(ValueError, match=r"params\['W2'\] must have 4 columns to follow W1"):
        rn.model_forward(X, broken)
    broken = dict(params, b1=np.zeros(4))
    with pytest.raises(ValueError, match=r"params\['b1'\] must have shape \(4, 1\).*got shape \(4,\)"):
        rn.model_forward(X, broken)
    broken = dict(params, W1=params["W1"].astype(np.float32))
    with pytest.raises(TypeError, match=r"params\['b1'\] has dtype float64 but params\['W1'\] has dtype float32"):
        rn.model_forward(X, broken)
    with pytest.raises(TypeError, match=r"params\['W1'\] must have dtype in .*got dtype int64"):
        rn.model_forward(X, dict(params, W1=np.zeros((4, 3), dtype=np.int64)))


def test_mixed_precision_x_is_refused(network):
    params, X, _ = network
    with pytest.raises(TypeError, match="X has dtype float32 but params\\['W1'\\] has dtype float64"):
        rn.model_forward(X.astype(np.float32), params)


def test_update_parameters_checks_gradient_keys_and_shapes(network):
    params, X, Y = network
    AL, caches = rn.model_forward(X, params)
    grads = rn.model_backward(AL, Y, caches)
    missing = {k: v for k, v in grads.items() if k != "db2"}
    with pytest.raises(ValueError, match=r"grads keys must match params.*missing \['db2'\]"):
        rn.update_parameters(params, missing, 0.1)
    wrong_shape = dict(grads, dW1=grads["dW1"].T)
    with pytest.raises(ValueError, match=r"grads\['dW1'\] must have shape \(4, 3\).*got shape \(3, 4\)"):
        rn.update_parameters(params, wrong_shape, 0.1)
    with pytest.raises(ValueError, match=r"grads\['db1'\] contains 1 non-finite"):
        rn.update_parameters(params, dict(grads, db1=np.full((4, 1), [[np.nan], [0], [0], [0]])), 0.1)


@pytest.mark.parametrize("rate", [-0.1, np.nan, np.inf])
def test_learning_rate_must_be_finite_and_non_negative(network, rate):
    params, X, Y = network
    AL, caches = rn.model_forward(X, params)
    grads = rn.model_backward(AL, Y, caches)
    with pytest.raises(ValueError, match=r"learning_rate must be a finite number >= 0"):
        rn.update_parameters(params, grads, rate)
    with pytest.raises(ValueError, match=r"learning_rate must be a finite number >= 0"):
        rn.SGD(learning_rate=rate)


def test_optimizer_hyperparameters_are_checked():
    with pytest.raises(ValueError, match=r"momentum must lie in \[0.0, 1.0\)"):
        rn.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        rn.SGD(nesterov=True)
    with pytest.raises(ValueError, match=r"beta2 must lie in \[0.0, 1.0\)"):
        rn.Adam(beta2=1.0)


def test_layer_dims_are_checked():
    with pytest.raises(ValueError, match=r"layer_dims\[1\] must be a positive int, got 0"):
        rn.initialize_parameters([3, 0, 1])
    with pytest.raises(ValueError, match="at least 2 sizes"):
        rn.initialize_parameters([3])
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int32"):
        rn.initialize_parameters([3, 1], dtype=np.int32)


def test_fit_reports_divergence_instead_of_returning_nan():
    X = np.array([[1.0, 2.0, 3.0]])
    Y = np.array([[1e3, -1e3, 2e3]])
    with pytest.raises(FloatingPointError, match="cost became .* at iteration"):
        with np.errstate(over="ignore", invalid="ignore"):
            rn.fit(X, Y, [1, 8, 1], ["relu", "identity"], loss="mse", optimizer=rn.SGD(50.0), num_iterations=200)
