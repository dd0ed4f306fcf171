"""check_layer finds parameters wherever layers keep them (attributes W/dW, .parameters /
.gradients, .params / .grads with buffers beside them, lists from methods, lazily created), says
where it found them, warns when it finds none, and checks layers with several inputs or outputs.
A planted bug in each is named; the layers come from tests/gradcheck/user_code/layer_objects.py."""

import numpy as np
import pytest
from user_code import layer_objects as LO

from reference_nn.gradcheck import check_layer


def x_rows(seed=0, shape=(5, 4)):
    return np.random.default_rng(seed).standard_normal(shape)


# name -> (make(bug), the bug, parameters expected in order, where they are found, the tensor the bug breaks)
STYLES = {
    "attributes W/dW": (LO.AttrDense, "dW_times_123", ["W", "b"], "array attributes", "W"),
    ".parameters/.gradients": (LO.LibraryDense, "db_mean", ["W", "b"], "layer.parameters / layer.gradients", "b"),
    ".params/.grads with buffers": (lambda bug=None: LO.BatchNorm1d(4, bug=bug), "dbeta_doubled",
                                    ["gamma", "beta"], "layer.params / layer.grads", "beta"),
    "lazy": (lambda bug=None: LO.LazyDense(3, bug=bug), "dW_times_123", ["W", "b"], "array attributes", "W"),
    "methods returning lists": (LO.MethodListDense, "dW_times_123", ["[0]", "[1]"],
                                "layer.parameters / layer.gradients", "[0]"),
}


def make(style, bug=None):
    factory = STYLES[style][0]
    if factory in (LO.AttrDense, LO.LibraryDense, LO.MethodListDense):
        return factory(4, 3, bug=bug)
    return factory(bug=bug)


@pytest.mark.parametrize("style", STYLES)
def test_parameters_found_and_checked(style):
    _, _, expected, source, _ = STYLES[style]
    report = check_layer(make(style), x_rows())
    assert report.passed and not report.inconclusive, f"{style}\n{report}"
    assert list(report.results) == ["input", *expected], f"{style}: input and parameters checked\n{report}"
    assert any(n.startswith(f"parameters found in {source}") for n in report.notes), report.notes
    assert not any(n.startswith("WARNING") for n in report.notes), report.notes


@pytest.mark.parametrize("style", STYLES)
def test_planted_parameter_bug_is_named(style):
    _, bug, _, _, broken = STYLES[style]
    report = check_layer(make(style, bug=bug), x_rows())
    assert report.failed_parameters == [broken], f"{style}: {bug} breaks {broken}\n{report}"
    assert report[broken].worst_index is not None, str(report)


def test_dw_times_123_on_attributes_is_no_longer_a_silent_pass():
    """Issue 12, case 6: before parameter discovery only the input gradient was checked."""
    report = check_layer(LO.AttrDense(3, 2, bug="dW_times_123"), x_rows(shape=(4, 3)))
    assert not report.passed and report.failed_parameters == ["W"], str(report)
    assert report["W"].gradient_key == "dW", str(report)


def test_buffers_are_skipped_with_a_note_and_restored():
    layer = LO.BatchNorm1d(4)
    running = {k: layer.params[k].copy() for k in ("running_mean", "running_var")}
    report = check_layer(layer, x_rows() * 2 + 1)
    assert "not checked, no gradient found (buffers, cached values): running_mean, running_var" in report.notes, (
        report.notes
    )
    for k, v in running.items():
        assert np.array_equal(layer.params[k], v), f"{k} restored after the check's forwards"


def test_attribute_layer_notes_its_cached_input_and_restores_parameters():
    layer = LO.AttrDense(4, 3)
    W, b = layer.W, layer.b
    before = W.tobytes(), b.tobytes()
    report = check_layer(layer, x_rows())
    assert layer.W is W and layer.b is b and (W.tobytes(), b.tobytes()) == before, "parameters restored"
    assert "not checked, no gradient found (buffers, cached values): x" in report.notes, report.notes


def test_aliased_arrays_are_written_in_place():
    """self.params = [self.W, self.b] but forward reads self.W: replacing the list's entries would
    not reach forward (a false failure); the probe notices and writes into the arrays instead."""
    report = check_layer(LO.AliasedDense(4, 3), x_rows())
    assert report.passed and list(report.results) == ["input", "[0]", "[1]"], str(report)
    assert any("reads this array through another reference" in n for n in report.notes), report.notes
    assert check_layer(LO.AliasedDense(4, 3, bug="dW_times_123"), x_rows()).failed_parameters == ["[0]"]


