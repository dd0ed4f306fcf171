"""Finite-difference error against step size: the V-shaped curve that explains the tolerances.

A difference quotient makes two errors. Truncation (the Taylor terms it drops) grows with the
step ``h``: ``h**2`` for the central difference, ``h**4`` after one Richardson extrapolation.
Rounding (the two nearly equal values of ``f`` that it subtracts, each carrying a relative error
of about machine epsilon) grows as ``eps / h``. Their sum is a V on a log-log plot whose bottom is

* central difference: ``h* ~ eps**(1/3)``, best relative error ``~ eps**(2/3)`` (float64: 6e-6 and 5e-11;
  float32: 5e-3 and 2e-5, hence a float32 check can never be tighter than about 1e-4);
* Richardson ``(4 C(h/2) - C(h)) / 3``: ``h* ~ eps**(1/5)``, error ``~ eps**(4/5)`` (float64: ~3e-13);
* complex step ``Im f(x + ih) / h``: nothing is subtracted, so there is no rounding arm at all; with
  ``h = 1e-20`` the derivative is exact to machine precision (~1e-16) for any analytic ``f``.

So a gradient check in float64 cannot ask for better than ~1e-10 relative agreement with a central
difference, ~1e-12 with Richardson, and ~1e-14 with complex step, and the step is not a free choice.

The test function is Squire and Trapp's ``f(x) = exp(x) / sqrt(sin(x)**3 + cos(x)**3)`` at ``x = 1.5``
(SIAM Review 1998; also the example of Martins, Sturdza and Alonso, ACM TOMS 2003), whose derivative
is written out by hand below. The curves are computed here with small named functions rather than
with ``reference_nn.gradcheck``, whose methods choose their own step.

Run::

    python -m reference_nn.examples.step_size                 # writes refnn-output/step_size.png
    python -m reference_nn.examples.step_size --quick --out /tmp
    python -m reference_nn.examples.step_size --update-docs   # refresh docs/images/step_size.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from reference_nn.examples._output import add_output_options, output_folder, plots_wanted, pyplot, run_script

X0 = 1.5
# Errors below this are drawn at this floor: a complex step often hits the float64 value exactly
# (error 0, or one ulp ~1e-16); below float64 eps all those values mean "as exact as float64 gets".
PLOT_FLOOR = 1e-16


def squire_trapp(x):
    """``exp(x) / sqrt(sin(x)**3 + cos(x)**3)``; works for float32, float64 and complex ``x``."""
    return np.exp(x) / np.sqrt(np.sin(x) ** 3 + np.cos(x) ** 3)


def squire_trapp_derivative(x: float) -> float:
    """By hand: with ``g = sin**3 + cos**3``, ``g' = 3 sin**2 cos - 3 cos**2 sin`` and ``f' = f (1 - g' / (2 g))``."""
    s, c = np.sin(x), np.cos(x)
    g = s**3 + c**3
    g_prime = 3 * s**2 * c - 3 * c**2 * s
    return float(squire_trapp(x) * (1 - g_prime / (2 * g)))


def central_difference(f, x, h):
    """``(f(x + h) - f(x - h)) / (2 h)``, in the dtype of ``x`` and ``h``: error ``O(h**2)`` + rounding ``eps / h``."""
    return (f(x + h) - f(x - h)) / (2 * h)


def richardson_central(f, x, h):
    """One Richardson step on the central difference, ``(4 C(h/2) - C(h)) / 3``: error ``O(h**4)`` + rounding."""
    return (4 * central_difference(f, x, h / 2) - central_difference(f, x, h)) / 3


def complex_step(f, x, h):
    """``Im f(x + i h) / h``: error ``O(h**2)`` and no subtraction, so no rounding arm."""
    return np.imag(f(x + 1j * h)) / h


def relative_errors(method, steps: np.ndarray, dtype) -> np.ndarray:
    """``|method(f, x, h) - f'(x)| / |f'(x)|`` for each step, evaluated in ``dtype``."""
    exact = squire_trapp_derivative(X0)
    errors = []
    for h in steps:
        with np.errstate(all="ignore"):  # the smallest steps divide 0 by a tiny h: that is the point
            estimate = method(squire_trapp, dtype(X0), dtype(h))
        errors.append(abs(float(estimate) - exact) / abs(exact))
    return np.maximum(np.array(errors), PLOT_FLOOR)


CURVES = {
    "central, float64": (central_difference, np.float64, "C0", "-"),
    "Richardson, float64": (richardson_central, np.float64, "C1", "-"),
    "complex step, float64": (complex_step, np.float64, "C2", "-"),
    "central, float32": (central_difference, np.float32, "C0", "--"),
}


def best_errors(steps: np.ndarray) -> dict[str, float]:
    """The best relative error of each curve over ``steps`` (what the printout shows; no plotting)."""
    return {label: float(relative_errors(method, steps, dtype).min())
            for label, (method, dtype, _, _) in CURVES.items()}  # fmt: skip


def plot(steps: np.ndarray, path: Path) -> dict[str, float]:
    """Draw the curves; returns the best relative error of each curve (for the printout)."""
    plt = pyplot()

    best = {}
    figure, axes = plt.subplots(figsize=(7, 4.8), dpi=100)
    for label, (method, dtype, color, style) in CURVES.items():
        errors = relative_errors(method, steps, dtype)
        best[label] = float(errors.min())
        axes.loglog(steps, errors, style, color=color, label=label, linewidth=1.4)
    eps64 = np.finfo(np.float64).eps
    axes.loglog(steps, eps64 / steps, ":", color="gray", linewidth=1, label="rounding  eps/h")
    axes.axhline(eps64, color="gray", linewidth=0.8, linestyle="-.", label="float64 eps")
    for exponent, color in ((1 / 3, "C0"), (1 / 5, "C1")):
        axes.axvline(eps64**exponent, color=color, linewidth=0.8, linestyle=":")
    axes.set(
        xlabel="step h", ylabel="relative error of f'(x)", ylim=(PLOT_FLOOR / 2, 10),
        title="Finite-difference error vs step (f = exp(x)/sqrt(sin³x + cos³x), x = 1.5)",
    )  # fmt: skip
    axes.invert_xaxis()
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize=8, loc="center right")  # the empty region: small h, mid errors
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (for CI)")
    add_output_options(parser, "step_size.png")
    args = parser.parse_args(argv)
    plots = plots_wanted(args)
    out = output_folder(args) if plots else None
    steps = np.logspace(-1, -20, 39 if args.quick else 191)  # x + h must stay where sin**3 + cos**3 > 0
    best = plot(steps, out / "step_size.png") if out is not None else best_errors(steps)
    for label, error in best.items():
        print(f"best relative error, {label:22}: {error:.1e}")
    if out is not None:
        print(f"wrote {out / 'step_size.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main, "step_size"))
