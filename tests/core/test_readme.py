"""The README stays true: its gradient-check example prints what the README shows, and its
test command is the one .ci/run runs."""

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    return README.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_check_your_own_gradients_example_prints_the_documented_report():
    section = _section("Check your own gradients")
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1).strip().splitlines()
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, "README.md", "exec"), {})
    printed = output.getvalue().strip().splitlines()
    assert printed[0] == shown[0]
    assert len(printed) == len(shown)
    for got, want in zip(printed[2:], shown[2:], strict=True):
        got_columns, want_columns = got.split(), want.split()
        # name, verdict, verified, worst index, analytic, numeric, method, dtype, and the notes:
        # identical. The err/tol column (~1e-8 for passing rows) is rounding noise that may differ
        # between BLAS builds.
        for column in sorted(set(range(len(want_columns))) - {3}):
            assert got_columns[column] == want_columns[column], (got, want)


def test_ci_runs_the_readme_test_command():
    section = _section("Set-up: two commands")
    commands = re.findall(r"```bash\n(.*?)\n```", section, re.S)
    assert len(commands) == 2, "the README must give exactly two set-up commands"
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci_script.splitlines()
