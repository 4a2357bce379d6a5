"""Files sent twice (the same bytes under two names): the copy a person would call the original is the one read."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.config import Settings
from pipeline.inputs import discover
from pipeline.run import ingest_files

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


def test_the_shallowest_shortest_copy_is_read(tmp_path):
    folder = tmp_path / "in"
    (folder / "2024").mkdir(parents=True)
    (folder / "archive").mkdir()
    form = RAW / "limassol-p3-04.txt"
    for name in ("zz.txt", "2024/copie de zz.txt", "archive/zz.txt", "aa-copy-of-zz.txt"):
        shutil.copy(form, folder / name)
    files = discover([folder])
    assert files[0].name == "2024/copie de zz.txt"  # first in name order: it used to be the copy read
    results, _ = ingest_files(files, Settings(), tmp_path / "out")
    by_name = {r.source_file: r for r in results}
    assert by_name["zz.txt"].status == "ok" and by_name["zz.txt"].practices
    for name in ("2024/copie de zz.txt", "archive/zz.txt", "aa-copy-of-zz.txt"):
        assert by_name[name].error_code == "duplicate_file" and not by_name[name].practices
        assert by_name[name].message.startswith("Same content as zz.txt;")
