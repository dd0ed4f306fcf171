"""Every fenced block of the README is produced or checked by a test, so a stale number, a renamed
option or a transcript that no longer matches its command fails CI.

:func:`test_every_block_is_checked` sorts each block into one of the kinds below (by its language and
first line) and fails on a block no kind claims; each kind has its own test here, or names the test
module elsewhere that runs it. Transcripts (a ``$ command`` line, then its output) are rerun and
compared line by line: words exactly, numbers to 4 significant digits, and numbers below 1e-13
only as "below 1e-13" (they are rounding-level errors that move between BLAS builds).
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

# pytester runs the README's plugin example as a user's test file (declared in the module: pytest
# refuses pytest_plugins in a conftest below the rootdir).
pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    heading: str
    lang: str
    body: str

    @property
    def first(self) -> str:
        return self.body.splitlines()[0] if self.body else ""

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.heading}) {self.lang or 'plain'} block starting {self.first[:60]!r}"


def readme_blocks() -> list[Block]:
    lines, blocks, heading, index = README.split("\n"), [], "", 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.startswith("```"):
            end = next(j for j in range(index + 1, len(lines)) if lines[j].startswith("```"))
            blocks.append(Block(index + 1, heading, line[3:].strip(), "\n".join(lines[index + 1 : end])))
            index = end
        index += 1
    return blocks


BLOCKS = readme_blocks()

# Blocks run by a test module of their own (which reads the README): first line -> that module.
CHECKED_ELSEWHERE = {
    "refnn check layers:affine_forward": "tests/gradcheck/test_readme_code_styles.py",
    "# a loss with inverted dropout": "tests/gradcheck/test_readme_verdict.py",
    "Gradient check INCONCLUSIVE": "tests/gradcheck/test_readme_verdict.py",
}


def kind(block: Block) -> str:
    """The test that checks this block (a name below, or ``elsewhere:<path>``)."""
    for prefix, module in CHECKED_ELSEWHERE.items():
        if block.first.startswith(prefix):
            return f"elsewhere:{module}"
    if block.heading == "Set-up: two commands":
        return "setup_command"
    if block.lang == "text" and block.first.startswith("$ "):
        return "transcript"
    if block.lang == "text" and block.heading == "Check your own gradients":
        return "elsewhere:tests/core/test_readme.py"  # printed by the python block before it
    if block.lang == "python" and "def test_" in block.body:
        return "plugin_test_file"
    if block.lang == "python" and block.heading == "Check your own gradients":
        return "elsewhere:tests/core/test_readme.py"
    if block.lang == "python":
        return "python_runs"
    if block.lang == "bash" and all(line.startswith(("refnn ", "#")) or not line.strip()
                                    for line in block.body.splitlines()):  # fmt: skip
        return "refnn_usage"
    if block.lang == "bash" and block.first.startswith("nox"):
        return "nox_sessions"
    if block.lang == "bash" and "pytest" in block.body:
        return "pytest_commands"
    if block.lang == "" and block.heading == "Where things live":
        return "file_tree"
    return "unchecked"


def blocks_of(kind_name: str) -> list[Block]:
    return [block for block in BLOCKS if kind(block) == kind_name]


def test_every_block_is_checked():
    unchecked = [str(block) for block in BLOCKS if kind(block) == "unchecked"]
    assert not unchecked, "README blocks no test checks (add a kind in tests/core/test_readme_blocks.py):\n" + (
        "\n".join(unchecked)
    )
    for block in BLOCKS:
        if kind(block).startswith("elsewhere:"):
            module = ROOT / kind(block).split(":", 1)[1]
            assert module.is_file(), f"{block}: claimed by {module}, which does not exist"
            assert "README" in module.read_text(), f"{block}: {module.name} never reads the README"


# ------------------------------------------------------------------------ transcripts
NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?x?%?$")
RUNNING_ERROR_LEVEL = 1e-13  # below this, shown errors are rounding noise that differs between BLAS builds


def _same_token(shown: str, printed: str) -> bool:
    if shown == printed:
        return True
    if not (NUMBER.match(shown) and NUMBER.match(printed)):
        return False
    a, b = float(shown.rstrip("x%")), float(printed.rstrip("x%"))
    if abs(a) < RUNNING_ERROR_LEVEL and abs(b) < RUNNING_ERROR_LEVEL:
        return True
    return abs(a - b) <= 5e-4 * max(abs(a), abs(b))  # 4 significant digits


def assert_transcript_matches(block: Block, printed: str) -> None:
    shown = block.body.splitlines()[1:]
    printed_lines = [line.rstrip() for line in printed.strip().splitlines()]
    cursor = 0
    for want in shown:
        if want.strip() == "...":  # the README elides rows here: skip ahead to the next shown line
            continue
        match = next((index for index in range(cursor, len(printed_lines))
                      if len(printed_lines[index].split()) == len(want.split())
                      and all(_same_token(a, b) for a, b in zip(want.split(), printed_lines[index].split(),
                                                                strict=True))), None)  # fmt: skip
        assert match is not None, (
            f"{block}: the line\n  {want}\nis not printed (in order) by the command; it printed:\n"
            + "\n".join(printed_lines)
        )
        cursor = match + 1


def run_refnn(arguments: list[str], cwd: Path, monkeypatch) -> str:
    from equivalence_tests.cli import main

    monkeypatch.chdir(cwd)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        main(arguments)
    return output.getvalue()


@pytest.mark.parametrize("block", blocks_of("transcript"), ids=lambda block: f"line{block.line}")
def test_transcript_is_what_the_command_prints(block, monkeypatch, examples_sys_path):
    command = block.first[2:]
    cwd = ROOT
    if command.startswith("cd "):
        folder, _, command = command[3:].partition(" && ")
        cwd = ROOT / folder
    words = shlex.split(command)
    assert words[0] == "refnn", f"{block}: only refnn transcripts are replayed here, got {words[0]!r}"
    for framework in ("torch", "tensorflow", "jax"):  # a transcript with a framework's column needs it installed
        if f" {framework}/" in block.body and importlib.util.find_spec(framework) is None:
            pytest.skip(f"{block}: shows {framework}, which is not installed here")
    printed = run_refnn(words[1:], cwd, monkeypatch)
    assert_transcript_matches(block, printed)


@pytest.fixture
def examples_sys_path(monkeypatch):
    """refnn imports the user's module from the working directory; undo that afterwards."""
    import sys

    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name in ("my_layer",):
            del sys.modules[name]


