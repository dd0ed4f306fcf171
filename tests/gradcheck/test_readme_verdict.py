"""The README's verdict-contract example (section "Check your own gradients", the block that starts
"# a loss with inverted dropout") prints the INCONCLUSIVE report the README shows, and the
first example's diagnosis hint is the one shown there."""

import contextlib
import io
import re
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README.split("## Check your own gradients", 1)[1].split("\n## ", 1)[0]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", SECTION, re.S)


def test_the_inconclusive_example_prints_what_the_readme_shows():
    code = next(block for block in _blocks("python") if block.startswith("# a loss with inverted dropout"))
    shown = next(block for block in _blocks("text") if block.startswith("Gradient check INCONCLUSIVE"))
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, "README.md", "exec"), {})
    printed = output.getvalue().strip().splitlines()
    assert printed == shown.strip().splitlines(), "\n".join(printed)
    assert "f is not deterministic" in printed[3] and "fix the seed or pass the mask" in printed[3], printed


def test_the_first_example_shows_a_diagnosis_hint_marked_as_a_guess():
    shown = _blocks("text")[0]
    assert "W2: hint (a guess from the pattern, not a verdict): every element x 8: 8 = the batch size?" in shown, shown
    assert "X, Y = rng.normal(size=(3, 8))" in _blocks("python")[0], "the batch size of the example is 8"
