"""check_torch's adapter: a torch callable (``MyFunction.apply``, a function built from custom
Functions, an ``nn.Module``) as the NumPy-facing operations of common.py. Imported only by
check_torch, so ``import reference_nn`` never imports torch.

Inputs: floating tensors (float64, float32, bfloat16, float16) and floating NumPy arrays are
differentiated; anything else (integer tensors such as token ids, masks, ints, config) is passed
unchanged, a fresh clone on every call. A Module's parameters are differentiated too, under their
``named_parameters`` names, through ``torch.func.functional_call`` (the Module is never modified).
"""

from __future__ import annotations

import inspect

import numpy as np
import torch

from ..arguments import argument_names, describe
from .base import Backward, Prepared, RuleShapeError, numpy_precision

_COMPLEX = {torch.float64: torch.complex128, torch.float32: torch.complex64}


class TorchAdapter:
    framework = "torch"

    def __init__(self, fn, inputs: tuple):
        if isinstance(fn, type) and issubclass(fn, torch.autograd.Function):
            fn = fn.apply  # the class itself: its apply is the op
        if not callable(fn):
            raise TypeError(f"check_torch: fn must be a torch callable (Function.apply, a function, an nn.Module); "
                            f"got {type(fn).__name__}")
        if not inputs:
            raise ValueError("check_torch needs fn's inputs: check_torch(fn, x, w, ...)")
        self.fn, self.inputs = fn, inputs
        self.module = fn if isinstance(fn, torch.nn.Module) else None
        names = argument_names(_signature_source(fn), len(inputs))
        self.input_names = {i: names[i] for i, v in enumerate(inputs) if _is_floating(v)}
        self.param_names = [n for n, p in self.module.named_parameters() if p.requires_grad] if self.module else []
        self.dtypes: dict = {}  # name -> torch dtype of the tensor as given
        self.device = torch.device("cpu")
        self._output_dtypes: list = []

    # -- what the user passed ------------------------------------------------------------------

    def prepare(self) -> Prepared:
        values, precisions, dtype_names, static = {}, {}, {}, []
        given = dict(self.module.named_parameters()) if self.module else {}
        tensors = [(name, self.inputs[i]) for i, name in self.input_names.items()]
        tensors += [(name, given[name]) for name in self.param_names]
        for name, value in tensors:
            t = value.detach() if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value))
            self.dtypes[name] = t.dtype
            self.device = t.device
            dtype_name = str(t.dtype).removeprefix("torch.")
            keep = np.float64 if t.dtype == torch.float64 else np.float32  # bfloat16/float16 are exact in float32
            values[name] = t.to("cpu", torch.float64 if keep is np.float64 else torch.float32).numpy().astype(keep)
            precisions[name], dtype_names[name] = numpy_precision(dtype_name), dtype_name
        if not values:
            raise ValueError("check_torch: none of fn's inputs (nor a Module parameter) is a floating tensor; got "
                             + ", ".join(_describe(v) for v in self.inputs))
        names = argument_names(_signature_source(self.fn), len(self.inputs))
        static = [f"{names[i]} ({_describe(v)})" for i, v in enumerate(self.inputs) if i not in self.input_names]
        notes = [f"Module parameters checked: {', '.join(self.param_names)}"] if self.param_names else []
        self._output_dtypes = [o.dtype for o in self._call(self._tensors(values, grad=False))]
        return Prepared(values, precisions, dtype_names, static, notes)

    # -- the operations of common.py -------------------------------------------------------------

    def outputs(self, values: dict) -> list[np.ndarray]:
        with torch.no_grad():
            return [_to_numpy(o) for o in self._call(self._tensors(values, grad=False))]

    def vjp(self, values: dict, douts: list) -> Backward:
        tensors = self._tensors(values, grad=True)
        before = {n: t.detach().clone() for n, t in tensors.items()}
        outs = self._call(tensors)
        after_forward = _changed(tensors, before)
        pairs = [(o, self._upstream(d, o)) for o, d in zip(outs, douts, strict=True) if d is not None]
        try:
            grads = torch.autograd.grad([o for o, _ in pairs], list(tensors.values()), [g for _, g in pairs],
                                        allow_unused=True)
        except RuntimeError as error:
            if "invalid gradient" in str(error):  # torch's own check of the returned shapes
                raise RuleShapeError(f"torch refused the rule's gradient: {error}") from error
            raise
        result = Backward({}, mutated_by_forward=after_forward,
                          mutated_by_backward=[n for n in _changed(tensors, before) if n not in after_forward])
        for name, g in zip(tensors, grads, strict=True):
            result.grads[name] = None if g is None else _to_numpy(g)
            if g is not None:
                result.shapes[name], result.dtypes[name] = tuple(g.shape), str(g.dtype).removeprefix("torch.")
        return result

    def double_vjp(self, values: dict, douts: list, w: dict) -> tuple[dict, dict]:
        """Gradients of h = sum_i <vjp(x, u)_i, w_i> with respect to x (by name) and to each driven
        upstream u_k (by output index), by differentiating torch's backward (create_graph)."""
        tensors = self._tensors(values, grad=True)
        outs = self._call(tensors)
        driven = [k for k, d in enumerate(douts) if d is not None]
        upstream = {k: self._upstream(douts[k], outs[k]).requires_grad_(True) for k in driven}
        grads = torch.autograd.grad([outs[k] for k in driven], list(tensors.values()), list(upstream.values()),
                                    allow_unused=True, create_graph=True)  # fmt: skip
        h = sum((g * torch.as_tensor(w[n]).to(g.dtype)).sum() for n, g in zip(tensors, grads, strict=True)
                if g is not None)  # fmt: skip
        wrt = list(tensors.values()) + list(upstream.values())
        if not isinstance(h, torch.Tensor) or not h.requires_grad:  # the backward detached everything
            return {}, {}
        second = torch.autograd.grad(h, wrt, allow_unused=True)
        by_name = {n: None if g is None else _to_numpy(g) for n, g in zip(tensors, second, strict=False)}
        by_output = {k: None if g is None else _to_numpy(g) for k, g in zip(upstream, second[len(tensors):],
                                                                             strict=True)}  # fmt: skip
        return by_name, by_output

    def quantize_gradient(self, array: np.ndarray, name: str) -> np.ndarray:
        return torch.as_tensor(np.asarray(array, dtype=np.float64)).to(self.dtypes[name]).to(torch.float64).numpy()

    def output_dtype_is_float64(self, k: int) -> bool:
        return self._output_dtypes[k] == torch.float64

    def quantize(self, array: np.ndarray, k: int) -> np.ndarray:
        dtype = self._output_dtypes[k] if self._output_dtypes else torch.float64
        return torch.as_tensor(np.asarray(array, dtype=np.float64)).to(dtype).to(torch.float64).numpy()

    # -- internals ---------------------------------------------------------------------------------

    def _tensors(self, values: dict, grad: bool) -> dict:
        """Tensors for one call: float64 / complex arrays in their dtype, float32 arrays in the
        tensor's own dtype (exact: a bfloat16 value is a float32 value)."""
        out = {}
        for name, array in values.items():
            t = torch.from_numpy(np.array(array, copy=True))
            own = self.dtypes[name]
            if array.dtype == np.float32:
                t = t.to(own)
            elif array.dtype == np.complex64:
                t = t.to(torch.complex64)
            t = t.to(self.device)
            out[name] = t.requires_grad_(grad) if grad and t.dtype.is_floating_point else t
        return out

    def _call(self, tensors: dict) -> list:
        args = [tensors[self.input_names[i]] if i in self.input_names else _fresh(v) for i, v in enumerate(self.inputs)]
        if self.module is not None:
            params = {n: tensors[n] for n in self.param_names}
            result = torch.func.functional_call(self.module, params, tuple(args))
        else:
            result = self.fn(*args)
        outs = list(result) if isinstance(result, tuple | list) else [result]
        return [o for o in outs if isinstance(o, torch.Tensor)]

    def _upstream(self, dout: np.ndarray, out) -> torch.Tensor:
        return torch.as_tensor(np.asarray(dout, dtype=np.float64)).to(out.dtype).to(out.device).reshape(out.shape)


