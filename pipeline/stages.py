"""The analysis stages run after segmentation: areas, similar practices, criteria."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Settings
from pipeline.records import Practice


def run_stages(practices: list[Practice], settings: Settings, out_dir: Path, timings: dict) -> tuple[dict, dict]:
    """Rows of the analysis tables and the ids of the models used."""
    return {}, {}
