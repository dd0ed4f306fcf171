"""Pin of GradientReport's default seed (report.py), by what a report built without one says (a
mutation-testing survivor of issue 26): the checker's default seed is 0 (check_gradients(seed=0)), so a
report assembled from results without a seed says seed=0, as a default check's does."""

import numpy as np

from reference_nn.gradcheck import GradientReport, check_gradients


def test_a_report_without_a_seed_says_the_default_seed():
    default = check_gradients(lambda p: float((p["w"] ** 2).sum()), lambda p: {"w": 2 * p["w"]},
                              {"w": np.array([0.5, -1.0])})  # fmt: skip
    built = GradientReport(default.results, default.method)
    assert built.seed == default.seed == 0, f"seed {built.seed}, a default check's {default.seed}"
    assert "seed=0" in str(built).splitlines()[0], f"header {str(built).splitlines()[0]!r}"
