"""Packages of the wheel: every `pipeline*` package and data folder, plus the trained models of the top-level
models/ folder shipped as `pipeline/models/` (package-dir in pyproject.toml), so an install without `-e` finds them.

pyproject.toml alone cannot add a mapped package to automatic discovery; everything else is declared there.
Data folders (templates, resources, model files) are listed as namespace packages so setuptools knows they
are meant to ship.
"""

from setuptools import find_namespace_packages, setup

_SKIP = ["*__pycache__"]
_PACKAGES = find_namespace_packages(include=["pipeline", "pipeline.*"], exclude=_SKIP)
_MODELS = ["pipeline.models", *("pipeline.models." + name for name in find_namespace_packages("models", exclude=_SKIP))]

setup(packages=[*_PACKAGES, *_MODELS])
