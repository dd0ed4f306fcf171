"""Load the worked examples: the packaged ones (``reference_nn.examples``) by module name, and the
user-style ``examples/my_layer.py`` (not a package) by file path."""

import importlib
import importlib.util
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
PACKAGED = ("mazur_2_2_2", "deep_classifier", "two_moons", "step_size")


@pytest.fixture
def load_example():
    """``load_example("two_moons")`` -> the module reference_nn.examples.two_moons, freshly executed."""

    def load(name: str):
        if name in PACKAGED:
            return importlib.reload(importlib.import_module(f"reference_nn.examples.{name}"))
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES_DIR / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
