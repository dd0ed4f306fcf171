"""check_layer's discovery and gradient reading for layers that update themselves (layer_step.py
says why and how): the SGD step of ``backward(grad, learning_rate)``, or the gradients handed to an
optimizer attribute."""

from __future__ import annotations

import numpy as np

from . import layer_step as step
from .discovery import Discovery, Parameter, Slot


def stepped_parameters(calls, input_point):
    """The discovery pass of a layer whose backward takes an SGD step: (Discovery of the arrays the
    step moved, backward's first return value, the gradients the first step took, their recovery
    rounding bound, notes). Sets ``calls.rate`` for the rest of the check."""
    layer = calls.layer
    calls.state = step.LayerState(layer)  # after the first forward: a lazy layer's weights exist
    steps = []
    for factor in (1, 2):  # the second pass, with the upstream gradient doubled, tests that the step is linear
        before: dict = {}
        calls.state.restore()
        calls.rate = step.DISCOVERY_RATE
        returned = calls.run_backward(input_point, douts=[factor * d for d in calls.douts],
                                      before_backward=lambda b=before: b.update(step.with_copies(step.float_arrays(
                                          layer))))
        now = step.float_arrays(layer)
        moved = {name: (before[name][3], np.array(now[name][2], copy=True)) for name in step.stepped(before, layer)}
        steps.append((returned, before, moved))
    calls.state.restore()
    (returned, before, moved), (_, _, moved_twice) = steps
    first, allowance = {}, {}
    for name, (old, new) in moved.items():
        first[name] = step.recovered(old, new, calls.rate)
        allowance[name] = step.recovery_allowance(old, new, calls.rate)
        if name in moved_twice:
            twice = step.recovered(*moved_twice[name], calls.rate)
            problem = step.not_linear(name, first[name], twice, allowance[name])
            if problem:
                raise ValueError(problem)
    calls.rate = step.choose_rate({n: old for n, (old, _) in moved.items()}, first)
    parameters = []
    for name in moved:
        holder, key, array, _ = before[name]
        slot = Slot("attr" if holder is layer else "item", holder, key, array)
        parameters.append(Parameter(name, slot, _reader(calls.recovered_now, name),
                                    f"the step of layer.{calls.backward.__name__}", name, declared=False))
    source = f"the SGD step layer.{calls.backward.__name__}({calls.rate_name}=...) takes"
    looked = f"float arrays that layer.{calls.backward.__name__} moves"
    notes = [f"backward takes a learning rate ({calls.rate_name}): driven as an SGD step with {calls.rate_name}="
             f"2**{int(np.log2(calls.rate))}, the parameter gradients recovered as (W before - W after) / "
             f"{calls.rate_name} (a power of two: exact; recovery rounding within 1.5 ulps of max(|g_i|, RMS)), the "
             "layer's state put back before every call and on return"]
    return Discovery(parameters, [], source, looked), returned, first, allowance, notes


def run_step(calls, theta, slots) -> object:
    """backward at ``theta`` (already put into the slots); fills calls.recovered from the step."""
    stepped = {name: slot for name, slot in slots.items() if name in theta}
    given = {name: np.array(slot.current, dtype=np.float64, copy=True) for name, slot in stepped.items()}
    returned = calls.run_backward(theta)
    calls.recovered = {name: step.recovered(given[name], _now(slot), calls.rate) for name, slot in stepped.items()}
    return returned


def _now(slot) -> np.ndarray:
    """What a slot's place holds now (the step may have replaced the array or written into it)."""
    if slot.kind == "inplace":
        return slot.original
    return step.read(slot.holder, slot.key)


def captured_parameters(calls, found: Discovery) -> list[Parameter]:
    """Parameters whose gradients backward handed to an optimizer attribute (layer_step.OptimizerRecorder),
    besides those discovery found (it wins where both name one)."""
    if not calls.captured:
        return []
    known = {p.name for p in found.parameters}
    arrays = step.float_arrays(calls.layer)
    out = []
    for name in calls.captured:
        if name in known or name not in arrays:
            continue
        holder, key, array = arrays[name]
        slot = Slot("attr" if holder is calls.layer else "item", holder, key, array)
        out.append(Parameter(name, slot, _reader(calls.captured_now, name), f"layer.{calls.optimizers[0]}", name))
    if out:
        found.source = found.source or f"the calls backward makes to layer.{', layer.'.join(calls.optimizers)}"
        found.buffers = [b for b in found.buffers if b not in calls.captured]
    return out


def _reader(current, name: str):
    """A gradient reader for ``name`` out of ``current()`` (the dict the last backward filled)."""
    def read():
        return current().get(name)
    return read
