"""The worked examples: each runs as a script, and each shows what its docstring says it shows.

Expected numbers come from outside the examples: Mazur's published values, the definition of the
data sets, mpmath, and the theory of finite-difference error.
"""

import re
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "command, plots",
    [(["-m", "reference_nn.examples.mazur_2_2_2", "--quick"], []),
     (["-m", "reference_nn.examples.deep_classifier", "--quick"], ["classifier_cost.png"]),
     (["-m", "reference_nn.examples.two_moons", "--quick"], ["moons_loss.png", "moons_boundary.png"]),
     (["-m", "reference_nn.examples.step_size", "--quick"], ["step_size.png"]),
     ([str(EXAMPLES_DIR / "my_layer.py")], [])],
    ids=["mazur", "classifier", "moons", "step_size", "my_layer"],
)  # fmt: skip
def test_runs_as_a_script_and_writes_only_into_refnn_output(command, plots, tmp_path):
    """Without --out the plots go to refnn-output/ in the working directory, never into the checkout."""
    committed = {path: path.read_bytes() for path in (ROOT / "docs" / "images").glob("*.png")}
    done = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "every example prints what it did"
    for name in plots:
        assert (tmp_path / "refnn-output" / name).read_bytes()[:8] == PNG_SIGNATURE, f"{name} not in refnn-output/"
    for path, content in committed.items():
        assert path.read_bytes() == content, f"running {command} changed the committed {path.name}"


def _run_without_matplotlib(arguments: list[str], tmp_path):
    """Run ``python ARGUMENTS`` in tmp_path with matplotlib hidden, as in a NumPy-only install: a
    sitecustomize makes ``import matplotlib`` fail and ``importlib.util.find_spec`` report it missing."""
    import os

    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(ROOT)])}
    return subprocess.run([sys.executable, *arguments], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env=env)  # fmt: skip


