"""The batch summary page: counts, links, needs-attention list, self-contained, robust to empty runs."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cities import city_key
from pipeline.report import SUMMARY_FILE, city_slug
from pipeline.report.summary import Words, render_summary, strongest_matches, summary_context, write_summary
from pipeline.run import run_batch
from pipeline.tables import to_table, write_json, write_table


def count(html: str, name: str) -> int:
    match = re.search(rf'id="count-{name}">(\d+)<', html)
    assert match, f"count-{name} not on the page"
    return int(match.group(1))


def section(html: str, element_id: str) -> str:
    """The HTML of the <details> or <table> element with this id."""
    start = html.index(f'id="{element_id}"')
    tag = html.rfind("<", 0, start)
    name = re.match(r"<(\w+)", html[tag:]).group(1)
    return html[tag: html.index(f"</{name}>", start)]


@pytest.fixture(scope="module")
def sample_page(sample_out) -> tuple[Path, str]:
    path = write_summary(sample_out)
    return path, path.read_text(encoding="utf-8")



def test_written_where_the_run_expects_it(sample_out, sample_page):
    path, html = sample_page
    assert path == Path(sample_out) / SUMMARY_FILE
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")


def test_the_page_written_in_pieces_is_the_rendered_page(sample_out, sample_page):
    _, html = sample_page
    stamp = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert stamp.sub("", html) == stamp.sub("", render_summary(sample_out))


def test_counts_match_the_tables(sample_out, sample_page):
    _, html = sample_page
    files = pd.read_parquet(Path(sample_out) / "files.parquet")
    practices = pd.read_parquet(Path(sample_out) / "practices.parquet")
    assert count(html, "files") == len(files) == 50
    assert count(html, "ok") == (files["status"] == "ok").sum()
    assert count(html, "empty") == (files["status"] == "empty_form").sum() == 1
    assert count(html, "errors") == (files["status"] == "error").sum()
    assert count(html, "practices") == len(practices) == 52
    assert count(html, "cities") == len({city_key(c) for c in practices["city"]})


def test_self_contained(sample_page):
    _, html = sample_page
    assert "<script" not in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html), "no external assets or links"
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html)
    assert '<link rel="stylesheet"' not in html
    assert html.count("<svg") >= 2, "the areas and criteria charts are inline SVG"


def test_every_internal_link_has_a_target(sample_page):
    _, html = sample_page
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    anchors = set(re.findall(r'href="#([^"]+)"', html))
    assert anchors and anchors <= ids, sorted(anchors - ids)[:5]


def test_city_links_point_to_the_city_reports(sample_out, sample_page):
    path, html = sample_page
    practices = pd.read_parquet(Path(sample_out) / "practices.parquet")
    links = set(re.findall(r'href="(cities/[^"#]+)"', html))
    assert links == {f"cities/{city_slug(c)}.html" for c in practices["city"]}
    for link in links:  # written by the same run, next to the summary
        assert (path.parent / link).is_file(), link


def test_every_practice_has_an_anchor(sample_out, sample_page):
    _, html = sample_page
    practices = pd.read_parquet(Path(sample_out) / "practices.parquet")
    for pid in practices["practice_id"]:
        assert f'<tr id="p-{pid}">' in html


def test_needs_attention_lists_what_the_tables_flag(sample_out, sample_page):
    _, html = sample_page
    files = pd.read_parquet(Path(sample_out) / "files.parquet")
    practices = pd.read_parquet(Path(sample_out) / "practices.parquet")
    criteria = pd.read_parquet(Path(sample_out) / "criteria.parquet")

    blank = section(html, "attention-empty")
    for name in files.loc[files["status"] == "empty_form", "source_file"]:
        assert name in blank
    missing = section(html, "attention-missing")
    flagged = practices[practices["warnings"].map(lambda ws: any(w.startswith("missing_section:") for w in ws))]
    assert len(flagged) >= 1
    for pid in flagged["practice_id"]:
        assert f'href="#p-{pid}"' in missing
    mismatch = section(html, "attention-mismatch")
    assert mismatch.count("<li>") == practices["area_mismatch"].sum()
    for pid in practices.loc[practices["area_mismatch"], "practice_id"]:
        assert f'href="#p-{pid}"' in mismatch
    low = section(html, "attention-low")
    zero = set(criteria.loc[criteria["level"] == 0, "practice_id"])
    assert low.count("<li>") == len(zero)
    for pid in zero:
        assert f'href="#p-{pid}"' in low


def test_strongest_matches_are_cross_city_and_sorted(sample_out):
    context = summary_context(Path(sample_out))
    matches = context["matches"]
    assert matches, "the sample corpus has cross-city neighbours"
    scores = [m["score"] for m in matches]
    assert scores == sorted(scores, reverse=True)
    pairs = [frozenset((m["a"]["practice_id"], m["b"]["practice_id"])) for m in matches]
    assert len(set(pairs)) == len(pairs), "each pair once"
    assert all(m["a"]["city"] != m["b"]["city"] for m in matches)
    similar = pd.read_parquet(Path(sample_out) / "similar.parquet")
    assert scores[0] == pytest.approx(similar["score"].max())


def test_run_facts_from_the_manifest(sample_out, sample_page):
    _, html = sample_page
    manifest = json.loads((Path(sample_out) / "manifest.json").read_text())
    assert manifest["models"]["embedder"] in html
    timings = section(html, "timings")
    for step in manifest["timings_seconds"]:
        assert f"<td>{Words('en').step(step)}</td>" in timings, step
    assert timings.rindex("total") > timings.index("reading the files"), "steps in pipeline order, total last"


def test_page_for_a_run_where_every_file_failed(failed_run):
    html = write_summary(failed_run).read_text(encoding="utf-8")
    assert count(html, "files") == 2 and count(html, "errors") == 2 and count(html, "practices") == 0
    errors = section(html, "errors")
    assert "broken.docx" in errors and "empty.txt" in errors
    assert "empty_file" in errors  # the stable error code, with its reason beside it
    assert "No practices were found in this run." in html
    assert "No criteria were scored in this run." in html
    failed = section(html, "attention-failed")
    assert failed.count("<li>") == 2


def test_page_without_any_table(tmp_path):
    html = render_summary(tmp_path)  # not even a manifest: still a page, all counts zero
    assert count(html, "files") == 0 and count(html, "practices") == 0
    assert "No manifest was found" in html


def test_text_from_submissions_is_escaped(tmp_path):
    evil = '<script>alert("x")</script>'
    write_table(tmp_path / "files.parquet", to_table("files", [
        {"source_file": "a<b>.docx", "sha256": "0" * 64, "status": "ok", "message": "1 practice(s) found",
         "n_practices": 1}]))
    write_table(tmp_path / "practices.parquet", to_table("practices", [
        {"practice_id": "p1", "source_file": "a<b>.docx", "practice_index": 1, "lang": "en", "city": "Bergen",
         "title": evil, "declared_areas": ["3"], "warnings": ["missing_section:impact"], "n_words": 12,
         "predicted_areas": ["9"], "main_area_pred": "9", "area_mismatch": True}]))
    write_json(tmp_path / "manifest.json", {"models": {"embedder": "<b>model</b>"}})
    html = render_summary(tmp_path)
    assert "<script" not in html and "<b>" not in html
    assert unescape(evil) in unescape(html)
    assert 'href="#p-p1"' in section(html, "attention-mismatch")


def test_a_title_holding_a_contact_is_shown_without_it(tmp_path):
    write_table(tmp_path / "practices.parquet", to_table("practices", [
        {"practice_id": "p1", "source_file": "a.docx", "practice_index": 1, "lang": "en", "city": "Bergen",
         "title": "Helpline with Sigrid Moe: call 22 33 44 88 (help@oslo.example)", "contact_person": "Sigrid Moe",
         "declared_areas": ["3"], "warnings": ["missing_section:impact"], "n_words": 12, "predicted_areas": ["9"],
         "main_area_pred": "9", "area_mismatch": True}]))
    html = unescape(render_summary(tmp_path))
    assert "Helpline with" in html and not any(x in html for x in ("Sigrid", "22 33 44 88", "help@oslo.example"))


def test_strongest_matches_skip_same_city_and_unknown_practices():
    by_id = {pid: {"practice_id": pid, "city": city} for pid, city in
             (("a", "Oslo"), ("b", "oslo"), ("c", "Paris"))}
    similar = pd.DataFrame([
        {"practice_id": "a", "neighbour_id": "b", "score": 0.9},   # same city, other case
        {"practice_id": "a", "neighbour_id": "c", "score": 0.5},
        {"practice_id": "c", "neighbour_id": "a", "score": 0.6},   # same pair, better score kept
        {"practice_id": "a", "neighbour_id": "zz", "score": 0.99},  # neighbour not in the practices
    ])
    matches = strongest_matches(similar, by_id)
    assert [(m["a"]["practice_id"], m["b"]["practice_id"], m["score"]) for m in matches] == [("c", "a", 0.6)]
    # a best match kept below the run's lowest score is no lead to offer
    weak = pd.DataFrame([{"practice_id": "a", "neighbour_id": "c", "score": 0.38, "weak": True}])
    assert strongest_matches(weak, by_id) == []


def test_resubmitted_practice_needs_attention_and_is_one_match(tmp_path):
    """A city that sends the same practice twice: flagged once, and its pairs with other cities not doubled."""
    import shutil

    from docx import Document

    from pipeline.report.summary import summary_context

    raw = Path(__file__).resolve().parents[1] / "data" / "raw"
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("paris-p2-01.docx", "botkyrka-p2-02.docx", "reggio-emilia-p2-12.docx"):
        shutil.copy(raw / name, folder / name)
    doc = Document(str(raw / "paris-p2-01.docx"))
    doc.add_paragraph("Mise à jour : le dispositif continue en 2024.")
    doc.save(str(folder / "paris-p2-01-v2.docx"))
    out = tmp_path / "out"
    run_batch([folder], out)
    context = summary_context(out)
    groups = {g.key: g for g in context["attention"]}
    assert len(groups["resubmitted"].items) == 1
    pairs = [(m["a"]["city"], m["b"]["city"], m["b"]["title"]) for m in context["matches"]]
    paris_pairs = [tuple(sorted((a, b))) + (t,) for a, b, t in pairs if "Paris" in (a, b)]
    assert len(paris_pairs) == len(set((x[0], x[1]) for x in paris_pairs)), pairs


def test_summary_shows_the_reviews(sample_out, tmp_path):
    import shutil

    from pipeline.report.summary import summary_context, write_summary
    from pipeline.tables import to_table, write_table

    out = tmp_path / "run"
    shutil.copytree(sample_out, out, ignore=shutil.ignore_patterns(".cache", "reports"))
    practices = pd.read_parquet(out / "practices.parquet")
    first, second = practices.iloc[0], practices.iloc[1]
    other = "12" if first["main_area_pred"] != "12" else "11"
    # A. Officer reviewed the main area and areas; C. Officer, last, only a level
    rows = [{"practice_id": first["practice_id"], "main_area": other, "areas": [other], "targeted": 2,
             "reviewer": "C. Officer", "n_reviews": 2, "reviewers": ["A. Officer", "C. Officer"],
             "set_by": {"main_area": "A. Officer", "areas": "A. Officer", "targeted": "C. Officer"}},
            {"practice_id": second["practice_id"], "main_area": second["main_area_pred"], "n_reviews": 1},
            # a practice of a file that has since changed: its id is not in the run
            {"practice_id": "0123456789ab-1", "main_area": "5", "n_reviews": 1, "reviewer": "B. Officer",
             "city": first["city"], "title": first["title"]}]
    write_table(out / "reviews.parquet", to_table("reviews", rows))
    context = summary_context(out)
    assert context["reviews"]["practices"] == 2 and context["reviews"]["main_areas_changed"] == 1
    assert context["reviews"]["criteria_levels"] == 1 and context["reviews"]["gone"] == 1
    html = write_summary(out).read_text(encoding="utf-8")
    changes = html.split('id="review-changes"')[1].split("</table>")[0]
    assert "A. Officer" in changes and "C. Officer" not in changes, "the main area is credited to who set it"
    # the practices table gives the reviewed areas as a third line, beside the declared and the suggested
    from pipeline.report.summary import practice_anchor

    row = html.split(f'<tr id="{practice_anchor(first["practice_id"])}">')[1].split("</tr>")[0]
    assert row.count('class="tag reviewed"') == 1 and f'">{other}</span>' in row.split('class="tag reviewed"')[1]
    # the reviewed level in place of the analysis's, ringed, with both in its title
    reviewed_level = re.search(r'<span class="lv reviewed"[^>]*title="([^"]*)">(\d)</span>', row)
    assert reviewed_level and reviewed_level.group(2) == "2" and "as reviewed (the analysis gave" in \
        unescape(reviewed_level.group(1))
    assert html.count('class="lv reviewed"') == 1, "the one level reviewed, and no other"
    unreviewed = next(pid for pid in practices["practice_id"] if pid not in {first["practice_id"], second["practice_id"]})
    assert 'class="tag reviewed"' not in html.split(f'<tr id="{practice_anchor(unreviewed)}">')[1].split("</tr>")[0]
    assert 'id="reviews-gone"' in html and "1 reviewed practice(s) are not in this run" in html
    # named by the city and title stored with it, beside the practice of this run that has them
    [gone] = context["reviews"]["gone_rows"]
    assert (gone["city"], gone["title"], gone["reviewer"]) == (first["city"], first["title"], "B. Officer")
    assert [c["title"] for c in gone["copies"]] == [first["title"]]
    table = html.split('id="reviews-gone-list"')[1].split("</table>")[0]
    assert "0123456789ab-1" in table and f'href="#{gone["copies"][0]["anchor"]}"' in table


def test_a_reviewed_mismatch_leaves_the_attention_list_and_reviews_that_do_not_fit_join_it(sample_out, tmp_path):
    """Three practices corrected in the web app were still listed as declared-area mismatches after the export and a
    new run; a main area one reviewer set outside another's area set was nowhere on the page."""
    import shutil

    out = tmp_path / "run"
    shutil.copytree(sample_out, out, ignore=shutil.ignore_patterns(".cache", "reports"))
    practices = pd.read_parquet(out / "practices.parquet", dtype_backend="pyarrow")
    flagged = practices["practice_id"].iloc[:2].tolist()
    practices["area_mismatch"] = practices["practice_id"].isin(flagged)
    write_table(out / "practices.parquet", to_table("practices", practices.to_dict("records")))
    third = practices["practice_id"].iloc[2]
    rows = [{"practice_id": flagged[0], "main_area": "5", "n_reviews": 1, "reviewer": "Anna",
             "set_by": {"main_area": "Anna"}},
            {"practice_id": third, "main_area": "2", "areas": ["4", "5"], "n_reviews": 2, "reviewer": "Ben",
             "set_by": {"areas": "Anna", "main_area": "Ben"}}]
    write_table(out / "reviews.parquet", to_table("reviews", rows))
    groups = {g.key: g for g in summary_context(out)["attention"]}
    assert [i.practice_id for i in groups["mismatch"].items] == [flagged[1]]
    [disputed] = groups["disputed"].items
    assert disputed.practice_id == third and disputed.text.startswith("main area 2 (") and "(Ben)" in disputed.text
    assert "(Anna)" in disputed.text and "is outside the area set 4 (" in disputed.text
    french = {g.key: g for g in summary_context(out, lang="fr")["attention"]}
    assert french["disputed"].items[0].text.startswith("domaine principal 2 (")
    # a level reviewed up is no longer a criterion with no evidence
    from pipeline.report.summary import LOW_LEVEL

    criteria = pd.read_parquet(out / "criteria.parquet")
    low = criteria[criteria["level"] <= LOW_LEVEL].iloc[0]
    name = Words("en").criterion(low["criterion"])
    listed = lambda: [i.text for i in {g.key: g for g in summary_context(out)["attention"]}["low"].items  # noqa: E731
                      if i.practice_id == low["practice_id"]]
    assert any(name in text for text in listed())
    rows.append({"practice_id": low["practice_id"], low["criterion"]: 3, "n_reviews": 1, "reviewer": "Ben",
                 "set_by": {low["criterion"]: "Ben"}})
    write_table(out / "reviews.parquet", to_table("reviews", rows))
    assert not any(name in text for text in listed())


