"""Segmentation of submissions filled in the way city officers really do it (tests/data/tricky, see build.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.ingest import read_blocks
from pipeline.normalize import fold
from pipeline.segment import Segmenter

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
