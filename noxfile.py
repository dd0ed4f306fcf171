"""nox sessions: the suite on the pinned versions, a framework/NumPy version matrix,
minimum versions, lint and type checks, golden-data regeneration, drift reports, benchmarks.

    nox -l                         list the sessions
    nox -s tests                   what CI runs (the README's test command, pinned versions)
    nox -s matrix                  every compatible (tensorflow, torch, numpy) combination
    nox -s "matrix(tf='2.20.0', torch='2.13.0', numpy='1.26.4')"   one cell
    nox -s jax_matrix              the JAX tests on every compatible (jax, numpy) pair
    nox -s drift_report            gathers the matrix's drift tables into docs/drift.md
    nox -s regenerate              rewrites the golden data (never run by default)
    nox -s mutants                 mutation testing (cosmic-ray): reference_nn.gradcheck, reference_nn, tolerances
    nox -s update_docs             refreshes docs/images, benchmarks/results, docs/conventions.md (never by default)

Each session prints the versions it installed. Venvs are reused between runs
(``nox.options.reuse_venv = "yes"``): installs are pinned, so a reused venv is the same venv.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = False

ROOT = Path(__file__).parent
CI_CONSTRAINTS = "constraints/ci.txt"
TORCH_CONSTRAINTS = "constraints/torch-cpu.txt"
DRIFT_FOLDER = ROOT / "docs" / "drift"
QUIET_TF = {"TF_CPP_MIN_LOG_LEVEL": "3"}

# The version matrix. Torch: only the CPU wheel that installs without a multi-GB CUDA
# download (2.13.0 here); see README to add others. TensorFlow: three CPU releases.
TENSORFLOW_VERSIONS = ["2.19.1", "2.20.0", "2.21.0"]
TORCH_VERSIONS = ["2.13.0"]
NUMPY_VERSIONS = ["1.26.4", "2.1.3", "2.4.6"]

# Combinations that cannot install, with the reason; the session skips them instead of failing.
INCOMPATIBLE = {
    ("2.19.1", "2.4.6"): "tensorflow-cpu 2.19 requires numpy<2.2",
    ("2.20.0", "2.1.3"): "covered by 2.19.1 x 2.1.3; keeps the matrix to one numpy 2.x per TF release",
    ("2.21.0", "2.1.3"): "covered by 2.19.1 x 2.1.3; keeps the matrix to one numpy 2.x per TF release",
}


# The JAX axis: each JAX release with the optax release of its time (optax pins a minimum JAX),
# against NumPy 1.x and 2.x. CPU wheels only (jaxlib; CUDA is a separate plugin never installed here).
JAX_VERSIONS = {"0.4.38": "0.2.4", "0.6.2": "0.2.5", "0.10.2": "0.2.8"}
JAX_NUMPY_VERSIONS = ["1.26.4", "2.4.6"]
JAX_INCOMPATIBLE = {
    ("0.10.2", "1.26.4"): "jax 0.10 requires numpy>=2.0 (pip: ResolutionImpossible)",
}
JAX_ENV = {"JAX_PLATFORMS": "cpu", **QUIET_TF}


def print_versions(session: nox.Session) -> None:
    session.run(
        "python",
        "-c",
        "import importlib.metadata as m\n"
        "for name in ('numpy', 'torch', 'tensorflow-cpu', 'keras', 'jax', 'jaxlib', 'optax', 'hypothesis', 'pytest'):\n"
        "    try: print(f'{name:15s} {m.version(name)}')\n"
        "    except m.PackageNotFoundError: print(f'{name:15s} not installed')",
        silent=False,
    )


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The suite on the pinned versions: exactly the README's test command, in the current env."""
    session.run("python", "-m", "pip", "install", "-c", CI_CONSTRAINTS, "-e", ".[all]", silent=True)
    print_versions(session)
    session.run("python", "-m", "pytest", "-n", "2", "--dist", "worksteal", *session.posargs, env=QUIET_TF)


@nox.session
@nox.parametrize("numpy", NUMPY_VERSIONS)
@nox.parametrize("torch", TORCH_VERSIONS)
@nox.parametrize("tf", TENSORFLOW_VERSIONS)
def matrix(session: nox.Session, tf: str, torch: str, numpy: str) -> None:
    """The suite against one (tensorflow-cpu, torch, numpy) combination, plus its drift table."""
    reason = INCOMPATIBLE.get((tf, numpy))
    if reason:
        session.skip(f"tensorflow-cpu {tf} with numpy {numpy}: {reason}")
    session.install("-c", TORCH_CONSTRAINTS, f"torch=={torch}", f"tensorflow-cpu=={tf}", f"numpy=={numpy}")
    session.install("-c", TORCH_CONSTRAINTS, f"numpy=={numpy}", "-e", ".[test,plots,benchmarks,cli]")
    print_versions(session)
    session.run("python", "-m", "pytest", "-n", "2", "--dist", "worksteal", "-p", "no:cacheprovider", *session.posargs,
                env=QUIET_TF)
    DRIFT_FOLDER.mkdir(parents=True, exist_ok=True)
    name = f"tf{tf}-torch{torch}-numpy{numpy}"
    session.run("python", "-m", "equivalence_tests.drift", "--json", str(DRIFT_FOLDER / f"{name}.json"), env=QUIET_TF)


