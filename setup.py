"""Packages of the wheel: every `pipeline*` package, plus the trained models of the top-level models/ folder
shipped as `pipeline/models/` (package-dir in pyproject.toml), so an install without `-e` finds them.

pyproject.toml alone cannot add a mapped package to automatic discovery; everything else is declared there.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["pipeline", "pipeline.*"]), "pipeline.models"])
