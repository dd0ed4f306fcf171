"""``refnn check MODULE:FN --framework torch|jax|tf --input x=4x3 ...``: a rule written inside a
framework (a torch Function's ``apply`` or the Function class, an nn.Module class of no arguments, a
jax.custom_vjp / custom_jvp, a tf.custom_gradient function) checked by check_torch / check_jax /
check_tf. ``--input`` arrays are seeded N(0, 1) in ``--dtype`` (float64, float32 or bfloat16) as the
framework's own arrays, ``--static`` values passed unchanged, both matched to fn's parameters by name.
The framework is imported only here, when asked for. With JAX and --dtype float64, this process turns
``jax_enable_x64`` on (a float64 array is float32 to JAX otherwise; the library leaves it as found).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from equivalence_tests.cli.check_styles import arrange, parse_inputs, parse_statics
from equivalence_tests.cli.common import UsageError, load_object

FRAMEWORKS = ("torch", "jax", "tf")


def run_framework(args: argparse.Namespace, options: dict[str, Any]) -> Any:
    """The report of check_torch / check_jax / check_tf on ``args.targets[0]``."""
    from reference_nn import gradcheck

    if len(args.targets) != 1:
        raise UsageError(f"--framework checks one MODULE:FN; got {len(args.targets)} targets")
    if not args.input:
        raise UsageError("--framework needs the differentiable inputs: --input NAME=AxB (e.g. --input x=4x3)")
    spec = args.targets[0]
    fn = load_object(spec, "FN")
    if not callable(fn):
        raise UsageError(f"{spec} must be a callable of the framework, got {type(fn).__name__}")
    dtype = args.dtype
    args_f64 = argparse.Namespace(**{**vars(args), "dtype": "float64"})
    arrays = parse_inputs(args_f64)
    fn, convert, signature, check = _framework(args.framework, fn, dtype)
    given = {name: convert(a) for name, a in arrays.items()}
    arguments = arrange(signature, {**given, **parse_statics(args.static)}, spec)
    try:
        return getattr(gradcheck, check)(fn, *arguments, **options)
    except (gradcheck.BadReturnValue, gradcheck.UserCodeError):
        raise
    except (ValueError, TypeError, KeyError) as error:
        raise UsageError(f"{spec}: {error}") from None


def _framework(name: str, fn, dtype: str):
    """(fn, numpy -> framework array in dtype, what names fn's parameters, the check's name)."""
    if name == "torch":
        import torch

        from reference_nn.gradcheck.frameworks.torch_adapter import _signature_source

        torch_dtype = getattr(torch, dtype)
        if isinstance(fn, type) and issubclass(fn, torch.nn.Module):
            fn = fn()
        if isinstance(fn, torch.nn.Module):
            fn = fn.to(torch_dtype)  # its parameters in --dtype, like the inputs
        if isinstance(fn, type) and issubclass(fn, torch.autograd.Function):
            fn = fn.apply
        return fn, lambda a: torch.from_numpy(a).to(torch_dtype), _signature_source(fn), "check_torch"
    if name == "jax":
        import jax
        import jax.numpy as jnp

        if dtype == "float64":
            jax.config.update("jax_enable_x64", True)
        return fn, lambda a: jnp.asarray(a).astype(dtype), getattr(fn, "fun", fn), "check_jax"
    import tensorflow as tf

    return fn, lambda a: tf.cast(tf.constant(np.asarray(a)), dtype), getattr(fn, "__wrapped__", fn), "check_tf"


def add_arguments(check: Any) -> None:
    check.add_argument("--framework", choices=FRAMEWORKS, help="MODULE:FN is a torch / JAX / TensorFlow rule (a "
                       "Function, nn.Module class, custom_vjp / custom_jvp, custom_gradient): checked with --input")
    check.add_argument("--order", type=int, choices=(1, 2), default=1, help="with --framework: 2 checks the "
                       "backward's own derivative too (double backward)")
