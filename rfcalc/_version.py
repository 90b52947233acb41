"""The version of rfcalc, in one place: pyproject reads it (setuptools dynamic), ``rfcalc --version`` prints it."""

__version__ = "0.1.0"