@pytest.mark.parametrize("example", ["deep_classifier", "two_moons", "step_size"])
def test_without_matplotlib_an_example_runs_and_says_plots_were_skipped(example, tmp_path):
    """The light install (NumPy only) runs every example: it trains, prints, and says in one line that the
    plots were skipped; it writes nothing."""
    from reference_nn.examples._output import PLOTS_SKIPPED

    done = _run_without_matplotlib(["-m", f"reference_nn.examples.{example}", "--quick"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines.count(PLOTS_SKIPPED) == 1, f"one line saying the plots were skipped:\n{done.stdout}"
    assert len(lines) > 1 and "wrote" not in done.stdout, f"the example's results, and no plot:\n{done.stdout}"
    assert not (tmp_path / "refnn-output").exists(), "nothing is written when nothing is drawn"


def test_without_matplotlib_an_explicit_out_is_one_line_before_any_training(tmp_path):
    """--out asks for plot files that cannot be drawn: an error naming the extra, before the training."""
    done = _run_without_matplotlib(["-m", "reference_nn.examples.two_moons", "--quick", "--out", "plots"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        'two_moons: error: the plots need matplotlib, which is not installed: pip install "reference-nn[plots]"'
    ), done.stderr
    assert "epochs" not in done.stdout, "the check must come before the training"


def test_update_docs_is_refused_with_out(load_example, tmp_path, capsys):
    from reference_nn.examples._output import ExampleUsageError

    with pytest.raises(ExampleUsageError, match="do not combine it with --out"):
        load_example("step_size").main(["--quick", "--update-docs", "--out", str(tmp_path)])


# Matt Mazur, "A Step by Step Backpropagation Example" (2015): weights after one step, 9 digits.
MAZUR_PUBLISHED = {"w1": 0.149780716, "w2": 0.19956143, "w3": 0.24975114, "w4": 0.29950229,
                   "w5": 0.35891648, "w6": 0.408666186, "w7": 0.511301270, "w8": 0.561370121}  # fmt: skip


def test_mazur_prints_each_weight_matching_the_published_step(load_example, capsys):
    assert load_example("mazur_2_2_2").main([]) == 0
    out = capsys.readouterr().out
    for name, published in MAZUR_PUBLISHED.items():
        match = re.search(rf"^\s+{name}\s+\S+\s+\S+\s+(\S+)", out, flags=re.MULTILINE)
        assert match, f"no line for {name}"
        # Mazur rounds to 9 significant digits (w2..w4 to 8 decimals): 5e-9 covers his rounding.
        assert abs(float(match.group(1)) - published) < 5e-9, name
    total = re.search(r"E_total = (\S+)", out)
    assert total, f"no E_total line in:\n{out}"
    # Published 0.298371109 (9 digits): 5e-10 is half a unit of its last digit; the computation (a few
    # float64 operations on numbers ~1) rounds 6 orders below that on any BLAS.
    assert abs(float(total.group(1)) - 0.298371109) <= 5e-10, f"E_total {total.group(1)}, published 0.298371109"


def test_classifier_prints_cost_every_100_iterations_and_learns(load_example, capsys):
    assert load_example("deep_classifier").main(["--quick"]) == 0
    out = capsys.readouterr().out
    costs = {int(k): float(v) for k, v in re.findall(r"Cost after iteration (\d+): (\S+)", out)}
    assert sorted(costs) == [0, 100, 200, 299]  # every 100 and the last of 300
    assert costs[299] < 0.8 * costs[0]
    train_accuracy = float(re.search(r"train accuracy: (\S+)", out).group(1))
    # The ring holds pi (0.75**2 - 0.3**2) / 4 = 37 % of the square: always answering 0 scores 0.63.
    assert train_accuracy > 0.7


def test_ring_labels_follow_their_definition(load_example):
    X, Y = load_example("deep_classifier").make_ring_data(500, seed=3)
    radius = np.sqrt(X[0] ** 2 + X[1] ** 2)
    np.testing.assert_array_equal(Y[0] == 1, (radius > 0.3) & (radius < 0.75))
    assert X.shape == (5, 500) and np.abs(X).max() <= 1.0


def test_moons_data_split_and_standardization(load_example):
    moons = load_example("two_moons")
    X, Y = moons.make_moons(101, noise=0.0, seed=0)
    assert X.shape == (2, 101) and Y.shape == (1, 101)
    upper = X[:, Y[0] == 0]
    lower = X[:, Y[0] == 1]
    # Without noise the moons are the two half circles of their definition.
    np.testing.assert_allclose(np.hypot(upper[0], upper[1]), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(lower[0] - 1.0, lower[1] - 0.5), 1.0, atol=1e-12)
    X_train, Y_train, X_test, Y_test, mean, std = moons.split_and_standardize(X, Y)
    assert X_train.shape[1] == 61 and X_test.shape[1] == 40  # 60/40
    np.testing.assert_allclose(X_train.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=1), 1.0, rtol=1e-12)
    # The test set is scaled with the train set's statistics, not its own.
    np.testing.assert_allclose(X_test * std + mean, X[:, 61:], rtol=1e-12, atol=1e-12)
    assert not np.allclose(X_test.mean(axis=1), 0.0, atol=1e-3)


def test_moons_writes_the_plots_and_records_one_loss_per_epoch(load_example, tmp_path, capsys):
    moons = load_example("two_moons")
    assert moons.main(["--quick", "--out", str(tmp_path)]) == 0
    for name in ("moons_loss.png", "moons_boundary.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_SIGNATURE
    X, Y = moons.make_moons(100, noise=0.2, seed=0)
    X_train, Y_train, X_test, Y_test, *_ = moons.split_and_standardize(X, Y)
    _, train_losses, test_losses = moons.train(X_train, Y_train, X_test, Y_test, epochs=7)
    assert len(train_losses) == len(test_losses) == 7
    assert train_losses[-1] < train_losses[0]


def test_step_size_derivative_against_mpmath(load_example):
    step_size = load_example("step_size")
    mpmath.mp.dps = 40
    exact = mpmath.diff(lambda x: mpmath.exp(x) / mpmath.sqrt(mpmath.sin(x) ** 3 + mpmath.cos(x) ** 3),
                        mpmath.mpf("1.5"))  # fmt: skip
    # The hand-written float64 derivative: a dozen roundings of 1.1e-16 each.
    assert abs(step_size.squire_trapp_derivative(1.5) - float(exact)) <= 1e-14 * abs(float(exact))


def test_step_size_curves_have_the_theoretical_minima(load_example, tmp_path, capsys):
    step_size = load_example("step_size")
    assert step_size.main(["--quick", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "step_size.png").read_bytes()[:8] == PNG_SIGNATURE
    steps = np.logspace(-1, -20, 96)
    best = {name: step_size.relative_errors(method, steps, np.float64).min()
            for name, method in (("central", step_size.central_difference),
                                 ("richardson", step_size.richardson_central),
                                 ("complex", step_size.complex_step))}  # fmt: skip
    eps = np.finfo(np.float64).eps
    # Central: best error ~ eps**(2/3) = 3.7e-11, within a factor 100 either way for a smooth f.
    assert eps ** (2 / 3) / 100 < best["central"] < eps ** (2 / 3) * 100
    # Richardson's h**4 truncation beats it; complex step has no rounding arm: ~eps.
    assert best["richardson"] < best["central"]
    assert best["complex"] <= 4 * eps


def test_my_layer_bugs_are_caught_and_fixes_pass(load_example):
    from reference_nn.gradcheck import check_gradients, check_layer

    my_layer = load_example("my_layer")
    x = np.random.default_rng(0).normal(size=(3, 5))
    broken = check_layer(my_layer.MyDense(), x)
    assert broken.failed_parameters == ["input"]  # only dx lacks the transpose
    assert check_layer(my_layer.MyDenseFixed(), x).passed
    params = {"W": np.array([[0.3, -0.2, 0.5]]), "b": np.array([[0.1]])}
    assert check_gradients(my_layer.loss, my_layer.grad, params).failed_parameters == ["W", "b"]
    assert check_gradients(my_layer.loss, my_layer.grad_fixed, params).passed


@pytest.mark.parametrize("name", ["moons_loss", "moons_boundary", "step_size", "classifier_cost"])
def test_committed_plots_exist(name):
    path = ROOT / "docs" / "images" / f"{name}.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
