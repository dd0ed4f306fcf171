"""Mutation testing (cosmic-ray) of the checker, the reference and the harness tolerances: see mutants.py."""
