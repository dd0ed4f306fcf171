"""``python -m equivalence_tests.cli`` is ``refnn``."""

from equivalence_tests.cli import main

raise SystemExit(main())
