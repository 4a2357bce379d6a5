"""One view of a run for every report: built once per run, the same reports from tables in memory or on disk,
one catalogue of words for the city reports and the summary, and redaction whose cost does not grow with the
number of contact names."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
import yaml

import pipeline.report.view as view_module
from pipeline.report import CITY_REPORTS_DIR, SUMMARY_FILE
from pipeline.report.city import STAMPS_FILE, build_city_report, write_city_reports
from pipeline.report.redact import Redactor, names_pattern
from pipeline.report.summary import render_summary, summary_context, write_summary
from pipeline.report.view import CATALOGUE_FILE, build_view
from pipeline.run import write_reports
from pipeline.tables import to_table, write_json, write_table

CITIES = ("Oslo", "Genève", "Geneva", "Bergen", "Lublin", "Patras")


def _tables(n: int = 12) -> dict:
    """A small run: n practices spread over the cities above (Genève and Geneva are one city), each with two
    neighbours of other cities and one same-city near duplicate for the first practice."""
    practices, similar = [], []
    for i in range(n):
        city = CITIES[i % len(CITIES)]
        practices.append({
            "practice_id": f"p{i:02d}", "source_file": f"{city.lower()}-{i}.docx", "practice_index": 1,
            "lang": "fr" if city in ("Genève", "Geneva") else "en", "city": city,
            "contact_person": f"Person Number{i}, officer, person{i}@example.org",
            "title": f"Practice {i} of {city}", "declared_areas": [] if i % 4 else ["3"],
            "period_start": 2019, "period_end": 2021 + i % 2, "n_words": 40, "warnings": [],
            "predicted_areas": ["9", "3"], "main_area_pred": "9", "area_mismatch": False,
            "process": f"Volunteer mediators meet tenants every month; write to Person Number{(i + 1) % n} "
                       f"at person{(i + 1) % n}@example.org for the neighbourhood mediation plan.",
        })
    key = {"Genève": "geneve", "Geneva": "geneve"}
    for i in range(n):
        mine = key.get(CITIES[i % len(CITIES)], CITIES[i % len(CITIES)])
        others = [j % n for j in range(i + 1, i + n) if key.get(CITIES[j % n % len(CITIES)], CITIES[j % n % len(CITIES)]) != mine]
        for rank, j in enumerate(others[:2], start=1):
            similar.append({"practice_id": f"p{i:02d}", "neighbour_id": f"p{j:02d}", "rank": rank,
                            "score": 0.8 - 0.1 * rank, "matched_section": "process", "shared_terms": ["mediators"],
                            "neighbour_city": CITIES[j % len(CITIES)], "near_duplicate": False,
                            "relation": "similar", "weak": False})
    similar.append({"practice_id": "p00", "neighbour_id": "p06", "rank": 0, "score": 0.97, "matched_section": "process",
                    "shared_terms": [], "neighbour_city": "Oslo", "near_duplicate": True, "relation": "version",
                    "weak": False})
    files = [{"source_file": p["source_file"], "sha256": "0" * 64, "status": "ok", "n_practices": 1} for p in practices]
    return {"files": to_table("files", files), "practices": to_table("practices", practices),
            "similar": to_table("similar", similar), "areas": to_table("areas", []),
            "criteria": to_table("criteria", []), "guidelines": to_table("guidelines", [])}


MANIFEST = {"models": {"embedder": "use-multilingual-v3"}, "settings": {"min_similarity": 0.4},
            "generated_at": "2026-03-04T10:00:00"}


@pytest.fixture()
def run(tmp_path) -> tuple[Path, dict]:
    tables = _tables()
    for name, table in tables.items():
        write_table(tmp_path / f"{name}.parquet", table)
    write_json(tmp_path / "manifest.json", MANIFEST)
    return tmp_path, tables


def test_the_view_is_built_once_per_run(run, monkeypatch):
    out, tables = run
    built, redactors = [], []
    real_init, real_redactor = view_module.RunView.__init__, Redactor.__init__
    monkeypatch.setattr(view_module.RunView, "__init__",
                        lambda self, *a, **k: (built.append(1), real_init(self, *a, **k))[1])
    monkeypatch.setattr(Redactor, "__init__", lambda self, *a, **k: (redactors.append(1), real_redactor(self, *a, **k))[1])
    paths, errors = write_reports(out, tables, MANIFEST)
    assert not errors
    cities = {p for p in paths if p.startswith(CITY_REPORTS_DIR)}
    assert len(cities) == 2 * 5  # five cities (Genève and Geneva are one), html and docx each
    assert SUMMARY_FILE in paths
    assert len(built) == 1, "one view for all city reports and the summary"
    assert len(redactors) == 1, "one contact redactor per run, not one per city"


def test_unchanged_run_rewrites_no_city_report(run):
    out, tables = run
    write_reports(out, tables, MANIFEST)
    html = sorted((out / CITY_REPORTS_DIR).glob("*.html"))
    stamps = {p: p.stat().st_mtime_ns for p in html}
    write_reports(out, tables, MANIFEST)
    assert {p: p.stat().st_mtime_ns for p in html} == stamps
    # a changed table is a changed input: the reports are written again
    practices = tables["practices"].to_pylist()
    practices[0]["title"] = "A new title"
    write_table(out / "practices.parquet", to_table("practices", practices))
    write_reports(out, None, MANIFEST)
    assert any(p.stat().st_mtime_ns != stamps[p] for p in html)
    assert "A new title" in (out / CITY_REPORTS_DIR / "oslo.html").read_text(encoding="utf-8")


def test_a_run_removes_the_city_reports_it_did_not_write(run):
    """Reports of cities no longer in the run go; files the pipeline did not write stay."""
    out, tables = run
    folder = out / CITY_REPORTS_DIR
    write_reports(out, tables, MANIFEST)
    write_city_reports(out, ["Oslo"], formats=("html",), include_contacts=True)  # made from these tables only
    (folder / "notes.html").write_text("my notes", encoding="utf-8")
    (folder / "lyon.docx").write_bytes(b"not written by the pipeline")
    assert (folder / "patras.html").is_file() and (folder / "patras.docx").is_file()
    practices = to_table("practices", [p for p in tables["practices"].to_pylist() if p["city"] != "Patras"])
    write_table(out / "practices.parquet", practices)
    paths, errors = write_reports(out, {**tables, "practices": practices}, MANIFEST)
    assert not errors
    written = {Path(p).name for p in paths if Path(p).parent == Path(CITY_REPORTS_DIR)}
    assert len(written) == 2 * 4 and "patras.html" not in written
    left = {p.name for p in folder.iterdir() if p.suffix in (".html", ".docx")}
    assert left == written | {"notes.html", "lyon.docx"}
    assert (folder / "notes.html").read_text(encoding="utf-8") == "my notes"
    stamps = json.loads((folder / STAMPS_FILE).read_text(encoding="utf-8"))
    assert set(stamps) == written


def test_same_reports_from_memory_and_from_disk(run, tmp_path_factory):
    out, tables = run
    other = tmp_path_factory.mktemp("from-disk")
    for path in out.glob("*.parquet"):
        (other / path.name).write_bytes(path.read_bytes())
    write_json(other / "manifest.json", MANIFEST)
    write_city_reports(out, formats=("html",), view=build_view(out, tables, MANIFEST))
    write_city_reports(other, formats=("html",))
    for path in (out / CITY_REPORTS_DIR).glob("*.html"):
        assert path.read_bytes() == (other / CITY_REPORTS_DIR / path.name).read_bytes(), path.name


def test_city_report_model_reads_the_view(run):
    out, tables = run
    view = build_view(out, tables, MANIFEST)
    report = build_city_report(view, "Geneva")
    assert report.lang == "fr" and report.city == "Genève"
    assert {item.id for item in report.items} == {"p01", "p02", "p07", "p08"}  # both spellings, one report
    text = " ".join(n.title + "".join(piece for piece, _ in n.their_text) for i in report.items for n in i.neighbours)
    assert text and "@" not in text and "Number" not in text  # contacts of the whole run are removed
    oslo = build_city_report(view, "Oslo")
    first = next(i for i in oslo.items if i.id == "p00")
    assert [d.score_text for d in first.duplicates] == ["0.97"]
    assert first.areas == ["3. " + view.taxonomy.areas["3"].name("en")]
    suggested = next(i for i in oslo.items if i.id == "p06").areas  # no declared area: the stage's suggestions
    assert suggested and all(a.endswith("(suggested)") for a in suggested)
    with pytest.raises(ValueError, match="Atlantis"):
        build_city_report(view, "Atlantis")


def test_one_catalogue_for_both_languages():
    catalogue = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))

    def entries(data, prefix=""):
        out = {}
        for key, value in data.items():
            if isinstance(value, dict):
                out.update(entries(value, f"{prefix}{key}."))
            else:
                out[f"{prefix}{key}"] = value
        return out

    en, fr = entries(catalogue["en"]), entries(catalogue["fr"])
    assert set(en) == set(fr)
    assert {"city.title", "summary.title"} <= set(en)
    for key, value in en.items():  # same placeholders in both languages
        fields = lambda v: sorted(re.findall(r"\{(\w*)\}", str(v)))  # noqa: E731
        assert fields(value) == fields(fr[key]), key


def test_summary_in_french_from_the_same_view(run):
    out, tables = run
    view = build_view(out, tables, MANIFEST)
    english = render_summary(out, "en", view)
    french = render_summary(out, "fr", view)
    assert '<html lang="fr">' in french and "Synthèse du traitement" in french
    for phrase in ("Needs attention", "Strongest cross-city matches", "came in", "Practices per action area"):
        assert phrase in english and phrase not in french
    assert "12 pratiques de 5 villes" in french  # Genève and Geneva are one city, as in the city reports
    for name in ("files", "practices", "cities"):
        pick = re.compile(rf'id="count-{name}">(\d+)<')
        assert pick.search(english).group(1) == pick.search(french).group(1)
    context = summary_context(out, "fr", view)
    assert [g.title for g in context["attention"]][0] == "Fichiers illisibles"
    path = write_summary(out, "fr", view)
    assert path.name == "summary.fr.html" and path.parent == (out / SUMMARY_FILE).parent


def test_name_pattern_matches_like_an_alternation_of_every_name():
    rng = random.Random(7)
    names = ["Ann", "Anna", "Anna Berg", "Bob", "Jean-Luc Müller", "Ola", "Olav Nilsen", "x" * 2000]
    # whole names, in any case and spacing ('ANNA  berg'), as the redactor looks for them
    naive = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n).replace(r"\ ", r"\s+")
                                                 for n in sorted(names, key=len, reverse=True)) + r")(?!\w)", re.I)
    trie = names_pattern(names)
    pieces = ["Ann", "a", " ", "Anna", " Berg", "Bob", "Jean-Luc Müller", "Olav", " Nilsen", "x", "é", "ANNA", "  berg"]
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(25))
        assert trie.sub("#", text) == naive.sub("#", text), text
    assert names_pattern([]) is None
    redact = Redactor(["Dr. Ingrid Solheim, adviser, ingrid@example.org", "M. Li", None])
    assert redact("Ingrid Solheim (ingrid@example.org) and M. Li") == "[…] ([…]) and M. Li"


def test_the_reports_do_not_hold_the_practices_long_texts():
    import pyarrow as pa

    from pipeline.report.view import RunView

    table = pa.table({"practice_id": ["p1"], "city": ["Lyon"], "title": ["T"], "description": ["long " * 500],
                      "purpose": ["why"], "process": ["how"], "main_objective": ["aim"]})
    frame = table.to_pandas()
    for tables in ({"practices": table}, {"practices": frame}):
        view = RunView(out_dir=Path("."), manifest={}, tables=tables)
        assert view.practices == {"p1": {"practice_id": "p1", "city": "Lyon", "title": "T"}}
        assert view.text("p1", "purpose") == "why" and view.text("p1", "city") == "Lyon"
        assert view.text("p1", "impact") is None and view.text("p2", "purpose") is None


def test_records_and_frames_of_chosen_columns(tmp_path):
    import pyarrow as pa

    from pipeline.report.view import RunView

    table = pa.table({"practice_id": ["a", "b"], "criterion": ["targeted"] * 2, "level": [1, 3],
                      "evidence": ["x" * 50, "y" * 50]})
    view = RunView(tmp_path, {}, {"criteria": table})
    shown = ("practice_id", "level", "hint")  # a column the table lacks is left out, not an error
    assert view.records("criteria", shown) == [{"practice_id": "a", "level": 1}, {"practice_id": "b", "level": 3}]
    assert list(view.frame("criteria", shown).columns) == ["practice_id", "level"]
    assert "evidence" in view.records("criteria")[0]
