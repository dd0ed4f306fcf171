"""``refnn check --max-evaluations / --time-budget / --no-progress``: a spent budget is INCONCLUSIVE
(its own exit status), never PASS; bad values are usage errors naming the option."""

import pytest

from equivalence_tests.cli import EXIT_OK, EXIT_USAGE, main
from equivalence_tests.cli.check import EXIT_INCONCLUSIVE

SHAPES = ["--shape", "W=2x3", "--shape", "b=2x1"]


def test_a_spent_evaluation_budget_is_inconclusive(user_project, capsys):
    code = main(["check", "user_model:loss", "user_model:grad", *SHAPES, "--max-evaluations", "3", "--no-progress"])
    out = capsys.readouterr().out
    assert code == EXIT_INCONCLUSIVE, out
    assert "max_evaluations=3 reached" in out, out


def test_a_sufficient_budget_changes_nothing(user_project, capsys):
    arguments = ["check", "user_model:loss", "user_model:grad", *SHAPES, "--max-evaluations", "100000",
                 "--time-budget", "600"]
    assert main(arguments) == EXIT_OK, capsys.readouterr().out


@pytest.mark.parametrize("option, value", [("--max-evaluations", "0"), ("--max-evaluations", "2.5"),
                                           ("--time-budget", "-1"), ("--time-budget", "nan")])
def test_bad_budget_values_are_usage_errors(user_project, capsys, option, value):
    with pytest.raises(SystemExit) as stop:
        main(["check", "user_model:loss", "user_model:grad", *SHAPES, option, value])
    assert stop.value.code == EXIT_USAGE, f"{option} {value} must be a usage error"
    assert option in capsys.readouterr().err, "the message must name the option"