@pytest.fixture()
def messy_run(tmp_path) -> Path:
    """A run with a file of each kind (read, damaged, refused, blank, sent twice) and practices with each kind of
    warning: every message the run writes, in English, on the page."""
    from pipeline.config import Settings

    files = [
        {"source_file": "x.txt", "sha256": "a" * 64, "status": "ok", "n_practices": 1,
         "message": "1 practice(s) found"},
        {"source_file": "2024/copie de x.txt", "sha256": "a" * 64, "status": "error", "error_code": "duplicate_file",
         "message": "Same content as x.txt; its practices are counted once.", "n_practices": 0},
        {"source_file": "broken.docx", "sha256": "b" * 64, "status": "error", "error_code": "corrupt_docx",
         "message": "The Word file is damaged or truncated and cannot be opened (BadZipFile).", "n_practices": 0},
        {"source_file": "macros.doc", "sha256": "c" * 64, "status": "error", "error_code": "active_content",
         "message": "The .doc file holds macros (VBA), which are never run; save it as .docx, which drops them, and "
                    "submit again.", "n_practices": 0},
        {"source_file": "vierge.docx", "sha256": "d" * 64, "status": "empty_form", "n_practices": 0,
         "message": "The form is blank: no title or description was filled in."},
        {"source_file": "lyon.doc", "sha256": "e" * 64, "status": "ok", "n_practices": 1,
         "message": "1 practice(s) found; Word 97-2003 .doc read as text only, without LibreOffice"},
    ]
    practice = {"practice_index": 1, "lang": "fr", "declared_areas": ["3"], "n_words": 150,
                "predicted_areas": ["3"], "main_area_pred": "3", "area_mismatch": False}
    practices = [
        {**practice, "practice_id": "p1", "source_file": "x.txt", "city": "Genève", "title": "Médiation de quartier",
         "warnings": ["missing_section:references", "missing:declared_area_text", "converted:text-only",
                      "unparsed_period"]},
        {**practice, "practice_id": "p2", "source_file": "lyon.doc", "city": "Lyon", "title": "Cafés des langues",
         "warnings": ["converted:text-only", "inherited:department"]},
    ]
    similar = [{"practice_id": "p1", "neighbour_id": "p2", "rank": 1, "score": 0.7, "matched_section": "starting_point",
                "shared_terms": ["quartier"], "neighbour_city": "Lyon", "near_duplicate": False, "relation": "similar",
                "weak": False}]
    guidelines = [{"practice_id": "p1", "check": "results_stated", "passed": False, "detail": "no result"}]
    for name, rows in (("files", files), ("practices", practices), ("similar", similar), ("guidelines", guidelines)):
        write_table(tmp_path / f"{name}.parquet", to_table(name, rows))
    write_json(tmp_path / "manifest.json", {
        "models": {"embedder": "use-multilingual-v3",
                   "area_classifier": "area-classifier:zero-shot:use-multilingual-v3 (no trained model)"},
        "settings": {**Settings().record(), "inputs": ["data/raw"], "supported_suffixes": [".docx", ".txt"]},
        "timings_seconds": {"ingest_segment": 1.5, "load_embedder": 1.2, "areas": 2.0, "similar": 1.0,
                            "criteria": 3.0, "reports": 0.5, "total": 9.2}})
    return tmp_path