def test_layer_without_parameters_gets_a_warning():
    x = np.random.default_rng(1).choice([-1.0, 1.0], (3, 4)) * np.random.default_rng(2).uniform(0.5, 1.5, (3, 4))
    report = check_layer(LO.ReLU(), x)
    assert report.passed and list(report.results) == ["input"], str(report)
    warnings = [n for n in report.notes if n.startswith("WARNING: no parameters found on ReLU")]
    assert len(warnings) == 1 and ".params/.grads" in warnings[0], report.notes


def test_several_inputs_are_named_after_forward():
    rng = np.random.default_rng(3)
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    report = check_layer(LO.Attention(), q, k, v)
    assert report.passed and list(report.results) == ["q", "k", "v"], str(report)
    assert check_layer(LO.Attention(bug="dk_unscaled"), q, k, v).failed_parameters == ["k"]


def test_several_outputs_are_all_driven():
    report = check_layer(LO.GatedTwoOutputs(3), x_rows(shape=(4, 3)))
    assert report.passed and list(report.results) == ["input", "W", "g"], str(report)
    assert "drove output(s) dz_out (4, 3), dgated (4, 3)" not in report.notes, "outputs named without the d"
    assert any(n.startswith("drove output(s) z_out (4, 3), gated (4, 3)") for n in report.notes), report.notes
    wrong = check_layer(LO.GatedTwoOutputs(3, bug="ignores_second_output"), x_rows(shape=(4, 3)))
    assert wrong.failed_parameters == ["input", "W"], str(wrong)


def test_integer_input_layer_checks_the_table_only():
    report = check_layer(LO.Embedding(6, 3), np.array([[0, 2, 2], [5, 2, 1]]))
    assert report.passed and list(report.results) == ["W"], str(report)
    assert "passed unchanged on every call: input (int64 array (2, 3))" in report.notes, report.notes


def test_model_made_of_layers_is_searched_layer_by_layer():
    def model(bug=None):
        return LO.Sequential([LO.AttrDense(4, 6, seed=1), LO.ReLU(),
                              LO.LibraryDense(6, 2, seed=2, bug=bug)])

    x = x_rows(seed=4)
    assert np.min(np.abs(x @ model().layers[0].W + model().layers[0].b)) > 1e-3, "test data: no ReLU input at 0"
    report = check_layer(model(), x)
    assert report.passed and not report.inconclusive, str(report)
    assert list(report.results) == ["input", "layers[0].W", "layers[0].b", "layers[2].W", "layers[2].b"], str(report)
    assert any(n.startswith("parameters found in sub-layers layers[0] (array attributes), layers[2]")
               for n in report.notes), report.notes
    assert check_layer(model(bug="db_mean"), x).failed_parameters == ["layers[2].b"]


def test_layer_reading_a_copy_of_its_params_is_flagged_not_passed():
    """params holds a stale copy of W: perturbing it changes nothing, so the numerical gradient is 0
    and the check fails; the note says why (a copy), instead of leaving a puzzle."""

    class StaleCopy(LO.AttrDense):
        def backward(self, dout):
            dx = super().backward(dout)
            self.params, self.grads = {"W": self.W.copy()}, {"W": self.dW}
            return dx

    report = check_layer(StaleCopy(4, 3), x_rows())
    assert report.failed_parameters == ["W"], str(report)
    assert "W: the output did not change when this array changed (the layer may read a copy" in " ".join(
        report.notes), report.notes


def test_layers_that_accumulate_gradients():
    """The check runs many forwards and backwards: a layer that accumulates gradients is cleared
    (its flush_gradients(), or its gradient arrays zeroed) before each, as one update would be."""
    report = check_layer(LO.AccumulatingDense(4, 3), x_rows())
    assert report.passed and not report.inconclusive, str(report)
    assert "layer.flush_gradients() called before every forward (what the layer accumulates is cleared)" in (
        report.notes), report.notes
    assert report.notes[0].startswith("drove output(s) y (5, 3)"), "dLdy names the output y"
    assert check_layer(LO.AccumulatingDense(4, 3, bug="dW_doubled"), x_rows()).failed_parameters == ["W"]
    report = check_layer(LO.AccumulatingAttrDense(4, 3), x_rows())
    assert report.passed and not report.inconclusive, str(report)
    assert check_layer(LO.AccumulatingAttrDense(4, 3, bug="db_tripled"), x_rows()).failed_parameters == ["b"]


def test_layer_methods_in_the_cache_style():
    report = check_layer(LO.CacheDense(4, 3), x_rows())
    assert report.passed and list(report.results) == ["input", "W", "b"], str(report)
    assert "forward returns (out, cache): backward is called as backward(dout, cache)" in report.notes, report.notes
    assert report.notes[0].startswith("drove output(s) out (5, 3)"), report.notes
    assert check_layer(LO.CacheDense(4, 3, bug="db_first_row"), x_rows()).failed_parameters == ["b"]
