"""The conventions machinery: declarative rows, lazy framework loading (a missing framework,
JAX among them, is reported "not installed", never raised), JAX measured without touching the
caller's settings, comparison and printing, and the committed table listing every row."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from equivalence_tests import conventions as cv


def measured(result: cv.ConventionResult, framework: str):
    """The framework's measured value; skip when it is not installed, fail when measuring failed."""
    measurement = result.measurement(framework)
    if measurement.status == cv.NOT_INSTALLED:
        pytest.skip(f"{framework} is not installed")
    assert measurement.status == cv.MEASURED, f"{result.name} / {framework}: {measurement.status}"
    return measurement


def test_a_missing_framework_is_reported_not_raised(monkeypatch):
    def missing():
        raise ImportError("No module named 'nosuchframework'")

    monkeypatch.setitem(cv._IMPORTERS, "nosuchframework", missing)
    measurement = cv._measure("nosuchframework", lambda module: 1.0, 1.0, 0.0)
    assert measurement.status == cv.NOT_INSTALLED and measurement.value is None


def test_a_failing_measurement_is_reported_with_its_error(monkeypatch):
    def broken(module):
        raise RuntimeError("boom")

    monkeypatch.setitem(cv._IMPORTERS, "brokenframework", lambda: object())
    measurement = cv._measure("brokenframework", broken, 1.0, 0.0)
    assert measurement.status == "failed: RuntimeError: boom"
    assert measurement.agrees is None


@pytest.fixture
def fresh_framework_cache():
    """Clear load_framework's per-process cache before and after, so a simulated absence does not stick."""
    cv.load_framework.cache_clear()
    yield
    cv.load_framework.cache_clear()


def test_jax_absent_is_reported_not_installed(monkeypatch, fresh_framework_cache):
    def jax_missing():
        raise ImportError("No module named 'jax'")

    monkeypatch.setitem(cv._IMPORTERS, "jax", jax_missing)
    result = cv.relu_derivative_at_zero()
    assert result.measurement("jax").status == cv.NOT_INSTALLED, result.measurement("jax")
    assert result.measurement("torch").status != cv.NOT_INSTALLED or importlib.util.find_spec("torch") is None
    versions = cv.framework_versions()
    assert versions["jax"] == versions["optax"] == cv.NOT_INSTALLED, versions
    assert "| *not installed* |" in cv.markdown_table([result], versions), "the JAX cell must say not installed"


@pytest.mark.jax
def test_measuring_in_jax_leaves_the_callers_x64_flag_and_device_unchanged():
    jax = pytest.importorskip("jax")
    before = (jax.config.jax_enable_x64, jax.config.jax_default_device)
    assert measured(cv.relu_derivative_at_zero(), "jax").value is not None, "JAX was not measured"
    after = (jax.config.jax_enable_x64, jax.config.jax_default_device)
    assert after == before, f"measuring changed JAX's global settings: {before} -> {after}"


def test_unknown_framework_name_is_refused():
    with pytest.raises(ValueError, match="framework must be one of"):
        cv.load_framework("pytorch")


def test_max_abs_difference_compares_shared_cases_only():
    assert cv.max_abs_difference({"a": 1.0, "b": [1.0, 2.0]}, {"a": 1.5, "b": [1.0, 2.25], "extra": 9.0}) == 0.5
    assert cv.max_abs_difference(0.01, {"x": 0.2, "y": 0.3}) == pytest.approx(0.29)
    assert cv.max_abs_difference({"a": 1.0}, {"other": 2.0}) is None


def test_printer_markdown_and_json(capsys):
    assert cv.main([]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("# Framework conventions, measured")
    assert "| Convention |" in markdown
    assert f"numpy {np.__version__}" in markdown
    for convention in cv.CONVENTIONS:
        assert f"**{convention.name}**" in markdown

    assert cv.main(["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["versions"]["numpy"] == np.__version__
    assert [c["name"] for c in report["conventions"]] == [c.name for c in cv.CONVENTIONS]
    assert {m["framework"] for m in report["conventions"][0]["measurements"]} == set(cv.FRAMEWORKS)


def test_committed_table_lists_every_convention():
    table = (Path(__file__).resolve().parents[2] / "docs" / "conventions.md").read_text()
    for convention in cv.CONVENTIONS:
        assert f"**{convention.name}**" in table, f"regenerate docs/conventions.md: {convention.name} missing"


def test_rows_are_declared_with_a_known_family_and_grouped_in_family_order():
    families = [convention.family for convention in cv.CONVENTIONS]
    assert set(families) <= set(cv.FAMILIES), f"unknown families {set(families) - set(cv.FAMILIES)}"
    order = [cv.FAMILIES.index(family) for family in families]
    assert order == sorted(order), f"CONVENTIONS must be grouped in FAMILIES order, got {families}"
    names = [convention.name for convention in cv.CONVENTIONS]
    assert len(names) == len(set(names)), f"duplicate convention names in {names}"


def test_a_row_with_an_unknown_family_or_framework_is_refused():
    row = dict(name="x", family="activations", question="q", setup="s", reference=lambda: 0.0, tolerance=0.0,
               tolerance_reason="r", twins={}, harness_action="a")
    with pytest.raises(ValueError, match="family must be one of"):
        cv.Convention(**(row | {"family": "layers"}))
    with pytest.raises(ValueError, match="twins must be keyed by"):
        cv.Convention(**(row | {"twins": {"pytorch": lambda module: 0.0}}))
