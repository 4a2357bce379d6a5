"""Segmentation of submissions filled in the way city officers really do it (tests/data/tricky, see build.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.ingest import read_blocks
from pipeline.normalize import fold, parse_period
from pipeline.records import Block
from pipeline.segment import Segmenter, match_label

DATA = Path(__file__).parent / "data" / "tricky"
EXPECTED = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter()


def _norm(text: str | None) -> str:
    return " ".join(fold(text or "").split())


@pytest.fixture(scope="module")
def results(segmenter):
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = segmenter.segment(read_blocks(DATA / name), name, "0" * 64).practices
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tricky_form(name, results):
    practices = results(name)
    expected = EXPECTED[name]
    assert len(practices) == len(expected), [p.title for p in practices]
    for practice, exp in zip(practices, expected):
        assert practice.city == exp["city"]
        assert practice.title == exp["title"]
        assert practice.declared_areas == exp["declared_areas"], practice.declared_area_text
        assert [practice.period_start, practice.period_end, practice.ongoing] == exp["period"], practice.period_text
        for section, first_words in exp["sections"].items():
            got = getattr(practice, section)
            if first_words is None:
                assert got is None, (section, got)
            else:
                assert _norm(got).startswith(_norm(first_words)), (section, got)
        text = _norm(practice.full_text())
        for absent in exp["absent"]:
            assert _norm(absent) not in text, absent


def test_instructions_left_in_the_template_are_not_values(results):
    (practice,) = results("en-instructions.docx")
    assert practice.department == "Culture and Youth Services"
    assert practice.contact_person.startswith("Aino Virtanen")
    assert "missing_section:references" not in practice.warnings


def test_placeholder_values_are_empty(results):
    (practice,) = results("en-na-values.docx")
    assert (practice.department, practice.form_date, practice.contact_person, practice.main_objective) == (None,) * 4


def test_long_practice_keeps_every_paragraph(results):
    (practice,) = results("en-long.docx")
    assert practice.n_words >= 1500
    assert "short_description" not in practice.warnings
    assert practice.process.count("\n") >= 10
    assert "Phase 5" in practice.process and practice.references.endswith("on request.")


def test_second_practice_inherits_the_city(results):
    first, second = results("en-two-practices.docx")
    assert "inherited:city" in second.warnings and "inherited:city" not in first.warnings
    assert "GOOD PRACTICE" not in (first.impact or "")


def test_tracked_changes_keep_the_accepted_text(results):
    (practice,) = results("en-tracked-changes.docx")
    assert practice.department == "Department of Labour Market and Social Services"
    assert practice.period_text == "2020–2023"


def test_typo_labels_are_recognised(results):
    (practice,) = results("en-typos.docx")
    assert practice.department == "Direction for Social Assistance"
    assert practice.contact_person == "Ana Popescu"
    assert practice.main_objective.startswith("To make kindergarten children")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2010 onwards", (2010, None, True)),
        ("Since 2017 - Ongoing", (2017, None, True)),
        ("Social network - ongoing / Assessment - 2017", (2017, None, True)),
        ("01/09/2019 – 30/06/2022", (2019, 2022, False)),
        ("2019-05 to 2021-06", (2019, 2021, False)),
        ("2012 – up to now", (2012, None, True)),
        ("2019 – …", (2019, None, True)),
        ("2019 – until further notice", (2019, None, True)),
        ("2016 jusqu’à aujourd’hui", (2016, None, True)),
    ],
)
def test_periods_as_cities_write_them(text, expected):
    period = parse_period(text)
    assert (period.start, period.end, period.ongoing) == expected


@pytest.mark.parametrize(
    "text, name, inline",
    [
        ("Title – Buddy Runs", "title", "Buddy Runs"),
        ("Main area(s) of action:", "declared_area_text", None),
        ("Results / Impact:", "impact", None),
        ("Purpose / Aim:", "purpose", None),
        ("Name of the good practice:", "title", None),
        ("3.2 Stimulus / Rationale", "starting_point", None),
        ("b. Process", "process", None),
        ("Implemantation period: 2019", "period_text", "2019"),
        ("Stimulus / rational:", "starting_point", None),
    ],
)
def test_label_variants_of_real_forms(text, name, inline):
    hit = match_label(text)
    assert hit is not None and (hit.label.name, hit.inline) == (name, inline)


@pytest.mark.parametrize("text", ["Education – a place for all", "Réalisation (2022) : les travaux ont duré un an.",
                                  "Good practices", "Services"])
def test_near_labels_that_are_not_labels(text):
    hit = match_label(text)
    assert hit is None or hit.label.name not in ("title", "impact", "form_start", "department"), hit


def test_misspelt_heading_in_the_guide_does_not_open_a_form():
    blocks = [Block(t, "paragraph", i) for i, t in enumerate([
        "Areas of action", "1. Leadership and political commitment", "City: Oslo", "Title: Homework cafés",
        "Purpose: Pupils get help with homework in the library every afternoon of the week."])]
    (practice,) = Segmenter().segment(blocks, "x", "0" * 64).practices
    assert practice.declared_area_text is None and practice.title == "Homework cafés"


def test_instruction_under_a_label_in_its_cell_is_not_the_value():
    blocks = [Block("Purpose\nWhat did the practice aim to achieve?", "cell", 0, 1, 0, 0),
              Block("Pupils get help with homework in the library every afternoon.", "cell", 1, 1, 0, 1),
              Block("Title", "cell", 2, 1, 1, 0), Block("Homework cafés", "cell", 3, 1, 1, 1)]
    (practice,) = Segmenter().segment(blocks, "x", "0" * 64).practices
    assert practice.purpose == "Pupils get help with homework in the library every afternoon."
