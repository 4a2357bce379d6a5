"""The wheel carries the trained models; an install without -e finds them, a missing model is said aloud, and every
library the package imports is declared with its version."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import PROJECT_DIR, Settings

MODEL_FILES = sorted(str(p.relative_to(PROJECT_DIR / "models")) for p in (PROJECT_DIR / "models").rglob("*") if p.is_file())
SOURCES = ("pipeline", "models", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the sources (the working tree gets no build/ folder)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = PROJECT_DIR / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                           "--no-index", "-q", "-w", str(dist)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (built,) = dist.glob("icc_practices-*.whl")
    return built


def test_the_wheel_carries_the_models_and_every_package(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert MODEL_FILES and {f"pipeline/models/{f}" for f in MODEL_FILES} <= names
    packages = {str(p.parent.relative_to(PROJECT_DIR)) for p in (PROJECT_DIR / "pipeline").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names
    assert "pipeline/resources/areas.yaml" in names and not any(n.startswith("models/") for n in names)


def test_an_installed_copy_finds_its_models(wheel, tmp_path):
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                           str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    code = """
import json, numpy as np, pipeline
from pipeline.config import DEFAULT_CRITERIA_MODEL_DIR, Settings
from pipeline.classify import load_or_zero_shot

class Embedder:  # the embedder the shipped model was trained with, without loading it
    model_id, dim = "use-multilingual-v3", 512
    def encode(self, texts):
        return np.ones((len(texts), 512), np.float32) / np.sqrt(512)

settings = Settings()
_, model_id = load_or_zero_shot(settings, Embedder())
print(json.dumps({"package": pipeline.__file__, "model_dir": str(settings.model_dir), "area_model": model_id,
                  "criteria": sorted(p.name for p in DEFAULT_CRITERIA_MODEL_DIR.iterdir())}))
"""
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(found["package"]).is_relative_to(target)  # the installed copy, not the checkout
    assert Path(found["model_dir"]) == target / "pipeline" / "models" / "area-classifier"
    assert "zero-shot" not in found["area_model"] and found["area_model"].startswith("area-classifier:")
    assert "model.json" in found["criteria"]


def test_an_installed_copy_reads_and_writes_the_data_folders_of_the_folder_it_runs_in(wheel, tmp_path):
    """The command line's data/raw and data/processed are those of the working folder, never the package's."""
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                           str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    work = tmp_path / "work"
    (work / "data" / "raw").mkdir(parents=True)
    shutil.copy2(PROJECT_DIR / "tests" / "data" / "seed_layout" / "form-fr.txt", work / "data" / "raw")
    env = {**os.environ, "PYTHONPATH": str(target)}
    command = [sys.executable, "-m", "pipeline"]
    done = subprocess.run([*command, "run", "--no-analysis"], capture_output=True, text=True, env=env, cwd=work,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (work / "data" / "processed" / "practices.parquet").is_file()
    assert not (target / "data").exists()
    for name in ("run", "report", "serve", "export", "evaluate", "train"):
        shown = " ".join(subprocess.run([*command, name, "--help"], capture_output=True, text=True, env=env,
                                        cwd=work, timeout=120).stdout.split())
        assert "[default: data/processed]" in shown and str(target) not in shown, shown


class _RandomEmbedder:
    model_id, dim = "other-embedder", 16

    def encode(self, texts):
        vectors = np.random.default_rng(13).normal(size=(len(texts), self.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    encode_documents = encode


@pytest.mark.parametrize("model_dir, why", [
    ("missing", "no trained model in"),  # a settings file pointing nowhere
    (None, "model trained with use-multilingual-v3, not other-embedder"),  # the shipped model, another embedder
])
def test_a_missing_or_mismatched_model_is_said_aloud(tmp_path, model_dir, why):
    from pipeline.classify import load_or_zero_shot
    from pipeline.stages import model_fallbacks

    settings = Settings().with_(model_dir=tmp_path / model_dir if model_dir else None)
    _, model_id = load_or_zero_shot(settings, _RandomEmbedder())
    assert "zero-shot" in model_id and why in model_id
    note = model_fallbacks({"area_classifier": model_id})["areas"]
    assert why in note and "zero-shot classifier" in note


def _distribution(requirement: str) -> str:
    import re

    return re.split(r"[=<>!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_library_the_package_imports_is_declared_with_a_pinned_version():
    """A library imported by the package but left to arrive with another one drifts from install to install."""
    import ast
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    assert all("==" in r for r in project["dependencies"]), "every dependency has one pinned version"
    declared = {_distribution(r) for r in requirements}
    imported = set()
    for path in (PROJECT_DIR / "pipeline").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"pipeline"}
    assert {"numpy", "sklearn", "spacy"} <= third_party
    providers = packages_distributions()
    missing = {name: providers.get(name, ["?"]) for name in third_party
               if not {_distribution(d) for d in providers.get(name, [])} & declared}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