def test_transcript_comparison_catches_a_stale_number_and_a_renamed_row():
    block = Block(1, "t", "text", "$ x\nW      FAIL    1.04e+00  8.75e-01\nRESULT: ok")
    assert_transcript_matches(block, "W      FAIL    1.0400e+00  8.75e-01\nRESULT: ok\n")  # same to 4 digits
    with pytest.raises(AssertionError, match="is not printed"):
        assert_transcript_matches(block, "W      FAIL    1.05e+00  8.75e-01\nRESULT: ok\n")
    with pytest.raises(AssertionError, match="is not printed"):
        assert_transcript_matches(block, "W      PASS    1.04e+00  8.75e-01\nRESULT: ok\n")


# ------------------------------------------------------------------------ commands and code
@pytest.mark.parametrize("block", blocks_of("refnn_usage"), ids=lambda block: f"line{block.line}")
def test_refnn_command_lines_parse(block):
    """Each documented command line is accepted by refnn's own parser (names, options, values)."""
    from equivalence_tests.cli import build_parser

    for line in block.body.splitlines():
        command = line.split(" #")[0].strip()
        if not command or command.startswith("#"):
            continue
        parser = build_parser()
        try:
            parser.parse_args(shlex.split(command)[1:])
        except SystemExit as error:
            pytest.fail(f"{block}: refnn refuses {command!r} (exit {error.code})")


@pytest.mark.parametrize("block", blocks_of("nox_sessions"), ids=lambda block: f"line{block.line}")
def test_nox_sessions_exist(block):
    noxfile = (ROOT / "noxfile.py").read_text()
    sessions = set(re.findall(r"@nox\.session[^\n]*\n(?:@[^\n]*\n)*def (\w+)", noxfile))
    for line in block.body.splitlines():
        command = line.split(" #")[0].strip()
        named = re.search(r"-s [\"']?(\w+)", command)
        if named:
            assert named.group(1) in sessions, f"{block}: no nox session {named.group(1)!r} (have {sorted(sessions)})"
        for key, value in re.findall(r"(\w+)='([^']+)'", command):  # parametrized cell: values must exist
            assert f'"{value}"' in noxfile or f"'{value}'" in noxfile, f"{block}: {key}={value} is not in the noxfile"


@pytest.mark.parametrize("block", blocks_of("python_runs"), ids=lambda block: f"line{block.line}")
def test_python_block_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(block.body, f"README.md:{block.line}", "exec"), namespace)
    # Every name a comment promises (``# dW1, db1, ..., dW3, db3``) is what the code produced.
    if "grads" in namespace and "dW3" in block.body:
        assert set(namespace["grads"]) == {"dW1", "db1", "dW2", "db2", "dW3", "db3"}, sorted(namespace["grads"])
    if "costs" in namespace:
        assert namespace["costs"][-1] < namespace["costs"][0], "the documented fit must learn"


