"""The web app through FastAPI's TestClient: every route, on the outputs of a real run over data/raw.

One app is built per module on a copy of the session's sample run (tests that write reviews or change tables
use their own copy), with the analysis models loaded once and shared by every app of the module.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from pipeline.config import SUPPORTED_SUFFIXES, Settings
from pipeline.criteria import CRITERIA
from pipeline.run import InputFile, process_file
from pipeline.segment import Segmenter
from pipeline.tables import to_table, write_table
from pipeline.taxonomy import load_taxonomy
from pipeline.web.app import create_app
from pipeline.web.i18n import Messages, from_accept_language
from pipeline.web.models import AnalysisModels
from pipeline.web.reviews import REVIEWS_SCHEMA, ReviewInput, ReviewStore, export_reviews, load_area_reviews
from pipeline.web.search import IndexedPractice, SearchIndex, SearchQuery, TermExpander, fts_expression, years_running
from pipeline.web.settings import WebSettings
from pipeline.report.export import SHEETS, workbook_bytes
from test_ingest import BAD_INPUTS, _docx_bytes

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
TOKEN = "test-review-token-0123456789"
ENGLISH_FORM = RAW / "ballarat-p4-05.docx"  # two practices
FRENCH_FORM = RAW / "strasbourg-p3-05.docx"
HOSTNAME = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""


def copy_run(source: Path, target: Path) -> Path:
    """A private copy of a run's tables (and its embedding cache, so loading it embeds nothing)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.parquet"):
        shutil.copy2(path, target / path.name)
    shutil.copy2(source / "manifest.json", target / "manifest.json")
    if (source / ".cache" / "embeddings").is_dir():
        shutil.copytree(source / ".cache" / "embeddings", target / ".cache" / "embeddings")
    return target


def upload(path: Path, name: str | None = None) -> dict:
    return {"file": (name or path.name, path.read_bytes())}


@pytest.fixture(scope="module")
def models() -> AnalysisModels:
    return AnalysisModels.load(Settings())


@pytest.fixture(scope="module")
def web_data(sample_out, tmp_path_factory) -> Path:
    return copy_run(Path(sample_out), tmp_path_factory.mktemp("web-data"))


@pytest.fixture(scope="module")
def client(web_data, models):
    settings = WebSettings(data_dir=web_data, review_token=TOKEN)
    with TestClient(create_app(settings, models)) as test_client:
        yield test_client


def practice_id(client, city: str, title_start: str) -> str:
    found = client.get("/api/practices", params={"city": city, "limit": 100}).json()["practices"]
    return next(p["practice_id"] for p in found if p["title"].startswith(title_start))


def log_in(client, reviewer: str) -> str:
    """Log in on the review form as `reviewer`; the CSRF token the session's forms carry."""
    client.cookies.clear()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/review/login").text).group(1)
    logged = client.post("/review/login", data={"reviewer": reviewer, "token": TOKEN, "csrf_token": csrf},
                         follow_redirects=False)
    assert logged.status_code == 303
    return csrf


class BrowserForm(HTMLParser):
    """What a browser sends for the form of class `form_class` as the page shows it, untouched: hidden inputs,
    ticked boxes, each select's selected option (its first option when none is selected) and textareas."""

    def __init__(self, html: str, form_class: str):
        super().__init__()
        self.form_class, self.inside, self.fields = form_class, False, []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = self.form_class in (a.get("class") or "").split()
        if not self.inside:
            return
        if tag == "input" and a.get("type") == "checkbox":
            if "checked" in a:
                self.fields.append((a["name"], a.get("value", "on")))
        elif tag == "input" and a.get("type", "text") in ("text", "hidden"):
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self.select, self.options = a["name"], []
        elif tag == "option" and self.select:
            self.options.append((a.get("value") or "", "selected" in a))
        elif tag == "textarea":
            self.textarea, self.text = a["name"], ""

    def handle_data(self, data):
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            chosen = [value for value, selected in self.options if selected] or [self.options[0][0]]
            self.fields.append((self.select, chosen[-1]))
            self.select = None
        elif tag == "textarea" and self.textarea:
            # as a browser reads it: a line break right after the start tag is not part of the text
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None

    def data(self, **changes: str | list[str]) -> dict[str, str | list[str]]:
        """The fields as a request body, with `changes` made as the reviewer would make them."""
        out: dict[str, list[str]] = {}
        for name, value in self.fields:
            out.setdefault(name, []).append(value)
        out |= {name: value if isinstance(value, list) else [value] for name, value in changes.items()}
        return {name: values[0] if len(values) == 1 else values for name, values in out.items()}


# ----------------------------------------------------------------------------------------- health and check


def test_healthz_counts_the_practices(client):
    assert client.get("/healthz").json() == {"status": "ok", "practices": 52, "checks": "threads"}
    # uptime monitors ask with HEAD
    assert client.head("/").status_code == 200 and client.head("/healthz").status_code == 200


def test_an_english_form_is_checked_with_every_part_of_the_answer(client):
    response = client.post("/api/check", files=upload(ENGLISH_FORM))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "error_code", "message", "practices", "compared_with"}
    assert (body["status"], body["error_code"]) == ("ok", None) and body["compared_with"] > 40
    # the run's practices of other cities: the form's own city's are never compared with it
    from pipeline.cities import city_key
    run = client.app.state.services.catalogues.current().practices.values()
    assert body["compared_with"] == sum(city_key(r["city"]) != city_key(body["practices"][0]["city"]) for r in run) < 52
    assert [p["title"] for p in body["practices"]] == [
        "Skilled Arrivals Connect", "Young Voices Panel – multicultural young people advising Council"]
    first = body["practices"][0]
    assert set(first) == {"title", "city", "city_listed", "lang", "fields", "missing_sections", "warnings",
                          "declared_areas", "main_area", "area_mismatch", "area_mismatch_text", "areas", "criteria",
                          "guidelines", "similar", "declared_area", "declared_not_suggested"}
    assert (first["city"], first["lang"]) == ("Ballarat", "en")
    assert first["fields"]["city"] == "Ballarat" and first["fields"]["period_text"] == "2019 - ongoing"
    assert first["missing_sections"] == []
    assert first["areas"][0]["area"] == "14"  # the run's main area for this practice
    assert all(set(a) == {"area", "probability", "evidence"} and 0 <= a["probability"] <= 1 for a in first["areas"])
    assert [c["criterion"] for c in first["criteria"]] == list(CRITERIA)
    assert all(set(c) == {"criterion", "level", "evidence", "hint"} and c["level"] in (0, 1, 2, 3)
               for c in first["criteria"])
    assert {g["check"] for g in first["guidelines"]} >= {"length", "objectives_stated", "results_stated"}
    assert 1 <= len(first["similar"]) <= 5
    assert all(set(s) == {"practice_id", "city", "city_listed", "title", "score"} for s in first["similar"])
    assert "Ballarat" not in {s["city"] for s in first["similar"]}, "practices of the same city are not 'elsewhere'"
    assert [s["score"] for s in first["similar"]] == sorted((s["score"] for s in first["similar"]), reverse=True)


