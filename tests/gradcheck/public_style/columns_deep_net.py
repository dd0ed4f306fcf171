"""The L-layer network of the deep-learning-course style, samples in columns: X (n_x, m),
W[l] (n[l], n[l-1]), b[l] (n[l], 1); [LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID, mean binary
cross-entropy; ``L_model_forward`` keeps a list of caches, ``L_model_backward`` walks it backwards
and returns ``dW1, db1, ...`` (and ``dA0, dA1, ...``, which the checker must ignore or accept).
Re-typed from scratch in that style; ``bug`` plants one mistake.
"""

import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z


def relu(Z):
    return np.maximum(0, Z), Z


def linear_activation_forward(A_prev, W, b, activation):
    Z = W @ A_prev + b
    A, activation_cache = sigmoid(Z) if activation == "sigmoid" else relu(Z)
    return A, ((A_prev, W, b), activation_cache)


def L_model_forward(X, parameters):
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_cost(AL, Y, offset=0.0, real_only=False):
    """Mean cross-entropy; ``offset`` is a constant added to it (a regulariser's constant part,
    a running total): it changes no gradient but makes |f| large. real_only: ``float(cost)`` as many
    students write it, which refuses complex input (so no complex step)."""
    m = Y.shape[1]
    cost = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m + offset
    return float(cost) if real_only else np.squeeze(cost)


def relu_backward(dA, Z, bug=None):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA, Z, bug=None):
    s = 1 / (1 + np.exp(-Z))
    if bug == "sigmoid_grad_from_Z":  # uses Z where s belongs
        return dA * Z * (1 - Z)
    return dA * s * (1 - s)


def linear_backward(dZ, cache, bug=None, layer=None):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ
    if bug == "missing_1_over_m" and layer == 1:
        dW = dZ @ A_prev.T
    elif bug == "db_axis0" and layer == 1:  # sums over units, not samples; broadcast to b's shape
        db = np.broadcast_to(np.sum(dZ, axis=0, keepdims=True).mean(), b.shape).copy()
    elif bug == "dW_zeros" and layer == 1:  # dW left at its np.zeros initialisation
        dW = np.zeros_like(W)
    elif bug == "one_element" and layer == 1:
        dW = dW.copy()
        dW[0, 1] += 1e-2
    elif bug == "rel1e-4_one_element" and layer == 1:
        dW = dW.copy()
        dW[1, 2] *= 1 + 1e-4
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation, bug=None, layer=None):
    linear_cache, Z = cache
    if bug == "wrong_cache_entry" and activation == "relu" and linear_cache[0].shape == Z.shape:
        Z = linear_cache[0]  # masks with the layer's input A_prev (same shape here) instead of its Z
    dZ = relu_backward(dA, Z, bug) if activation == "relu" else sigmoid_backward(dA, Z, bug)
    return linear_backward(dZ, linear_cache, bug, layer)


def L_model_backward(AL, Y, caches, bug=None):
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    if bug == "sign_flip":
        dAL = -dAL
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = linear_activation_backward(
        dAL, caches[L - 1], "sigmoid", bug, L)
    for l in reversed(range(L - 1)):
        dA_prev, dW, db = linear_activation_backward(grads["dA" + str(l + 1)], caches[l], "relu", bug, l + 1)
        grads["dA" + str(l)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = dA_prev, dW, db
    return grads


def make_cost_and_grads(X, Y, bug=None, offset=0.0, strip_dA=True, real_only=False):
    """(cost(parameters), grads(parameters)) as a student wires them for check_gradients."""

    def cost(parameters):
        return compute_cost(L_model_forward(X, parameters)[0], Y, offset, real_only)

    def grads(parameters):
        AL, caches = L_model_forward(X, parameters)
        g = L_model_backward(AL, Y, caches, bug)
        return {k: v for k, v in g.items() if not k.startswith("dA")} if strip_dA else g

    return cost, grads


def initialize_parameters_deep(layer_dims, rng, scale=None, dtype=np.float64):
    parameters = {}
    for l in range(1, len(layer_dims)):
        s = np.sqrt(2 / layer_dims[l - 1]) if scale is None else scale
        parameters["W" + str(l)] = (rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * s).astype(dtype)
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1), dtype=dtype)
    return parameters
