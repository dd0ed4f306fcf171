"""``refnn check`` exit statuses and messages for the verdict contract: 0 PASS, 1 FAIL, 2 bad usage
(or an unusable value, naming the function that returned it), 3 the user's own code raised (one
line naming the function and the exception, then the user's frames only), 5 INCONCLUSIVE."""

import sys

import pytest

# NumPy's C extension cannot be imported twice in one process: the pytester run below reuses it.
import reference_nn.gradcheck  # noqa: F401
from equivalence_tests.cli import EXIT_DISAGREE, EXIT_OK, EXIT_USAGE, main
from equivalence_tests.cli.check import EXIT_INCONCLUSIVE, EXIT_USER_CODE

pytest_plugins = ["pytester"]  # declared in the module: pytest refuses it in a conftest below the rootdir

SHAPES = ["--shape", "w=4x1"]

# A student's regression with the mistakes issue 12 found: a dropout mask drawn per call, a loss
# that divides by a count that can be 0, a loss that is NaN at the point, a backward that raises.
STUDENT = '''
import numpy as np

X = np.linspace(-1, 1, 24).reshape(6, 4)   # samples in rows
y = np.linspace(0, 1, 6).reshape(6, 1)


def loss(params):
    return float(np.mean((X @ params["w"] - y) ** 2))


def grad(params):
    return {"w": 2 * X.T @ (X @ params["w"] - y) / len(y)}


def grad_times_six(params):
    return {"w": 6 * grad(params)["w"]}


def dropout_loss(params):
    keep = np.random.random(X.shape) > 0.5        # a fresh mask on every call
    return float(np.mean(((X * keep / 0.5) @ params["w"] - y) ** 2))


def nan_loss(params):
    return float(np.mean((X @ params["w"] - y) ** 2)) * np.nan


def count_positive(values):
    return 1.0 / int(np.sum(values > 1e9))       # ZeroDivisionError: no value is that large


def raising_grad(params):
    return {"w": grad(params)["w"] * count_positive(params["w"])}
'''


@pytest.fixture
def student(tmp_path, monkeypatch):
    (tmp_path / "student.py").write_text(STUDENT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    sys.modules.pop("student", None)
    yield tmp_path
    sys.modules.pop("student", None)


def test_right_wrong_and_exit_codes_0_and_1(student, capsys):
    assert main(["check", "student:loss", "student:grad", *SHAPES]) == EXIT_OK
    assert main(["check", "student:loss", "student:grad_times_six", *SHAPES]) == EXIT_DISAGREE
    out = capsys.readouterr().out
    assert "WRONG: gradient of 'w'" in out and "x 6: 6 = the batch size? a missing 1/m" in out, out
    assert "hint (a guess from the pattern, not a verdict)" in out, out


def test_a_fresh_dropout_mask_per_call_is_inconclusive_exit_5(student, capsys):
    assert EXIT_INCONCLUSIVE == 5, "4 is crosscheck's; 5 is documented for INCONCLUSIVE"
    assert main(["check", "student:dropout_loss", "student:grad_times_six", *SHAPES]) == EXIT_INCONCLUSIVE
    out = capsys.readouterr().out
    assert "INCONCLUSIVE: no wrong element found" in out and "f is not deterministic" in out, out
    assert "WRONG" not in out and "PASS:" not in out, out


def test_inconclusive_json_has_the_verdict_and_reasons(student, capsys):
    import json

    assert main(["check", "student:dropout_loss", "student:grad", *SHAPES, "--json"]) == EXIT_INCONCLUSIVE
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"] == "INCONCLUSIVE" and data["passed"] is False and data["inconclusive"] is True, data
    assert data["parameters"]["w"]["n_verified"] == 0 and data["parameters"]["w"]["n_inconclusive"] == 4, data


def test_the_users_own_exception_is_exit_3_with_their_frames_only(student, capsys):
    assert main(["check", "student:loss", "student:raising_grad", *SHAPES]) == EXIT_USER_CODE
    err = capsys.readouterr().err
    first, *frames = err.strip().splitlines()
    assert first.startswith("refnn check: student:raising_grad raised ZeroDivisionError"), err
    assert any("student.py" in line and "count_positive" in line for line in frames), err
    assert not any("reference_nn" in line or "equivalence_tests" in line for line in frames), err
    assert "WRONG" not in err, err


def test_a_nan_loss_is_blamed_on_the_loss(student, capsys):
    assert main(["check", "student:nan_loss", "student:grad", *SHAPES]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("refnn check: error: student:nan_loss: f returned nan"), err
    assert "student:grad" not in err, err


@pytest.mark.parametrize("option, value", [("--rtol", "-1"), ("--atol", "-0.5"), ("--rtol", "nan"), ("--atol", "inf")])
def test_negative_or_non_finite_tolerances_are_usage_errors(student, capsys, option, value):
    assert main(["check", "student:loss", "student:grad", *SHAPES, option, value]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{option} must be a finite number >= 0" in err and err.count("\n") == 1, err


PLUGIN_TESTS = STUDENT + '''

PARAMS = {"w": np.linspace(-0.5, 0.5, 4).reshape(4, 1)}


def test_right(gradient_checker):
    assert gradient_checker(loss, grad, PARAMS).verdict == "PASS"


def test_random_loss(gradient_checker):
    gradient_checker(dropout_loss, grad, PARAMS)
'''


def test_the_pytest_plugin_fails_an_inconclusive_check_saying_so(pytester):
    """Not verified is not passed: a test whose gradient check is INCONCLUSIVE fails, with the reason."""
    pytester.makepyfile(test_student=PLUGIN_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*GradientCheckFailure*INCONCLUSIVE: no wrong element found*f is not deterministic*"])
