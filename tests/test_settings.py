"""Settings: defaults, icc-practices.toml, the command line, clear errors, the manifest, no import-time effects."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import (CONFIG_FILE, PROJECT_DIR, Settings, SettingsError, load_settings, parse_assignment,
                             settings_toml)
from pipeline.run import settings_record

EXAMPLE = PROJECT_DIR / f"{CONFIG_FILE}.example"
FORM = PROJECT_DIR / "tests" / "data" / "seed_layout" / "form-fr.txt"


def _keys(obj, prefix: str = "") -> set[str]:
    out = set()
    for f in fields(obj):
        value = getattr(obj, f.name)
        out |= _keys(value, f"{prefix}{f.name}.") if is_dataclass(value) else {f"{prefix}{f.name}"}
    return out


def test_file_then_command_line(tmp_path):
    (tmp_path / CONFIG_FILE).write_text(
        'top_k = 9\nmodel_dir = "my-models/areas"\n[similar]\nwhole_weight = 1\nchunk_weight = 0.0\n'
        '[limits]\nmax_pdf_pages = 12\n[areas]\ncold_calibration = [2, -4.5]\n', encoding="utf-8")
    settings = load_settings(cwd=tmp_path, overrides={"top_k": 3, "similar.anchor_weight": 0.5, "embedder": None})
    assert settings.top_k == 3  # the command line wins over the file
    assert settings.similar.whole_weight == 1.0 and isinstance(settings.similar.whole_weight, float)
    assert settings.similar.chunk_weight == 0.0 and settings.similar.anchor_weight == 0.5
    assert settings.limits.max_pdf_pages == 12 and settings.limits.max_file_bytes == Settings().limits.max_file_bytes
    assert settings.areas.cold_calibration == (2.0, -4.5)
    assert settings.model_dir == tmp_path / "my-models" / "areas"  # relative to the file
    assert settings.embedder == Settings().embedder  # None: option not given
    assert load_settings(cwd=tmp_path / "elsewhere") == Settings()  # no file there: the defaults


@pytest.mark.parametrize("text, message", [
    ("top_kk = 3\n", "Unknown setting 'top_kk'"),
    ("[similar]\nwhole_wieght = 0.5\n", "did you mean 'similar.whole_weight'"),
    ("top_k = 2.5\n", "Setting 'top_k'"),
    ("top_k = true\n", "must be a whole number"),
    ("min_similarity = \"high\"\n", "Setting 'min_similarity'"),
    ("limits = 3\n", "Setting 'limits'"),
    ("[areas]\ncold_calibration = [1]\n", "Setting 'areas.cold_calibration'"),
    ("[nosuch]\nx = 1\n", "Unknown setting 'nosuch'"),
    ("top_k = \n", "not valid TOML"),
])
def test_invalid_keys_and_types_name_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        load_settings(path)
    assert str(path) in str(info.value) or "TOML" in str(info.value)


def test_command_line_assignments():
    assert parse_assignment("similar.whole_weight=0.5") == ("similar.whole_weight", 0.5)
    assert parse_assignment("embedder=tfidf") == ("embedder", "tfidf")  # bare text
    assert parse_assignment("areas.cold_calibration=[1.0, -2]") == ("areas.cold_calibration", [1.0, -2])
    with pytest.raises(SettingsError, match="KEY=VALUE"):
        parse_assignment("top_k")
    with pytest.raises(SettingsError, match="on the command line"):
        load_settings(overrides={"similar.nope": 1})
    with pytest.raises(SettingsError, match="not found"):
        load_settings(Path("/nonexistent/icc-practices.toml"))


def test_written_settings_read_back_the_same(tmp_path):
    changed = load_settings(overrides={"top_k": 8, "reports.excerpt_chars": 300, "segment.fuzzy_cutoff": 0.9})
    path = tmp_path / "round.toml"
    path.write_text(settings_toml(changed), encoding="utf-8")
    assert load_settings(path) == changed


def test_the_example_file_lists_every_setting_and_loads():
    text = EXAMPLE.read_text(encoding="utf-8")
    uncommented = re.sub(r"(?m)^# (?=[a-z_]+ = )", "", text)  # every "# key = default" line
    data = tomllib.loads(uncommented)
    flat = {f"{k}.{kk}" if isinstance(v, dict) else k for k, v in data.items() for kk in (v if isinstance(v, dict) else [None])}
    assert flat == _keys(Settings())
    # As shipped (mostly commented out), it is a valid settings file.
    assert isinstance(load_settings(EXAMPLE), Settings)


def test_manifest_records_nested_sections_whole():
    settings = load_settings(overrides={"similar.chunk_sentences": 4, "limits.ocr_workers": 1})
    record = settings.record()
    assert json.loads(json.dumps(record)) == record  # plain JSON values
    assert json.loads(json.dumps(settings_record(settings))) == record  # what run.py writes to the manifest
    assert record["similar"]["chunk_sentences"] == 4 and record["limits"]["ocr_workers"] == 1
    assert record["areas"]["cold_calibration"] == [1.6, -3.2]
    assert {f"{k}.{kk}" if isinstance(v, dict) else k for k, v in record.items()
            for kk in (v if isinstance(v, dict) else [None])} == _keys(Settings())


def test_cli_reads_the_settings_file_and_records_it(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text("[limits]\nmax_pdf_pages = 7\n[segment]\nshort_description_words = 5\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["--config", str(config), "--setting", "top_k=4",
                                      "run", str(FORM), "--out", str(out), "--no-analysis"])
    assert result.exit_code == 0, result.output
    recorded = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["settings"]
    assert recorded["limits"]["max_pdf_pages"] == 7 and recorded["segment"]["short_description_words"] == 5
    assert recorded["top_k"] == 4

    bad = tmp_path / "bad.toml"
    bad.write_text("[limits]\nmax_pdf_page = 7\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["--config", str(bad), "settings"])
    assert result.exit_code == 2 and "limits.max_pdf_page" in result.output


def test_segment_settings_reach_the_segmenter():
    from pipeline.config import SegmentSettings
    from pipeline.records import Block
    from pipeline.segment import Segmenter

    text = ("Title: Buddy runs\nCity: Bergen\nPurpose: Newcomers and residents run together every week in the park.\n"
            "Process: Volunteers pair the runners.\nImpact: Friendships.")
    blocks = [Block(text=line, kind="paragraph") for line in text.split("\n")]
    (default,) = Segmenter().segment(blocks, "x", "0" * 64).practices
    (lenient,) = Segmenter(rules=SegmentSettings(short_description_words=5)).segment(blocks, "x", "0" * 64).practices
    assert "short_description" in default.warnings and "short_description" not in lenient.warnings


def test_similar_settings_change_the_pair_score():
    import numpy as np

    from pipeline.config import SimilarSettings
    from pipeline.embed import make_embedder
    from pipeline.records import Practice
    from pipeline.similar import practice_similarity

    texts = ["Volunteers in Bergen pair 120 newcomers with residents. They run together. They meet weekly. "
             "They share a meal. The city pays the coach.",
             "The Oslo library lends books in 12 languages. Readers meet monthly. A mediator leads the club."]
    practices = [Practice(practice_id=f"p{i}", source_file=f"p{i}.txt", practice_index=1, lang="en", city=c,
                          title=f"Practice {i}", purpose=t, description=t) for i, (t, c) in enumerate(zip(texts, ("Bergen", "Oslo")))]
    embedder = make_embedder("tfidf")
    embedder.fit([p.full_text() for p in practices])
    whole_only = SimilarSettings(whole_weight=1.0, chunk_weight=0.0, anchor_weight=0.0)
    scores = practice_similarity(practices, embedder, whole_only)
    vectors = embedder.encode_documents([p.full_text() for p in practices])
    assert scores[0, 1] == pytest.approx(float(vectors[0] @ vectors[1]), abs=1e-5)
    assert not np.isclose(practice_similarity(practices, embedder)[0, 1], scores[0, 1])


def test_importing_the_package_changes_no_environment_variable():
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    code = ("import os, pipeline.config, pipeline.cli, pipeline.run, pipeline.stages, pipeline.web.app; "
            "print(os.environ.get('HF_HUB_OFFLINE'), os.environ.get('TRANSFORMERS_OFFLINE'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_DIR, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "None"]
    code = "import os; from pipeline.config import offline_hub; offline_hub(); print(os.environ['HF_HUB_OFFLINE'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=PROJECT_DIR, timeout=60)
    assert done.stdout.strip() == "1"


def test_no_resource_file_gives_one_key_twice():
    """YAML keeps the last of two equal keys without a word: a second `languages:` once hid the first."""
    import yaml

    from pipeline.config import RESOURCES_DIR

    class Strict(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
            twice = {k for k in keys if keys.count(k) > 1}
            assert not twice, f"{node.start_mark}: {sorted(map(str, twice))} given twice"
            return super().construct_mapping(node, deep=deep)

    files = sorted(RESOURCES_DIR.glob("*.yaml")) + sorted((RESOURCES_DIR.parent / "web").glob("*.yaml"))
    assert len(files) >= 7
    for path in files:
        yaml.load(path.read_text(encoding="utf-8"), Loader=Strict)


def test_run_help_shows_flags_as_flags_and_the_defaults_of_the_settings_options():
    result = CliRunner().invoke(app, ["run", "--help"], terminal_width=200, max_content_width=200)
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip().startswith("--")}
    for flag in ("--no-analysis", "--force", "--replace", "--help"):
        assert re.match(rf"\s*{flag}\s+[A-Z]", lines[flag]), lines[flag]  # its help follows: no value
    assert lines["--top-k"].endswith("[default: (setting top_k, built in: 5)]")
    assert lines["--min-score"].endswith("[default: (setting min_similarity, built in: 0.4)]")
    assert lines["--embedder"].endswith("[default: (setting embedder, built in: use-multilingual)]")


def test_a_runs_recorded_similar_settings_are_read_key_by_key():
    from pipeline.config import with_run_similar_settings

    recorded = {"top_k": 2, "min_similarity": None, "version_min_score": 0.6, "near_duplicate_threshold": 0.9,
                "similar": {"whole_weight": 1.0, "hub_weight": "strong", "a_setting_of_later_versions": 1}}
    settings = with_run_similar_settings(Settings(), recorded)
    # what can be read is taken; a value of the wrong type or a key this version does not know leaves the default
    assert (settings.top_k, settings.version_min_score, settings.near_duplicate_threshold) == (2, 0.6, 0.9)
    assert settings.similar.whole_weight == 1.0
    assert settings.min_similarity == Settings().min_similarity and settings.similar.hub_weight == Settings().similar.hub_weight
    assert with_run_similar_settings(Settings(), None) == Settings() == with_run_similar_settings(Settings(), ["x"])