def _visible_text(html: str) -> str:
    """The page's words as a reader sees them, without identifiers (codes, file names, model ids, settings keys)."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(html)
    for node in tree.xpath("//code | //*[contains(@class, 'file')] | //style"):
        node.drop_tree()
    return " ".join(tree.text_content().split())


def test_the_french_page_is_french_throughout(messy_run):
    text = _visible_text(render_summary(messy_run, "fr"))
    english = re.compile(r"\b(the|is|was|of|and|with|file|form|blank|same|content|missing|section|converted|read|"
                         r"text|only|model|trained|reading|segment|embedder|max|stated|starting|found)\b", re.I)
    assert not english.findall(text), sorted(set(english.findall(text)))
    for french in ("corrupt_docx : Le fichier Word est endommagé ou tronqué et ne peut pas être ouvert (BadZipFile).",
                   "active_content : Le fichier .doc contient des macros (VBA), qui ne sont jamais exécutées ; "
                   "enregistrez-le en .docx, ce qui les supprime, et renvoyez-le.",  # the detail of the run's message
                   "Le formulaire est vide : ni titre ni description n'ont été remplis.",
                   "rubrique manquante : Principaux documents de référence",  # the template's French names
                   "champ manquant : Principal domaine d'action", "période non comprise",
                   "lu comme texte seul, sans LibreOffice", "lecture des fichiers", "chargement de l'encodeur",
                   "Point de départ", "règles de rédaction non respectées : résultats indiqués",
                   "nombre maximal de pages d'un PDF", "Le modèle entraîné des domaines n'a pas servi"):
        assert french in text, french
    settings = section(render_summary(messy_run, "fr"), "settings")
    assert "<code>0,4</code>" in settings and "<code>1,6 ; -3,2</code>" in settings and "0.4" not in settings
    assert "<code>0.4</code>" in section(render_summary(messy_run, "en"), "settings")


def test_every_warning_setting_and_step_has_a_name_in_both_languages():
    from pipeline.config import RESOURCES_DIR, Settings, load_yaml
    from pipeline.report.summary import _STEP_ORDER, _flatten

    warnings = load_yaml((RESOURCES_DIR / "messages.yaml").read_text(encoding="utf-8"))["en"]["warning"]
    settings = [key for key, _ in _flatten(Settings().record())] + ["inputs", "supported_suffixes"]
    for lang in ("en", "fr"):
        words = Words(lang)
        assert set(warnings) <= set(words["warnings"]), set(warnings) - set(words["warnings"])
        assert set(settings) <= set(words["settings_names"]), set(settings) - set(words["settings_names"])
        assert set(_STEP_ORDER) <= set(words["steps"])


def test_labels_not_of_the_template_are_listed_quoted_not_pipe_joined():
    assert Words("en").warning("unknown_label:Our approach|Partners") == (
        "labels not of the template: “Our approach”, “Partners”")
    assert Words("fr").warning("unknown_label:Nos constats") == "rubriques hors modèle : « Nos constats »"


def test_missing_fields_and_sections_list_only_what_is_missing(messy_run):
    html = render_summary(messy_run, "en")
    missing = section(html, "attention-missing")
    assert 'href="#p-p1"' in missing and 'href="#p-p2"' not in missing  # p2 only carries a conversion note
    assert "missing section: Key reference documents" in missing and "missing field: Main area of action" in missing
    assert "LibreOffice" not in missing and "period" not in missing
    to_check = section(html, "attention-check")
    assert to_check.count("<li>") == 1 and "period not understood" in to_check
    notes = html[html.index('<tr id="p-p2">'):]
    assert "read as text only, without LibreOffice" in notes[:notes.index("</tr>")]  # shown beside the practice


def test_count_labels_agree_with_their_count(messy_run):
    def label(html: str, name: str) -> str:
        return re.search(rf'id="count-{name}">\d+</span><span class="l">([^<]+)<', html).group(1)

    english, french = render_summary(messy_run, "en"), render_summary(messy_run, "fr")
    assert (label(english, "empty"), label(english, "duplicates"), label(english, "errors")) == (
        "blank form", "sent twice", "errors")
    assert (label(french, "empty"), label(french, "duplicates"), label(french, "errors")) == (
        "formulaire vide", "envoyé deux fois", "erreurs")


def test_a_file_sent_twice_is_not_an_error(messy_run):
    for lang in ("en", "fr"):
        html = render_summary(messy_run, lang)
        assert count(html, "errors") == 2 and count(html, "duplicates") == 1 and count(html, "files") == 6
        assert "copie de x.txt" not in section(html, "errors")
        assert section(html, "attention-failed").count("<li>") == 2
        duplicates = section(html, "duplicates")
        assert re.search(r"2024/copie de x\.txt</td><td[^>]*>x\.txt</td>", duplicates), duplicates
    html = render_summary(messy_run, "en")
    assert "Same file sent twice" in html
    assert "The Word file is damaged or truncated and cannot be opened (BadZipFile)." in html
    assert "Copies of a file already sent (same content, counted once): 1 file." in html


def test_the_french_page_gives_the_detail_of_each_file_that_could_not_be_used(tmp_path):
    """A run over files that cannot be used: the French page says what the run wrote of each, in French."""
    from pypdf import PdfWriter

    from pipeline.config import Limits, Settings

    inputs = tmp_path / "in"
    (inputs / "2024").mkdir(parents=True)
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    with (inputs / "long.pdf").open("wb") as fh:
        writer.write(fh)
    (inputs / "photo.docx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (inputs / "vierge.txt").write_text("Ville :\nTitre :\nBut :\n", encoding="utf-8")
    for name in ("repas.txt", "2024/copie de repas.txt"):
        (inputs / name).write_text("Ville : Lyon\nTitre : Repas de quartier\nBut : Des voisins partagent un repas "
                                   "chaque mois dans la cour de leur immeuble.\n", encoding="utf-8")
    out = tmp_path / "out"
    batch = run_batch([inputs], out, Settings(limits=Limits(max_pdf_pages=2)))
    messages = {r.source_file: r.message for r in batch.files}
    assert messages["long.pdf"] == "The PDF has 3 pages; the limit is 2."
    assert messages["2024/copie de repas.txt"] == "Same content as repas.txt; its practices are counted once."
    french = unescape((out / "reports" / "summary.fr.html").read_text(encoding="utf-8"))
    for detail in ("too_many_pages : Le PDF compte 3 pages ; la limite est de 2.",
                   "unsupported_format : Le fichier est une image PNG, pas un document : envoyez le formulaire en "
                   ".docx, ou sa numérisation en PDF (les pages numérisées sont lues par OCR).",
                   "Le formulaire est vide : ni titre ni description n'ont été remplis."):
        assert detail in french, detail
    assert not [text for text in messages.values() if text in french], "no English message on the French page"
    duplicates = section(french, "duplicates")
    assert re.search(r"2024/copie de repas\.txt</td><td[^>]*>repas\.txt</td>", duplicates), duplicates
    english = unescape((out / "reports" / "summary.html").read_text(encoding="utf-8"))
    assert "too_many_pages: The PDF has 3 pages; the limit is 2." in english and "Le PDF" not in english


def test_a_message_no_entry_wrote_gets_the_general_french_text():
    """A run of an older version wrote messages the catalogue no longer holds: the page explains the code."""
    row = {"error_code": "corrupt_docx", "message": "The Word file is damaged or truncated (BadZipFile)."}
    assert Words("fr").error(row) == "Le fichier Word est endommagé ou incomplet."
    assert Words("en").error(row) == row["message"]
    blank = "The form is blank: no title or description was filled in."
    assert Words("fr").run_text(blank, "?") == "Le formulaire est vide : ni titre ni description n'ont été remplis."
    assert Words("fr").run_text("A blank form.", "général") == "général"


def test_a_hint_shows_in_the_page_language_whatever_the_practice_language(sample_out):
    from pipeline.criteria import load_cues

    criteria = pd.read_parquet(Path(sample_out) / "criteria.parquet")
    practices = pd.read_parquet(Path(sample_out) / "practices.parquet").set_index("practice_id")
    hints = {lang: {h for spec in load_cues()["criteria"].values()
                    for h in [*spec["hints"][lang].values(), *(g[lang] for g in spec.get("gaps", ())),
                              *(g["if_said"][lang] for g in spec.get("gaps", ()) if g.get("if_said"))]}
             for lang in ("en", "fr")}
    raw = {lang: render_summary(sample_out, lang) for lang in ("en", "fr")}
    pages = {lang: unescape(html) for lang, html in raw.items()}
    shown = 0
    for row in criteria[criteria["hint"].fillna("") != ""].itertuples():
        written_in = practices.loc[row.practice_id, "lang"]
        other = "fr" if written_in == "en" else "en"
        assert row.hint in hints[written_in]
        assert f"– {row.hint}\"" in pages[written_in]
        # the same hint in the other page's language: one of that language's hints, and not the stored one
        page = pages[other]
        titles = re.findall(rf'<tr id="p-{re.escape(row.practice_id)}">.*?</tr>', page, re.S)[0]
        assert row.hint not in titles
        shown += 1
    assert shown > 20
    for lang in ("en", "fr"):
        hovered = {unescape(h) for h in re.findall(r'<span class="lv"[^>]*title="[^"]*? – ([^"]+)"', raw[lang])}
        assert hovered and hovered <= hints[lang], hovered - hints[lang]


def test_cities_are_counted_and_named_as_their_reports_name_them(tmp_path):
    """'Geneva' and 'Genève', 'Ville de Strasbourg' and 'Strasbourg' are two cities, each under its listed name (in
    the page's language where it has one) and linked to the one report written for it."""
    from lxml import html as lxml_html

    from pipeline.report.city import write_city_reports

    written = {"p1": "Geneva", "p2": "Genève", "p3": "Ville de Strasbourg", "p4": "Strasbourg",
               "p5": "Erlangen, Germany", "p6": "Tartu, Estonia", "p7": None}
    practice = {"practice_index": 1, "lang": "en", "declared_areas": ["3"], "n_words": 150, "warnings": [],
                "predicted_areas": ["3"], "main_area_pred": "3", "area_mismatch": False}
    practices = [{**practice, "practice_id": pid, "source_file": f"{pid}.txt", "city": city, "title": f"Practice {pid}"}
                 for pid, city in written.items()]
    files = [{"source_file": f"{pid}.txt", "sha256": pid * 32, "status": "ok", "n_practices": 1} for pid in written]
    pair = {"rank": 1, "score": 0.7, "matched_section": "process", "shared_terms": [], "near_duplicate": False,
            "relation": "similar", "weak": False}
    similar = [{**pair, "practice_id": "p1", "neighbour_id": "p3", "neighbour_city": "Ville de Strasbourg"},
               {**pair, "practice_id": "p3", "neighbour_id": "p1", "neighbour_city": "Geneva"}]
    for name, rows in (("files", files), ("practices", practices), ("similar", similar)):
        write_table(tmp_path / f"{name}.parquet", to_table(name, rows))
    write_json(tmp_path / "manifest.json", {})
    reports = {p.name for p in write_city_reports(tmp_path, formats=("html",))}
    assert reports == {"geneve.html", "strasbourg.html", "erlangen.html", "tartu.html"}
    shown = {"en": {"Geneva", "Strasbourg", "Erlangen", "Tartu"}, "fr": {"Genève", "Strasbourg", "Erlangen", "Tartu"}}
    for lang, names in shown.items():
        html = render_summary(tmp_path, lang)
        assert count(html, "cities") == 4
        tree = lxml_html.fromstring(html)
        links = {(a.get("href"), a.text_content()) for a in tree.xpath("//a[starts-with(@href, 'cities/')]")}
        assert {name for _, name in links} == names, links
        assert {href for href, _ in links} == {f"cities/{name}" for name in reports}
        # the practice without a city is there, with no link to a report that was not written
        row = tree.xpath("//tr[@id='p-p7']")[0]
        assert not row.xpath(".//a[starts-with(@href, 'cities/')]") and Words(lang)["unknown_city"] in row.text_content()
        for written_name in ("Ville de Strasbourg", "Erlangen, Germany", "Tartu, Estonia", "Genève" if lang == "en" else "Geneva"):
            assert written_name not in unescape(html), written_name
    # each report names its city in its own language, and counts the run's cities as the summary does
    geneve = (tmp_path / "reports" / "cities" / "geneve.html").read_text(encoding="utf-8")
    assert "<title>Genève –" in geneve and "de 4 villes" in geneve
    strasbourg = (tmp_path / "reports" / "cities" / "strasbourg.html").read_text(encoding="utf-8")
    assert "<title>Strasbourg –" in strasbourg and "Genève" in strasbourg and "Geneva" not in strasbourg


def test_a_practice_sent_again_or_in_another_language_is_counted_once_beside_the_forms(tmp_path):
    written = {"p1": ("Geneva", "en"), "p2": ("Genève", "fr"), "p3": ("Genève", "fr"), "p4": ("Lyon", "fr")}
    practice = {"practice_index": 1, "declared_areas": ["3"], "n_words": 150, "warnings": [], "predicted_areas": ["3"],
                "main_area_pred": "3", "area_mismatch": False}
    practices = [{**practice, "practice_id": pid, "source_file": f"{pid}.txt", "city": city, "lang": lang,
                  "title": f"Practice {pid}"} for pid, (city, lang) in written.items()]
    files = [{"source_file": f"{pid}.txt", "sha256": pid * 32, "status": "ok", "n_practices": 1} for pid in written]
    pair = {"score": 0.9, "matched_section": "process", "shared_terms": [], "near_duplicate": True, "weak": False,
            "neighbour_city": "Genève"}
    # p1 and p2 are one practice in two languages, p2 and p3 the same form sent twice: one practice in three forms
    similar = [{**pair, "practice_id": a, "neighbour_id": b, "rank": 0, "relation": relation}
               for a, b, relation in (("p1", "p2", "version"), ("p2", "p1", "version"), ("p2", "p3", "near_duplicate"))]
    for name, rows in (("files", files), ("practices", practices), ("similar", similar)):
        write_table(tmp_path / f"{name}.parquet", to_table(name, rows))
    write_json(tmp_path / "manifest.json", {})
    for lang, said in (("en", "2 distinct practices"), ("fr", "2 pratiques distinctes")):
        html = render_summary(tmp_path, lang)
        assert count(html, "practices") == 4 and said in " ".join(html.split())
    # without such pairs the sentence is not there
    write_table(tmp_path / "similar.parquet", to_table("similar", []))
    assert "distinct" not in render_summary(tmp_path, "en")


@pytest.fixture()
def versions_run(tmp_path) -> Path:
    """Geneva's practice in English (p1) and in French (p2), the French form sent again as another file (p3), and one
    practice of Oslo (p4), each with its criteria levels."""
    written = {"p1": ("Geneva", "en", "3"), "p2": ("Genève", "fr", "3"), "p3": ("Genève", "fr", "3"),
               "p4": ("Oslo", "en", "9")}
    practice = {"practice_index": 1, "n_words": 150, "warnings": [], "area_mismatch": False}
    practices = [{**practice, "practice_id": pid, "source_file": f"{pid}.txt", "city": city, "lang": lang,
                  "title": f"Practice {pid}", "declared_areas": [area], "predicted_areas": [area],
                  "main_area_pred": area} for pid, (city, lang, area) in written.items()]
    files = [{"source_file": f"{pid}.txt", "sha256": pid * 32, "status": "ok", "n_practices": 1} for pid in written]
    pair = {"score": 0.9, "matched_section": "process", "shared_terms": [], "near_duplicate": True, "weak": False,
            "neighbour_city": "Genève"}
    similar = [{**pair, "practice_id": a, "neighbour_id": b, "rank": 0, "relation": relation}
               for a, b, relation in (("p1", "p2", "version"), ("p2", "p1", "version"), ("p2", "p3", "near_duplicate"),
                                      ("p3", "p2", "near_duplicate"))]
    similar.append({**pair, "practice_id": "p1", "neighbour_id": "p4", "rank": 1, "score": 0.6, "relation": "similar",
                    "near_duplicate": False, "neighbour_city": "Oslo"})
    criteria = [{"practice_id": pid, "criterion": c, "level": 2, "score": 0.6, "evidence": [], "hint": None}
                for pid in written for c in ("targeted", "needs_based")]
    for name, rows in (("files", files), ("practices", practices), ("similar", similar), ("criteria", criteria)):
        write_table(tmp_path / f"{name}.parquet", to_table(name, rows))
    write_json(tmp_path / "manifest.json", {"generated_at": "2026-03-04T10:00:00"})
    return tmp_path


def _bars(svg: str) -> dict[str, int]:
    """The value of each bar of a chart, by its hover text ('3. Anti-discrimination, declared (main)': 1)."""
    out = {}
    for text in re.findall(r"<title>([^<]*)</title>", svg):
        label, _, value = unescape(text).rpartition(": ")
        out[label] = int(value)
    return out


def test_the_charts_count_a_practice_sent_in_two_languages_once(versions_run):
    """Three forms of Geneva's practice (English, French, the French sent again) are one practice in the area and
    criteria charts; the page still lists each form and says how the charts count."""
    from pipeline.taxonomy import load_taxonomy

    context = summary_context(versions_run, "en")
    bars = _bars(context["areas_chart"])
    area3 = f"3. {load_taxonomy().areas['3'].name('en')}"
    assert bars[f"{area3}, declared (main)"] == 1 and bars[f"{area3}, predicted (main)"] == 1
    assert bars[f"9. {load_taxonomy().areas['9'].name('en')}, declared (main)"] == 1
    criteria = _bars(context["criteria_chart"])
    assert criteria == {"Targeted, level 2": 2, "Needs-based, level 2": 2}
    assert context["counts"]["practices"] == 4 and context["counts"]["distinct"] == 2
    assert len(context["practices"]) == 4  # the list of practices is a list of forms: each one is there
    for lang, said in (("en", "is counted once"), ("fr", "n'est comptée qu'une fois")):
        html = render_summary(versions_run, lang)
        assert said in " ".join(unescape(section(html, "versions-once")).split())
    # without the links each form is a practice of its own, and the note on versions is not needed
    write_table(versions_run / "similar.parquet", to_table("similar", []))
    assert _bars(summary_context(versions_run, "en")["criteria_chart"])["Targeted, level 2"] == 4
    assert 'id="versions-once"' not in render_summary(versions_run, "en")


def test_the_area_chart_takes_a_declared_area_from_another_version(versions_run):
    """The English form stands for Geneva's practice but declares no area: the French version's area counts for
    it, as in research.distinct_practices, whatever order the table's rows are in."""
    from pipeline.taxonomy import load_taxonomy

    practices = pd.read_parquet(versions_run / "practices.parquet")
    practices["declared_areas"] = [[] if pid == "p1" else list(a) for pid, a in zip(practices["practice_id"],
                                                                                   practices["declared_areas"])]
    write_table(versions_run / "practices.parquet", to_table("practices", practices.iloc[[0, 3, 2, 1]]))
    bars = _bars(summary_context(versions_run, "en")["areas_chart"])
    assert bars[f"3. {load_taxonomy().areas['3'].name('en')}, declared (main)"] == 1


def test_the_city_reports_count_a_practice_sent_in_two_languages_once(versions_run):
    """The run counted in each city report: two practices (Geneva's three forms are one), said in the report's
    language, in the HTML and the Word file; each language version still has its own entry, naming its other
    versions, and the French form sent again is listed in the French form's entry, not given one of its own."""
    from docx import Document

    from pipeline.report.city import build_city_report, write_city_reports
    from pipeline.report.view import build_view

    view = build_view(versions_run)
    geneva, oslo = build_city_report(view, "Genève"), build_city_report(view, "Oslo")
    assert geneva.run_note.endswith("portant sur 2 pratiques de 2 villes.")
    assert "ne compte qu'une fois" in geneva.versions_note
    assert oslo.run_note.startswith("Based on 2 practices from 2 cities") and "counts once" in oslo.versions_note
    assert [item.id for item in geneva.items] == ["p1", "p2"]
    assert {d.title for d in geneva.items[0].duplicates} == {"Practice p2"}
    assert {d.title for d in geneva.items[1].duplicates} == {"Practice p1", "Practice p3"}
    write_city_reports(versions_run)
    folder = versions_run / "reports" / "cities"
    assert "2 practices from 2 cities" in (folder / "oslo.html").read_text(encoding="utf-8")
    word = " ".join(p.text for p in Document(str(folder / "geneve.docx")).paragraphs)
    assert "2 pratiques de 2 villes" in word
    html = (folder / "oslo.html").read_text(encoding="utf-8")
    footer = html[html.index("<footer>"):]
    assert "2 practices from 2 cities" in footer and "counts once" not in footer, "the footer keeps the short note"
    write_table(versions_run / "similar.parquet", to_table("similar", []))
    alone = build_city_report(build_view(versions_run), "Oslo")
    assert alone.run_note.startswith("Based on 4 practices") and alone.versions_note == "", "no versions, no note"


def test_a_city_report_of_one_practice_in_two_languages_says_it_in_the_singular(versions_run):
    """Two versions of one practice from one city: "1 practice from 1 city", not "1 practices from 1 cities"."""
    from pipeline.report.city import build_city_report
    from pipeline.report.view import build_view

    practices = pd.read_parquet(versions_run / "practices.parquet")
    practices[practices["practice_id"].isin(["p1", "p2"])].to_parquet(versions_run / "practices.parquet", index=False)
    similar = pd.read_parquet(versions_run / "similar.parquet")
    pair = similar["practice_id"].isin(["p1", "p2"]) & similar["neighbour_id"].isin(["p1", "p2"])
    similar[pair].to_parquet(versions_run / "similar.parquet", index=False)
    view = build_view(versions_run)
    assert view.n_distinct == 1 and view.n_cities == 1
    assert build_city_report(view, "Genève").run_note.endswith("portant sur 1 pratique de 1 ville.")
    # the date in words, as the English report gives it
    assert re.match(r"Analyse du (1er|[12]?\d|3[01]) (janvier|février|mars|avril|mai|juin|juillet|août|septembre|"
                    r"octobre|novembre|décembre) 20\d\d, ", build_city_report(view, "Genève").run_note)
    assert build_city_report(view, "Geneva").versions_note


@pytest.fixture()
def flagged_run(tmp_path) -> Path:
    """Two practices, one of which is flagged three times (a missing section, a very short description, its declared
    area), and a file that could not be read: four points to follow up, about one practice and one file."""
    write_table(tmp_path / "files.parquet", to_table("files", [
        {"source_file": "a.docx", "sha256": "0" * 64, "status": "ok", "message": "1 practice(s) found",
         "n_practices": 1},
        {"source_file": "b.docx", "sha256": "1" * 64, "status": "ok", "message": "1 practice(s) found",
         "n_practices": 1},
        {"source_file": "broken.docx", "sha256": "2" * 64, "status": "error", "error_code": "corrupt_docx",
         "message": "The Word file is damaged.", "n_practices": 0}]))
    base = {"practice_index": 1, "lang": "en", "city": "Bergen", "n_words": 120}
    write_table(tmp_path / "practices.parquet", to_table("practices", [
        {**base, "practice_id": "p1", "source_file": "a.docx", "title": "Flagged",
         "warnings": ["missing_section:impact", "short_description"], "declared_areas": ["3"],
         "predicted_areas": ["9", "16", "9a"], "main_area_pred": "9", "area_mismatch": True},
        {**base, "practice_id": "p2", "source_file": "b.docx", "title": "Fine", "warnings": [],
         "declared_areas": ["11"], "predicted_areas": ["11"], "main_area_pred": "11", "area_mismatch": False}]))
    return tmp_path


def test_the_count_to_follow_up_says_it_counts_points_and_which_practices_they_concern(flagged_run):
    """The card under 'practices' counts the points listed under 'Needs attention', not practices: it says so, and
    how many practices and files they concern, in both languages."""
    for lang, label in (("en", "issues to follow up (in 1 practice and 1 file)"),
                        ("fr", "points à suivre (dans 1 pratique et 1 fichier)")):
        html = render_summary(flagged_run, lang)
        assert count(html, "attention") == 4 and count(html, "practices") == 2
        card = re.search(r'id="count-attention">\d+</span><span class="l">([^<]*)<', html).group(1)
        assert unescape(card) == label, lang
    one = summary_context(flagged_run, "fr")
    assert one["n_attention"] == 4 and one["attention_concerns"] == "dans 1 pratique et 1 fichier"


def test_a_declared_area_that_differs_names_every_area_it_lists(flagged_run):
    """« déclaré 3 (…) ; le texte suggère 9 (…), 16 (…), 9a (…) »: each area of the sentence with its name in the
    page's language, not the first one alone."""
    from pipeline.taxonomy import load_taxonomy

    areas = load_taxonomy().areas
    for lang, template in (("en", "declared {d}; text suggests {p}"), ("fr", "déclaré {d} ; le texte suggère {p}")):
        named = {code: f"{code} ({areas[code].name(lang)})" for code in ("3", "9", "16", "9a")}
        [item] = next(g for g in summary_context(flagged_run, lang)["attention"] if g.key == "mismatch").items
        assert item.text == template.format(d=named["3"], p=", ".join(named[c] for c in ("9", "16", "9a"))), lang


def test_a_city_named_by_the_start_of_another_citys_name_needs_attention(sample_out):
    from pipeline.report.summary import _cities_that_may_be_one, summary_context

    practices = [{"practice_id": f"p{i}", "city": city} for i, city in enumerate(
        ["Valmont", "Valmont-sur-Loire", "Ville de Valmont-sur-Loire", "Lyon / Grenoble", "Lyon", "Saint-Denis",
         "Denis", "Valmont-le-Haut", "Valmont-sur-Loir", "Dublin", "Lublin"])]
    flagged = {(p["city"], other) for p, other in _cities_that_may_be_one(practices)}
    # the short name beside both longer ones, and a name one letter away from a name more practices give
    assert flagged == {("Valmont", "«Valmont-le-Haut», «Valmont-sur-Loir», «Valmont-sur-Loire»"),
                       ("Valmont-sur-Loir", "«Valmont-sur-Loire»")}
    # the sample's 18 cities are none of these
    groups = {g.key: g for g in summary_context(sample_out)["attention"]}
    assert groups["city_names"].items == []


def test_a_title_in_guillemets_is_quoted_once():
    from pipeline.report.summary import _quoted

    assert _quoted("Café des langues") == "«Café des langues»"
    assert _quoted("« Les Médiatrices du Rhône » : des femmes-relais") == "“« Les Médiatrices du Rhône » : des femmes-relais”"


def test_a_practice_without_a_city_is_said_to_be_in_no_city_report(versions_run):
    from pipeline.report.summary import summary_context

    practices = pd.read_parquet(versions_run / "practices.parquet")
    practices.loc[practices["practice_id"] == "p4", "city"] = None
    practices.to_parquet(versions_run / "practices.parquet", index=False)
    groups = {g.key: g for g in summary_context(versions_run)["attention"]}
    assert [(item.practice_id, item.text) for item in groups["no_city"].items] == [
        ("p4", "no city on the form: in no city report")]
    assert "no city report lists them" in groups["no_city"].explanation
