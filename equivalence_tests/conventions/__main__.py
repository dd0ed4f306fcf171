"""``python -m equivalence_tests.conventions [--json]``: print the conventions table."""

from equivalence_tests.conventions.table import main

raise SystemExit(main())
