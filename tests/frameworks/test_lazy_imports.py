"""`import reference_nn` and `import reference_nn.gradcheck` import no framework: check_torch / check_jax /
check_tf import theirs only when called (a fresh interpreter, so nothing imported by the suite counts)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_package_imports_no_framework():
    code = ("import sys, reference_nn, reference_nn.gradcheck\n"
            "from reference_nn.gradcheck import check_torch\n"
            "print(sorted(m for m in ('torch', 'tensorflow', 'jax') if m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"the import failed:\n{out.stderr}"
    assert out.stdout.strip() == "[]", f"frameworks imported by `import reference_nn.gradcheck`: {out.stdout}"
