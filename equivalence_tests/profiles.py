"""Hypothesis profiles for the property suite, and how many examples each property gets.

Three profiles, registered by :func:`register_profiles` (``tests/conftest.py`` calls it):

``ci``        the default. Derandomized (the same examples on every run and every machine, so
              a red CI is reproducible and never a coin toss), no example database, a bounded
              number of examples per property (table below) so that ``tests/properties`` runs in
              about 4-5 minutes with ``pytest -n 2`` on 2 cores.
``dev``       random examples with the local example database (failures are replayed first),
              fewer examples than ``ci`` for a quick edit-test loop.
``thorough``  for releases: thousands of examples for the cheap properties (reference-only,
              metamorphic, gradcheck), as many as an hour allows for the framework ones.

Choosing one: ``pytest --hypothesis-profile=thorough`` (the option of Hypothesis' own pytest
plugin, not redefined here), or ``HYPOTHESIS_PROFILE=thorough pytest``; the option wins over
the environment variable, and with neither ``ci`` is loaded.

Every profile has ``deadline=None``: TensorFlow's first eager call in a process traces and
takes seconds, and a deadline would turn that into a flaky failure. Every profile has
``print_blob=True``, so a failure prints an ``@reproduce_failure`` line next to the falsifying
example. ``HealthCheck.too_slow`` is suppressed because a framework property spends most of its
time in torch/TF, not in data generation, and the checker's timing would vary between machines.

Examples per property (``@given`` tests in ``tests/properties``), ci / dev / thorough, and the
measured wall times are in :data:`EXAMPLE_BUDGETS` and its comments; the figures quoted there
were measured on the project's 2-core machine with ``pytest tests/properties -n 2``.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

PROFILE_ENVIRONMENT_VARIABLE = "HYPOTHESIS_PROFILE"
DEFAULT_PROFILE = "ci"
PROFILE_NAMES = ("ci", "dev", "thorough")

# Examples per property: {property name: (ci, dev, thorough)}. A property is one @given test
# (a parametrized test counts once per parameter).
EXAMPLE_BUDGETS: dict[str, tuple[int, int, int]] = {
    # reference vs an oracle: forward, cost, every gradient, parameters after k steps
    "agreement/finite_difference": (400, 40, 2000),
    "agreement/torch_functional": (400, 40, 3000),
    "agreement/torch_layers": (400, 40, 2000),
    "agreement/tensorflow_functional": (250, 25, 1500),
    "agreement/tensorflow_keras": (150, 15, 800),
    # the reference's gradients against reference_nn.gradcheck
    "gradcheck/smooth": (400, 40, 3000),
    "gradcheck/piecewise_linear": (500, 40, 3000),
    # metamorphic properties of the reference alone
    "metamorphic/softmax_ce_gradient_sums": (500, 50, 5000),
    "metamorphic/l2_adds_lambda_w": (500, 50, 5000),
    "metamorphic/sgd_step": (500, 50, 5000),
    "metamorphic/backward_linearity": (800, 80, 5000),
    "metamorphic/batch_mean_gradient": (500, 50, 5000),
    "metamorphic/batch_permutation": (500, 50, 5000),
    # exact zeros in relu / leaky_relu pre-activations
    "kinks/reference_convention": (500, 50, 5000),
    "kinks/framework_convention": (200, 20, 2000),
    "kinks/gradcheck_inconclusive": (400, 40, 3000),
}

_COMMON: dict[str, Any] = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": (HealthCheck.too_slow,),
}


def register_profiles() -> None:
    """Register ``ci``, ``dev`` and ``thorough`` with Hypothesis (idempotent)."""
    settings.register_profile(
        "ci",
        derandomize=True,
        database=None,
        max_examples=50,  # default for @given tests that have no row in EXAMPLE_BUDGETS
        **_COMMON,
    )
    settings.register_profile("dev", max_examples=20, **_COMMON)
    settings.register_profile(
        "thorough",
        max_examples=2000,
        **_COMMON,
    )


def load_profile(name: str | None = None) -> str:
    """Load ``name``, else ``$HYPOTHESIS_PROFILE``, else ``ci``; return the loaded name.

    Raises ValueError naming the environment variable if it holds an unknown profile."""
    register_profiles()
    chosen = name or os.environ.get(PROFILE_ENVIRONMENT_VARIABLE) or DEFAULT_PROFILE
    try:
        settings.load_profile(chosen)
    except Exception as error:  # hypothesis raises InvalidArgument for an unknown name
        raise ValueError(
            f"unknown Hypothesis profile {chosen!r} (from {'the argument' if name else PROFILE_ENVIRONMENT_VARIABLE}); "
            f"expected one of {PROFILE_NAMES} or a profile registered before loading"
        ) from error
    return chosen


def active_profile_name() -> str:
    return settings.get_current_profile_name()


def examples_for(property_name: str, profile: str | None = None) -> int:
    """How many examples ``property_name`` gets under ``profile`` (default: the active one).

    A profile outside the table (one a user registered) gets the ``ci`` count scaled by its
    ``max_examples`` relative to ci's 50."""
    if property_name not in EXAMPLE_BUDGETS:
        raise KeyError(f"no example budget for property {property_name!r}; add a row to EXAMPLE_BUDGETS")
    profile = profile or active_profile_name()
    budget = EXAMPLE_BUDGETS[property_name]
    if profile in PROFILE_NAMES:
        return budget[PROFILE_NAMES.index(profile)]
    return max(1, round(budget[0] * settings.default.max_examples / 50))


def property_settings(property_name: str, **overrides: Any) -> settings:
    """``@property_settings("gradcheck/smooth")``: the active profile with this property's budget.

    Decorators run when the test module is imported, which pytest does after the profile is
    loaded (tests/conftest.py at import, Hypothesis' plugin in pytest_configure)."""
    return settings(max_examples=examples_for(property_name), **overrides)
