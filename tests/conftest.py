"""Suite-wide pytest configuration.

* Registers the Hypothesis profiles of :mod:`equivalence_tests.profiles` and loads one:
  ``$HYPOTHESIS_PROFILE`` if set, else ``ci``. Hypothesis' own pytest plugin then applies
  ``--hypothesis-profile=NAME`` if given (its ``pytest_configure`` runs after this module is
  imported), so the option wins over the environment variable. Under pytest-xdist every worker
  imports this module and receives the same option and environment, so all workers run the
  same profile.
* Prints the NumPy / torch / TensorFlow versions and the active profile in the report header,
  read from the installed distributions' metadata so that the header never imports torch or
  TensorFlow (importing TF takes seconds and prints to stderr).
"""

from __future__ import annotations

import importlib.metadata

from equivalence_tests.profiles import active_profile_name, load_profile

load_profile()

# Distribution names that provide each module; the first one installed is reported.
_DISTRIBUTIONS = {
    "numpy": ("numpy",),
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-nightly", "tensorflow-macos"),
    "keras": ("keras",),
    "hypothesis": ("hypothesis",),
}


def installed_version(module: str) -> str:
    """The version of the distribution that provides ``module``, or ``"not installed"``."""
    for distribution in _DISTRIBUTIONS.get(module, (module,)):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def pytest_report_header(config) -> list[str]:
    versions = ", ".join(f"{module} {installed_version(module)}" for module in _DISTRIBUTIONS)
    return [
        f"reference-nn frameworks: {versions}",
        f"hypothesis profile: {active_profile_name()} "
        "(choose with --hypothesis-profile=NAME or HYPOTHESIS_PROFILE; ci, dev, thorough)",
    ]
