"""Shared fixtures: the sample corpus run once per test session."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pipeline.config import offline_hub

# Importing the package changes no environment variable: the tests ask for offline model loading themselves.
offline_hub()

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
SEED = ROOT.parent / "shared" / "seed" / "icc-good-practice-guide-and-template-fr.txt"


def load_script(relative: str, register: bool = False) -> ModuleType:
    """A script of scripts/ or benchmarks/ as a module (they are not part of the package); `register` puts it in
    sys.modules, for worker processes that import it by name."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory) -> Path:
    """Output folder of a full `run` over data/raw (all stages), shared by the tests that read tables."""
    from pipeline.run import run_batch

    out = tmp_path_factory.mktemp("sample-run")
    run_batch([RAW], out)
    return out


@pytest.fixture(scope="session")
def failed_run(tmp_path_factory) -> Path:
    """Outputs of a run in which no file could be used: every table but files.parquet is empty."""
    from pipeline.run import run_batch

    inputs = tmp_path_factory.mktemp("bad-inputs")
    (inputs / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (inputs / "empty.txt").write_bytes(b"")
    out = tmp_path_factory.mktemp("failed-run")
    run_batch([inputs], out, reports=False)
    return out
