"""
Tests of the built distributions (C{tox -e release}): the sdist and wheel in
C{POETRY_DIST_DIR}, checked and installed into a fresh virtual environment.
"""