def test_a_french_form_is_answered_in_french(client):
    body = client.post("/api/check", files=upload(FRENCH_FORM)).json()
    (practice,) = body["practices"]
    assert practice["lang"] == "fr" and practice["city"] == "Strasbourg"
    labels = {g["check"]: g["label"] for g in practice["guidelines"]}
    assert labels["length"] == "longueur" and labels["objectives_stated"] == "objectifs indiqués"
    details = " ".join(g["detail"] for g in practice["guidelines"])
    assert re.search(r"\bmots\b", details), details
    assert "Strasbourg" not in {s["city"] for s in practice["similar"]}

    page = client.post("/check", files=upload(FRENCH_FORM), headers={"accept-language": "en"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.text and '<article class="checked" lang="fr"' in page.text, \
        "the page around it in the browser's language, the practice in its own"
    assert "Critères d&#39;une bonne pratique" in page.text or "Critères d'une bonne pratique" in page.text
    assert "Médiateurs de résidence" in page.text
    assert page.text.count('data-criterion="') == len(CRITERIA)
    listed = re.findall(r'<a class="similar-link".*?</li>', html.unescape(page.text), re.S)
    assert len(listed) == len(practice["similar"]) and all(
        re.search(r"\d,\d\d · (proche|apparentée|lointainement apparentée|rapprochement faible)", s) for s in listed)


def _articles(page: str) -> list[str]:
    return re.findall(r'<article class="checked".*?</article>', html.unescape(page), re.S)


def test_each_practice_of_a_form_is_shown_in_its_own_language_as_check_prints_it(client):
    from test_run import MISMATCHED_FORM

    english = ("City: Leeds\nTitle: Homes for all\nImplementation period: 2021 - ongoing\nPurpose: The council "
               "builds social housing for newcomer families and mixes tenants of every origin in each block.\n")
    two = {"file": ("two.txt", (MISMATCHED_FORM + "\n" + english).encode("utf-8"))}
    page = client.post("/check", files=two, headers={"accept-language": "fr-FR", "accept": "text/html"}).text
    assert '<html lang="fr">' in page and "2 pratiques trouvées dans le fichier." in page, "the page: the visitor's"
    french, second = _articles(page)
    assert french.startswith('<article class="checked" lang="fr"')
    assert second.startswith('<article class="checked" lang="en"')
    for heading in ("Fields found", "Criteria of a good practice", "Reporting guidelines", "<th>what to add</th>",
                    "<dt>City</dt>", "<th scope=\"row\">Needs-based</th>"):
        assert heading in second, heading
    assert not re.search(r"Champs trouvés|Critères|Lignes directrices|<dt>Ville</dt>|à revoir", second)
    assert re.search(r"<strong>length</strong> <span class=\"verdict\">fix</span> – \d+ words", second)
    assert re.search(r"<strong>longueur</strong> <span class=\"verdict\">à revoir</span> – \d+ mots", french)
    # The rows `icc-practices check` prints beside the form's fields, in the same words.
    assert "<dt>Langue</dt><dd>français</dd>" in french and "<dt>Language</dt><dd>English</dd>" in second
    assert "<dt>Domaine déclaré</dt><dd>6. Espace public</dd>" in french
    assert "<dt>Period (years)</dt><dd>2021–ongoing</dd>" in second
    assert "<dt>Période (années)</dt><dd>2023</dd>" in french
    assert "<th>à ajouter</th>" in french and "ce qui manque" not in page


def test_a_practice_in_a_language_the_site_does_not_speak_is_shown_in_the_visitors(client):
    german = ("City: Berlin\nTitle: Nachbarschaftshilfe\nPurpose: Die Stadt hat mit den Vereinen und den Schulen ein "
              "Programm für die Familien aufgebaut, das seit drei Jahren läuft und von der Verwaltung und den Bürgern "
              "getragen wird.\n")
    form = {"file": ("berlin.txt", german.encode("utf-8"))}
    page = client.post("/check", files=form, headers={"accept-language": "fr-FR", "accept": "text/html"}).text
    (article,) = _articles(page)
    assert article.startswith('<article class="checked" lang="fr"')
    assert '<h2 class="practice-title" lang="de">Nachbarschaftshilfe</h2>' in article, "the title marked German"
    assert "Champs trouvés" in article and "<dt>Langue</dt><dd>allemand</dd>" in article
    assert "Fields found" not in article
    (practice,) = client.post("/api/check", files=form, headers={"accept-language": "fr"}).json()["practices"]
    assert practice["lang"] == "de" and "allemand" in practice["warnings"][0]["label"]


def test_the_site_and_check_name_the_hint_column_and_the_guideline_verdicts_alike(client):
    from pipeline.cli import _texts

    pid = practice_id(client, "Strasbourg", "Médiateurs de résidence")
    for lang in ("en", "fr"):
        page = client.get(f"/practices/{pid}", headers={"cookie": f"icc_lang={lang}"}).text
        assert f"<th>{html.escape(_texts(lang)['to_add'])}</th>" in page, lang
        verdicts = re.findall(r'<li class="(passed|failed)"><strong>[^<]+</strong> <span class="verdict">([^<]+)', page)
        assert verdicts and {v for _, v in verdicts} <= {_texts(lang)["ok"], _texts(lang)["fix"]}
        assert all(v == _texts(lang)["ok" if kind == "passed" else "fix"] for kind, v in verdicts)
    client.cookies.clear()


def test_a_form_without_sections_lists_them_as_missing(client):
    text = "Ville : Lyon\nTitre : Jardins partagés\nBut : Réunir des voisins de toutes origines autour d'un potager.\n"
    body = client.post("/api/check", files={"file": ("jardins.txt", text.encode("utf-8"))}).json()
    (practice,) = body["practices"]
    assert [m["section"] for m in practice["missing_sections"]] == ["starting_point", "process", "impact", "references"]
    assert practice["missing_sections"][2]["label"] == "Impact"
    assert practice["missing_sections"][0]["label"] == "Point de départ"


def test_a_declared_area_the_text_does_not_suggest_is_shown_beside_the_suggested_ones(client):
    """A city sees where its own choice stands: the declared main area is listed with its probability, marked, when
    the text does not suggest it; the API gives it apart from the suggested areas."""
    text = ("City: Leeds\nTitle: Conversation cafés\nMain area of action: 6. Public space\n"
            "Purpose: Newcomers practise English with volunteers in the city's libraries every week.\n"
            "Process: Volunteers host a one-hour café in ten branch libraries; learners of every level join.\n"
            "Impact: 400 learners took part in 2023 and most say they now speak English more often.\n")
    form = {"file": ("cafes.txt", text.encode("utf-8"))}
    (practice,) = client.post("/api/check", files=form).json()["practices"]
    assert practice["declared_areas"][0] == "6" and "6" not in [a["area"] for a in practice["areas"]]
    declared = practice["declared_area"]
    assert declared["area"] == "6" and 0 <= declared["probability"] < 0.5
    assert declared["evidence"] is None, "an area the text does not suggest has no supporting sentence"
    page = html.unescape(client.post("/check", files=form).text)
    assert re.search(r"6\. Public space <span class=\"tag\">declared, not suggested</span>", page)
    # a declared area the text suggests is not listed twice
    suggested = client.post("/api/check", files=upload(ENGLISH_FORM)).json()["practices"][0]
    assert suggested["declared_area"] is None or suggested["declared_area"]["area"] not in [
        a["area"] for a in suggested["areas"]]
    # every declared area the text does not suggest is listed, the main one first
    two = form | {"file": ("cafes.txt", text.replace("6. Public space", "6. Public space; 15. Public and political participation").encode("utf-8"))}
    (practice,) = client.post("/api/check", files=two).json()["practices"]
    assert [a["area"] for a in practice["declared_not_suggested"]] == ["6", "15"]
    assert practice["declared_area"]["area"] == "6"
    page = html.unescape(client.post("/check", files=two).text)
    assert page.count("declared, not suggested</span>") == 2


def test_the_check_page_names_fields_as_the_template_and_cuts_a_long_one_after_a_word(client):
    process = ("Chaque binôme se retrouve une heure par semaine à la bibliothèque du quartier pour parler de la vie "
               "de tous les jours, ") * 6
    text = ("Ville : Lyon\nDépartement : Service de la cohésion sociale\nDate du formulaire : 02/04/2024\n"
            "Titre : Binômes de conversation\nPrincipal domaine d'action : Langue\n"
            "Principal objectif : Pratiquer le français hors de la classe\nPériode de mise en œuvre : 2023\n"
            f"But : Réunir des habitants et des personnes nouvellement arrivées.\nProcessus : {process}\n")
    page = html.unescape(client.post("/check", files={"file": ("binomes.txt", text.encode("utf-8"))}).text)
    fields = dict(re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", page, re.S))
    assert list(fields)[:11] == ["Ville", "Département", "Date du formulaire", "Titre", "Principal domaine d'action",
                                 "Principal objectif", "Période de mise en œuvre", "Langue", "Domaine déclaré",
                                 "Période (années)", "But"]
    shown = fields["Processus"]
    assert shown.endswith("…") and len(shown) <= 400
    assert process.startswith(shown[:-1]) and process[len(shown) - 1] in " ,", "cut after a whole word"


def test_a_checked_form_shows_its_contact_and_the_footer_does_not_say_contacts_are_left_out(client):
    """The city sees its own form whole, its contact included: the footer of the site's pages, which say that
    contacts are left out, would contradict it; a page of the run's practices keeps that footer."""
    text = ("Ville : Lyon\nPersonne de contact : Sophie Bernard, sophie.bernard@example.org\n"
            "Titre : Binômes de conversation\nBut : Réunir des habitants et des personnes nouvellement arrivées.\n")
    page = html.unescape(client.post("/check", files={"file": ("binomes.txt", text.encode("utf-8"))},
                                     headers={"Accept-Language": "fr"}).text)
    footer = re.search(r"<footer>(.*?)</footer>", page, re.S).group(1)
    assert "sophie.bernard@example.org" in page and "coordonnées comprises" in footer and "omises" not in footer
    search = html.unescape(client.get("/", headers={"Accept-Language": "fr"}).text)
    assert "les coordonnées sont omises" in re.search(r"<footer>(.*?)</footer>", search, re.S).group(1)


@pytest.mark.parametrize("name", ["xxe.docx", "laughs.docx", "bomb.docx", "truncated.docx", "random.docx",
                                  "protected.docx", "legacy.doc", "junk.txt", "empty.docx", "notes.xyz"])
def test_a_hostile_or_broken_file_gets_the_code_and_message_of_files_parquet(client, name, tmp_path):
    data, code = BAD_INPUTS[name]
    if data is None:
        data = _docx_bytes(("<w:p><w:r><w:t>Ville : Lyon</w:t></w:r></w:p>") * 50)[:300]
    path = tmp_path / name
    path.write_bytes(data)
    expected = process_file(InputFile(path, name), Settings(), Segmenter())

    response = client.post("/api/check", files={"file": (name, data)})
    assert response.status_code == 422
    body = response.json()
    assert (body["status"], body["error_code"], body["message"]) == ("error", code, expected.message)
    assert body["practices"] == []
    if HOSTNAME:
        assert HOSTNAME not in response.text, "nothing from outside the file may reach the answer"
    page = client.post("/check", files={"file": (name, data)})
    assert page.status_code == 422 and code in page.text
    assert client.get("/healthz").status_code == 200, "the server keeps serving"


def test_an_upload_over_10_mb_is_refused_with_413_before_it_is_read(client):
    big = b"x" * (11 * 1024 * 1024)
    response = client.post("/api/check", files={"file": ("big.txt", big)})
    assert response.status_code == 413
    assert response.json()["error_code"] == "file_too_large"
    page = client.post("/check", files={"file": ("big.txt", big)}, headers={"accept-language": "fr"})
    assert page.status_code == 413 and "Mo" in page.text

    def chunks():  # no Content-Length: the limit is enforced while the body streams in
        for _ in range(11):
            yield b"y" * (1024 * 1024)

    streamed = client.post("/api/check", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert streamed.status_code == 413
    assert client.post("/api/check", files=upload(FRENCH_FORM)).status_code == 200


def test_a_file_of_far_more_words_than_a_form_is_sent_to_a_batch_run(client):
    """235,000 words held a check slot for nearly three minutes: a file of more than 20,000 is not analysed."""
    text = "City: Lyon\nTitle of the practice: Long\nPurpose: " + "Residents meet in the library every week. " * 3000
    answer = client.post("/api/check", files={"file": ("long.txt", text.encode())}, headers={"accept-language": "fr"})
    assert answer.status_code == 422 and answer.json()["error_code"] == "too_many_words"
    assert answer.json()["message"].startswith("Le fichier contient 21") and not answer.json()["practices"]
    page = client.post("/check", files={"file": ("long.txt", text.encode())})
    assert page.status_code == 422 and "a check reads at most 20000" in page.text
    # signs set apart by spaces hold no word, but as many pieces for the encoder
    signs = "City: Lyon\nTitle of the practice: Signs\nPurpose: Residents meet " + "( . " * 15_000 + " in the library."
    assert client.post("/api/check", files={"file": ("signs.txt", signs.encode())}).json()["error_code"] == "too_many_words"
    # 18,500 random words of 95 letters took two minutes: a long word counts as one per 12 letters
    import random

    draw = random.Random(1)
    long_words = " ".join("".join(draw.choice("abcdefghij") for _ in range(95)) for _ in range(3000))
    text = f"City: Lyon\nTitle of the practice: Letters\nPurpose: {long_words}"
    assert client.post("/api/check", files={"file": ("letters.txt", text.encode())}).json()["error_code"] == \
        "too_many_words"
    from pipeline.web.checking import counted_words
    assert counted_words("Residents meet in the library, https://www.example.org/a/b.pdf") == 4 + 3


def test_an_upload_of_two_files_is_refused_not_answered_for_one_of_them(client):
    """Two forms sent in one upload were answered for the second only, as if the first had not been sent."""
    both = [("file", ("strasbourg.docx", FRENCH_FORM.read_bytes())), ("file", ("other.txt", b"City: Oslo\nTitle: Two\n"))]
    answer = client.post("/api/check", files=both)
    assert answer.status_code == 422 and answer.json()["error_code"] == "more_than_one_file"
    assert "2 files" in answer.json()["message"] and not answer.json()["practices"]
    page = client.post("/check", files=both, headers={"accept-language": "fr"})
    assert page.status_code == 422 and "un formulaire à la fois" in page.text
    assert client.post("/api/check", files=[both[0]]).status_code == 200


def test_an_announced_oversized_upload_gets_the_sites_own_page(client):
    big = b"x" * (11 * 1024 * 1024)
    page = client.post("/check", files={"file": ("big.txt", big)}, headers={"accept-language": "fr",
                                                                           "accept": "text/html"})
    assert page.status_code == 413 and page.headers["connection"] == "close"
    assert '<link rel="stylesheet" href="/static/style.css">' in page.text and '<header class="site">' in page.text
    assert "<title>413" not in page.text and '<html lang="fr">' in page.text
    assert '<p class="problem" role="alert" id="check-problem">Le fichier dépasse 10 Mo.' in page.text
    assert 'id="check-form"' in page.text, "the form, to choose a smaller file"


def test_page_titles_say_a_failed_check_and_a_searchs_results_first(client):
    """A screen reader reads the title when a page comes back: a file that cannot be used said "What we read in
    photo.docx", as a good file does, and every search and filter "Search the good practices"."""
    refused = client.post("/check", files={"file": ("photo.docx", b"\xff\xd8\xff\xe0" + b"0" * 2000)},
                          headers={"accept-language": "fr"})
    assert refused.status_code == 422
    assert "<title>Ce fichier ne peut pas être utilisé\u00a0: photo.docx · ICC</title>" in refused.text
    good = client.post("/check", files=upload(FRENCH_FORM))
    assert re.search(r"<title>What we read in [^<]+ · ICC</title>", good.text)
    found = client.get("/", params={"q": "mediation"})
    n = client.get("/api/practices", params={"q": "mediation"}).json()["total"]
    assert f"<title>{n} practices: mediation · " in found.text
    assert re.search(r"<title>\d+ practices? · ", client.get("/", params={"lang": "fr"}).text)
    assert "<title>Search" in client.get("/").text
    assert "<title>Results 21-40 of 52 · Search" in client.get("/", params={"offset": 20}).text, "the page of results"
    # a refusal on the form itself belongs to its field
    missing = client.post("/check", files={"file": ("", b"")}).text
    assert 'aria-describedby="file-note check-problem" aria-invalid="true"' in missing
    assert '<p class="problem" role="alert" id="check-problem">Choose a file to check.</p>' in missing
    assert "<title>Choose a file to check. · " in missing


def test_a_refused_login_keeps_the_name_and_ties_its_reason_to_the_field(client):
    page = client.get("/review/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    data = {"reviewer": "Anna Keller", "token": "wrong-token-0000000000", "next": "/"}
    if csrf:
        data["csrf_token"] = csrf.group(1)
    refused = client.post("/review/login", data=data)
    assert refused.status_code == 401 and 'value="Anna Keller"' in refused.text
    token_field = re.search(r'<input id="token"[^>]*>', refused.text).group(0)
    assert 'aria-invalid="true"' in token_field and 'aria-describedby="login-problem"' in token_field
    assert 'aria-invalid' not in re.search(r'<input id="reviewer"[^>]*>', refused.text).group(0)
    assert re.search(r"<title>[^<]+ · [^<]+ · ICC</title>", refused.text), "the reason opens the title"


def test_a_practices_way_back_leads_to_the_search_it_came_from(client):
    pid = client.get("/api/practices").json()["practices"][0]["practice_id"]
    back = lambda referer: re.search(r'<p class="back"><a href="([^"]*)"',  # noqa: E731
                                     client.get(f"/practices/{pid}", headers={"referer": referer}).text).group(1)
    assert back("http://testserver/?q=langue&city=geneve") == "/?q=langue&amp;city=geneve"
    assert back("http://elsewhere.example/?q=langue") == "/"
    assert back("http://testserver/check") == "/"
    assert back("") == "/"


def test_the_levels_and_the_fields_edges_can_be_seen(client):
    """White on the level badges, and the edge of a field against the page, measured on the stylesheet: 4.5:1 for
    text (WCAG 1.4.3), 3:1 for a control's edge (1.4.11)."""
    css = client.get("/static/style.css").text

    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a: str, b: str) -> float:
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    variables = dict(re.findall(r"--([\w-]+): (#[0-9a-f]{6})", css))
    badges = [variables.get(v, v) if not c else c for c, v in
              re.findall(r"\.level-\d \.level \{ background: (?:(#[0-9a-f]{6})|var\(--([\w-]+)\)); \}", css)]
    assert len(badges) == 4 and all(contrast(b, "#ffffff") >= 4.5 for b in badges), badges
    assert contrast(variables["control"], variables["paper"]) >= 3 and contrast(variables["control"],
                                                                                variables["wash"]) >= 3


def test_check_page_and_missing_file(client):
    page = client.get("/check", headers={"accept-language": "fr-CH, fr;q=0.9, en;q=0.5"})
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert "Vérifiez votre formulaire" in page.text
    assert client.post("/check", files={"file": ("", b"")}).status_code == 422
    assert client.post("/api/check").status_code == 422


def test_the_file_picker_offers_every_format_the_server_reads(client):
    for lang, last in (("en", "or"), ("fr", "ou")):
        page = client.get("/check", headers={"accept-language": lang}).text
        accept = re.search(r'<input id="file"[^>]* accept="([^"]+)"', page).group(1).split(",")
        assert set(SUPPORTED_SUFFIXES) <= set(accept)
        intro = re.search(r'<p class="intro">([^<]+)</p>', page).group(1)
        assert all(suffix in intro for suffix in SUPPORTED_SUFFIXES), intro
        assert f"{last} {SUPPORTED_SUFFIXES[-1]}" in intro
    refused = client.post("/api/check", files={"file": ("notes.xyz", b"hello")}, headers={"accept-language": "fr"})
    assert ".odt" in refused.json()["message"], "the refusal names the same formats"


def test_a_check_that_finds_every_slot_busy_is_told_to_come_back(client, monkeypatch):
    import anyio

    class Busy:  # every check slot taken for longer than an upload waits
        async def acquire(self) -> None:
            await anyio.sleep(30)

        def release(self) -> None:
            raise AssertionError("a slot never taken is not given back")

    services = client.app.state.services
    monkeypatch.setattr(services, "check_slots", Busy())
    monkeypatch.setattr(services, "settings", replace(services.settings, check_wait_seconds=0.2))
    answer = client.post("/api/check", files=upload(FRENCH_FORM), headers={"accept-language": "fr"})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "60"
    assert answer.json()["error_code"] == "busy" and "Réessayez" in answer.json()["message"]
    page = client.post("/check", files=upload(FRENCH_FORM))
    assert page.status_code == 503 and page.headers["retry-after"] == "60"
    assert "The check could not finish" in page.text and "This file cannot be used" not in page.text


def test_a_file_holding_an_archive_of_practices_is_sent_to_a_batch_run(client, monkeypatch):
    services = client.app.state.services
    monkeypatch.setattr(services, "settings", replace(services.settings, check_max_practices=1))
    answer = client.post("/api/check", files=upload(ENGLISH_FORM))  # two practices
    assert answer.status_code == 422 and answer.json()["error_code"] == "too_many_practices"
    assert "batch" in answer.json()["message"] and not answer.json()["practices"]
    french = client.post("/api/check", files=upload(ENGLISH_FORM), headers={"accept-language": "fr"})
    assert french.json()["message"] == ("Le fichier contient 2 pratiques ; une vérification en traite au maximum 1. "
                                        "Vérifiez chaque formulaire séparément ou demandez au secrétariat de traiter "
                                        "l'ensemble du fichier.")
    assert client.post("/api/check", files=upload(FRENCH_FORM)).status_code == 200


def test_every_error_code_of_the_readme_has_words_in_both_languages():
    from pipeline.web.i18n import Messages

    table = (ROOT / "README.md").read_text(encoding="utf-8").split("### Error codes", 1)[1].split("\n\n", 2)[1]
    codes = {code for row in table.splitlines()[2:] for code in re.findall(r"`([a-z_]+)`", row.split("|")[1])}
    assert {"active_content", "time_limit", "unreadable_folder", "duplicate_file"} <= codes
    for lang in ("en", "fr"):
        t = Messages.load().translator(lang)
        assert not {c for c in codes if not t.error(c)}, lang


def test_the_api_says_what_the_page_says_of_the_declared_main_area(client):
    text = ("City: Leeds\nTitle: Homes for all\nMain area of action: Sport\nPurpose: The council builds social housing "
            "for newcomer families, rents flats at fair rents, mixes tenants of every origin in each block and trains "
            "housing officers against discrimination in letting. Tenants' associations meet in every estate.\n")
    upload_text = {"file": ("homes.txt", text.encode("utf-8"))}
    (practice,) = client.post("/api/check", files=upload_text).json()["practices"]
    assert practice["declared_areas"] == ["9"] and practice["main_area"] == practice["areas"][0]["area"]
    assert practice["area_mismatch"] is True
    # the declared area and the areas the page lists, by number and name, each area once (its suggested sub-area,
    # 7b, and not also 7): no more areas than it lists
    t, taxonomy = Messages.load().translator("en"), load_taxonomy()
    codes = [a["area"] for a in practice["areas"]]
    families = list(dict.fromkeys(taxonomy.parent(c) for c in codes))
    listed = [t.area(next((c for c in codes if c != f and taxonomy.parent(c) == f),
                          next(c for c in codes if taxonomy.parent(c) == f))) for f in families][:3]
    assert "7b" in codes and t.area("7b") in listed
    assert practice["area_mismatch_text"] == (
        "You declared 9. Cultural and social life, leisure and heritage; the text is mostly about "
        + (listed[0] if len(listed) == 1 else f"{'; '.join(listed[:-1])} or {listed[-1]}")
        + ". Check the declared area.")
    page = client.post("/check", files=upload_text).text
    notice = re.search(r'<p class="notice">(.*?)</p>', page).group(1)
    assert html.unescape(notice) == practice["area_mismatch_text"]
    assert "three" not in page

    # A French form, said in French on the page and in the API, as `icc-practices check` says it
    from test_run import MISMATCHED_FORM

    french = {"file": ("passerelles.txt", MISMATCHED_FORM.encode("utf-8"))}
    (practice,) = client.post("/api/check", files=french, headers={"accept-language": "en"}).json()["practices"]
    assert practice["area_mismatch_text"].startswith(
        "Vous avez déclaré 6. Espace public ; le texte décrit plutôt 8. Entreprise, emploi et diversité")
    page = html.unescape(client.post("/check", files=french).text)
    assert f'<p class="notice">{practice["area_mismatch_text"]}</p>' in page
    assert "trois" not in page
    assert page.count("<th>phrase à l'appui</th>") == 2, "one word for the evidence column of both tables"


def test_the_site_words_a_warning_as_check_does():
    from pipeline.cli import warning_text
    from pipeline.web.i18n import Messages

    for lang, expected in (("en", "after conversion by LibreOffice"), ("fr", "après conversion par LibreOffice")):
        t = Messages.load().translator(lang)
        for code in ("converted:libreoffice", "converted:text-only", "missing:period_text", "missing_section:impact",
                     "ocr", "short_description", "other_language:de"):
            assert t.warning(code) == warning_text(code, lang), (lang, code)
        assert expected in t.warning("converted:libreoffice")
        assert {"en": "German", "fr": "allemand"}[lang] in t.warning("other_language:de")
    # a field of either gender agrees with the words after it: « Date du formulaire : valeur reprise… »
    assert Messages.load().translator("fr").warning("inherited:form_date").startswith(
        "Date du formulaire : valeur reprise de la pratique précédente")


def test_a_french_form_or_visitor_gets_the_check_messages_in_french(client):
    french = client.post("/api/check", files=upload(FRENCH_FORM), headers={"accept-language": "en"}).json()
    assert french["message"] == "1 pratique trouvée dans le fichier.", "a French form is answered in French"
    english = client.post("/api/check", files=upload(ENGLISH_FORM), headers={"accept-language": "fr"}).json()
    assert english["message"] == "2 practices found in the file.", "an English form is answered in English"
    one = client.post("/api/check", files=upload(RAW / "dublin-p2-09.docx"), headers={"accept-language": "fr"})
    assert one.json()["message"] == "1 practice found in the file.", "not '1 practice(s) found'"
    page = client.post("/check", files=upload(RAW / "dublin-p2-09.docx")).text
    assert "<p>1 practice found in the file.</p>" in page, "the page says what the API says"
    text = "Ville : Lyon\nTitre : Jardins partagés\nBut : Réunir des voisins autour d'un potager.\n"
    (practice,) = client.post("/api/check", files={"file": ("jardins.txt", text.encode("utf-8"))}).json()["practices"]
    warnings = {w["warning"]: w["label"] for w in practice["warnings"]}
    assert warnings["short_description"] == "la description est très courte"
    assert warnings["missing:period_text"] == "manquant : Période de mise en œuvre"

    # A file that cannot be read has no language: the visitor's.
    for headers in ({"accept-language": "fr-CH, fr;q=0.9"}, {"cookie": "icc_lang=fr"}):
        empty = client.post("/api/check", files={"file": ("vide.txt", b"")}, headers=headers)
        assert empty.status_code == 422
        assert (empty.json()["error_code"], empty.json()["message"]) == ("empty_file", "Le fichier est vide (0 octet).")
    client.cookies.clear()
    english = client.post("/api/check", files={"file": ("vide.txt", b"")}).json()
    assert english["message"].startswith("The file is empty"), "in English, the message of files.parquet"
    big = b"x" * (10 * 1024 * 1024 + 1)  # over the upload limit, under the body limit: refused by the route
    too_big = client.post("/api/check", files={"file": ("big.txt", big)}, headers={"accept-language": "fr"})
    assert too_big.status_code == 413 and too_big.json()["message"].startswith("Le fichier dépasse 10 Mo")

    page = client.post("/check", files={"file": ("vide.txt", b"")}, headers={"accept-language": "fr"})
    error = re.search(r'<section class="problem".*?</section>', page.text, re.S).group(0)
    assert "Le fichier est vide (0 octet)." in error and "empty_file" in error
    assert "The file is empty" not in error and 'lang="en"' not in error, "only the French words on a French page"
    english_page = client.post("/check", files={"file": ("vide.txt", b"")}, headers={"accept-language": "en"}).text
    # the file's own message only: the code's general words would repeat it (or, for a picture named .docx,
    # contradict it by listing .docx among the files read)
    assert "The file is empty (0 bytes)." in english_page and "The file is empty." not in english_page
    photo_page = client.post("/check", files={"file": ("photo.docx", b"\x89PNG\r\n\x1a\n" + bytes(64))},
                             headers={"accept-language": "fr"}).text
    assert "Le fichier est une image PNG" in photo_page and "Ce type de fichier n&#39;est pas lu" not in photo_page

    # The detail of the run's message, said in French: the image's kind, a blank form's own words.
    photo = {"file": ("photo.docx", b"\x89PNG\r\n\x1a\n" + bytes(64))}
    answer = client.post("/api/check", files=photo, headers={"accept-language": "fr"}).json()
    assert (answer["error_code"], answer["message"]) == ("unsupported_format", (
        "Le fichier est une image PNG, pas un document : envoyez le formulaire en .docx, ou sa numérisation en PDF "
        "(les pages numérisées sont lues par OCR)."))
    error = re.search(r'<section class="problem".*?</section>',
                      client.post("/check", files=photo, headers={"accept-language": "fr"}).text, re.S).group(0)
    assert "Ce type de fichier n&#39;est pas lu." not in error, "only the detail: the code's words would contradict it"
    assert "Le fichier est une image PNG" in error and 'lang="en"' not in error and "image, not" not in error
    english = client.post("/api/check", files=photo, headers={"accept-language": "en"}).json()
    assert english["message"].startswith("The file is a PNG image, not a document: submit the form as .docx")
    blank = {"file": ("vierge.txt", "Ville :\nTitre :\nBut :\n".encode("utf-8"))}
    answer = client.post("/api/check", files=blank, headers={"accept-language": "fr"}).json()
    assert (answer["status"], answer["message"]) == ("empty_form", "Le formulaire est vide : ni titre ni description "
                                                                   "n'ont été remplis.")


# ----------------------------------------------------------------------------------------- browse and search


def test_search_finds_the_expected_sample_practices_in_both_languages(client):
    body = client.get("/api/practices", params={"q": "mediators"}).json()
    titles = {p["title"] for p in body["practices"]}
    assert {"Community Safety Mediators: local residents bridging Gardaí and migrant communities in the north inner city",
            "Roma school mediators in the western districts of Patras",
            "Médiateurs de résidence : médiation de proximité dans le parc social de Hautepierre et de Cronenbourg",
            "Des médiatrices pour l'accès aux droits et à l'école auprès des familles voyageuses"} <= titles
    accents = client.get("/api/practices", params={"q": "Geneve observatoire"}).json()["practices"]
    assert any(p["title"].startswith("Observatoire genevois") for p in accents)
    assert {p["city"] for p in accents if p["found_by"] == "words"} == {"Genève"} and accents[0]["city"] == "Genève"
    hostile = client.get("/api/practices", params={"q": '" OR 1=1 -- NEAR( * ^'})
    assert hostile.status_code == 200


def test_a_key_term_finds_the_other_languages_plural_and_feminine_forms(client):
    """'mediator' finds a text that says only 'médiateurs' and 'médiatrices', 'school' one that says only 'écoles',
    'école' one that says only 'schools': the other language's forms match with the plural and feminine endings
    the similar stage allows, but whole: 'médias' finds 'media' and 'campaigns', not 'médiation'."""
    def found(q: str) -> set[str]:
        return {p["title"] for p in client.get("/api/practices", params={"q": q, "limit": 100}).json()["practices"]}

    assert "Budget participatif de quartier : toutes et tous les résident·e·s décident" in (
        found("mediator") & found("mediators"))
    assert "« Les Voix de Parc-Ex » : des résident·e·s racontent leur quartier" in found("school") & found("schools")
    ballarat = {"Skilled Arrivals Connect", "Young Voices Panel – multicultural young people advising Council"}
    assert ballarat <= found("école") & found("écoles")

    def practice(pid: str, body: str) -> IndexedPractice:
        return IndexedPractice(pid, "Projet", "Lyon", "fr", None, body, [], [], [], {})

    index = SearchIndex([practice("m1", "Des médiatrices et des médiateurs."), practice("m2", "Une médiation."),
                         practice("p1", "Les médias locaux."), practice("p2", "Local media campaigns."),
                         practice("f1", "Les familles du quartier.")], TermExpander())
    assert sorted(index.search(SearchQuery(q="mediator")).practice_ids) == ["m1", "m2"]
    assert sorted(index.search(SearchQuery(q="médias")).practice_ids) == ["p1", "p2"], "whole forms, not word starts"
    assert index.search(SearchQuery(q="family")).practice_ids == ["f1"]

    # a shared garden is not a park, and a choir finds « chorale »
    index = SearchIndex([practice("g1", "Un jardin partagé au pied des immeubles."), practice("k1", "A renovated park."),
                         practice("c1", "Une chorale de quartier."), practice("e1", "A community garden.")],
                        TermExpander())
    assert sorted(index.search(SearchQuery(q="jardin")).practice_ids) == ["e1", "g1"]
    assert index.search(SearchQuery(q="park")).practice_ids == ["k1"]
    assert index.search(SearchQuery(q="choir")).practice_ids == ["c1"]


def test_facets_filter_and_count(client, web_data):
    everything = client.get("/api/practices", params={"limit": 100}).json()
    assert everything["total"] == 52
    facets = everything["facets"]
    assert {f["value"]: f["count"] for f in facets["lang"]} == {"en": 28, "fr": 24}
    assert {f["label"] for f in facets["country"]} >= {"Switzerland", "France", "Canada", "Norway"}
    swiss = client.get("/api/practices", params={"country": "Switzerland", "limit": 100}).json()
    assert swiss["total"] == 8 and {p["city"] for p in swiss["practices"]} == {"Genève", "Neuchâtel"}
    alias = client.get("/api/practices", params={"city": "Geneva"}).json()
    assert alias["total"] == 4 and {p["city"] for p in alias["practices"]} == {"Genève"}
    french = client.get("/api/practices", params={"lang": "fr", "limit": 100}).json()
    assert french["total"] == 24 and {p["lang"] for p in french["practices"]} == {"fr"}
    running_2017 = client.get("/api/practices", params={"year": "2017"}).json()
    assert {p["city"] for p in running_2017["practices"]} == {"Botkyrka", "Erlangen"}
    mediation = client.get("/api/practices", params={"area": "10", "limit": 100}).json()
    assert all("10" in p["declared_areas"] + p["predicted_areas"] for p in mediation["practices"])
    assert {f["value"]: f["count"] for f in mediation["facets"]["area"]}["10"] == mediation["total"]
    level = client.get("/api/practices", params={"level": "high_impact:3", "limit": 100}).json()
    assert level["total"] == facets["level"]["high_impact"]["3"] == _practices_at_level(web_data, "high_impact", 3)
    assert level["total"] > 0
    # 0: the practices that do not address a criterion (at least 0 would be all of them)
    unaddressed = client.get("/api/practices", params={"level": "transferable:0", "limit": 100}).json()
    assert unaddressed["total"] == facets["level"]["transferable"]["0"] == _practices_at_level(web_data, "transferable", 0)
    assert 0 < unaddressed["total"] < facets["level"]["transferable"]["0"] + facets["level"]["transferable"]["1"]
    assert client.get("/api/practices", params={"level": "transferable:4"}).status_code == 422


def _practices_at_level(data: Path, criterion: str, level: int) -> int:
    criteria = pd.read_parquet(data / "criteria.parquet")
    return int(((criteria["criterion"] == criterion) & (criteria["level"] == level)).sum())


def test_a_chosen_filter_stays_chosen_and_the_other_values_stay_offered(client):
    """Each facet is counted with the other filters but not its own: a city chosen for a search that finds nothing
    there stays selected in its dropdown (with 0), the other cities stay there to switch to, with what choosing
    each gives, and sending the form again (a new query) keeps the city; so for the other dropdowns."""
    fr = {"accept-language": "fr"}

    def options(page: str, name: str) -> dict[str, tuple[str, bool]]:
        select = re.search(rf'<select id="f-{name}".*?</select>', page, re.S).group(0)
        return {value: (html.unescape(label), bool(chosen))
                for value, chosen, label in re.findall(r'<option value="([^"]*)" ?(selected)?>([^<]*)<', select)}

    nothing = client.get("/", params={"q": "Mouraria", "city": "Genf"}, headers=fr).text
    assert '<h2 id="result-count">0 pratique</h2>' in nothing
    cities = options(nothing, "city")
    assert cities["geneve"] == ("Genève (0)", True) and cities["lisbon"] == ("Lisbonne (1)", False)
    sent = BrowserForm(nothing, "search").data(q="quartier")
    assert sent["city"] == "geneve"
    found = client.get("/api/practices", params=sent).json()["practices"]
    assert found and {p["city_listed"] for p in found} == {"Geneva"}, "the city is kept, not dropped"

    strasbourg = client.get("/", params={"city": "Strasbourg"}, headers=fr).text
    everywhere = client.get("/api/practices", params={"limit": 1}).json()["facets"]
    cities = options(strasbourg, "city")
    assert cities["strasbourg"] == ("Strasbourg (5)", True)
    # every city, with as many practices as it holds: switching city needs no clearing first
    assert {value: label.rsplit(" (", 1)[1] for value, (label, _) in cities.items() if value} == {
        f["value"]: f"{f['count']})" for f in everywhere["city"]}
    # the other facets are counted within Strasbourg; Strasbourg's own within the other filters
    api = client.get("/api/practices", params={"city": "Strasbourg", "lang": "en"}).json()
    assert api["total"] == 0 and {f["value"]: f["count"] for f in api["facets"]["lang"]} == {"fr": 5, "en": 0}
    assert next(f["count"] for f in api["facets"]["city"] if f["value"] == "ballarat") > 0

    levels = [("level", "targeted:3"), ("level", "modelable:2")]
    page = client.get("/", params=levels, headers=fr).text
    assert options(page, "level")["targeted:3"][1]
    sent = BrowserForm(page, "search").data()
    assert sorted(sent["level"]) == ["modelable:2", "targeted:3"], "the level filter the dropdown does not show"
    year = client.get("/", params={"year": "1990"}, headers=fr).text
    assert options(year, "year")["1990"] == ("1990 (0)", True)


def test_the_area_facet_counts_the_source_the_area_filter_reads():
    def practice(pid: str, declared: list[str], suggested: list[str]) -> IndexedPractice:
        return IndexedPractice(pid, "Projet", "Lyon", "fr", None, "Texte.", declared, suggested, [], {})

    # with the area filter left out, each area counts the practices choosing it would give, from that source
    index = SearchIndex([practice("a", ["5"], ["7"]), practice("b", ["7"], ["5"]), practice("c", ["9"], ["9"])])
    for source, expected in (("any", {"5": 2, "7": 2, "9": 1}), ("declared", {"5": 1, "7": 1, "9": 1}),
                             ("suggested", {"5": 1, "7": 1, "9": 1})):
        result = index.search(SearchQuery(area="5", area_source=source))
        assert {v.value: v.count for v in result.facets["area"]} == expected, source
        assert result.total == expected["5"]
        for code, n in expected.items():
            assert index.search(SearchQuery(area=code, area_source=source)).total == n, (source, code)


def test_area_facet_tells_declared_from_suggested(client):
    # Lisbon's cricket nights declare areas 9, 3 and 3c; the analysis suggests 16 and 9.
    declared = client.get("/api/practices", params={"area": "16", "area_source": "declared", "limit": 100}).json()
    suggested = client.get("/api/practices", params={"area": "16", "area_source": "suggested", "limit": 100}).json()
    cricket = "Friday Nights Cricket & Futsal in Mouraria"
    assert cricket in {p["title"] for p in suggested["practices"]}
    assert cricket not in {p["title"] for p in declared["practices"]}


@pytest.mark.parametrize("params, bad", [
    ({"level": "targeted:9"}, "targeted:9"), ({"level": "foo:1"}, "foo"), ({"level": "targeted"}, "targeted"),
    ({"area": "99"}, "99"), ({"area_source": "guessed"}, "guessed"), ({"lang": "de"}, "de"),
    ({"year": "last"}, "last"), ({"year": "99999999999999999999"}, "99999999999999999999"),
    ({"country": "Narnia"}, "Narnia"), ({"city": "Atlantis"}, "Atlantis"),
])
def test_a_filter_that_names_nothing_is_refused_not_ignored(client, params, bad):
    response = client.get("/api/practices", params=params)
    assert response.status_code == 422, response.json()
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", next(iter(params))] and bad in error["msg"], error
    page = client.get("/", params=params, headers={"accept": "text/html"})
    assert page.status_code == 422 and bad in page.text and "<html" in page.text


@pytest.mark.parametrize("params, bad, words", [
    ({"area": "99"}, "99", "aucun domaine d'action ne porte le code « 99 »"),
    ({"year": "abc"}, "abc", "une année s'écrit comme 2019, pas « abc »"),
    ({"limit": "abc"}, "abc", "« limit » attend un nombre entier, pas « abc »"),
    ({"offset": "-1"}, "-1", "« offset » vaut au moins 0, pas -1"),
    ({"lang": "de"}, "de", "les pratiques sont en anglais (en) ou en français (fr), pas en « de »"),
    ({"level": "foo:1"}, "foo:1", "« foo:1 » ne nomme aucun critère du guide"),
])
def test_a_refused_address_is_explained_in_the_visitors_language(client, params, bad, words):
    page = client.get("/", params=params, headers={"accept-language": "fr-FR", "accept": "text/html"})
    assert page.status_code == 422
    heading = html.unescape(re.search(r"<h1>(.*?)</h1>", page.text, re.S).group(1))
    assert heading == f"Cette adresse demande quelque chose que le site ne sait pas lire : {words}"
    assert not re.search(r"Input should|expected|unknown|the languages are|\[", heading), heading
    (error,) = client.get("/api/practices", params=params).json()["detail"]
    assert error["loc"] == ["query", next(iter(params))] and error["input"] == bad, "the API answers as FastAPI does"


@pytest.mark.parametrize("accept", [None, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"])
def test_a_bad_address_of_the_site_gets_a_page_in_the_visitors_language_and_the_api_json(client, accept):
    """Whether or not the client names HTML (curl names no type), an address of the site that cannot be read gets
    a French page for a French visitor, saying what is refused and leading to the same search without it; an
    unknown address a page too. The API, and a client asking for JSON, keep FastAPI's JSON."""
    headers = {"accept-language": "fr"} | ({"accept": accept} if accept else {})
    for params, words in [({"year": "abc"}, "une année s'écrit comme 2019, pas « abc »"),
                          ({"area": "99"}, "aucun domaine d'action ne porte le code « 99 »"),
                          ({"country": "Schweiz"}, "aucune ville membre ne se trouve dans un pays nommé « Schweiz »"),
                          ({"city": "Atlantis"}, "« Atlantis » n'est ni une ville membre ni la ville d'une pratique "
                                                 "présentée ici"),
                          ({"lang": "de"}, "pas en « de »"), ({"offset": "-1"}, "« offset » vaut au moins 0"),
                          ({"limit": "1000"}, "« limit » vaut au plus 100, pas 1000"),
                          ({"q": "x" * 201}, "« q » compte au plus 200 caractères")]:
        kept = {name: value for name, value in {"q": "école", "lang": "fr"}.items() if name not in params}
        page = client.get("/", params=kept | params, headers=headers)
        assert page.status_code == 422 and page.headers["content-type"].startswith("text/html"), params
        text = html.unescape(page.text)
        heading = re.search(r"<h1>(.*?)</h1>", text, re.S).group(1)
        assert '<html lang="fr">' in text and words in heading and "x" * 201 not in heading, params
        back = re.search(r'<a href="([^"]*)">La même recherche, sans ce qui a été refusé</a>', text).group(1)
        assert back == "/?" + urlencode(kept), params
    one_of_two = client.get("/", params=[("level", "targeted:2"), ("level", "foo:1")], headers=headers).text
    assert '<a href="/?level=targeted%3A2">' in one_of_two, "the other level filter stays"
    unknown = client.get("/nope", headers=headers)
    assert unknown.status_code == 404 and '<h1>Page introuvable</h1>' in unknown.text
    assert "Retour à la recherche" in unknown.text
    # a listed city without a practice in the run, or an unlisted one with practices, is a filter, not a mistake
    assert client.get("/", params={"city": "Lyon"}, headers=headers).status_code == 200
    api = client.get("/api/practices", params={"year": "abc"}, headers=headers)
    assert api.status_code == 422 and api.json()["detail"][0]["type"] == "not_a_year"
    assert client.get("/api/nope", headers=headers).json() == {"detail": "Not Found"}
    asked = client.get("/", params={"year": "abc"}, headers={"accept": "application/json"})
    assert asked.status_code == 422 and asked.json()["detail"][0]["type"] == "not_a_year"


def test_an_unlisted_city_of_the_run_is_a_filter_an_unknown_one_is_refused(client):
    index = SearchIndex([IndexedPractice("t1", "Naabrid", "Tartu (Estonia)", "en", None, "Neighbours.", [], [], [],
                                         {})])
    assert index.has_city("Tartu") and index.has_city("tartu") and not index.has_city("Atlantis")
    refused = client.get("/api/practices", params={"city": "Atlantis", "q": "school"}).json()["detail"]
    assert [(e["type"], e["input"]) for e in refused] == [("unknown_city", "Atlantis")]


def test_empty_filters_of_the_html_form_mean_any(client):
    blank = {"area": "", "area_source": "", "city": "", "country": "", "lang": "", "year": "", "level": ""}
    assert client.get("/api/practices", params=blank).json()["total"] == 52


def test_a_country_is_found_by_its_english_or_french_name(client):
    swiss = client.get("/api/practices", params={"country": "Switzerland", "limit": 100}).json()
    assert swiss["total"] > 0
    for name in ("Suisse", "suisse", " SWITZERLAND "):
        found = client.get("/api/practices", params={"country": name, "limit": 100}).json()
        assert [p["practice_id"] for p in found["practices"]] == [p["practice_id"] for p in swiss["practices"]], name
    uk = client.get("/api/practices", params={"country": "Royaume-Uni"}).json()
    assert uk["total"] == client.get("/api/practices", params={"country": "United Kingdom"}).json()["total"]
    page = client.get("/", params={"country": "Suisse"}, headers={"accept-language": "fr"}).text
    assert '<option value="Switzerland" selected>' in page, "the facet shows the filter in force"


def test_a_city_written_differently_is_one_city_to_filter_and_find(client):
    """Three forms of Geneva, written three ways, and one of an unlisted city: the city filter takes any of the
    names and finds all three, the facet counts them as one city under its listed name, and a query word naming
    the city in another language finds them as well."""
    def practice(pid: str, city: str, lang: str) -> IndexedPractice:
        return IndexedPractice(pid, f"Practice {pid}", city, lang, None, "Neighbours meet.", [], [], [], {})

    index = SearchIndex([practice("g1", "Ville de Genève", "fr"), practice("g2", "Geneva, Switzerland", "en"),
                         practice("g3", "GENF", "en"), practice("t1", "Tartu (Estonia)", "en")])
    for name in ("Geneva", "Genève", "Ville de Genève", "geneve"):
        assert sorted(index.search(SearchQuery(city=name)).practice_ids) == ["g1", "g2", "g3"], name
    for word in ("Geneva", "Genève", "geneve"):
        assert sorted(index.search(SearchQuery(q=word)).practice_ids) == ["g1", "g2", "g3"], word
    facet = {v.value: (v.label, v.count) for v in index.search(SearchQuery()).facets["city"]}
    assert facet == {"geneve": ("Genève", 3), "tartu": ("Tartu", 1)}
    # the unlisted city is in the country its form wrote after it
    countries = {v.value: v.count for v in index.search(SearchQuery()).facets["country"]}
    assert countries == {"Switzerland": 3, "Estonia": 1}
    assert index.search(SearchQuery(country="Estonie")).practice_ids == ["t1"]
    # on the site: the listed name in the page's language
    for lang, label in (("en", "Geneva"), ("fr", "Genève")):
        page = client.get("/", params={"city": "Ville de Genève"}, headers={"accept-language": lang}).text
        assert re.search(rf'<option value="geneve" selected>{label} \(4\)</option>', page), lang
        assert re.search(rf'<a class="chip" href="/">{label} <span', page), lang


def test_a_query_finds_a_city_by_its_aliases_as_the_city_filter_does(client):
    """The city filter takes an alias of cities.yaml ('Genf', 'Basle'): a query word naming the city by it finds
    the same practices."""
    from pipeline.cities import city_names

    assert city_names("Genf") == ("Genève", "Geneva", "Genf", "Geneve", "Ginevra")
    assert city_names("Ville de Genève") == city_names("Genève") and city_names("Tartu") == ()
    index = SearchIndex([IndexedPractice("b1", "Nachbarn", "Basel", "en", None, "Neighbours meet.", [], [], [], {}),
                         IndexedPractice("l1", "Voisins", "Lyon", "fr", None, "Les voisins.", [], [], [], {})])
    for word in ("Basle", "Bâle", "basel"):
        assert index.search(SearchQuery(q=word)).practice_ids == ["b1"], word
    by_filter = client.get("/api/practices", params={"city": "Genf", "limit": 100}).json()
    by_word = client.get("/api/practices", params={"q": "Genf", "limit": 100}).json()
    assert by_filter["total"] == 4 and by_word["total"] == 4
    assert {p["practice_id"] for p in by_word["practices"]} == {p["practice_id"] for p in by_filter["practices"]}


def test_a_query_finds_a_city_by_a_whole_name_never_by_part_of_one():
    """A query word is the start of a word in titles, objectives and descriptions, but a city is found by a whole
    name only: 'vie' (a French word) is not Vienna's French name Vienne, nor 'city' Québec's English name
    Quebec City, and 'ville' finds no form that wrote 'Ville de Québec'."""
    def practice(pid: str, city: str, title: str) -> IndexedPractice:
        return IndexedPractice(pid, title, city, "fr", None, "Les voisins se rencontrent.", [], [], [], {})

    index = SearchIndex([practice("w1", "Wien", "Fête des voisins"), practice("q1", "Ville de Québec", "Fête"),
                         practice("l1", "Lyon", "La vie du quartier"), practice("o1", "Oslo", "A city of neighbours"),
                         practice("t1", "Tartu (Estonia)", "Naabrid")], TermExpander())

    def found(q: str) -> list[str]:
        return sorted(index.search(SearchQuery(q=q)).practice_ids)

    assert found("vie") == ["l1"] and found("city") == ["o1"] and found("ville") == []
    assert found("Vien") == found("Quebe") == found("Tart") == [] and found("quart") == ["l1"]
    for q in ("Wien", "Vienna", "vienne", "Vienna voisins"):
        assert found(q) == ["w1"], q
    for q in ("Quebec City", "Québec", "Ville de Québec", "voisins quebec city", "fete QUEBEC"):
        assert found(q) == ["q1"], q
    assert found("Tartu") == found("Tartu Estonia") == ["t1"] and found("Quebec Tartu") == []
    # a name's words still match the text where they are in it: 'city neighbours' is Oslo's title
    assert found("city neighbours") == ["o1"]
    # an unlisted city is found by its name without the words naming a municipality, as the reports name it
    unlisted = SearchIndex([practice("k1", "City of Larnaka", "Naabrid")], TermExpander())
    assert unlisted.search(SearchQuery(q="Larnaka")).practice_ids == ["k1"]


def test_a_query_names_a_city_as_its_forms_and_people_write_it():
    """A part of a city written with others ('Geneva / Zurich'), a city typed with the words naming a municipality
    ('Ville de Genève', 'City of Larnaka'), a French elision ("d'Anvers") and an accent typed as a mark of its own
    all find the city; a practice of the city a query names ranks above another city's practice whose title names
    it."""
    def practice(pid: str, city: str, title: str = "Fête") -> IndexedPractice:
        return IndexedPractice(pid, title, city, "fr", None, "Les voisins se rencontrent.", [], [], [], {})

    index = SearchIndex([practice("gz", "Geneva / Zurich"), practice("nk", "Neukölln (Berlin, Germany)"),
                         practice("g1", "Genève"), practice("g2", "Ville de Genève"), practice("l1", "Larnaka"),
                         practice("l2", "City of Larnaka"), practice("an", "Antwerpen"),
                         practice("ly", "Lyon", "Paris style café"), practice("pa", "Paris", "Cafés"),
                         practice("aq", "L'Aquila"), practice("va", "Villeneuve-d’Ascq"),
                         practice("lg", "Lyon & Grenoble")], TermExpander())

    def found(q: str) -> list[str]:
        return sorted(index.search(SearchQuery(q=q)).practice_ids)

    assert found("Zurich") == ["gz"] and found("Berlin") == found("Neukölln") == ["nk"]
    assert found("Grenoble") == ["lg"]  # cities written together with '&', 'and' or « et »
    assert found("Ville de Genève") == found("Gene\u0300ve") == ["g1", "g2", "gz"]
    assert found("City of Larnaka") == found("Larnaka Municipality") == ["l1", "l2"]
    assert found("d'Anvers") == found("ville d’Anvers") == ["an"]
    assert found("L'Aquila") == found("Aquila") == found("l aquila") == found("ville de L’Aquila") == ["aq"]
    assert found("Villeneuve-d'Ascq") == found("Villeneuve d’Ascq") == ["va"] and found("Ascq") == []
    assert found("Ville de Genève voisins") == ["g1", "g2", "gz"] and found("Ville de Genève absent") == []
    assert index.search(SearchQuery(q="Paris")).practice_ids == ["pa", "ly"]
    assert sorted(index.search(SearchQuery(q="Lyon")).practice_ids) == ["lg", "ly"]


def test_the_site_names_a_city_by_its_listed_name_however_its_forms_wrote_it(sample_out, models, tmp_path):
    """Two of the sample's four Geneva practices written 'Ville de Genève' and 'Geneva, Switzerland': the site shows
    one city, Geneva in English and Genève in French, with its four practices, on the search page, the practice
    pages and the similar practices of other cities; the API and the workbook keep what each form wrote."""
    data = copy_run(Path(sample_out), tmp_path / "run")
    practices = pq.read_table(data / "practices.parquet").to_pylist()
    geneva = [p for p in practices if p["city"] == "Genève"]
    assert len(geneva) == 4
    written = {geneva[0]["practice_id"]: "Ville de Genève", geneva[1]["practice_id"]: "Geneva, Switzerland"}
    for row in practices:
        row["city"] = written.get(row["practice_id"], row["city"])
    write_table(data / "practices.parquet", to_table("practices", practices))
    ville = geneva[0]["practice_id"]
    settings = WebSettings(data_dir=data, review_token=TOKEN, warm_up=False, reload_check_seconds=0)
    with TestClient(create_app(settings, models)) as live:
        for lang, label in (("en", "Geneva"), ("fr", "Genève")):
            page = live.get("/", params={"limit": 100}, headers={"accept-language": lang}).text
            cities = re.search(r'<select id="f-city".*?</select>', page, re.S).group(0)
            assert re.findall(r'<option value="geneve" >([^<]+)</option>', cities) == [f"{label} (4)"], lang
            assert "Ville de Genève" not in page
            hits = re.findall(r'data-practice-id="([^"]+)">.*?<div class="meta">\s*<span>([^<]+)</span>', page, re.S)
            country = "Suisse" if lang == "fr" else "Switzerland"
            assert {city for pid, city in hits if pid in written} == {f"{label}, {country}"}
            detail = live.get(f"/practices/{ville}", headers={"accept-language": lang}).text
            assert re.search(rf'<p class="meta">\s*<span>{label}, ', detail) and "Ville de Genève" not in detail
        api = live.get("/api/practices", params={"city": "Geneva", "limit": 100}).json()
        assert api["total"] == 4
        assert {p["city"] for p in api["practices"]} == {"Genève", "Ville de Genève", "Geneva, Switzerland"}
        assert {p["city_listed"] for p in api["practices"]} == {"Geneva"}
        # the city facet of the JSON names the city as `city_listed` does, not as the French pages do
        assert [f for f in api["facets"]["city"] if f["value"] == "geneve"] == [
            {"value": "geneve", "label": "Geneva", "count": 4}]
        everything = live.get("/api/practices", params={"limit": 100}).json()
        listed = {p["city_listed"] for p in everything["practices"]}
        assert {f["label"] for f in everything["facets"]["city"]} == listed and "Geneva" in listed
        found = live.get("/api/practices", params={"q": "Geneva", "limit": 100}).json()["practices"]
        assert ville in {p["practice_id"] for p in found}
        # a practice of another city that lists the Ville de Genève one among its similar practices
        similar = pq.read_table(data / "similar.parquet").to_pylist()
        other = next(r["practice_id"] for r in similar if r["neighbour_id"] == ville and r["rank"] > 0)
        page = live.get(f"/practices/{other}", headers={"accept-language": "en"}).text
        assert "Geneva, Switzerland" in page and "Ville de Genève" not in page
        book = live.get("/export.xlsx", headers={"authorization": f"Bearer {TOKEN}"})
        french = live.get("/export.xlsx", headers={"authorization": f"Bearer {TOKEN}", "accept-language": "fr-FR"})
    rows = list(openpyxl.load_workbook(io.BytesIO(book.content))["practices"].iter_rows(values_only=True))
    sheet = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert {sheet[pid]["city"] for pid in written} == {"Ville de Genève", "Geneva, Switzerland"}
    assert {sheet[p["practice_id"]]["city_listed"] for p in geneva} == {"Geneva"}
    # in the language of the secretariat's pages
    rows = list(openpyxl.load_workbook(io.BytesIO(french.content))["practices"].iter_rows(values_only=True))
    assert {dict(zip(rows[0], row))["city_listed"] for row in rows[1:] if row[0] in written} == {"Genève"}

def test_words_with_oe_and_ae_are_found_however_they_are_typed(client):
    def practice(pid: str, title: str, body: str) -> IndexedPractice:
        return IndexedPractice(pid, title, "Lyon", "fr", None, body, [], [], [], {})

    index = SearchIndex([practice("fr-1", "Jardins du Cœur", "La mise en œuvre par les habitants."),
                         practice("en-1", "Encyclopædia of neighbours", "Written by Æthelred's neighbours."),
                         practice("fr-2", "Un autre projet", "Sans ligature.")])
    for query in ("œuvre", "oeuvre", "OEUVRE", "mise en œuvre", "mise en oeuvre", "cœur", "coeur", "Cœur"):
        assert index.search(SearchQuery(q=query)).practice_ids == ["fr-1"], query
    for query in ("encyclopædia", "encyclopaedia", "aethelred", "Æthelred"):
        assert index.search(SearchQuery(q=query)).practice_ids == ["en-1"], query

    typed = client.get("/api/practices", params={"q": "mise en œuvre", "limit": 100}).json()
    plain = client.get("/api/practices", params={"q": "mise en oeuvre", "limit": 100}).json()
    assert typed["total"] > 0 and typed["practices"] == plain["practices"]


def test_search_page_renders_results_facets_and_pages(client):
    page = client.get("/", params={"area": "10", "lang": "fr"}, headers={"accept-language": "fr"})
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert "Médiateurs de résidence" in page.text and "Community Safety Mediators" not in page.text
    assert 'id="f-area"' in page.text and "Filtres actifs" in page.text
    first = client.get("/", params={"limit": 20})
    assert 'rel="next"' in first.text and "Results 1-20 of 52" in first.text
    empty = client.get("/", params={"q": "zzzzqqq"})
    assert "No practice matches" in empty.text


def test_the_search_page_speaks_to_a_french_visitor_in_french(client):
    fr = {"accept-language": "fr-FR"}
    page = client.get("/", params={"city": "Paris"}, headers=fr).text
    firsts = dict(re.findall(r'<select id="f-(\w+)"[^>]*>\s*<option value="">([^<]+)</option>', page))
    assert firsts == {"area": "Tous les domaines", "city": "Toutes les villes", "country": "Tous les pays",
                      "lang": "Toutes les langues", "year": "Toutes les années", "level": "Tous les niveaux"}
    assert '<nav aria-label="Menu principal">' in page
    # a remove-filter link says what it does in its text, not only in a tooltip
    assert "Filtres actifs\xa0:" in page
    assert re.search(r'<a class="chip" href="/">Paris <span aria-hidden="true">×</span>'
                     r'<span class="visually-hidden"> \(retirer ce filtre\)</span></a>', page)
    counts = [re.search(r'<h2 id="result-count">([^<]+)</h2>',
                        client.get("/", params={"q": query}, headers=headers).text).group(1)
              for query, headers in (("zzzzqqq", fr), ("Cricket Mouraria", fr), ("zzzzqqq", {}))]
    assert counts == ["0 pratique", "1 pratique", "0 practices"]
    first = client.get("/", params={"limit": 20}, headers=fr).text
    assert '<nav class="pages" aria-label="Pages de résultats">' in first


def test_the_areas_of_a_hit_say_which_are_declared_and_which_suggested(client):
    page = client.get("/", params={"q": "Cricket Mouraria"}, headers={"accept-language": "fr"}).text
    (areas,) = re.findall(r'<div class="areas">(.*?)</div>', page, re.S)
    # Lisbon's cricket nights declare areas 9 and 3c (the run adds 3, the parent of 3c); the analysis suggests 16 and 9
    words = re.sub(r"[ \n]+", " ", re.sub(r"<[^>]+>", " ", html.unescape(areas))).strip()
    assert re.fullmatch(r"déclaré par la ville\xa0: 9\. .* 3c\. .* suggéré par l'analyse\xa0: 16\. [^:]*", words), words
    assert " 3. " not in words, "a sub-area is shown as declared, without the parent it implies"
    options = re.findall(r"<option value=\"targeted:(\d)\"[^>]*>([^<]*)</option>", html.unescape(page))
    assert dict(options)["0"] == "Ciblée\xa0: 0, non traité (0)", options  # the level, then the count, once each
    # the filter of level 0 says what it selects, not "at least 0"
    zero = html.unescape(client.get("/", params={"level": "transferable:0"}, headers={"accept-language": "fr"}).text)
    chips = re.findall(r'<a class="chip"[^>]*>([^<]*)<', zero)
    assert "Peut être généralisée\xa0: 0, non traité " in chips and not any("≥ 0" in c for c in chips), chips
    # the practice page tags the declared sub-area, not the parent the run adds to it
    lisbon = client.get("/api/practices", params={"q": "Cricket Mouraria"}).json()["practices"][0]
    page = html.unescape(client.get(lisbon["url"], headers={"accept-language": "fr"}).text)
    rows = {re.sub(r"<[^>]+>", "", a).strip().split(".")[0]: tags
            for a, tags in re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", page, re.S)}
    assert "déclaré" in rows["3c"] and "déclaré" not in rows.get("3", ""), rows
    # the searched words are quoted as the page's language quotes
    chips = html.unescape(client.get("/", params={"q": "cricket"}, headers={"accept-language": "fr"}).text)
    assert "«\xa0cricket\xa0»" in chips or "« cricket »" in chips, re.findall(r'class="chip"[^>]*>([^<]*)', chips)
    english = [p for p in client.get("/api/practices", params={"lang": "en"}).json()["practices"]][0]
    title = re.search(rf'<a class="title" href="{english["url"]}"([^>]*)>', client.get("/", headers={
        "accept-language": "fr"}).text + client.get("/", params={"lang": "en"}, headers={"accept-language": "fr"}).text)
    assert title.group(1) == ' lang="en"', "a screen reader reads an English title in English"


@pytest.mark.parametrize("params, count, back", [({"offset": "1000"}, "52 pratiques", "/?offset=40"),
                                                 ({"city": "paris", "offset": "20"}, "4 pratiques", "/?city=paris")])
def test_a_page_past_the_last_result_says_so_and_leads_back(client, params, count, back):
    page = html.unescape(client.get("/", params=params, headers={"accept-language": "fr"}).text)
    assert f'<h2 id="result-count">{count}</h2>' in page
    assert "Aucune pratique ne correspond" not in page and "Résultats 1001" not in page
    assert f"Les résultats s'arrêtent avant cette page. <a href=\"{back}\">Aller à la dernière page</a>" in page
    assert 'class="hit"' in client.get(back).text


def test_the_practice_page_names_every_column_and_the_language_of_linked_titles(client):
    pid = practice_id(client, "Strasbourg", "Médiateurs de résidence")
    page = client.get(f"/practices/{pid}", headers={"accept-language": "fr"}).text
    areas = re.search(r'<section id="areas">.*?</thead>', page, re.S).group(0)
    assert "<th></th>" not in areas and "<th>déclaré ou suggéré</th>" in areas
    links = re.findall(r'<a class="similar-link" href="[^"]+" hreflang="(\w+)" lang="(\w+)">', page)
    assert links and all(hreflang == lang for hreflang, lang in links)
    assert "en" in {lang for _, lang in links}, "similar practices of English-speaking cities"
    # the main area is marked, and listed first
    main = client.get(f"/api/practices/{pid}").json()["main_area_pred"]
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>", page.split('<section id="areas">')[1].split("</table>")[0], re.S)
    assert rows[0].startswith(Messages.load().translator("fr").area(main)) and '<span class="tag">principal</span>' in rows[0]
    assert sum('class="tag"' in r for r in rows) == 1
    # each similar practice says how close it is, in the words and bands of the city reports
    from pipeline.config import ReportSettings

    bands = {"close": "proche", "related": "apparentée", "loose": "lointainement apparentée"}
    for s in client.get(f"/api/practices/{pid}").json()["similar"]:
        item = html.unescape(re.search(rf'href="/practices/{s["practice_id"]}".*?</li>', page, re.S).group(0))
        word = "rapprochement faible" if s["weak"] else bands[ReportSettings().strength(s["score"])]
        assert f"{s['score']:.2f}".replace(".", ",") + " · " + word in item, item


def test_review_dates_are_read_as_days_and_only_earlier_reviews_are_listed(client):
    t_fr, t_en = Messages.load().translator("fr"), Messages.load().translator("en")
    from datetime import timezone

    assert t_fr.date("2026-12-05T03:28:59+00:00", timezone.utc) == "5 décembre 2026"
    assert t_fr.date("2026-05-01T10:00:00+00:00", timezone.utc) == "1er mai 2026"
    assert t_fr.moment("2026-12-05T03:28:59+00:00", timezone.utc) == "5 décembre 2026 à 03:28 UTC"
    assert t_en.moment("2026-12-05T03:28:59+00:00", timezone.utc) == "5 December 2026, 03:28 UTC"

    pid = practice_id(client, "Paris", "Voisins en première ligne")
    auth = {"authorization": f"Bearer {TOKEN}"}
    for note in ("first", "second", "third"):
        client.post(f"/api/practices/{pid}/review", json={"note": note, "reviewer": "Marie Curie"}, headers=auth)
    n_reviews = len(client.get(f"/api/practices/{pid}", headers=auth).json()["review_history"])
    page = client.get(f"/practices/{pid}", headers=auth | {"accept-language": "fr"}).text
    assert re.search(r"Relue par Marie Curie le \d{1,2}(er)? [a-zéû]+ \d{4}\xa0:", page)
    assert f"Relectures précédentes ({n_reviews - 1})</summary>" in page
    earlier = re.search(r'<details id="review-history">.*?</details>', page, re.S).group(0)
    assert earlier.count("<li>") == n_reviews - 1 and "third" not in earlier and "second" in earlier
    assert not re.search(r"\d{4}-\d\d-\d\dT", page), "no raw timestamp"


def test_language_switch_is_remembered(client):
    response = client.get("/lang", params={"to": "fr", "next": "/check"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/check"
    page = client.get("/check")
    assert "Vérifiez votre formulaire" in page.text
    for elsewhere in ("//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example/"):
        response = client.get("/lang", params={"to": "en", "next": elsewhere}, follow_redirects=False)
        assert response.headers["location"] == "/", elsewhere
    client.cookies.clear()


def test_practice_page_shows_sections_areas_criteria_and_similar_practices_elsewhere(client):
    pid = practice_id(client, "Strasbourg", "Médiateurs de résidence")
    detail = client.get(f"/api/practices/{pid}").json()
    assert set(detail["sections"]) == {"purpose", "starting_point", "process", "impact", "references"}
    assert any(a["declared"] and a["suggested"] and a["evidence"] for a in detail["areas"])
    assert len(detail["criteria"]) == 6 and all("hint" in c for c in detail["criteria"])
    assert detail["similar"] and all(s["city"] != "Strasbourg" for s in detail["similar"])
    assert "contact_person" not in detail and "julien.ostermann@example.org" not in str(detail)
    page = client.get(f"/practices/{pid}")
    assert page.status_code == 200
    for s in detail["similar"]:
        assert f'href="/practices/{s["practice_id"]}"' in page.text
    assert "Julien Ostermann" not in page.text
    assert client.get("/practices/nope-1").status_code == 404
    assert client.get("/api/practices/nope-1").status_code == 404


def test_practice_page_gives_hints_and_check_details_in_the_page_language(client):
    from html import unescape

    from pipeline.criteria import criteria_phrasebook

    book = criteria_phrasebook()
    french = [p["practice_id"] for p in client.get("/api/practices", params={"limit": 100}).json()["practices"]
              if p["lang"] == "fr"]
    details_of = (client.get(f"/api/practices/{pid}").json() for pid in french)
    detail = next(d for d in details_of if any(c["hint"] for c in d["criteria"]))
    pid = detail["practice_id"]
    hints = [c["hint"] for c in detail["criteria"] if c["hint"]]
    details = [g["detail"] for g in detail["guidelines"]]
    for lang in ("fr", "en"):
        page = unescape(client.get(f"/practices/{pid}", headers={"cookie": f"icc_lang={lang}"}).text)
        for text in hints + details:
            said = book.say(text, lang)
            assert said in page, (lang, said)
            if lang == "en":
                assert said != text and text not in page, text
        # a check's detail after its verdict and a dash (the detail may hold a colon); French spacing before '%'
        assert "</span> – " in page and "</span>\xa0: " not in page and "</span>: " not in page
        percents = re.findall(r"\d(\s?)%(?![0-9A-F]{2})", page)  # not an escape of an address
        assert percents and set(percents) == ({"\xa0"} if lang == "fr" else {""})
    client.cookies.clear()


def test_pages_load_nothing_from_elsewhere_and_carry_security_headers(client):
    page = client.get("/")
    assert "content-security-policy" in page.headers and "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    for body in (page.text, client.get("/check").text):
        assert not re.search(r'(src|href)="(https?:)?//', body), "no asset from another site"
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200


# ----------------------------------------------------------------------------------------- review


def test_review_api_needs_the_token_refuses_unknown_codes_and_stores_what_is_given(client, web_data):
    pid = practice_id(client, "Oslo", "Mirroring Oslo")
    url = f"/api/practices/{pid}/review"
    good = {"main_area": "1", "areas": ["1", "7"], "criteria": {"targeted": 2}, "note": "checked with the city"}
    assert client.post(url, json=good).status_code == 401
    assert client.post(url, json=good, headers={"authorization": "Bearer wrong-token-000000000"}).status_code == 401
    auth = {"authorization": f"Bearer {TOKEN}"}
    for bad in ({"main_area": "99"}, {"areas": ["1", "17b"]}, {"criteria": {"targeted": 4}},
                {"criteria": {"targeted": "2"}}, {"criteria": {"targeted": True}}, {"criteria": {"kindness": 2}},
                {"colour": "blue"}, {}):
        assert client.post(url, json=bad, headers=auth).status_code == 422, bad
    assert client.post("/api/practices/nope-1/review", json=good, headers=auth).status_code == 404

    saved = client.post(url, json=good | {"reviewer": "Anna"}, headers=auth)
    assert saved.status_code == 201
    assert saved.json()["review"]["areas"] == ["1", "7"]
    later = client.post(url, json={"criteria": {"modelable": 0}}, headers=auth).json()["review"]
    assert later["main_area"] == "1" and later["criteria"] == {"targeted": 2, "modelable": 0}, "left-out fields stay"
    assert later["reviewer"] == "api" and later["n_reviews"] == 2

    detail = client.get(f"/api/practices/{pid}", headers=auth).json()
    assert detail["review"]["main_area"] == "1" and len(detail["review_history"]) == 2
    # reviewers' names and notes are the secretariat's: a visitor sees the practice without them
    client.cookies.clear()
    public = client.get(f"/api/practices/{pid}").json()
    assert public["review"] is None and public["review_history"] == [] and public["title"] == detail["title"]
    visitor_page = client.get(f"/practices/{pid}").text
    # the secretariat sees the form's contact person, to put cities in touch; a visitor never does
    contact = client.app.state.services.catalogues.current().practices[pid]["contact_person"]
    assert contact and detail["header"]["contact_person"] == contact and "contact_person" not in public["header"]
    staff_page = client.get(f"/practices/{pid}", headers=auth).text
    assert "shown to the secretariat" in staff_page and "shown to the secretariat" not in client.get(f"/practices/{pid}").text
    assert contact.split(",")[0] not in visitor_page
    # nor is a visitor told it was not reviewed
    assert "Anna" not in visitor_page and "Not reviewed yet." not in visitor_page
    with sqlite3.connect(web_data / "reviews.sqlite") as db:
        assert db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 3
        assert db.execute("SELECT reviewer FROM reviews WHERE practice_id = ? ORDER BY id", (pid,)).fetchall() == [
            ("Anna",), ("api",)]
        # the practice's city and title are kept with the review, to name it once its file has changed
        assert db.execute("SELECT DISTINCT city, title FROM reviews WHERE practice_id = ?", (pid,)).fetchall() == [
            (detail["city"], detail["title"])]


def test_html_review_needs_a_login_and_a_csrf_token(client):
    pid = practice_id(client, "Lublin", "Online reporting point")
    client.cookies.clear()
    login_page = client.get("/review/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text).group(1)
    assert client.post("/review/login", data={"reviewer": "Marie", "token": TOKEN}).status_code == 403
    assert client.post("/review/login", data={"reviewer": "Marie", "token": "wrong", "csrf_token": csrf}).status_code == 401
    logged = client.post("/review/login", data={"reviewer": "Marie", "token": TOKEN, "csrf_token": csrf},
                         follow_redirects=False)
    assert logged.status_code == 303 and "icc_review_session" in logged.headers["set-cookie"]

    page = client.get(f"/practices/{pid}")
    assert 'class="review-form"' in page.text and "Logged in as Marie" in page.text
    assert "train --criteria --reviews" in page.text  # the reviewer learns where the corrections go
    form = {"main_area": "4", "areas": ["4", "7", "7c"], "level_targeted": "3", "level_modelable": "", "note": "ok"}
    refused = client.post(f"/practices/{pid}/review", data=form, follow_redirects=False)
    assert refused.status_code == 403
    assert client.post(f"/practices/{pid}/review", data=form | {"csrf_token": "forged"}).status_code == 403
    assert client.get(f"/api/practices/{pid}").json()["review"] is None, "nothing stored without the CSRF token"

    stored = client.post(f"/practices/{pid}/review", data=form | {"csrf_token": csrf}, follow_redirects=False)
    assert stored.status_code == 303
    review = client.get(f"/api/practices/{pid}").json()["review"]
    assert (review["reviewer"], review["main_area"], review["areas"]) == ("Marie", "4", ["4", "7", "7c"])
    assert review["criteria"] == {"targeted": 3}
    bad = client.post(f"/practices/{pid}/review", data={"level_targeted": "5", "csrf_token": csrf})
    assert bad.status_code == 422
    session = client.cookies.get("icc_review_session")
    assert client.get("/export.xlsx").status_code == 200
    assert client.post("/review/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    # logging out ends the login on the server: a copy of its cookie no longer opens the secretariat's pages
    client.cookies.set("icc_review_session", session)
    assert client.get("/export.xlsx").status_code == 401
    assert "Logged in as Marie" not in client.get(f"/practices/{pid}").text
    client.cookies.clear()
    log_in(client, "Marie")  # a new login works
    assert client.get("/export.xlsx").status_code == 200
    client.cookies.clear()


def test_a_refused_review_form_says_why_in_the_reviewers_language(client):
    pid = client.get("/api/practices", params={"city": "Botkyrka"}).json()["practices"][0]["practice_id"]
    csrf = log_in(client, "Marie")
    french = {"accept-language": "fr-FR", "accept": "text/html"}

    def refusal(**form) -> str:
        page = client.post(f"/practices/{pid}/review", data=form | {"csrf_token": csrf}, headers=french)
        assert page.status_code == 422
        return html.unescape(re.search(r'<p class="problem" role="alert" id="review-problem">(.*?)</p>', page.text,
                                       re.S).group(1))

    assert refusal(main_area="99", level_targeted="7") == (
        "La relecture n'a pas pu être enregistrée : « 99 » n'est pas un domaine d'action du guide\xa0; "
        "un niveau va de 0 à 3")
    assert refusal(areas=["4", "17z"]).endswith(": ce ne sont pas des domaines d'action du guide : 17z")
    assert refusal(note=" ") == ("La relecture n'a pas pu être enregistrée : rien n'a été renseigné : choisissez un "
                                 "domaine ou un niveau, ou écrivez une remarque")
    assert client.get(f"/api/practices/{pid}").json()["review"] is None
    client.cookies.clear()


def test_a_note_is_measured_with_its_line_breaks_counted_as_the_browser_counts_them(client):
    """A browser sends each line break as CR LF but counts it as one character against the textarea's maxlength:
    700 lines of 'line' are 3500 characters there, 4200 as sent. They are saved, as LF."""
    pid = client.get("/api/practices", params={"city": "Bergen"}).json()["practices"][0]["practice_id"]
    csrf = log_in(client, "Lena")
    note = "line\r\n" * 700
    saved = client.post(f"/practices/{pid}/review", data={"note": note, "csrf_token": csrf}, follow_redirects=False)
    assert saved.status_code == 303
    assert client.get(f"/api/practices/{pid}").json()["review"]["note"] == ("line\n" * 700).strip()
    api = client.post(f"/api/practices/{pid}/review", json={"note": "a\r\nb\rc"},
                      headers={"authorization": f"Bearer {TOKEN}"})
    assert api.status_code == 201 and api.json()["review"]["note"] == "a\nb\nc"
    too_long = client.post(f"/api/practices/{pid}/review", json={"note": "x\r\n" * 2001},
                           headers={"authorization": f"Bearer {TOKEN}"})
    assert too_long.status_code == 422
    client.cookies.clear()


def test_a_refused_review_comes_back_filled_in_with_why_above_it(client):
    """A refused review shows the practice page again, its review form holding what was typed and the reason above
    it; an expired form (its token's cookie gone with the browser session) comes back the same way with a fresh
    token, so that one more click saves it."""
    pid = client.get("/api/practices", params={"city": "Limassol"}).json()["practices"][0]["practice_id"]
    csrf = log_in(client, "Lena")
    french = {"accept-language": "fr", "accept": "text/html"}
    typed = {"main_area": "4", "areas": ["4", "7"], "level_targeted": "2", "note": "\nPremière ligne\nseconde"}
    refused = client.post(f"/practices/{pid}/review", data=typed | {"note": "x" * 4001, "csrf_token": csrf},
                          headers=french)
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    problem = text.index("La relecture n'a pas pu être enregistrée : une remarque compte au plus 4000 caractères")
    assert text.index('<h2>Relecture</h2>') < problem < text.index('class="review-form"')
    kept = BrowserForm(refused.text, "review-form").data()
    assert kept == typed | {"note": "x" * 4001, "csrf_token": csrf} | {
        f"level_{c}": "" for c in CRITERIA if c != "targeted"}, "what was typed, the rest left unreviewed"
    assert client.get(f"/api/practices/{pid}").json()["review"] is None

    client.cookies.delete("icc_csrf")  # the browser was closed: its session cookies are gone, the login stays
    expired = client.post(f"/practices/{pid}/review", data=typed | {"csrf_token": csrf}, headers=french)
    assert expired.status_code == 403
    assert "Le formulaire avait expiré ou ne venait pas de ce site" in html.unescape(expired.text)
    again = BrowserForm(expired.text, "review-form").data()
    assert again["csrf_token"] != csrf and again["note"] == typed["note"] and again["areas"] == ["4", "7"]
    saved = client.post(f"/practices/{pid}/review", data=again, follow_redirects=False)
    assert saved.status_code == 303
    review = client.get(f"/api/practices/{pid}").json()["review"]
    assert (review["main_area"], review["areas"], review["criteria"], review["note"], review["reviewer"]) == (
        "4", ["4", "7"], {"targeted": 2}, typed["note"].strip(), "Lena")

    # refused once logged in again, the review the login form carried comes back the same way
    client.cookies.delete("icc_review_session")
    ended = client.post(f"/practices/{pid}/review", data=again | {"level_targeted": "7"}, headers=french)
    login = BrowserForm(ended.text, "login").data(reviewer="Lena", token=TOKEN)
    refused = client.post("/review/login", data=login, headers=french)
    assert refused.status_code == 422 and "Connecté·e en tant que Lena" in refused.text
    assert "un niveau va de 0 à 3" in refused.text
    assert BrowserForm(refused.text, "review-form").data()["note"] == typed["note"]
    client.cookies.clear()


def test_the_page_says_a_review_was_saved_only_right_after_the_save(client):
    """The confirmation shows on the page a save leads to, once: not on a reload, not from an address that asks
    for it, not on another practice's page."""
    pid, other = [p["practice_id"] for p in client.get("/api/practices", params={"city": "Barcelona"}).json()[
        "practices"]][:2]
    said = "The review was saved."
    csrf = log_in(client, "Lena")
    assert said not in client.get(f"/practices/{pid}", params={"saved": "true"}).text
    saved = client.post(f"/practices/{pid}/review", data={"note": "Seen.", "csrf_token": csrf})
    assert saved.status_code == 200 and saved.url.path == f"/practices/{pid}" and said in saved.text
    assert said not in client.get(f"/practices/{pid}").text, "a reload does not say it again"
    client.post(f"/practices/{pid}/review", data={"note": "Seen again.", "csrf_token": csrf}, follow_redirects=False)
    assert said not in client.get(f"/practices/{other}").text
    client.cookies.clear()
    assert said not in client.get(f"/practices/{pid}?saved=true").text


def test_the_spreadsheet_asks_a_visitor_to_log_in_and_comes_back_to_it(client):
    client.cookies.clear()
    refused = client.get("/export.xlsx", headers={"accept-language": "fr-FR", "accept": "text/html"})
    assert refused.status_code == 401
    assert "Seul le secrétariat peut ouvrir cette page : connectez-vous d&#39;abord." in refused.text
    assert "Bearer" not in refused.text and "secretariat:" not in refused.text
    login = re.search(r'<main id="main" tabindex="-1">.*?<a href="(/review/login[^"]*)">Se connecter</a>', refused.text, re.S).group(1)
    assert login == "/review/login?next=%2Fexport.xlsx"
    form = BrowserForm(client.get(login).text, "login")
    logged = client.post("/review/login", data=form.data(reviewer="Marie", token=TOKEN), follow_redirects=False)
    assert logged.status_code == 303 and logged.headers["location"] == "/export.xlsx"
    assert client.get("/export.xlsx").status_code == 200
    client.cookies.clear()


def test_a_review_sent_after_the_session_ended_is_saved_once_logged_in_again(client):
    pid = practice_id(client, "Patras", "Roma school mediators")
    log_in(client, "Ines")
    form = BrowserForm(client.get(f"/practices/{pid}").text, "review-form")
    client.cookies.delete("icc_review_session")  # the session ends while the reviewer types
    entries = form.data(main_area="4", areas=["4", "10"], level_targeted="2", note="Seen with the city.\nTwo lines.")
    ended = client.post(f"/practices/{pid}/review", data=entries, headers={"accept-language": "fr"},
                        follow_redirects=False)
    assert ended.status_code == 401 and 'class="login"' in ended.text
    assert "Vous n&#39;êtes plus connecté·e (une session dure 12 heures)" in ended.text
    assert client.get(f"/api/practices/{pid}", headers={"authorization": f"Bearer {TOKEN}"}).json()["review"] is None

    login = BrowserForm(ended.text, "login")
    wrong = client.post("/review/login", data=login.data(reviewer="Ines", token="wrong"))
    kept = [(k, "Ines" if k == "reviewer" else v) for k, v in login.fields]  # and the name typed
    assert wrong.status_code == 401 and BrowserForm(wrong.text, "login").fields == kept, "entries kept"
    saved = client.post("/review/login", data=login.data(reviewer="Ines", token=TOKEN), follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/practices/{pid}#review"
    review = client.get(f"/api/practices/{pid}").json()["review"]
    assert (review["reviewer"], review["main_area"], review["areas"]) == ("Ines", "4", ["4", "10"])
    assert review["criteria"] == {"targeted": 2} and review["note"] == "Seen with the city.\nTwo lines."
    client.cookies.clear()


def _language_switch(page: str) -> tuple[str, dict]:
    """Where the site header's language switch of a login page posts, and what it sends."""
    header = re.search(r'<header class="site">.*?</header>', page, re.S).group(0)
    action = re.search(r'<form method="post" action="([^"]+)" class="[^"]*\blang-switch\b', header)
    assert action, "the switch is a form"
    return html.unescape(action.group(1)), BrowserForm(header, "lang-switch").data()


def test_switching_language_on_the_login_page_keeps_the_review_it_carries(client):
    pid = practice_id(client, "Patras", "Roma school mediators")
    log_in(client, "Ines")
    form = BrowserForm(client.get(f"/practices/{pid}").text, "review-form")
    client.cookies.delete("icc_review_session")  # the session ends while the reviewer types
    entries = form.data(main_area="9", level_targeted="1", note="Checked with the city.\nTwo lines.")
    ended = client.post(f"/practices/{pid}/review", data=entries, headers={"accept-language": "en"})
    assert ended.status_code == 401 and "You are no longer logged in" in ended.text
    login = BrowserForm(ended.text, "login")

    action, switch = _language_switch(ended.text)
    switched = client.post(action, data=switch, follow_redirects=False)
    assert switched.status_code == 200 and '<html lang="fr">' in switched.text
    assert "Vous n&#39;êtes plus connecté·e (une session dure 12 heures)" in switched.text, "still says why"
    assert BrowserForm(switched.text, "login").fields == login.fields, "the review and where it goes are kept"
    action, back = _language_switch(switched.text)  # and back to English, still carrying them
    carried = {name: value for name, value in login.data().items() if name != "reviewer"}  # its hidden fields
    assert back["to"] == "en" and {name: value for name, value in back.items() if name != "to"} == carried
    assert "Vérifiez votre formulaire" in client.get("/check").text, "the language chosen is remembered"

    saved = client.post("/review/login", data=BrowserForm(switched.text, "login").data(reviewer="Ines", token=TOKEN),
                        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/practices/{pid}#review"
    review = client.get(f"/api/practices/{pid}").json()["review"]
    assert (review["reviewer"], review["main_area"], review["criteria"]) == ("Ines", "9", {"targeted": 1})
    assert review["note"] == "Checked with the city.\nTwo lines."

    # a switch sent from elsewhere (no valid CSRF token) puts no review in the login form
    client.cookies.delete("icc_review_session")
    forged = client.post(action, data=switch | {"csrf_token": "forged", "review:note": "not mine"})
    assert forged.status_code == 403 and "review_of" not in forged.text and "not mine" not in forged.text
    # a login page reached by a link keeps where it goes as well
    action, switch = _language_switch(client.get("/review/login", params={"next": "/export.xlsx"}).text)
    assert dict(BrowserForm(client.post(action, data=switch).text, "login").fields)["next"] == "/export.xlsx"
    client.cookies.clear()


def test_reloading_the_language_switch_of_the_login_page_leads_back_to_it(client):
    """The switch posts to /review/login/lang: reloading that address (or opening it) is no error page but the
    login page, in the language chosen, still going where it went when the address says so."""
    action, switch = _language_switch(client.get("/review/login", params={"next": "/export.xlsx"}).text)
    assert action == "/review/login/lang" and client.post(action, data=switch).status_code == 200
    again = client.get(action, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/review/login"
    page = client.get(action, headers={"accept-language": "en"})
    assert page.status_code == 200 and f'<html lang="{switch["to"]}">' in page.text, "the language chosen"
    kept = client.get(action, params={"next": "/export.xlsx"}, follow_redirects=False)
    assert kept.status_code == 303 and kept.headers["location"] == "/review/login?next=%2Fexport.xlsx"
    assert dict(BrowserForm(client.get(kept.headers["location"]).text, "login").fields)["next"] == "/export.xlsx"
    for elsewhere in ("//evil.example/x", "https://evil.example/"):
        refused = client.get(action, params={"next": elsewhere}, follow_redirects=False)
        assert refused.status_code == 303 and refused.headers["location"] == "/review/login", elsewhere
    client.cookies.clear()


def test_a_login_sent_from_elsewhere_carries_no_review(client):
    """A page of another site could post a login holding a review: the login page it gets back must not carry that
    review, or the reviewer logging in there would save it under their own name."""
    pid = practice_id(client, "Patras", "Roma school mediators")
    client.cookies.clear()
    forged = client.post("/review/login", data={"csrf_token": "forged", "next": "/", "review_of": pid,
                                                "review:note": "planted", "review:main_area": "1"})
    assert forged.status_code == 403
    login = BrowserForm(forged.text, "login")
    assert not any(name == "review_of" or name.startswith("review:") for name, _ in login.fields)
    assert "planted" not in forged.text
    client.cookies.clear()


def _header_link(page: str, start: str) -> str | None:
    """The address of the site header's link that starts with `start` (None when the header has none)."""
    header = re.search(r'<header class="site">.*?</header>', page, re.S).group(0)
    return next((html.unescape(href) for href in re.findall(r'<a[^>]* href="([^"]+)"', header)
                 if href.startswith(start)), None)


def test_the_header_of_a_page_answering_a_review_form_leads_back_to_the_practice(client):
    pid = practice_id(client, "Patras", "Roma school mediators")
    csrf = log_in(client, "Ines")
    client.cookies.delete("icc_review_session")  # the session ends while the reviewer types
    ended = client.post(f"/practices/{pid}/review", data={"csrf_token": csrf, "note": "kept"})
    assert ended.status_code == 401
    assert _header_link(ended.text, "/review/login") is None, "the page's own form is the login that keeps the review"
    assert _header_link(ended.text, "/lang") is None, "its language switch keeps the review too, which a link would not"

    refused = client.post(f"/practices/{pid}/review", data={"csrf_token": "stale", "note": "lost"})
    assert refused.status_code == 403
    login = BrowserForm(client.get(_header_link(refused.text, "/review/login")).text, "login")
    back = client.post("/review/login", data=login.data(reviewer="Ines", token=TOKEN))
    assert back.status_code == 200 and str(back.url).endswith(f"/practices/{pid}")
    client.cookies.clear()


def test_logging_in_from_a_practice_comes_back_to_it_and_never_elsewhere(client):
    pid = practice_id(client, "Oslo", "Coffee and facts")
    client.cookies.clear()
    link = re.search(r'<a href="([^"]+)">Log in</a>', client.get(f"/practices/{pid}").text).group(1)
    assert html.unescape(link) == f"/review/login?next=%2Fpractices%2F{pid}%23review"
    form = BrowserForm(client.get(html.unescape(link)).text, "login")
    back = client.post("/review/login", data=form.data(reviewer="Sam", token=TOKEN), follow_redirects=False)
    assert back.headers["location"] == f"/practices/{pid}#review"
    for elsewhere in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        form = BrowserForm(client.get("/review/login", params={"next": elsewhere}).text, "login")
        away = client.post("/review/login", data=form.data(reviewer="Sam", token=TOKEN), follow_redirects=False)
        assert away.headers["location"] == "/", elsewhere
    client.cookies.clear()


def test_an_oversized_login_or_review_gets_the_sites_page_saying_so_in_the_visitors_language(client):
    pid = practice_id(client, "Oslo", "Coffee and facts")
    csrf = log_in(client, "Sam")
    before = client.get(f"/api/practices/{pid}").json()["review"]
    french = {"accept-language": "fr-FR", "accept": "text/html"}
    said = "Le formulaire envoyé dépasse 64 Ko, bien plus qu&#39;il n&#39;en faut pour une connexion ou une relecture"
    login = client.post("/review/login", data={"reviewer": "Sam", "token": TOKEN, "csrf_token": csrf,
                                               "note": "x" * 70_000}, headers=french)
    review = client.post(f"/practices/{pid}/review", data={"csrf_token": csrf, "note": "x" * 70_000}, headers=french)

    def chunks():  # no Content-Length: refused once the body grows past the limit
        for _ in range(10):
            yield b"note=" + b"y" * 10_000

    streamed = client.post(f"/practices/{pid}/review", content=chunks(),
                           headers=french | {"content-type": "application/x-www-form-urlencoded"})
    for page in (login, review, streamed):
        assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
        assert '<header class="site">' in page.text and said in page.text
        assert "10 Mo" not in page.text, "not the upload's words"
    api = client.post(f"/api/practices/{pid}/review", json={"note": "x" * 70_000},
                      headers={"authorization": f"Bearer {TOKEN}"})
    assert api.status_code == 413 and api.json() == {"detail": "a review is at most 64 KB"}
    assert client.get(f"/api/practices/{pid}").json()["review"] == before, "nothing saved"
    client.cookies.clear()


def test_the_review_form_stores_only_the_fields_the_reviewer_sets(client):
    pid = practice_id(client, "Dublin", "Community Safety Mediators")
    detail = client.get(f"/api/practices/{pid}").json()
    log_in(client, "Ines")
    page = client.get(f"/practices/{pid}").text
    assert "Not reviewed yet." in page  # the secretariat is told what no one has reviewed
    assert "<dt>Contact person</dt>" in page and "@example.org" in page  # ... and whom to write to
    form = BrowserForm(page, "review-form")
    untouched = form.data()
    assert all(untouched.get(name, "") == "" for name in ("main_area", *(f"level_{c}" for c in CRITERIA))), untouched
    assert "areas" not in untouched, "no area ticked before the reviewer ticks one"
    # The analysis's answers are there to read, beside each field.
    assert f'id="main_area-predicted">analysis: {detail["main_area_pred"]}. ' in page
    for c in detail["criteria"]:
        assert re.search(rf'id="level_{c["criterion"]}-predicted">analysis: {c["level"]} – ', page), c["criterion"]

    assert detail["main_area_pred"] != "4"
    saved = client.post(f"/practices/{pid}/review", data=form.data(main_area="4"), follow_redirects=False)
    assert saved.status_code == 303
    review = client.get(f"/api/practices/{pid}").json()["review"]
    assert (review["reviewer"], review["main_area"], review["areas"], review["criteria"]) == ("Ines", "4", None, {})

    # A sub-area ticked alone brings its parent; the main area comes first.
    form = BrowserForm(client.get(f"/practices/{pid}").text, "review-form")
    client.post(f"/practices/{pid}/review", data=form.data(main_area="4", areas=["3b", "10"]), follow_redirects=False)
    review = client.get(f"/api/practices/{pid}").json()["review"]
    assert review["areas"] == ["4", "3", "3b", "10"] and review["criteria"] == {}
    page = client.get(f"/practices/{pid}").text
    assert "reviewed: 4. " in page and "reviewed: 4, 3, 3b, 10" in page, "what was reviewed is shown beside it"
    assert "reviewed: 1 – " not in page
    client.post(f"/practices/{pid}/review", data=form.data(level_targeted="1"), follow_redirects=False)
    assert "reviewed: 1 – " in client.get(f"/practices/{pid}").text
    client.cookies.clear()


def test_each_reviewed_value_is_credited_to_whoever_set_it(client, web_data, tmp_path):
    """Élodie reviews the main area, the areas, two levels and a note; Jean then reviews one level only: the page,
    the API, reviews.parquet and the workbook credit each value to the one who set it."""
    pid = client.get("/api/practices", params={"city": "Bergen"}).json()["practices"][0]["practice_id"]
    auth = {"authorization": f"Bearer {TOKEN}"}
    client.post(f"/api/practices/{pid}/review", headers=auth, json={
        "main_area": "7b", "areas": ["7b", "3"], "criteria": {"targeted": 2, "needs_based": 1},
        "note": "Checked with the city.", "reviewer": "Élodie Martin"})
    client.post(f"/api/practices/{pid}/review", headers=auth, json={"criteria": {"modelable": 2},
                                                                    "reviewer": "Jean Dupont"})
    review = client.get(f"/api/practices/{pid}", headers=auth).json()["review"]
    assert review["reviewer"] == "Jean Dupont", "who reviewed last"
    assert review["reviewers"] == ["Élodie Martin", "Jean Dupont"]
    assert review["set_by"] == {"main_area": "Élodie Martin", "areas": "Élodie Martin", "targeted": "Élodie Martin",
                                "needs_based": "Élodie Martin", "modelable": "Jean Dupont", "note": "Élodie Martin"}
    page = html.unescape(client.get(f"/practices/{pid}", headers=auth).text)
    said = [" ".join(re.sub(r"<[^>]+>", " ", part).split())
            for part in re.findall(r'<p class="reviewed-by">(.*?)</p>\s*(<blockquote>.*?</blockquote>)?', page, re.S)
            for part in part if part]
    assert len(said) == 3, said
    assert re.fullmatch(r"Reviewed by Élodie Martin on \d+ \w+ \d{4}: Main area 7b\. .+ Area set: 7b, 7, 3\. "
                        r"Targeted 2/3, Needs-based 1/3", said[0]), said[0]
    assert said[1] == "Checked with the city.", "the note under the name of who wrote it"
    assert re.fullmatch(r"Reviewed by Jean Dupont on \d+ \w+ \d{4}: Modelable 2/3", said[2]), said[2]

    from pipeline.web.reviews import ReviewInput

    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add(pid, ReviewInput(main_area="7b", areas=["7b", "3"], criteria={"targeted": 2, "needs_based": 1},
                               note="Checked with the city."), "Élodie Martin")
    store.add(pid, ReviewInput(criteria={"modelable": 2}), "Jean Dupont")
    store.close()
    [row] = pq.read_table(export_reviews(store.path, tmp_path)).to_pylist()
    assert (row["reviewer"], row["reviewers"]) == ("Jean Dupont", ["Élodie Martin", "Jean Dupont"])
    assert row["set_by"]["main_area"] == row["set_by"]["note"] == "Élodie Martin"
    assert row["set_by"]["modelable"] == "Jean Dupont" and row["set_by"]["high_impact"] is None
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(web_data, [row])))
    header = [c.value for c in book["reviews"][1]]
    [cells] = [dict(zip(header, r)) for r in book["reviews"].iter_rows(min_row=2, values_only=True)]
    assert cells["reviewers"] == "Élodie Martin; Jean Dupont"
    assert cells["set_by"] == "Élodie Martin: main_area, areas, targeted, needs_based, note; Jean Dupont: modelable"


def test_a_sub_area_is_stored_with_its_parent(client):
    from pipeline.web.reviews import ReviewInput

    pid = client.get("/api/practices", params={"city": "Erlangen"}).json()["practices"][0]["practice_id"]
    auth = {"authorization": f"Bearer {TOKEN}"}
    saved = client.post(f"/api/practices/{pid}/review", json={"areas": ["3b", "1"]}, headers=auth)
    assert saved.status_code == 201 and saved.json()["review"]["areas"] == ["3", "3b", "1"]
    assert ReviewInput(areas=["3b", "5"]).areas == ["3", "3b", "5"]
    assert ReviewInput(areas=["14a", "14c", "3"]).areas == ["14", "14a", "14c", "3"]
    assert ReviewInput(main_area="3b", areas=["5"]).areas == ["3b", "3", "5"]
    assert ReviewInput(main_area="5", areas=["7c", "3"]).areas == ["5", "7", "7c", "3"]
    assert ReviewInput(main_area="3b").areas is None, "a main area alone reviews no area set"


def test_the_review_api_is_documented_with_its_reviewer_field():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `POST /api/practices/{id}/review`"))
    assert '"reviewer": ' in row and '"api"' in row


def test_review_is_off_without_a_token_and_says_so(web_data, models, tmp_path):
    settings = WebSettings(data_dir=web_data, reviews_path=tmp_path / "reviews.sqlite", review_token=None,
                           warm_up=False)
    with TestClient(create_app(settings, models)) as off:
        response = off.post("/api/practices/any/review", json={"main_area": "1"},
                            headers={"authorization": "Bearer anything-at-all-000"})
        assert response.status_code == 403 and "ICC_REVIEW_TOKEN" in response.json()["detail"]
        assert "ICC_REVIEW_TOKEN" in off.get("/review/login").text
        pid = off.get("/api/practices").json()["practices"][0]["practice_id"]
        # a visitor of a practice is not told how the server was started: the login page says it
        page = off.get(f"/practices/{pid}").text
        assert "ICC_REVIEW_TOKEN" not in page and "review is off" not in page.lower() and 'id="review' not in page
    assert not (tmp_path / "reviews.sqlite.key").exists(), "no key is kept when nothing is signed"
    assert not WebSettings(review_token="short").review_enabled


def test_a_restart_keeps_reviewers_logged_in_and_their_open_forms_valid(web_data, models, tmp_path):
    def settings() -> WebSettings:  # made anew by each server process
        return WebSettings(data_dir=web_data, reviews_path=tmp_path / "reviews.sqlite", review_token=TOKEN,
                           warm_up=False)

    with TestClient(create_app(settings(), models)) as before:
        pid = practice_id(before, "Patras", "Roma school mediators")
        csrf = log_in(before, "Ines")
        form = BrowserForm(before.get(f"/practices/{pid}").text, "review-form")
        cookies = dict(before.cookies)
    with TestClient(create_app(settings(), models), cookies=cookies) as after:  # the server was restarted
        saved = after.post(f"/practices/{pid}/review", data=form.data(note="Typed before the restart."),
                           follow_redirects=False)
        assert saved.status_code == 303 and dict(form.fields)["csrf_token"] == csrf
        assert after.get(f"/api/practices/{pid}").json()["review"]["note"] == "Typed before the restart."
        assert "Logged in as Ines" in after.get(f"/practices/{pid}").text
    key = tmp_path / "reviews.sqlite.key"
    assert key.stat().st_mode & 0o777 == 0o600, "only the server's user reads the key"
    given = replace(settings(), reviews_path=tmp_path / "given.sqlite", secret_key=b"k" * 32)
    with TestClient(create_app(given, models)):
        pass
    assert not (tmp_path / "given.sqlite.key").exists(), "a key given in the settings is not written anywhere"


def test_the_secret_key_file_is_whole_and_its_owners_only(tmp_path):
    from pipeline.web.security import SECRET_KEY_BYTES, stored_secret_key

    import threading

    path = tmp_path / "reviews.sqlite.key"
    # servers starting together agree on one key
    keys, start = [], threading.Barrier(6)

    def serve() -> None:
        start.wait()
        keys.append(stored_secret_key(path))

    threads = [threading.Thread(target=serve) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 6 and len(set(keys)) == 1 and path.read_bytes() == keys[0]
    key = keys[0]
    assert len(key) == SECRET_KEY_BYTES and path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    assert stored_secret_key(path) == key and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "nothing left aside"
    # a file that is not a key is not replaced: it is said, and the server keeps a key of its own
    other = tmp_path / "other.key"
    other.write_text("0123456789abcdef" * 4)
    with pytest.raises(OSError, match="not a key of 32"):
        stored_secret_key(other)
    assert other.read_text() == "0123456789abcdef" * 4
    # nor is an empty one: it is said what it is and what to do
    empty = tmp_path / "empty.key"
    empty.touch()
    with pytest.raises(OSError, match=r"empty\.key is empty, not a key of 32 bytes .*: remove it to make a new one"):
        stored_secret_key(empty)
    assert empty.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == ["empty.key", "other.key",
                                                                                          path.name]


def test_reviews_export_to_parquet_and_give_training_labels(tmp_path):
    from pipeline.web.reviews import ReviewInput

    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add("a-1", ReviewInput(main_area="5", areas=["14", "5"]), "Anna")
    store.add("b-1", ReviewInput(criteria={"targeted": 1}), "Anna")
    store.add("c-1", ReviewInput(main_area="3b"), "Jon")
    store.close()
    path = export_reviews(tmp_path / "reviews.sqlite", tmp_path)
    table = pq.read_table(path)
    assert table.schema.names == REVIEWS_SCHEMA.names and table.cast(REVIEWS_SCHEMA).num_rows == 3
    rows = {r["practice_id"]: r for r in table.to_pylist()}
    assert rows["a-1"]["areas"] == ["5", "14"] and rows["b-1"]["targeted"] == 1 and rows["a-1"]["targeted"] is None
    expected = {"a-1": ["5", "14"], "c-1": ["3b"]}  # with nothing declared
    labels = lambda source: {k: r.labels() for k, r in load_area_reviews(source).items()}  # noqa: E731
    assert labels(tmp_path / "reviews.sqlite") == expected
    assert labels(path) == expected
    assert load_area_reviews(tmp_path / "missing.sqlite") == {}


def test_a_run_is_measured_against_its_reviews_beside_the_plain_baselines(sample_out, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.evaluation import criteria_model_of_run, review_agreement, review_agreement_markdown
    from pipeline.training import reviewed_rated_texts, run_practices
    from pipeline.web.reviews import ReviewInput, load_reviewed_levels

    practices = pq.read_table(sample_out / "practices.parquet").to_pylist()
    criteria = pq.read_table(sample_out / "criteria.parquet").to_pylist()
    level = {(r["practice_id"], r["criterion"]): r["level"] for r in criteria}
    declared = [p for p in practices if p["declared_areas"] and p["main_area_pred"]][:6]
    store = ReviewStore(tmp_path / "reviews.sqlite")
    for p in declared:  # the reviewer confirms the suggested main area and every level but one
        pid = p["practice_id"]
        levels = {c: level[(pid, c)] for c in CRITERIA}
        levels["modelable"] = 3 - levels["modelable"] if p is declared[0] else levels["modelable"]
        store.add(pid, ReviewInput(main_area=p["main_area_pred"], criteria=levels), "Anna")
    store.add(declared[1]["practice_id"], ReviewInput(areas=list(declared[1]["predicted_areas"])), "Jon")
    store.add("not-in-the-run-1", ReviewInput(criteria={"targeted": 2}), "Anna")
    store.close()
    result = review_agreement(sample_out, tmp_path / "reviews.sqlite")
    assert (result["n_reviewed"], result["not_in_run"]) == (6, 1)
    # the same reviews as training texts for the criteria model, read from the run
    reviewed = reviewed_rated_texts(run_practices(sample_out), load_reviewed_levels(tmp_path / "reviews.sqlite"))
    assert sorted(p.practice_id for p in reviewed.practices) == sorted(p["practice_id"] for p in declared)
    by_id = {p["practice_id"]: p for p in practices}
    assert all(p.process == by_id[p.practice_id]["process"] and p.n_words == by_id[p.practice_id]["n_words"]
               for p in reviewed.practices)
    assert result["areas"]["n"] == 6 and result["areas"]["model_top1"] == 1.0
    assert result["areas"]["n_sets"] == 1 and result["areas"]["model_set_f1"] == 1.0  # only the set Jon reviewed
    parent = load_taxonomy().parent
    expected_declared = np.mean([parent(p["declared_areas"][0]) == parent(p["main_area_pred"]) for p in declared])
    assert result["areas"]["declared_top1"] == pytest.approx(expected_declared, abs=1e-3)
    assert result["criteria"]["targeted"]["exact"] == 1.0 and result["criteria"]["targeted"]["n"] == 6
    flipped = result["criteria"]["modelable"]
    assert flipped["exact"] == pytest.approx(5 / 6, abs=1e-3)
    assert set(result["criteria"]["high_impact"]) == {"n", "spearman", "word_count", "exact", "within_one"}

    card = criteria_model_of_run(sample_out)  # the run's criteria model, found through its manifest
    assert card is not None and card["n_texts"]["realistic_tune"] > 0 and not card["n_texts"].get("reviewed")
    changed = tmp_path / "changed-run"
    changed.mkdir()
    manifest = json.loads((sample_out / "manifest.json").read_text(encoding="utf-8"))
    manifest["models"]["criteria"] = "criteria:ordinal:000000000000:use-multilingual-v3"  # a model since replaced
    (changed / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert criteria_model_of_run(changed) is None
    assert "cannot be told" in review_agreement_markdown(result, None)
    assert "look better than they are" in review_agreement_markdown(result, True)

    out = tmp_path / "agreement.md"
    run = CliRunner().invoke(app, ["evaluate", "--reviews", str(tmp_path / "reviews.sqlite"), "--data",
                                   str(sample_out), "--out", str(out)])
    assert run.exit_code == 0, run.output
    text = out.read_text(encoding="utf-8")
    assert "declared by the city" in text and "word count" in text and "chose to review" in text
    # the tables are printed as written: a row is not wrapped at the terminal's width
    rows = [line for line in text.splitlines() if line.startswith("|") and len(line) > 80]
    assert rows and all(row in run.output for row in rows)
    missing = CliRunner().invoke(app, ["evaluate", "--reviews", str(tmp_path / "reviews.sqlite"), "--data",
                                       str(tmp_path / "no-run")])
    assert missing.exit_code == 2 and "No run in" in missing.output


# ----------------------------------------------------------------------------------------- export


def test_export_xlsx_opens_with_five_sheets_filters_and_frozen_headers(client):
    pid = practice_id(client, "Paris", "Voisins en première ligne")
    client.post(f"/api/practices/{pid}/review", json={"main_area": "14"}, headers={"authorization": f"Bearer {TOKEN}"})
    client.cookies.clear()
    refused = client.get("/export.xlsx")
    assert refused.status_code == 401 and "secretariat" in refused.text
    assert 'href="/export.xlsx"' not in client.get("/").text, "no link a visitor cannot follow"
    response = client.get("/export.xlsx", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == list(SHEETS)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        widths = [sheet.column_dimensions[c].width for c in "ABC"]
        assert all(8 <= w <= 60 for w in widths), (sheet.title, widths)
    practices = book["practices"]
    assert practices.max_row == 53 and "contact_person" not in [c.value for c in practices[1]]
    everything = " ".join(str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row)
    assert "@example.org" not in everything, "e-mail addresses are personal data"
    assert book["criteria"].max_row == 52 * 6 + 1
    # evidence sentences one per line, so a ';' inside a sentence does not split it
    column = [c.value for c in book["criteria"][1]].index("evidence")
    evidence = [row[column] for row in book["criteria"].iter_rows(min_row=2, values_only=True)]
    assert any(cell and ";" in cell for cell in evidence)
    assert all(not cell or (len(cell.split("\n")) <= 2 and all(s.strip() for s in cell.split("\n")))
               for cell in evidence)
    assert sum(bool(cell) and "\n" in cell for cell in evidence) > 20
    assert all(row[column].alignment.wrap_text for row in book["criteria"].iter_rows(min_row=2) if row[column].value)
    assert not any(c.alignment.wrap_text for row in book["practices"].iter_rows(min_row=2) for c in row)
    header = [c.value for c in book["reviews"][1]]
    reviews = [dict(zip(header, row)) for row in book["reviews"].iter_rows(min_row=2, values_only=True)]
    assert any(row["practice_id"] == pid and row["main_area"] == "14" for row in reviews)


def test_workbook_cells_are_text_and_leave_personal_data_out(tmp_path):
    row = {"practice_id": "x-1", "source_file": "x.txt", "practice_index": 1, "lang": "en", "city": "Oslo",
           "title": '=HYPERLINK("http://example.org","click")', "contact_person": "Kari Nordmann, kari@example.org",
           "purpose": "Ask Kari Nordmann (kari@example.org, +47 22 33 44 55) about the cafés.",
           "declared_areas": ["1"], "warnings": [], "predicted_areas": ["1"], "n_words": 3, "ongoing": False,
           "area_mismatch": False}
    write_table(tmp_path / "practices.parquet", to_table("practices", [row]))
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(tmp_path)))
    titles = [c for c in book["practices"][2] if c.value == row["title"]]
    assert titles and titles[0].data_type == "s"
    purpose = next(c.value for c in book["practices"][2] if c.value and "cafés" in str(c.value))
    assert "Kari" not in purpose and "@" not in purpose and "22 33" not in purpose, purpose


def test_a_contact_named_in_another_versions_text_is_left_out_of_the_workbook_and_the_site(tmp_path, models):
    """An English version whose contact reads "see French version" names the coordinator in its text: the workbook,
    the practice page and the search leave every contact of the run out, as the city reports do."""
    base = {"source_file": "oslo.txt", "practice_index": 1, "city": "Oslo", "declared_areas": ["1"], "warnings": [],
            "predicted_areas": ["1"], "n_words": 30, "ongoing": False, "area_mismatch": False}
    rows = [{**base, "practice_id": "fr-1", "lang": "fr", "title": "Cafés", "contact_person": "Kari Nilsen, kari@ex.no",
             "purpose": "Des cafés de langues."},
            {**base, "practice_id": "en-1", "source_file": "oslo-en.txt", "lang": "en", "title": "Cafés",
             "contact_person": None, "purpose": "Kari Nilsen, the coordinator, opens language cafés."}]
    write_table(tmp_path / "practices.parquet", to_table("practices", rows))
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(tmp_path)))
    cells = [str(c.value) for row in book["practices"].iter_rows(min_row=2) for c in row if c.value]
    assert any("opens language cafés" in c for c in cells) and not any("Kari" in c for c in cells), cells
    from pipeline.web.catalogue import load_catalogue
    from pipeline.web.search import SearchQuery
    from pipeline.web.views import practice_detail

    catalogue = load_catalogue(tmp_path, models.embedder)
    detail = practice_detail(catalogue, "en-1", None)
    assert "opens language cafés" in str(detail) and "Kari" not in str(detail)
    assert catalogue.index.search(SearchQuery(q="cafés")).practice_ids
    assert catalogue.index.search(SearchQuery(q="Kari")).practice_ids == []
    # a title holding a contact's name or number is shown without it, on every sheet and page
    rows[1]["title"] = "Cafés with Kari Nilsen, helpline 22 33 44 55"
    write_table(tmp_path / "practices.parquet", to_table("practices", rows))
    write_table(tmp_path / "areas.parquet", to_table("areas", [{"practice_id": "en-1", "area": "11", "probability": 0.9,
                                                                "suggested": True, "evidence": None}]))
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(tmp_path)))
    cells = [str(c.value) for sheet in ("practices", "areas") for row in book[sheet].iter_rows(min_row=2) for c in row]
    assert any("Cafés with" in c for c in cells) and not any("Kari" in c or "22 33" in c for c in cells), cells
    catalogue = load_catalogue(tmp_path, models.embedder)
    assert "Kari" not in catalogue.practices["en-1"]["title"] and "22 33" not in str(practice_detail(catalogue, "en-1", None))
    assert catalogue.index.search(SearchQuery(q="Kari")).practice_ids == []


def test_export_names_the_practice_each_version_belongs_to(sample_out, models, tmp_path):
    """Two forms of one city linked as versions of one practice: on the downloaded practices sheet both rows carry
    the key of the one read first; every other row is its own practice."""
    data = copy_run(Path(sample_out), tmp_path / "run")
    practices = pq.read_table(data / "practices.parquet").to_pylist()
    a, b = practices[0], next(p for p in practices[1:] if p["city"] == practices[0]["city"])
    similar = pq.read_table(data / "similar.parquet").to_pylist()
    for one, other in ((a, b), (b, a)):  # b is a in the other language
        similar.append({"practice_id": one["practice_id"], "neighbour_id": other["practice_id"], "rank": 0,
                        "score": 0.91, "matched_section": "purpose", "shared_terms": [], "neighbour_city": one["city"],
                        "near_duplicate": True, "relation": "version", "weak": False})
    write_table(data / "similar.parquet", to_table("similar", similar))
    settings = WebSettings(data_dir=data, review_token=TOKEN, warm_up=False, reload_check_seconds=0)
    with TestClient(create_app(settings, models)) as live:
        response = live.get("/export.xlsx", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content))["practices"].iter_rows(values_only=True))
    header = list(rows[0])
    assert "practice_key" in header and "practice_id" in header
    keys = {row[header.index("practice_id")]: row[header.index("practice_key")] for row in rows[1:]}
    assert len(keys) == len(practices)
    assert keys[a["practice_id"]] == keys[b["practice_id"]] == a["practice_id"]
    assert all(key == pid for pid, key in keys.items() if pid not in (a["practice_id"], b["practice_id"]))


# ----------------------------------------------------------------------------------------- a new run


def test_a_new_run_in_the_folder_is_picked_up_and_the_index_rebuilt(sample_out, models, tmp_path):
    data = copy_run(Path(sample_out), tmp_path / "run")
    settings = WebSettings(data_dir=data, review_token=None, warm_up=False, reload_check_seconds=0)
    with TestClient(create_app(settings, models)) as live:
        before = live.get("/api/practices", params={"city": "Strasbourg"}).json()["practices"]
        a, b = before[0]["practice_id"], before[1]["practice_id"]
        assert live.get("/api/practices", params={"q": "Zanzibar"}).json()["total"] == 0

        practices = pq.read_table(data / "practices.parquet").to_pylist()
        for row in practices:
            if row["practice_id"] == a:
                row["title"] = "Zanzibar exchange of good practices"
        write_table(data / "practices.parquet", to_table("practices", practices))
        similar = pq.read_table(data / "similar.parquet").to_pylist()
        similar.append({"practice_id": a, "neighbour_id": b, "rank": 0, "score": 0.8, "matched_section": "purpose",
                        "shared_terms": [], "neighbour_city": "Strasbourg", "near_duplicate": True,
                        "relation": "version", "weak": False})
        write_table(data / "similar.parquet", to_table("similar", similar))

        found = live.get("/api/practices", params={"q": "Zanzibar"}).json()
        assert [p["practice_id"] for p in found["practices"]] == [a]
        assert found["practices"][0]["versions"] == [{"practice_id": b, "lang": "fr", "relation": "version"}]
        page = live.get(f"/practices/{a}")
        assert 'id="versions"' in page.text and f'href="/practices/{b}"' in page.text


def test_a_copy_of_a_reviewed_practice_points_to_that_review_for_the_secretariat_only(sample_out, models, tmp_path):
    data = copy_run(Path(sample_out), tmp_path / "run")
    practices = pq.read_table(data / "practices.parquet").to_pylist()
    a, b = practices[0], next(p for p in practices[1:] if p["city"] == practices[0]["city"])
    similar = [r for r in pq.read_table(data / "similar.parquet").to_pylist()
               if {r["practice_id"], r["neighbour_id"]} != {a["practice_id"], b["practice_id"]}]
    for one, other in ((a, b), (b, a)):  # b is a again, sent in another file
        similar.append({"practice_id": one["practice_id"], "neighbour_id": other["practice_id"], "rank": 0,
                        "score": 0.99, "matched_section": "purpose", "shared_terms": [], "neighbour_city": one["city"],
                        "near_duplicate": True, "relation": "near_duplicate", "weak": False})
    write_table(data / "similar.parquet", to_table("similar", similar))
    settings = WebSettings(data_dir=data, review_token=TOKEN, warm_up=False, reload_check_seconds=0)
    auth = {"authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(settings, models)) as live:
        live.post(f"/api/practices/{a['practice_id']}/review", json={"main_area": "5", "reviewer": "Anna"}, headers=auth)
        detail = live.get(f"/api/practices/{b['practice_id']}", headers=auth).json()
        assert detail["review"] is None, "a review stays with the practice it was made on"
        [copy] = detail["reviewed_copies"]
        assert copy["practice_id"] == a["practice_id"] and copy["url"] == f"/practices/{a['practice_id']}"
        assert copy["relation"] == "near_duplicate" and copy["reviewer"] == "Anna" and copy["title"] == a["title"]
        page = live.get(f"/practices/{b['practice_id']}", headers=auth).text
        assert 'id="reviewed-copies"' in page and f'href="/practices/{a["practice_id"]}"' in page
        assert "nearly the same text, submitted in another file" in page
        assert live.get(f"/api/practices/{b['practice_id']}").json()["reviewed_copies"] == []
        assert 'id="reviewed-copies"' not in live.get(f"/practices/{b['practice_id']}").text

        # a's file changed: its id leaves the run, and b (same city and title) points to the review by what it stored
        kept = [dict(p, title=a["title"]) if p["practice_id"] == b["practice_id"] else p
                for p in practices if p["practice_id"] != a["practice_id"]]
        write_table(data / "practices.parquet", to_table("practices", kept))
        write_table(data / "similar.parquet", to_table("similar", [
            r for r in similar if a["practice_id"] not in (r["practice_id"], r["neighbour_id"])]))
        [copy] = live.get(f"/api/practices/{b['practice_id']}", headers=auth).json()["reviewed_copies"]
        assert copy["relation"] == "same_title" and copy["url"] is None
        assert (copy["city"], copy["title"]) == (a["city"], a["title"])
        page = live.get(f"/practices/{b['practice_id']}", headers={**auth, "accept-language": "fr"}).text
        assert "absente de ce traitement ; même ville et même titre" in page and a["practice_id"] in page


def test_before_any_run_the_site_says_so_and_checks_still_work(models, tmp_path):
    settings = WebSettings(data_dir=tmp_path / "empty", review_token=None, warm_up=False)
    with TestClient(create_app(settings, models)) as empty:
        assert empty.get("/healthz").json() == {"status": "empty", "practices": 0, "checks": "threads"}
        assert "icc-practices run" in empty.get("/").text
        body = empty.post("/api/check", files=upload(FRENCH_FORM)).json()
        assert body["status"] == "ok" and body["practices"][0]["similar"] == [] and body["compared_with"] == 0
        # the page says the form was compared with nothing, not that no practice is close to it
        page = empty.post("/check", files=upload(FRENCH_FORM), headers={"accept-language": "fr"}).text
        assert "pas été comparé" in page and "proche de la vôtre" not in page


def test_two_versions_of_a_practice_elsewhere_fill_one_slot(client, models):
    from pipeline.records import Practice
    from pipeline.web.neighbours import similar_elsewhere

    catalogue = client.app.state.services.catalogues.current()
    pid = practice_id(client, "Dublin", "Community Safety Mediators")
    visitor = replace(Practice.from_dict(catalogue.practices[pid]), practice_id="visitor-1", city="Lyon")
    (plain,) = similar_elsewhere([visitor], models.embedder, catalogue.vectors, 5, 0.4)
    assert plain[0].practice_id == pid and plain[0].score > 0.9, "its own text, seen from another city, comes first"
    second = plain[1].practice_id
    (grouped,) = similar_elsewhere([visitor], models.embedder, catalogue.vectors, 5, 0.4, {pid: {second}, second: {pid}})
    ids = [s.practice_id for s in grouped]
    assert ids[0] == pid and second not in ids


def test_a_checked_form_already_in_the_run_gets_the_runs_scores(client, models, web_data):
    from pipeline.records import Practice
    from pipeline.web.neighbours import similar_elsewhere

    catalogue = client.app.state.services.catalogues.current()
    table = pq.read_table(web_data / "similar.parquet").to_pylist()
    for pid, row in catalogue.practices.items():  # every practice of the run, checked as a form
        listed = [r for r in table if r["practice_id"] == pid and r["rank"] >= 1]
        (found,) = similar_elsewhere([Practice.from_dict(row)], models.embedder, catalogue.vectors, len(listed), 0.0)
        assert [s.practice_id for s in found] == [r["neighbour_id"] for r in listed], pid
        assert [s.score for s in found] == pytest.approx([r["score"] for r in listed], abs=2e-4), pid


def test_the_check_scores_with_the_similar_settings_the_run_recorded(client, models, web_data, tmp_path):
    from pipeline.records import Practice
    from pipeline.web.catalogue import load_catalogue
    from pipeline.web.neighbours import similar_elsewhere

    data = tmp_path / "run"
    shutil.copytree(web_data, data, ignore=shutil.ignore_patterns(".cache"))
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    manifest["settings"]["similar"].update(whole_weight=1.0, chunk_weight=0.0, anchor_weight=0.0, hub_weight=0.0)
    manifest["settings"]["top_k"] = 2
    (data / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    catalogue = load_catalogue(data, models.embedder)  # the server's own settings are the defaults
    assert catalogue.vectors.settings.top_k == 2 and catalogue.vectors.settings.similar.whole_weight == 1.0
    pid = practice_id(client, "Dublin", "Community Safety Mediators")
    (found,) = similar_elsewhere([Practice.from_dict(catalogue.practices[pid])], models.embedder, catalogue.vectors,
                                 3, 0.0)
    # with only the whole-text cosine and no hubness, a score is the cosine of the two whole-text vectors
    vectors = catalogue.vectors.vectors
    row = {str(p): k for k, p in enumerate(catalogue.vectors.ids)}
    for s in found:
        cosine = float(vectors.whole[row[s.practice_id]] @ vectors.whole[row[pid]])
        assert s.score == pytest.approx(cosine, abs=1e-3)


def test_the_check_gives_the_versions_of_a_practice_in_one_file_one_main_area(client):
    from test_run import BILINGUAL_FORM

    body = client.post("/api/check", files={"file": ("geneve.txt", BILINGUAL_FORM.encode("utf-8"))}).json()
    english, french = body["practices"]
    assert (english["lang"], french["lang"]) == ("en", "fr")
    assert english["main_area"] == french["main_area"]
    for practice in (english, french):
        assert practice["areas"][0]["area"] == practice["main_area"]


def test_checking_one_version_of_a_practice_the_run_holds_gives_the_runs_main_area(models, tmp_path):
    from pipeline.config import AreaSettings
    from pipeline.records import Practice
    from pipeline.web.checking import analyse_practices
    from test_run import BILINGUAL_FORM

    english, french = BILINGUAL_FORM.split("Version française")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "geneva-en.txt").write_text(english, encoding="utf-8")
    (inbox / "geneve-fr.txt").write_text(french, encoding="utf-8")
    data = tmp_path / "run"
    # in a process of its own: a run lets go of the spaCy pipelines this module's models hold
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", str(inbox), "--out", str(data)],
                          capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    practices = {r["lang"]: r for r in pq.read_table(data / "practices.parquet").to_pylist()}
    assert practices["en"]["main_area_pred"] == practices["fr"]["main_area_pred"]
    settings = WebSettings(data_dir=data, review_token=None, warm_up=False)
    with TestClient(create_app(settings, models)) as site:
        checked = {lang: site.post("/api/check", files={"file": (name, (inbox / name).read_bytes())}).json()
                   for lang, name in (("en", "geneva-en.txt"), ("fr", "geneve-fr.txt"))}
        # a new draft of the version whose own text points elsewhere, sent under another name, is linked to the
        # run's other version as a run would link it; the same draft from another city is not
        draft = english.replace("shared spaces.", "shared spaces and courtyards.", 1)
        assert draft != english
        checked["draft"] = site.post("/api/check", files={"file": ("geneva-en-v2.txt", draft.encode())}).json()
        other_city = site.post("/api/check", files={"file": (
            "lyon-en.txt", draft.replace("City: Geneva", "City: Lyon").encode())}).json()
    for lang, body in checked.items():
        (practice,) = body["practices"]
        assert practice["main_area"] == practices["en" if lang == "draft" else lang]["main_area_pred"], lang
    (practice,) = other_city["practices"]
    assert practice["main_area"] != practices["en"]["main_area_pred"]
    # read apart, the two files point to different main areas: the run is what makes them one
    apart = replace(models.settings, areas=AreaSettings(versions_share_main=False))
    alone = [analyse_practices([Practice.from_dict(practices[lang])], replace(models, settings=apart), None)[0]
             for lang in ("en", "fr")]
    assert alone[0].main_area != alone[1].main_area
    assert alone[0].main_area != practices["en"]["main_area_pred"]


# ----------------------------------------------------------------------------------------- small parts


def test_query_words_become_a_safe_fts_expression():
    text = "{title objective body}"
    # the other forms of the term, whole, as written or with a plural or feminine ending
    forms = " OR ".join(f'"{form}{ending}"' for form in ("mediateur", "mediation", "mediatrice")
                        for ending in ("", "s", "x", "e", "es"))
    assert fts_expression('mediator " OR 1', TermExpander()) == (
        f'({text} : ("mediator"* OR {forms}) OR city : "mediator") AND '
        f'({text} : "or"* OR city : "or") AND ({text} : "1"* OR city : "1")')
    assert fts_expression('mediator " OR 1') == (
        f'({text} : "mediator"* OR city : "mediator") AND ({text} : "or"* OR city : "or") AND ({text} : "1"* OR city : "1")')
    # the words of a city name of several words match it together, whole, and by the name the reports give it
    assert fts_expression("Quebec-City!", phrases={"quebec city"}) == (
        f'((({text} : "quebec"* OR city : "quebec") AND ({text} : "city"* OR city : "city")) OR city : "quebeccity"'
        ' OR city : "quebec")')
    assert fts_expression("City of Foo", city_keys={"foo"}).endswith(' OR city : "foo")')
    assert fts_expression("d'Anvers") == f'({text} : "anvers"* OR city : "anvers")'
    assert fts_expression("***") is None and fts_expression("_") is None
    assert fts_expression("foo_bar") == f'({text} : "foo"* OR city : "foo") AND ({text} : "bar"* OR city : "bar")'


def test_browser_language_and_years_running():
    assert from_accept_language("de-DE,fr;q=0.8,en;q=0.5") == "fr"
    assert from_accept_language("en-GB,fr;q=0.9") == "en"
    assert from_accept_language("de") is None
    assert years_running(2019, None, True, 2021) == [2019, 2020, 2021]
    assert years_running(2019, 2018, False, 2025) == [2019]
    assert years_running(None, None, False, 2025) == []


def test_every_word_the_templates_ask_for_exists_in_both_languages():
    from pipeline.web.i18n import Messages

    messages = Messages.load()
    keys = set()
    for template in (ROOT / "pipeline" / "web" / "templates").glob("*.j2"):
        keys |= set(re.findall(r"""\bt\(["']([a-z_]+(?:\.[a-z_0-9]+)+|[a-z_]+)["']""", template.read_text(encoding="utf-8")))
    keys = {k for k in keys if not k.endswith(("_", "."))}  # built with ~ in the template
    assert len(keys) > 50
    for lang in ("en", "fr"):
        t = messages.translator(lang)
        assert [k for k in sorted(keys) if t(k) == k] == [], lang


def test_review_schema_matches_its_rows():
    row = {"practice_id": "x", "main_area": None, "areas": None, **{c: None for c in CRITERIA}, "note": None,
           "reviewer": "r", "reviewed_at": None, "n_reviews": 1}
    assert pa.Table.from_pylist([row], schema=REVIEWS_SCHEMA).num_rows == 1
    from pipeline.web.reviews import REVIEWED_FIELDS

    assert [f.name for f in REVIEWS_SCHEMA.field("set_by").type] == list(REVIEWED_FIELDS)


def test_checks_leave_no_words_behind_in_spacy(client, models):
    """spaCy keeps every new word it reads; a check's words are forgotten, and forgetting changes no result."""
    from pipeline.criteria import criteria_with_guidelines, load_nlp

    practice = client.post("/api/check", files=upload(FRENCH_FORM)).json()["practices"][0]
    strings = len(load_nlp("fr").vocab.strings)
    text = "Ville : Lyon\nTitre : Zorglubs\nBut : Les xqzwvy et les plorbinettes du quartier de Vaise se rencontrent.\n"
    for i in range(3):
        client.post("/api/check", files={"file": (f"f{i}.txt", text.replace("xqzwvy", f"xqzwvy{i}").encode())})
    again = client.post("/api/check", files=upload(FRENCH_FORM)).json()["practices"][0]
    assert len(load_nlp("fr").vocab.strings) == strings
    assert again["criteria"] == practice["criteria"] and again["guidelines"] == practice["guidelines"]
    path_practices = process_file(InputFile(FRENCH_FORM, FRENCH_FORM.name), Settings(), Segmenter()).practices
    plain, _ = criteria_with_guidelines(path_practices, models.settings, models.embedder.inner, models.scorer)
    assert [r["level"] for r in plain] == [c["level"] for c in again["criteria"]]


def test_export_command_writes_the_workbook_and_reviews_parquet(client, web_data, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    client.post(f"/api/practices/{practice_id(client, 'Oslo', 'Coffee and facts')}/review", json={"main_area": "4"},
                headers={"authorization": f"Bearer {TOKEN}"})
    out = tmp_path / "practices.xlsx"
    result = CliRunner().invoke(app, ["export", "--xlsx", str(out), "--data", str(web_data)])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).sheetnames == list(SHEETS)
    assert "4" in {r["main_area"] for r in pq.read_table(web_data / "reviews.parquet").to_pylist()}
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(out)["practices"].iter_rows()]
    header = rows[0]
    assert "contact_person" not in header
    # the reviewed main area beside the analysis's, where the secretariat looks for a practice
    reviewed = {r[0]: r[header.index("main_area_reviewed")] for r in rows[1:]}
    assert reviewed[practice_id(client, "Oslo", "Coffee and facts")] == "4"
    assert header.index("main_area_reviewed") == header.index("main_area_pred") + 2
    # the secretariat may ask for the contacts, to put cities in touch; the texts stay without them
    with_contacts = tmp_path / "with-contacts.xlsx"
    asked = CliRunner().invoke(app, ["export", "--xlsx", str(with_contacts), "--data", str(web_data), "--include-contacts"])
    assert asked.exit_code == 0 and "personal data" in asked.output and with_contacts.stat().st_mode & 0o077 == 0
    sheet = openpyxl.load_workbook(with_contacts)["practices"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    at = rows[0].index("contact_person")
    assert rows[0][at - 1] == "department"
    contacts = {r[at] for r in rows[1:]}
    written = set(pq.read_table(web_data / "practices.parquet", columns=["contact_person"]).column(0).to_pylist())
    assert contacts == written and any(c and "@" in c for c in contacts)
    purpose = rows[0].index("purpose")
    assert not any("@example.org" in (r[purpose] or "") for r in rows[1:])
    # a workbook is not written under another kind of file's name
    named_csv = CliRunner().invoke(app, ["export", "--xlsx", str(tmp_path / "practices.csv"), "--data", str(web_data)])
    assert named_csv.exit_code == 2 and "practices.xlsx" in named_csv.output
    assert not (tmp_path / "practices.csv").exists()


def test_a_key_file_that_cannot_be_used_leaves_review_working_with_a_warning(tmp_path, caplog):
    from pipeline.web.app import _secret_key

    settings = WebSettings(data_dir=tmp_path, review_token="t" * 20, warm_up=False)
    settings.secret_key_file.write_text("not a key")
    with caplog.at_level("WARNING"):
        first, second = _secret_key(settings), _secret_key(settings)
    assert len(first) == 32 and first != second, "a key of the process's own"
    assert "cannot be kept" in caplog.text and settings.secret_key_file.read_text() == "not a key"


def test_a_key_file_that_is_a_symbolic_link_is_not_followed(tmp_path, caplog):
    from pipeline.web.app import _secret_key
    from pipeline.web.security import stored_secret_key

    settings = WebSettings(data_dir=tmp_path, review_token="t" * 20, warm_up=False)
    planted = tmp_path / "elsewhere" / "known.key"  # a key someone else knows, readable by all
    planted.parent.mkdir()
    planted.write_bytes(b"k" * 32)
    planted.chmod(0o644)
    settings.secret_key_file.symlink_to(planted)
    with caplog.at_level("WARNING"):
        first, second = _secret_key(settings), _secret_key(settings)
    assert b"k" * 32 not in (first, second) and len(first) == 32 and first != second, "a key of the process's own"
    assert "cannot be kept" in caplog.text and "symbolic link" in caplog.text
    assert settings.secret_key_file.is_symlink() and planted.read_bytes() == b"k" * 32
    assert planted.stat().st_mode & 0o777 == 0o644, "the file linked to is not touched"
    # a link to nowhere is refused too, not written through; nor is anything that is not a regular file
    settings.secret_key_file.unlink()
    settings.secret_key_file.symlink_to(tmp_path / "nowhere.key")
    with pytest.raises(OSError, match="symbolic link"):
        stored_secret_key(settings.secret_key_file)
    assert not (tmp_path / "nowhere.key").exists()
    settings.secret_key_file.unlink()
    settings.secret_key_file.mkdir()
    with pytest.raises(OSError, match="not a regular file"):
        stored_secret_key(settings.secret_key_file)
    settings.secret_key_file.rmdir()
    os.mkfifo(settings.secret_key_file)
    with pytest.raises(OSError, match="not a regular file"):
        stored_secret_key(settings.secret_key_file)  # refused at once: the server does not wait on the pipe


def test_checks_use_the_models_train_writes_without_a_restart(models, tmp_path):
    """The site reads the area and criteria models again when their files change, as it reads a new run."""
    from pipeline.config import DEFAULT_MODEL_DIR
    from pipeline.web.models import model_store

    area_dir = tmp_path / "areas"
    shutil.copytree(DEFAULT_MODEL_DIR, area_dir)
    start = replace(models, settings=replace(models.settings, model_dir=area_dir))
    store = model_store(start, check_seconds=0)
    assert store.current() is start
    (area_dir / "model.json").rename(tmp_path / "model.json")  # as if `train` were writing a new model there
    changed = store.current()
    assert changed is not start and changed.classifier_id.startswith("area-classifier:zero-shot")
    assert changed.embedder is start.embedder and store.current() is changed, "read again once, not at each look"
    (tmp_path / "model.json").rename(area_dir / "model.json")
    assert store.current().classifier_id == start.classifier_id
    # a check takes its models from the store
    settings = WebSettings(data_dir=tmp_path / "no-run", review_token=None, warm_up=False)
    with TestClient(create_app(settings, models)) as site:
        asked = []

        class Spy:
            def current(self):
                asked.append(1)
                return start

        site.app.state.services.model_store = Spy()
        body = site.post("/api/check", files={"file": ("f.docx", FRENCH_FORM.read_bytes())}).json()
        assert body["practices"] and asked == [1]


def test_the_practice_page_says_why_the_main_area_is_not_the_likeliest(client):
    """As the check does: where a likelier area stands above the main one, the page says the main area comes from a
    model of its own; where the main area is the likeliest, it says nothing."""
    note = "Le domaine principal est choisi parmi les domaines suggérés par un modèle à part"
    practices = client.get("/api/practices", params={"limit": 100}).json()["practices"]
    said = {}
    for p in practices:
        detail = client.get(f"/api/practices/{p['practice_id']}").json()
        chances = {a["area"]: a["probability"] for a in detail["areas"] if a["probability"] is not None}
        main = detail["main_area_pred"]
        if main in chances:
            page = client.get(f"/practices/{p['practice_id']}", headers={"accept-language": "fr"}).text
            said[p["practice_id"]] = (any(v > chances[main] for v in chances.values()), note in page)
    assert any(likelier for likelier, _ in said.values()) and not all(likelier for likelier, _ in said.values())
    assert all(likelier == shown for likelier, shown in said.values()), said


def test_two_reviewers_whose_areas_do_not_fit_together_are_told_and_kept_out_of_training(client, web_data):
    """Anna sets main area 5 and the areas 5, 14, 14b; Ben later sets main area 6 alone. Joined, the review would be
    a main area outside a set neither of them chose: the page says so in the reviewers' names, and the practice's
    areas give no training label until both are reviewed together."""
    from pipeline.web.reviews import load_area_reviews

    pid = client.get("/api/practices", params={"city": "Bergen", "limit": 1}).json()["practices"][0]["practice_id"]
    auth = {"authorization": f"Bearer {TOKEN}"}
    url = f"/api/practices/{pid}/review"
    assert client.post(url, json={"main_area": "5", "areas": ["5", "14", "14b"], "reviewer": "Anna"},
                       headers=auth).status_code == 201
    page = client.get(f"/practices/{pid}", headers=auth).text
    assert 'id="review-disagreement"' not in page
    assert client.post(url, json={"main_area": "6", "reviewer": "Ben"}, headers=auth).status_code == 201
    page = html.unescape(" ".join(client.get(f"/practices/{pid}", headers=auth).text.split()))
    notice = re.search(r'id="review-disagreement">(.*?)</p>', page).group(1)
    assert notice.startswith("Ben set the main area 6.") and "Anna chose (5, 14, 14b)" in notice, notice
    french = html.unescape(" ".join(client.get(f"/practices/{pid}", headers=auth | {"accept-language": "fr"}).text.split()))
    assert "Ben a choisi le domaine principal 6." in french
    review = load_area_reviews(web_data / "reviews.sqlite")[pid]
    assert review.disagreement() == {"main_area": "6", "main_by": "Ben", "areas": ["5", "14", "14b"],
                                     "areas_by": "Anna"}
    assert review.labels(["6"]) == [], "no training label neither reviewer chose"
    # Anna sets the set again with 6 in it: the values fit, and the notice is gone
    assert client.post(url, json={"areas": ["5", "6", "14"], "reviewer": "Anna"}, headers=auth).status_code == 201
    assert 'id="review-disagreement"' not in client.get(f"/practices/{pid}", headers=auth).text


def test_the_secretariat_finds_what_is_left_to_review_and_practices_by_their_reviewed_area(client):
    """`reviewed=no` lists what no one has reviewed yet, `reviewed=yes` what was; `area_source=reviewed` finds a
    practice by the area a review gave it (a sub-area finds it under its parent too). Reviews are the
    secretariat's: a visitor's search may not filter by them."""
    pid = practice_id(client, "Lublin", "Online reporting point")
    auth = {"authorization": f"Bearer {TOKEN}"}
    for params in ({"reviewed": "no"}, {"area": "7", "area_source": "reviewed"}):
        refused = client.get("/api/practices", params=params)
        assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "reviews_for_staff", params
    assert client.post(f"/api/practices/{pid}/review", json={"main_area": "7", "areas": ["7b"], "reviewer": "Anna"},
                       headers=auth).status_code == 201

    def found(**params) -> tuple[int, list[str]]:
        answer = client.get("/api/practices", params={**params, "limit": 100}, headers=auth).json()
        return answer["total"], [p["practice_id"] for p in answer["practices"]]

    total, _ = found()
    n_yes, yes = found(reviewed="yes")
    n_no, no = found(reviewed="no")
    assert pid in yes and pid not in no and n_yes + n_no == total and n_no > 0
    assert pid in found(area="7b", area_source="reviewed")[1] and pid in found(area="7", area_source="reviewed")[1]
    assert pid not in found(area="9", area_source="reviewed")[1]
    facets = client.get("/api/practices", params={"area_source": "reviewed"}, headers=auth).json()["facets"]["area"]
    assert {"7", "7b"} <= {f["value"] for f in facets}
    # the page offers the filter to the secretariat only, in its language
    page = client.get("/", params={"reviewed": "no"}, headers=auth | {"accept-language": "fr"}).text
    assert 'name="reviewed"' in page and "pas encore relue" in page and "relu par le secrétariat" in page
    assert 'name="reviewed"' not in client.get("/").text


def test_a_city_is_not_told_what_to_install_on_the_server():
    from pipeline.errors import for_visitors, message

    scan = message("pdf_no_text_layer_no_ocr", missing=message("tesseract_missing", install=message("install_tesseract")))
    assert "apt-get" in scan and for_visitors(scan) == message("pdf_no_text_layer")
    doc = message("legacy_doc", detail=message("older_than_word97_no_libreoffice"),
                  fix=message("save_as_docx_or_install", install=message("install_libreoffice")))
    assert "apt-get" in doc and "apt-get" not in for_visitors(doc) and for_visitors(doc).endswith(message("save_as_docx") + ".")
    assert for_visitors("The .docx file is damaged.") == "The .docx file is damaged." and for_visitors(None) is None


def test_search_finds_by_meaning_what_no_word_of_the_query_finds(client):
    """A query in other words or the other language than the practice: the words find nothing, the meaning does,
    and the page says which hits came by meaning."""
    words = client.app.state.services.catalogues.current().index
    meaning, words._meaning = words._meaning, None
    try:
        assert client.get("/api/practices", params={"q": "migration stories museum"}).json()["total"] == 0
    finally:
        words._meaning = meaning
    found = client.get("/api/practices", params={"q": "migration stories museum"}).json()["practices"]
    assert found and found[0]["city"] == "Strasbourg" and found[0]["title"].startswith("« Objets de passage »")
    assert {p["found_by"] for p in found} == {"meaning"}
    page = client.get("/", params={"q": "migration stories museum"}, headers={"accept-language": "fr"}).text
    assert "proche par le sens" in page
    # a practice both find ranks first, marked as found by the words
    both = client.get("/api/practices", params={"q": "lieux de culte"}).json()["practices"]
    assert both[0]["found_by"] == "words" and both[0]["city"] == "Differdange"
    # filters hold for what the meaning finds too
    english = client.get("/api/practices", params={"q": "migration stories museum", "lang": "en"}).json()["practices"]
    assert "Strasbourg" not in {p["city"] for p in english} and {p["lang"] for p in english} <= {"en"}
    # no words typed: nothing to tell
    assert {p["found_by"] for p in client.get("/api/practices").json()["practices"]} == {None}
    # what the words find comes before what the meaning alone finds ('mediatrices' put a recruitment practice first)
    mediators = [p["found_by"] for p in client.get("/api/practices", params={"q": "mediatrices"}).json()["practices"]]
    assert "meaning" in mediators and mediators == sorted(mediators, key=lambda by: by != "words")
    # a contact's address pasted in is not read for its meaning
    assert client.get("/api/practices", params={"q": "priya.raman@example.org"}).json()["total"] == 0


def test_each_hit_shows_why_it_was_found(client):
    """Beside each hit, the sentence holding the query's words (marked), or the passage closest to what the query
    means: the secretariat sees why a practice is listed without opening it."""
    from lxml import html as lxml_html

    from pipeline.normalize import fold

    found = client.get("/api/practices", params={"q": "mediatrices"}).json()["practices"]
    by_words = [p for p in found if p["found_by"] == "words"]
    # the query word, or a form of its key term in either language ('médiateurs', 'mediation')
    assert by_words and all("mediat" in fold(p["snippet"]) for p in by_words if p["snippet"]), by_words
    assert sum(bool(p["snippet"]) for p in by_words) >= len(by_words) - 1
    meant = client.get("/api/practices", params={"q": "migration stories museum"}).json()["practices"]
    assert meant[0]["snippet"] and len(meant[0]["snippet"]) <= 300
    strasbourg = client.get(f"/api/practices/{meant[0]['practice_id']}").json()
    shown = " ".join(str(strasbourg.get(k) or "") for k in ("title", "main_objective", "description"))
    assert " ".join(meant[0]["snippet"].split()) in " ".join(shown.split()), "a passage of the practice as shown"
    page = lxml_html.fromstring(client.get("/", params={"q": "mediatrices"}).text)
    marks = [fold(m.text_content()) for m in page.xpath("//li[@class='hit']//p[@class='snippet']/mark")]
    assert marks and all(m.startswith("mediat") for m in marks), marks
    # no words, nothing to explain
    assert {p["snippet"] for p in client.get("/api/practices").json()["practices"]} == {None}


def test_a_prefix_before_a_hyphen_is_no_word_a_practice_must_hold(client):
    """"anti-rumour" found nothing: no practice holds the word "anti" beside its "rumours"."""
    plain = client.get("/api/practices", params={"q": "rumour"}).json()["practices"]
    for query in ("anti-rumour", "Anti rumour", "anti-rumeurs"):
        found = client.get("/api/practices", params={"q": query}).json()["practices"]
        assert found and found[0]["practice_id"] == plain[0]["practice_id"], query
        assert found[0]["snippet"] and "rum" in found[0]["snippet"].lower()


@pytest.mark.parametrize("query", ["Priya Raman", "Jordi Puigvert", "Laia Ferrer", "xyzzy", "Dupont"])
def test_a_name_or_an_unknown_word_finds_nothing_by_meaning(client, query):
    """A contact's name (left out of what the site shows) or a string of letters holds no word of the site's texts:
    it is not read for its meaning, which a name's sound alone can lend ('Jordi Puigvert' is closest to a practice
    in Oslo), and finds nothing."""
    index = client.app.state.services.catalogues.current().index
    assert client.get("/api/practices", params={"q": query}).json()["total"] == 0
    assert not index._some_word_shown(query)


def test_the_meaning_needs_enough_practices_to_tell_a_hit(models):
    from pipeline.records import Practice
    from pipeline.web.meaning import MIN_PRACTICES, MeaningIndex

    few = [Practice(practice_id=f"p{i}", source_file="f", practice_index=i, lang="en", title=f"Language cafés {i}",
                    description="Residents meet weekly to practise the local language over coffee.")
           for i in range(MIN_PRACTICES - 1)]
    assert MeaningIndex.build(few, models.embedder).hits("language café") == []
    more = [*few, replace(few[0], practice_id="other", title="Football league", description="A league of teams.")]
    hits = MeaningIndex.build(more, models.embedder).hits("football tournament")
    assert [(pid, passage) for pid, _, passage in hits] == [("other", "Football league")], "with its closest passage"


def test_the_secretariat_sees_the_reviewed_main_area_in_the_area_table(client):
    from lxml import html as lxml_html

    pid = practice_id(client, "Bergen", "Dialogue circles")
    auth = {"authorization": f"Bearer {TOKEN}"}
    areas = client.get(f"/api/practices/{pid}", headers=auth).json()["areas"]
    other = next(a["area"] for a in areas if not a.get("main"))
    third = next(a["area"] for a in areas if a["area"] not in (other,) and not a.get("main") and "b" not in a["area"])
    review = {"main_area": other, "areas": [other, third]}
    assert client.post(f"/api/practices/{pid}/review", json=review, headers=auth).status_code == 201
    client.cookies.clear()
    rows = lxml_html.fromstring(client.get(f"/practices/{pid}", headers=auth).text).xpath("//section[@id='areas']//tbody/tr")
    tagged = [r for r in rows if "main, as reviewed" in r.text_content()]
    assert len(tagged) == 1 and "main, as reviewed" not in client.get(f"/practices/{pid}").text
    # one row says "main": the analysis's own main area is said to be the analysis's
    tags = [t.text_content() for r in rows for t in r.xpath(".//span[contains(@class, 'tag')]")]
    assert tags.count("main") == 0 and tags.count("main, by the analysis") == 1, tags
    visitor = lxml_html.fromstring(client.get(f"/practices/{pid}").text)
    assert [t.text_content() for t in visitor.xpath("//section[@id='areas']//span[contains(@class, 'tag')]")] == ["main"]
    # the other areas of the reviewed set are tagged too
    assert len([r for r in rows if "in the reviewed areas" in r.text_content()]) >= 1
    # a probability is said once in the row's text (the bar is not read out again)
    text = " ".join(rows[0].text_content().split())
    percent = re.search(r"\d+ ?%", text).group(0)
    assert text.count(percent) == 1


def test_a_new_review_store_is_readable_by_its_owner_only(tmp_path):
    """Reviewers' names and internal notes: the store, and the -wal file SQLite makes beside it, are not readable
    by other users of the server."""
    store = ReviewStore(tmp_path / "reviews.sqlite")
    store.add("p-1", ReviewInput(main_area="4"), "Anna")
    assert (tmp_path / "reviews.sqlite").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "reviews.sqlite-wal").stat().st_mode & 0o077 == 0
    store.close()
    (tmp_path / "reviews.sqlite").chmod(0o644)  # a store made before: its mode is narrowed when it is opened
    ReviewStore(tmp_path / "reviews.sqlite").close()
    assert (tmp_path / "reviews.sqlite").stat().st_mode & 0o077 == 0
    assert export_reviews(tmp_path / "reviews.sqlite", tmp_path).stat().st_mode & 0o077 == 0


def test_the_secretariat_reads_a_contact_typed_into_the_department_field_as_written():
    """The site leaves it out for visitors; the secretariat, who puts cities in touch, sees it whole (and the
    workbook asked with contacts gives it)."""
    from pipeline.report.redact import Redactor, contacts_of
    from pipeline.web.catalogue import Catalogue
    from pipeline.web.views import practice_detail

    row = {"practice_id": "p-1", "title": "Femmes-relais", "city": "Valmont", "lang": "fr",
           "department": "CCAS - Pôle santé, contact : Karima Benali 06 12 34 56 78", "contact_person": None,
           "purpose": "Des femmes-relais accompagnent les familles vers les services de santé."}
    catalogue = Catalogue(Path("unused"), ())
    catalogue.practices = {"p-1": row}
    catalogue.redact = Redactor(c for r in catalogue.practices.values() for c in contacts_of(r))
    visitor = practice_detail(catalogue, "p-1", None)
    staff = practice_detail(catalogue, "p-1", None, staff=True)
    assert "Karima" not in visitor["header"]["department"] and "06 12" not in visitor["header"]["department"]
    assert staff["header"]["department"] == row["department"]


def test_checks_in_worker_processes_answer_as_in_threads_and_a_check_past_its_time_is_stopped(web_data, client):
    import psutil

    in_thread = client.post("/api/check", files=upload(FRENCH_FORM)).json()
    settings = WebSettings(data_dir=web_data, review_token=None, warm_up=False, check_workers=2,
                           check_timeout_seconds=120)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with TestClient(create_app(settings)) as workers_client:
        workers = workers_client.app.state.services.check_workers
        # the site itself only searches: it loads the encoder, not the models of a check
        assert workers is not None and workers_client.app.state.services.model_store is None
        answer = workers_client.post("/api/check", files=upload(FRENCH_FORM))
        assert answer.status_code == 200 and answer.json() == in_thread, "a worker reads a form as the server does"
        started = {p.pid for p in psutil.Process().children(recursive=True)} - before
        assert started, "the check ran in a process of its own"

        # a form of 12,600 words takes seconds: past a limit of half a second, it is stopped with its process
        long_form = ("City: Lyon\nTitle of the practice: Long\nPurpose: "
                     + "Residents of each district meet in the library every week. " * 1800).encode()
        workers.timeout = 0.5
        stopped = workers_client.post("/api/check", files={"file": ("long.txt", long_form)},
                                      headers={"accept-language": "fr"})
        assert stopped.status_code == 422 and stopped.json()["error_code"] == "check_time_limit"
        assert "a duré plus de 1 s et a été arrêtée" in stopped.json()["message"]
        assert not stopped.json()["practices"]

        workers.timeout = 120  # a new worker takes the next check
        again = workers_client.post("/api/check", files=upload(FRENCH_FORM))
        assert again.status_code == 200 and again.json() == in_thread
        assert {p.pid for p in psutil.Process().children(recursive=True)} - before - started, "a new worker"
        assert workers_client.get("/healthz").json()["checks"] == "ok"

        # a visitor who leaves: their check is stopped with its worker
        import asyncio
        import time

        async def left() -> bool:
            return True

        started_at = time.monotonic()
        gone = asyncio.run(workers.check(long_form, "long.txt", 10, 20_000, left))
        assert gone.error_code == "check_stopped" and time.monotonic() - started_at < 5
        # past its time while the site reads a new run (which the workers read too): not said to be the file's fault
        workers.timeout = 0.5
        during_new_run = asyncio.run(workers.check(long_form, "long.txt", 10, 20_000, None, lambda: True))
        assert during_new_run.error_code == "check_stopped"
        workers.timeout = 120

        # a worker the system ends between checks: pebble gives the pool up; the site starts the workers again
        def worker_pids() -> set[int]:
            return {p.pid for p in psutil.Process().children(recursive=True)
                    if "spawn_main" in " ".join(p.cmdline())}

        assert workers_client.post("/api/check", files=upload(FRENCH_FORM)).status_code == 200  # a worker ready, idle
        old = worker_pids()
        psutil.Process(min(old)).kill()  # one of them: the other is ended with its pool
        deadline = time.monotonic() + 10
        while workers.state != "restarting" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert workers_client.get("/healthz").json()["checks"] == "restarting"
        dead_pool = workers._pool
        revived = workers_client.post("/api/check", files=upload(FRENCH_FORM))
        assert revived.status_code == 200 and revived.json() == in_thread
        assert workers_client.get("/healthz").json()["checks"] == "ok" and workers._pool is not dead_pool
        # the broken pool's processes are ended, not left running beside the new ones
        deadline = time.monotonic() + 40
        while worker_pids() & old and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not worker_pids() & old and len(worker_pids()) == 2
    # multiprocessing's resource tracker lives as long as the process that started it
    left = {p.pid for p in psutil.Process().children(recursive=True)
            if p.status() != psutil.STATUS_ZOMBIE and "resource_tracker" not in " ".join(p.cmdline())} - before
    assert not left, ("the workers end with the site", [(psutil.Process(p).cmdline(), psutil.Process(p).status()) for p in left])