def _signature_source(fn):
    """What to read input names from: a Module's forward, a Function's forward (less ctx), fn."""
    if isinstance(fn, torch.nn.Module):
        return fn.forward
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, torch.autograd.Function):
        forward = owner.forward
        try:
            params = list(inspect.signature(forward).parameters.values())[1:]  # drop ctx
            return _Named(inspect.Signature(params))
        except (TypeError, ValueError):
            return fn
    return fn


class _Named:
    def __init__(self, signature):
        self.__signature__ = signature

    def __call__(self, *args):  # pragma: no cover - only its signature is read
        raise NotImplementedError


def _is_floating(value) -> bool:
    if isinstance(value, torch.Tensor):
        return value.dtype.is_floating_point
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"{str(value.dtype).removeprefix('torch.')} tensor {tuple(value.shape)}"
    return describe(value)


def _fresh(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    return value


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    if t.dtype in (torch.bfloat16, torch.float16):
        t = t.float()
    return t.numpy().copy()


def _changed(tensors: dict, before: dict) -> list[str]:
    """Names of the tensors whose values changed since ``before`` (NaN where NaN was is unchanged)."""
    out = []
    for name, t in tensors.items():
        now, then = t.detach(), before[name]
        if bool(((now != then) & ~(now.isnan() & then.isnan())).any()):
            out.append(name)
    return out
