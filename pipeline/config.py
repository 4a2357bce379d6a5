"""Every path and setting of the pipeline in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
RESOURCES_DIR = PACKAGE_DIR / "resources"
AREAS_FILE = RESOURCES_DIR / "areas.yaml"
LABELS_FILE = RESOURCES_DIR / "labels.yaml"
CRITERIA_FILE = RESOURCES_DIR / "criteria.yaml"

DEFAULT_INPUT = PROJECT_DIR / "data" / "raw"
DEFAULT_OUTPUT = PROJECT_DIR / "data" / "processed"
DEFAULT_MODEL_DIR = PROJECT_DIR / "models" / "area-classifier"
DEFAULT_CRITERIA_MODEL_DIR = PROJECT_DIR / "models" / "criteria"

# Bumped whenever segmentation output changes, so cached per-file results are not reused.
SEGMENTER_VERSION = "10"

SUPPORTED_SUFFIXES = (".docx", ".doc", ".odt", ".rtf", ".txt", ".md", ".pdf")
SEED = 13

# Hub look-ups hang without a network; the bundled models are loaded from package paths.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@dataclass(frozen=True)
class Limits:
    """Guards against oversized or malicious input files."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_zip_entries: int = 2000
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_text_chars: int = 2_000_000
    max_pdf_pages: int = 300
    # .doc/.odt/.rtf go through LibreOffice and scanned pages through Tesseract: both are bounded in time.
    max_convert_seconds: float = 60.0
    max_ocr_pages: int = 30
    max_ocr_seconds: float = 180.0


@dataclass(frozen=True)
class Settings:
    """Settings of one batch run; recorded in manifest.json."""

    embedder: str = "use-multilingual"
    top_k: int = 5
    min_similarity: float = 0.40
    near_duplicate_threshold: float = 0.92
    version_min_score: float = 0.50
    area_top_n_for_mismatch: int = 3
    model_dir: Path = DEFAULT_MODEL_DIR
    criteria_model_dir: Path = DEFAULT_CRITERIA_MODEL_DIR
    threads: int = 2
    limits: Limits = field(default_factory=Limits)
    seed: int = SEED

    def with_(self, **changes) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