@pytest.mark.slow  # ~10 s: a pytest subprocess (see tests/conftest.py: slow tests run first)
@pytest.mark.parametrize("block", blocks_of("plugin_test_file"), ids=lambda block: f"line{block.line}")
def test_plugin_example_is_a_test_file_that_passes(block, pytester):
    """The README's plugin example, saved as a test file as it is, passes under pytest (its names are all
    defined: it can be copied into a project)."""
    tree = ast.parse(block.body)
    assert any(isinstance(node, ast.FunctionDef) and node.name.startswith("test_") for node in tree.body)
    pytester.makepyfile(test_readme_example=block.body)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-W", "ignore::DeprecationWarning")
    assert result.ret == 0, "\n".join(result.outlines[-30:])


@pytest.mark.parametrize("block", blocks_of("file_tree"), ids=lambda block: f"line{block.line}")
def test_file_tree_names_only_existing_paths(block):
    stack: list[tuple[int, str]] = []
    for line in block.body.splitlines():
        name = line.strip().split()[0] if line.strip() else ""
        if not name or not re.match(r"^[\w./-]+$", name) or name.endswith(","):
            continue
        indent = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        path = parent + name
        if indent > 0 and not name.endswith("/") and "." not in name:
            continue  # a continuation line of a description
        assert (ROOT / path).exists(), f"{block}: {path} does not exist"
        if name.endswith("/"):
            stack.append((indent, path))


@pytest.mark.parametrize("block", blocks_of("setup_command"), ids=lambda block: f"line{block.line}")
def test_setup_commands_name_existing_extras_and_commands(block):
    pyproject = (ROOT / "pyproject.toml").read_text()
    for extra in re.findall(r"\.\[([\w,]+)\]", block.body):
        for name in extra.split(","):
            assert re.search(rf"^{name} = \[", pyproject, re.M), f"{block}: no extra {name!r} in pyproject.toml"
    assert "-c constraints/ci.txt" in block.body and (ROOT / "constraints" / "ci.txt").is_file()


@pytest.mark.slow  # ~10 s: a pytest subprocess (see tests/conftest.py: slow tests run first)
@pytest.mark.parametrize("block", blocks_of("pytest_commands"), ids=lambda block: f"line{block.line}")
def test_pytest_command_lines_use_real_settings_and_select_tests(block):
    """Environment variables the project reads, valid --tx specs, and a -k that selects tests."""
    import execnet

    from equivalence_tests import profiles

    for line in block.body.splitlines():
        words = shlex.split(line)
        for word in words:
            if re.match(r"^[A-Z_]+=", word):
                variable, value = word.split("=", 1)
                assert variable in (profiles.PROFILE_ENVIRONMENT_VARIABLE, profiles.DATABASE_ENVIRONMENT_VARIABLE), (
                    f"{block}: {variable} is not read by equivalence_tests.profiles"
                )
                if variable == profiles.PROFILE_ENVIRONMENT_VARIABLE:
                    assert value in profiles.PROFILE_NAMES, f"{block}: no profile {value!r}"
        for spec in (words[index + 1] for index, word in enumerate(words) if word == "--tx"):
            parsed = execnet.XSpec(spec)
            assert parsed.ssh and parsed.python and parsed.chdir, f"{block}: incomplete --tx spec {spec!r}"
        if "-k" in words:
            expression = words[words.index("-k") + 1]
            import subprocess
            import sys

            collect = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "-k", expression]
            done = subprocess.run(collect, cwd=ROOT, capture_output=True, text=True, timeout=300)
            selected = re.search(r"^(\d+)(/\d+)? tests? collected", done.stdout, re.M)
            assert done.returncode == 0 and selected and int(selected.group(1)) > 0, (
                f"{block}: -k {expression!r} selects no test: {done.stdout[-500:]}"
            )


def my_layer_transcripts() -> list[Block]:
    """The ``$ refnn ...`` transcripts in examples/my_layer.py's docstring, as blocks (exit codes aside)."""
    doc = (ROOT / "examples" / "my_layer.py").read_text().split('"""')[1]
    lines = [line[4:] if line.startswith("    ") else line for line in doc.splitlines()]
    starts = [index for index, line in enumerate(lines) if line.startswith("$ refnn ")]
    blocks = []
    for start in starts:
        end = next((index for index in range(start + 1, len(lines)) if lines[index].startswith("$ ")
                    or not lines[index].strip()), len(lines))  # fmt: skip
        blocks.append(Block(start + 1, "examples/my_layer.py docstring", "text", "\n".join(lines[start:end])))
    return blocks


@pytest.mark.parametrize("block", my_layer_transcripts(), ids=lambda block: block.first[2:40])
def test_my_layer_docstring_transcripts_are_what_refnn_prints(block, monkeypatch, examples_sys_path):
    assert len(my_layer_transcripts()) == 3, "examples/my_layer.py shows three refnn check transcripts"
    printed = run_refnn(shlex.split(block.first[2:])[1:], ROOT / "examples", monkeypatch)
    assert_transcript_matches(block, printed)