@nox.session
@nox.parametrize("numpy", JAX_NUMPY_VERSIONS)
@nox.parametrize("jax", list(JAX_VERSIONS))
def jax_matrix(session: nox.Session, jax: str, numpy: str) -> None:
    """The JAX tests (``-m jax``: oracle, conventions, plugin, crosscheck, goldens, properties) against one
    (jax, numpy) pair, plus JAX's drift table. torch and TensorFlow are not installed here (their cells are
    the ``matrix`` session's): tests that need them skip."""
    reason = JAX_INCOMPATIBLE.get((jax, numpy))
    if reason:
        session.skip(f"jax {jax} with numpy {numpy}: {reason}")
    session.install(f"jax=={jax}", f"jaxlib=={jax}", f"optax=={JAX_VERSIONS[jax]}", f"numpy=={numpy}")
    session.install(f"numpy=={numpy}", f"jax=={jax}", f"jaxlib=={jax}", "-e", ".[test]")
    print_versions(session)
    session.run("python", "-m", "pytest", "-n", "2", "--dist", "worksteal", "-p", "no:cacheprovider", "-m", "jax",
                *session.posargs, env=JAX_ENV)
    DRIFT_FOLDER.mkdir(parents=True, exist_ok=True)
    name = f"jax{jax}-numpy{numpy}"
    session.run("python", "-m", "equivalence_tests.drift", "--json", str(DRIFT_FOLDER / f"{name}.json"), env=JAX_ENV)


@nox.session(python=False)
def mutants(session: nox.Session) -> None:
    """Mutation testing (mutation/mutants.py): every mutant of reference_nn/gradcheck, reference_nn and the
    harness's tolerance modules against the tests that target them; prints the kill rate and each survivor.
    Arguments pass through: ``nox -s mutants -- gradcheck --sample 200`` (a seeded sample), ``--modules
    diagnosis.py`` (one module), ``--minutes 45`` (stop starting mutants then), ``--update-docs``."""
    session.run("python", "-m", "pip", "install", "-c", CI_CONSTRAINTS, "-e", ".[test,mutation]", silent=True)
    session.run("nice", "python", "-m", "mutation.mutants", *session.posargs, env=QUIET_TF, external=True)


@nox.session(python=False)
def drift_report(session: nox.Session) -> None:
    """Gathers docs/drift/*.json written by the matrix into docs/drift.md (one table)."""
    session.run(
        "python", "-m", "equivalence_tests.drift", "--collect", str(DRIFT_FOLDER), "--markdown", "docs/drift.md"
    )


@nox.session
def minimums(session: nox.Session) -> None:
    """The lowest declared versions: numpy 1.23 with the reference-only tests (no frameworks:
    no tensorflow-cpu release installs with numpy < 1.26)."""
    session.install(
        "numpy==1.23.5", "hypothesis==6.139.0", "pytest==8.0.0", "mpmath==1.3.0", "pytest-regressions==2.5.0"
    )
    session.install("--no-deps", "-e", ".")
    print_versions(session)
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "tests/core",
        "tests/gradcheck",
        "tests/golden",
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint) and mypy (types of reference_nn)."""
    session.install("ruff", "mypy", "numpy==2.4.6")
    session.run("ruff", "check", ".")
    session.run("mypy", "reference_nn")


@nox.session(python=False, default=False)
def regenerate(session: nox.Session) -> None:
    """Rewrites the golden .npz files from the current reference. Review the diff before committing."""
    session.run("python", "-m", "pytest", "tests/golden", "--force-regen", "-p", "no:xdist", success_codes=[0, 1])
    session.log("Golden data rewritten: review `git diff --stat tests/golden` before committing.")


@nox.session(python=False, default=False)
def bench(session: nox.Session) -> None:
    """All three benchmarks (writes refnn-output/benchmarks/*.md, *.json, *.png; never the committed results)."""
    session.run("python", "-m", "benchmarks", *session.posargs, env=QUIET_TF)


@nox.session(python=False, default=False)
def update_docs(session: nox.Session) -> None:
    """Refresh the README's images and result files on purpose: the worked examples' plots (docs/images/),
    the benchmarks (benchmarks/results/) and the conventions table (docs/conventions.md). Review the diff."""
    session.run("refnn", "train", "--update-docs", env=QUIET_TF)
    session.run("python", "-m", "benchmarks", "--update-docs", *session.posargs, env=QUIET_TF)
    with open("docs/conventions.md", "w") as conventions:
        session.run("python", "-m", "equivalence_tests.conventions", stdout=conventions, env=QUIET_TF)
    _copy_conventions_table_into_readme()
    session.log("Review `git diff --stat docs benchmarks/results` and copy new figures into the README.")


def _copy_conventions_table_into_readme() -> None:
    """README's copy of docs/conventions.md: from its "Measured with" line to the table's last row
    (tests/conventions/test_conventions_table_is_current.py checks the two are equal)."""

    def measured_part(text: str) -> tuple[int, int]:
        start = text.index("Measured with ")
        first_row = text.index("\n|", start) + 1
        end = first_row
        while end < len(text) and text[end] == "|":
            end = text.index("\n", end) + 1
        return start, end

    with open("docs/conventions.md") as file:
        docs = file.read()
    with open("README.md") as file:
        readme = file.read()
    docs_start, docs_end = measured_part(docs)
    readme_start, readme_end = measured_part(readme)
    with open("README.md", "w") as file:
        file.write(readme[:readme_start] + docs[docs_start:docs_end] + readme[readme_end:])


if os.environ.get("CI"):
    nox.options.error_on_external_run = True
