"""City similarity reports: they open (HTML parsed, DOCX read back), speak the city's language and hold
no contact data unless asked."""

from __future__ import annotations

import re
from collections import Counter
import shutil
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from lxml import html as lxml_html
from typer.testing import CliRunner

from conftest import load_script
from pipeline.cli import app
from pipeline.report import CITY_REPORTS_DIR, city_slug
from pipeline.report.city import city_info, write_city_reports


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@pytest.fixture()
def run_copy(sample_out, tmp_path) -> Path:
    """The session run's tables in a private folder, so writing reports does not touch the shared one."""
    for name in ("practices", "similar", "areas", "manifest"):
        for path in sample_out.glob(f"{name}.*"):
            shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _docx_text(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def _contact_names(practices: pd.DataFrame) -> list[str]:
    names = []
    for contact in practices["contact_person"].dropna():
        name = re.sub(r"^(?:Dr|Prof|Mme|M|Mr|Ms)\.?\s+", "", EMAIL.sub("", contact).split(",")[0].strip())
        if len(name) >= 4:
            names.append(name)
    return names


def test_french_and_english_reports_open_and_hold_no_contacts(run_copy):
    paths = write_city_reports(run_copy, ["Strasbourg", "Oslo"])
    folder = run_copy / CITY_REPORTS_DIR
    assert sorted(paths) == sorted(folder / f"{c}.{ext}" for c in ("strasbourg", "oslo") for ext in ("html", "docx"))
    practices = pd.read_parquet(run_copy / "practices.parquet")
    similar = pd.read_parquet(run_copy / "similar.parquet")
    names = _contact_names(practices)
    assert len(names) > 20  # the sample forms do carry contact persons

    for city, lang, heading in (("Strasbourg", "fr", "pratiques similaires"), ("Oslo", "en", "similar practices")):
        source = (folder / f"{city_slug(city)}.html").read_text(encoding="utf-8")
        tree = lxml_html.fromstring(source)
        assert tree.get("lang") == lang
        assert heading in tree.findtext(".//h1").lower()
        # the model's name means nothing to a city: the summary gives it to the secretariat
        assert "use-multilingual" not in source
        # Self-contained: no external stylesheet, script, image or font.
        assert not tree.xpath("//link[@rel='stylesheet'] | //script[@src] | //img[not(starts-with(@src, 'data:'))]")
        assert "http://" not in "".join(tree.xpath("//style/text()")) and "url(" not in source
        mine = practices[practices["city"] == city]
        sections = tree.xpath("//section[@class='practice']")
        assert len(sections) == len(mine)
        assert {s.findtext("h2") for s in sections} == set(mine["title"])
        # Every neighbour shown is listed in similar.parquet, from another city.
        shown = {a.text_content().split(". ", 1)[1] for a in tree.xpath("//article[@class='match']/h3")}
        expected = set(practices.set_index("practice_id").loc[
            similar[similar["practice_id"].isin(mine["practice_id"]) & (similar["rank"] >= 1)]["neighbour_id"], "title"])
        assert shown == expected and shown
        assert city not in {x.strip() for x in tree.xpath("//p[@class='where']/strong/text()")}
        text = tree.text_content()
        doc_text = _docx_text(folder / f"{city_slug(city)}.docx")
        assert mine["title"].iloc[0] in doc_text
        # The terms two excerpts share are marked in the Word file as in the page: bold on yellow.
        doc = Document(str(folder / f"{city_slug(city)}.docx"))
        marked = [r for t in doc.tables for c in t.rows[1].cells for r in c.paragraphs[0].runs
                  if r.font.highlight_color is not None]
        assert marked and all(r.bold and r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in marked)
        assert {r.text.lower() for r in marked} <= {m.lower() for m in tree.xpath("//mark/text()")}
        assert all(r.font.size.pt == 9.5 for t in doc.tables for c in t.rows[1].cells for r in c.paragraphs[0].runs)
        # Paragraphs in the template's styles, headings for the practices and their matches.
        styles = Counter(p.style.name for p in doc.paragraphs)
        matches = tree.xpath("//article[@class='match']")
        assert styles["Title"] == 1 and styles["Heading 1"] == len(mine) and styles["Heading 2"] == len(matches)
        assert doc.core_properties.language == lang and city in doc.sections[0].footer.paragraphs[0].text
        for body in (text, doc_text):
            assert not EMAIL.search(body), EMAIL.search(body)
            assert not [n for n in names if n in body]


def test_a_french_report_gives_the_period_of_an_english_practice_in_french(run_copy):
    """A form's period text is shown as written in a report of its own language; in the other language the years
    read from it are ('2019 – en cours', not '2019 - ongoing')."""
    from pipeline.report.city import build_city_report
    from pipeline.report.view import build_view

    view = build_view(run_copy)
    practices = pd.read_parquet(run_copy / "practices.parquet").set_index("title")
    english = practices[(practices["lang"] == "en") & practices["period_text"].str.contains("[A-Za-z]", na=False)]
    assert len(english) > 5  # the sample's English forms write their periods in words
    seen = 0
    for city in ("Strasbourg", "Paris", "Genève"):
        for item in build_city_report(view, city).items:
            for match in item.neighbours:
                row = practices.loc[match.title]
                if row["lang"] == "en" and row["period_start"] == row["period_start"]:
                    seen += 1
                    assert not re.search(r"[A-Za-z]", match.period.replace("en cours", "")), match.period
                    assert str(int(row["period_start"])) in match.period
    assert seen > 3
    oslo = build_city_report(view, "Oslo")
    shown = {m.title: m.period for item in oslo.items for m in item.neighbours}
    assert any(practices.loc[t, "lang"] == "en" and p == practices.loc[t, "period_text"] for t, p in shown.items())


def test_a_french_report_spaces_its_semicolons_and_names_a_city_left_blank(run_copy):
    """« 14. Accueil ; 14a. … », « « Processus » ; termes communs »; a practice whose form gave no city is from
    « ville inconnue », as the summary says."""
    practices = pd.read_parquet(run_copy / "practices.parquet")
    similar = pd.read_parquet(run_copy / "similar.parquet")
    mine = practices.loc[practices["city"] == "Strasbourg", "practice_id"]
    shown = similar[similar["practice_id"].isin(mine) & (similar["rank"] == 1)]["neighbour_id"].iloc[0]
    practices.loc[practices["practice_id"] == shown, "city"] = None
    practices.to_parquet(run_copy / "practices.parquet", index=False)
    write_city_reports(run_copy, ["Strasbourg"])
    for path in (run_copy / CITY_REPORTS_DIR / "strasbourg.html", run_copy / CITY_REPORTS_DIR / "strasbourg.docx"):
        text = lxml_html.fromstring(path.read_text(encoding="utf-8")).xpath("//body")[0].text_content() \
            if path.suffix == ".html" else _docx_text(path)
        # areas ('égalité ; 3b. Roms') and reasons ('« Processus » ; termes'); quoted excerpts keep their own
        assert " ; " in text and not re.search(r"\S; \d+[a-z]?\. |»;", text), path.name
        assert "ville inconnue" in text and "non précisée" not in text.split("ville inconnue")[0][-40:], path.name


def test_contacts_only_when_asked(run_copy):
    write_city_reports(run_copy, ["Montréal"], formats=("html",))
    shareable = (run_copy / CITY_REPORTS_DIR / "montreal.html").read_bytes()
    write_city_reports(run_copy, ["Montréal"], formats=("html",), include_contacts=True)
    assert (run_copy / CITY_REPORTS_DIR / "montreal.html").read_bytes() == shareable, "the shareable report is kept"
    text = lxml_html.fromstring((run_copy / CITY_REPORTS_DIR / "montreal-with-contacts.html").read_bytes()).text_content()
    practices = pd.read_parquet(run_copy / "practices.parquet")
    similar = pd.read_parquet(run_copy / "similar.parquet")
    mine = practices[practices["city"] == "Montréal"]["practice_id"]
    neighbours = practices[practices["practice_id"].isin(similar[similar["practice_id"].isin(mine)]["neighbour_id"])]
    shown = [c for c in neighbours["contact_person"].dropna() if c.split(",")[0] in text]
    assert shown, "neighbours' contact persons appear with include_contacts=True"
    assert not (run_copy / CITY_REPORTS_DIR / "montreal-with-contacts.docx").exists()  # only the asked format


def test_each_match_is_worded_by_its_score_band_and_a_weak_best_match_says_so(run_copy):
    from pipeline.config import ReportSettings
    from pipeline.report.city import build_city_context

    similar = pd.read_parquet(run_copy / "similar.parquet")
    practices = pd.read_parquet(run_copy / "practices.parquet")
    city_of = practices.set_index("practice_id")["city"]
    rows = similar[similar["rank"] > 0]
    # one match of each kind: mark the first row weak, give three others a score in each band
    first = rows.index[:4]
    similar.loc[first[0], "weak"] = True
    # 0.4496 prints as 0.45: the word follows the number printed, "related"
    for index, score in zip(first[1:], (0.53, 0.4496, 0.42)):
        similar.loc[index, ["score", "weak"]] = (score, False)
    similar.to_parquet(run_copy / "similar.parquet")
    rules = ReportSettings()
    assert rules.related_score < 0.47 < rules.close_score <= 0.53
    titles = practices.set_index("practice_id")["title"]
    for index, band in zip(first, ("weak", "close", "related", "loose")):
        row = similar.loc[index]
        report = build_city_context(run_copy, city_of[row["practice_id"]])
        shown = {(n.title, n.strength) for item in report.items for n in item.neighbours}
        minimum = "0,40" if report.lang == "fr" else "0.40"  # the run's --min-score, in the report's language
        assert (titles[row["neighbour_id"]], report.s["strength"][band].format(min=minimum)) in shown
    method = build_city_context(run_copy, "Strasbourg").method
    assert "0,50" in method and "0,45" in method and "trois\nfois sur quatre" not in method and "fois sur quatre" in method


def test_a_weak_match_never_prints_the_minimum_score_it_is_below(run_copy):
    """A weak best match of 0.3993 printed as 0.40, the run's minimum, beside matches of 0.40 worded "loose": it
    prints 0.39, in the city report and on the site; a match that is not weak rounds as before."""
    from pipeline.config import ReportSettings
    from pipeline.report.city import build_city_context
    from pipeline.web.app import make_templates

    similar = pd.read_parquet(run_copy / "similar.parquet")
    practices = pd.read_parquet(run_copy / "practices.parquet")
    index = similar[similar["rank"] > 0].index[0]
    similar.loc[index, ["score", "weak"]] = (0.3993, True)
    similar.to_parquet(run_copy / "similar.parquet")
    row = similar.loc[index]
    report = build_city_context(run_copy, practices.set_index("practice_id")["city"][row["practice_id"]])
    title = practices.set_index("practice_id")["title"][row["neighbour_id"]]
    (shown,) = {n.score_text for item in report.items for n in item.neighbours if n.title == title}
    assert shown == ("0,39" if report.lang == "fr" else "0.39")
    score = make_templates().env.filters["score"]
    assert (score(0.3993, "fr", True), score(0.3993, "en"), score(0.4044, "en", False)) == ("0,39", "0.40", "0.40")
    assert ReportSettings.shown_score(0.29, True) == 0.29


def test_a_match_says_its_language_where_it_is_not_the_reports(run_copy):
    """"(written in English)" marks a match in a language other than the report's, whatever the language of the city's
    own practice it is listed under: a French report marks every English match and no French one."""
    from pipeline.report.city import build_city_context

    practices = pd.read_parquet(run_copy / "practices.parquet")
    lang_of = dict(zip(practices["title"], practices["lang"]))
    # a Montréal form and a Dublin form written in the other language than their city's report
    for city, lang in (("Montréal", "en"), ("Dublin", "fr")):
        practices.loc[practices.index[practices["city"] == city][0], "lang"] = lang
    practices.to_parquet(run_copy / "practices.parquet")
    seen = set()
    for city in ("Montréal", "Dublin"):
        report = build_city_context(run_copy, city)
        for item in report.items:
            for n in item.neighbours:
                other = lang_of.get(n.title)
                if other in ("en", "fr"):
                    assert bool(n.lang_note) == (other != report.lang), (city, n.title, n.lang_note)
                    seen.add((report.lang, other))
    assert {("fr", "en"), ("en", "fr")} <= seen


def test_report_language_and_city_names():
    assert city_info("Geneva").name == "Genève" and city_info("Genève").report_lang == "fr"
    assert city_info("MONTREAL").report_lang == "fr"
    assert city_info("Neuchatel").country == "Switzerland"
    assert city_info("Zürich").report_lang == "en" and city_info("Oslo").report_lang == "en"
    assert city_info("Atlantis") is None
    # the words a form puts around a listed city's name
    for written, name in (("Ville de Montréal", "Montréal"), ("Oslo kommune", "Oslo"), ("City of Dublin", "Dublin"),
                          ("Dublin City Council", "Dublin"), ("Ville d'Oslo", "Oslo"), ("Mexico City", "Mexico City")):
        assert city_info(written).name == name, written
    assert city_info("Ville de Nowhere") is None and city_info("City") is None


def test_a_section_has_one_name_in_each_language():
    """The city reports name a section as the template, the summary and the practice page do."""
    import yaml

    from pipeline.config import RESOURCES_DIR
    from pipeline.report.view import load_catalogue

    fields = yaml.safe_load((RESOURCES_DIR / "messages.yaml").read_text(encoding="utf-8"))
    catalogue = load_catalogue()
    for lang in ("en", "fr"):
        sections = catalogue[lang]["city"]["sections"]
        assert sections == {name: fields[lang]["fields"][name] for name in sections}, lang
    assert (catalogue["en"]["city"]["sections"]["starting_point"], catalogue["fr"]["city"]["sections"]["starting_point"]) \
        == ("Stimulus/Rationale (starting point)", "Point de départ")  # the English form's label, and the words of
    # the French template's (« Point de départ ») that English forms translated from it use
    # nor do the hints and check details of the criteria call it otherwise
    from pipeline.criteria import load_cues

    cues = load_cues()
    english = [text for spec in cues["criteria"].values()
               for text in [*spec["hints"]["en"].values(), *(gap["en"] for gap in spec.get("gaps", ()))]]
    english += list(cues["guidelines"]["messages"]["en"].values())
    assert len(english) > 30 and not [text for text in english if "starting point" in text.lower()]


def test_every_listed_city_has_a_country_with_its_french_name():
    """A city without a country is found by no country search and its report header has none."""
    import yaml

    from pipeline.cities import CITIES_FILE, city_key, city_name, country_name

    data = yaml.safe_load(CITIES_FILE.read_text(encoding="utf-8"))
    for name, item in data["cities"].items():
        assert item.get("country") in data["countries_fr"], name
        assert item.get("report_lang") in ("en", "fr"), name
    assert country_name("Italy", "fr") == "Italie" and country_name("Israel", "fr") == "Israël"
    # member cities that forms write under another name
    for written, name, country in (("Torino", "Turin", "Italy"), ("Tampere", "Tampere", "Finland"),
                                   ("Cracovie", "Kraków", "Poland"), ("Hambourg", "Hamburg", "Germany"),
                                   ("Tangier", "Tanger", "Morocco"), ("Comune di Torino", "Turin", "Italy")):
        assert (city_info(written).name, city_info(written).country) == (name, country), written
    # no alias names two cities: each folded name belongs to one
    owners: dict[str, str] = {}
    for name, item in data["cities"].items():
        for alias in [name, *item.get("aliases", []), *(item.get("names") or {}).values()]:
            assert owners.setdefault(city_key(alias), name) == name, alias
    # a city's name in English or French, where it has one
    assert [city_name(n, lang) for n, lang in (("Ville de Genève", "en"), ("Geneva", "fr"), ("Geneva", None),
                                               ("Copenhague", "en"), ("Copenhagen", "fr"), ("Tartu, Estonia", "fr"))] \
        == ["Geneva", "Genève", "Genève", "Copenhagen", "Copenhague", "Tartu"]


def test_a_country_or_region_written_after_a_city_is_set_aside():
    from pipeline.cities import city_key, city_name, fold_key

    for written, name in (("Erlangen, Germany", "Erlangen"), ("Geneva, Switzerland", "Genève"),
                          ("Montréal (Québec)", "Montréal"), ("Lyon (France)", "Lyon"), ("Geneva - Switzerland", "Genève"),
                          ("Genève/Suisse", "Genève"), ("Montréal (Québec), Canada", "Montréal"),
                          ("Ville de Genève (Suisse)", "Genève"), ("Paris (75)", "Paris")):
        assert city_info(written).name == name and city_key(written) == city_key(name), written
    # an unlisted city: its country is set aside, anything else stays part of its name
    assert city_key("Tartu, Estonia") == city_key("Tartu (Estonie)") == "tartu" and city_name("Tartu – Estonia") == "Tartu"
    assert city_info("Tartu, Estonia") is None
    for written in ("Springfield, Ohio", "Biel/Bienne", "Halle (Saale)", "Neukölln (Berlin, Germany)"):
        assert city_name(written) == written and city_key(written) == fold_key(written), written
    assert city_name("Biel/Bienne, Switzerland") == "Biel/Bienne"
    # a hyphen inside a name is not a separator, and a country alone is no city
    assert city_info("Esch-sur-Alzette").name == "Esch-sur-Alzette" and city_key("Donostia - San Sebastián") == "donostia san sebastian"
    assert city_info("Luxembourg").name == "Luxembourg" and city_info("Differdange, Luxembourg").name == "Differdange"
    assert city_key("(Suisse)") == "suisse" and city_key(None) == city_key("") == ""
    # two listed cities are a joint practice, not the first city alone
    for joint in ("Geneva / Zurich", "Oslo, Bergen", "Geneva (Switzerland) / Lausanne"):
        assert city_info(joint) is None and city_name(joint) == joint, joint
    assert city_key("Bergen and Oslo") == city_key("Oslo, Bergen") != city_key("Oslo")


def test_an_unlisted_city_is_one_city_with_or_without_the_words_naming_a_municipality():
    """'City of Larnaka', 'Larnaka Municipality' and 'Larnaka, Cyprus' are one unlisted city, named as written
    otherwise; a name that is nothing but such a word stays whole."""
    from pipeline.cities import city_key, city_name

    for written in ("City of Larnaka", "Larnaka Municipality", "Larnaka, Cyprus", "city of  Larnaka (Cyprus)"):
        assert city_name(written) == "Larnaka" and city_key(written) == "larnaka", written
    assert city_name("Ville d'Évry") == "Évry" and city_name("Comune di Pescara-Nord") == "Pescara-Nord"
    assert city_name("City") == "City" and city_name("Stadt") == "Stadt"
    assert city_info("City of Larnaka") is None
    # a last word 'city' is part of the name; what follows the name stays whole
    assert city_name("Kansas City") == "Kansas City" and city_name("Salt Lake City, USA") == "Salt Lake City"
    assert city_name("Ville de Saint-Denis (93)") == "Saint-Denis (93)"


def test_the_country_of_an_unlisted_city_is_the_one_its_form_wrote_after_it():
    """A listed city's country comes from the directory; an unlisted city's from the country written after it, in
    English, French, another language or as a code; a region or nothing after it gives none."""
    from pipeline.cities import city_country, country_name

    assert city_country("Ville de Genève") == "Switzerland" and city_country("Geneva, Suisse") == "Switzerland"
    for written, country in (("Larnaka, Cyprus", "Cyprus"), ("Larnaka - CY", "Cyprus"), ("Tartu (Estonie)", "Estonia"),
                             ("Kotor, Montenegro", "Montenegro"), ("Ville de Foo, Québec, Canada", "Canada"),
                             ("Bursa, Turkey", "Türkiye"), ("Pécs/Hungary", "Hungary")):
        assert city_country(written) == country, written
    for written in ("Tartu", "Springfield, Ohio", "Biel/Bienne", "Halle (Saale)", "Neukölln (Berlin)", None, ""):
        assert city_country(written) is None, written
    assert country_name("Estonia", "fr") == "Estonie"


def test_cities_written_in_other_scripts_are_cities_of_their_own(run_copy):
    """'Πάτρα' and 'Люблин' are neither one city nor no city: each gets its own report with only its practices."""
    from pipeline.cities import city_key

    assert city_key("Πάτρα") and city_key("Люблин") and city_key("Πάτρα") != city_key("Люблин")
    assert city_key("ΠΆΤΡΑ ") == city_key("Πάτρα") and city_key(None) == ""
    assert (city_slug("Πάτρα"), city_slug("Genève"), city_slug(None)) == ("πατρα", "geneve", "unknown")
    for one, other in (("Πάτρα (GR)", "Αθήνα (GR)"), ("Tromsø", "Troms")):  # two cities, two files
        assert city_key(one) != city_key(other) and city_slug(one) != city_slug(other)
    practices = pd.read_parquet(run_copy / "practices.parquet")
    first, second = practices["city"].drop_duplicates().iloc[:2]
    practices["city"] = practices["city"].replace({first: "Πάτρα", second: "Люблин"})
    practices.to_parquet(run_copy / "practices.parquet")
    paths = write_city_reports(run_copy, ["Πάτρα", "Люблин"], formats=("html",))
    assert sorted(p.name for p in paths) == ["πατρα.html", "люблин.html"]
    for slug, city in (("πατρα", "Πάτρα"), ("люблин", "Люблин")):
        page = (run_copy / CITY_REPORTS_DIR / f"{slug}.html").read_text(encoding="utf-8")
        assert re.search(rf"<title>[^<]*{city}", page), page[:300]


def test_cli_report(run_copy):
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--city", "Geneva", "--format", "docx", "--data", str(run_copy)])
    assert result.exit_code == 0, result.output
    doc_text = _docx_text(run_copy / CITY_REPORTS_DIR / "geneve.docx")
    assert "Pratiques similaires" in doc_text or "pratiques similaires" in doc_text
    assert "Similarité" in doc_text
    result = runner.invoke(app, ["report", "--city", "Atlantis", "--out", str(run_copy)])
    assert result.exit_code == 2 and "Atlantis" in result.output
    result = runner.invoke(app, ["report", "--out", str(run_copy / "missing")])
    assert result.exit_code == 2


def test_cli_report_says_which_reports_it_wrote(run_copy):
    runner = CliRunner()
    args = ["report", "--city", "Geneva", "--format", "html", "--data", str(run_copy)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "Written" in first.output and "not written again" not in first.output
    second = runner.invoke(app, args)  # nothing changed: the report is left as it was, and the message says so
    assert second.exit_code == 0 and "Written" not in second.output
    assert "Up to date, not written again:" in second.output and "geneve.html" in "".join(second.output.split())


def test_cli_run_counts_the_city_reports_the_run_wrote(tmp_path, monkeypatch):
    """Reports an earlier run or someone else left in the folder are not counted as this run's."""
    import pipeline.run
    from pipeline.run import BatchResult

    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    (inputs / "oslo.txt").write_text("City: Oslo\nTitle: Coffee and facts\n", encoding="utf-8")
    (out / CITY_REPORTS_DIR).mkdir(parents=True)
    for name in ("oslo.html", "bergen.html", "lyon.html", "lyon.docx"):
        (out / CITY_REPORTS_DIR / name).write_text("", encoding="utf-8")
    manifest = {"counts": {"files": 1, "practices": 1, "cache_hits": 0,
                           "by_status": {"ok": 1, "empty_form": 0, "error": 0}},
                "reports": ["reports/cities/oslo.docx", "reports/cities/oslo.html", "reports/summary.fr.html",
                            "reports/summary.html"]}
    monkeypatch.setattr(pipeline.run, "run_batch", lambda *args, **kwargs: BatchResult([], [], manifest=manifest))
    result = CliRunner().invoke(app, ["run", str(inputs), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert "(1 city, HTML and DOCX)" in " ".join(result.output.split())


def test_a_contact_written_in_the_department_field_is_left_out_too():
    """Officers put a contact in the wrong box: 'CCAS - Pôle santé, contact : Karima Benali 06 12 34 56 78'."""
    from pipeline.report.redact import Redactor, contacts_of

    practices = [{"contact_person": "voir mail de C. Dubreuil",
                  "department": "CCAS - Pôle santé, contact : Karima Benali 06 12 34 56 78"},
                 {"contact_person": "Ana Berg", "department": "Service Jeunesse"},
                 {"contact_person": None, "department": "Direction de la cohésion sociale – référente : Mme Léa Roux"}]
    redact = Redactor(c for p in practices for c in contacts_of(p))
    shown = redact(practices[0]["department"])
    assert "Karima" not in shown and "Benali" not in shown and "06 12" not in shown and shown.startswith("CCAS - Pôle santé")
    assert "Léa Roux" not in redact("Léa Roux anime les ateliers.")
    # a department without a word of contact names no one: its words stay in every text
    assert redact("Le Service Jeunesse accueille les familles.") == "Le Service Jeunesse accueille les familles."
    assert contacts_of(practices[1]) == ["Ana Berg"]
    # other ways officers write a contact there: a role, a title, « renseignements », « auprès de »
    for department, name in (("Service Jeunesse – responsable : Jean-Pierre Lefèvre", "Jean-Pierre Lefèvre"),
                             ("Direction des sports, M. Karim Haddad 06 11 22 33 44", "Karim Haddad"),
                             ("Mission égalité, Renseignements : Lucie Moreau", "Lucie Moreau"),
                             ("Médiathèque, auprès de Julie Roux, animatrice, au 06 12 12 12 12", "Julie Roux")):
        shown = Redactor(contacts_of({"department": department}))(department)
        assert name not in shown and shown.split(",")[0].split(" –")[0] in department, shown
    assert contacts_of({"department": "Mme la Maire"}) == [None]


def test_redactor_removes_addresses_phones_and_contact_names():
    from pipeline.report.city import Redactor

    redact = Redactor(["Dr. Ingrid Solheim, senior adviser, ingrid.solheim@example.org", None, "M. Li"])
    text = redact("Write to ingrid.solheim@example.org or call +47 22 33 44 55; Ingrid Solheim answers.")
    assert "@" not in text and "Solheim" not in text and "22 33" not in text
    assert redact("Budget 2022-2024: 180 000 €") == "Budget 2022-2024: 180 000 €"
    # national numbers with a trunk 0, and any number after a word announcing one; not dates, years or counts
    for said in ("Pour toute question, la permanence du BLI répond au 021 315 72 45.",
                 "Volunteers can call the library on 01 222 4800.", "Reception: 020 7946 0958.", "Tel. 22 33 44 55",
                 "text 07700 900123", "Contact: 01332 293111 or ring (01332) 293112", "numéro vert 0 800 12 34 56",
                 "répond sur 061/315 72 45", "Tél : 04 72 10 30 30", "appelez le 03 89 20\n68 68",
                 "Call (514) 872-1111 or 514 872-1111", "au Luxembourg (+352) 4796-1",
                 "RIB FR76 3000 6000 0112 3456 7890 189"):
        assert not any(ch.isdigit() for ch in redact(said)) and "[…]" in redact(said), said
    for kept in ("Le 01.02.2023 à 10h, 1 200 personnes", "from 01/02/2023 to 30/06/2024", "En 2019, 2020 et 2021",
                 "number of visits: 12 500 000", "délibération n° 2022-114", "Un tel suivi en 2022-2023 a permis",
                 "The open call 2022-2023 funded 14 repair groups", "Le 01.02.2023 14 familles sont venues",
                 "0 500 000 €", "01 02 2023", "1 234 567 habitants", "SIRET 123 456 789 00012",
                 "ISBN 978-2-07-036822-8", "08 30 - 12 00", "En 2019, 2020 et 2021\n2022"):
        assert redact(kept) == kept



@pytest.mark.parametrize("contact, names", [
    ("Sigrid Moe Project coordinator +47 55 56 60 00 sigrid.moe@bergen.example", ["Sigrid Moe"]),
    ("Hilde Dahl (project coordinator), hilde.dahl@bergen.example", ["Hilde Dahl"]),
    ("Ingrid Berg – coordinator – ingrid.berg@bergen.example", ["Ingrid Berg"]),
    ("Name: Nora Vik, Email: nora.vik@bergen.example", ["Nora Vik"]),
    ("Tor Lie; Eva Strand", ["Tor Lie", "Eva Strand"]),
    ("Dre Léa Rochat, chargée d'études", ["Léa Rochat"]),
    ("Welcome Centre, welcome@tromso.example", []), ("Service jeunesse, jeunesse@lille.example", []),
    ("Coordinator", []), ("Projet Tandem", []), ("Intercultural Liaison Officer", []),
    # later rounds: more shapes of persons, and teams that read like names
    ("DUPONT Jean", ["DUPONT Jean", "Jean DUPONT"]), ("Marie de la Tour, chargée de mission", ["Marie de la Tour"]),
    ("Siobhan Kelly, Liam Byrne (coordinators)", ["Siobhan Kelly", "Liam Byrne"]),
    ("Dr. Eleni Papadopoulou / Nikos Georgiou", ["Eleni Papadopoulou", "Nikos Georgiou"]),
    ("Coordinator: Aoife Walsh", ["Aoife Walsh"]), ("Team Leader Sara Holm", ["Sara Holm"]),
    ("Welcome Centre – Sara Holm", ["Sara Holm"]), ("Service jeunesse : Paul Martin", ["Paul Martin"]),
    ("Madame Sophie d'Aubigné, Bureau des relations", ["Sophie d'Aubigné"]), ("Madame Claire Dubois", ["Claire Dubois"]),
    ("Human Rights Office, hr@oslo.example", []), ("Open Doors Initiative", []), ("Oslo Kommune", []),
    ("Mosaic Festival Committee", []), ("Red Cross Norway", []), ("Agence Régionale", []),
    ("Jordi Puigvert, Barcelona City Council", ["Jordi Puigvert"]),
    ("Dupont, Jean, chargé de mission", ["Jean Dupont"]), ("Integration Officer Anna Lind", ["Anna Lind"]),
    ("Welcome Centre Ahmed Yusuf", ["Ahmed Yusuf"]), ("Kristin Haugen og Per Olsen", ["Kristin Haugen", "Per Olsen"]),
    ("Ingrid Solheim Rådgiver", ["Ingrid Solheim Rådgiver", "Ingrid Solheim"]), ("Line Hansen, rådgiver", ["Line Hansen"]),
    ("Tom Hall, youth worker", ["Tom Hall"]), ("Nadia Haddad (Neighbourhood Mothers)", ["Nadia Haddad"]),
    ("Neighbourhood Mothers", []), ("Jeunes Ambassadeurs", []), ("Sanctuary Runners", []), ("Fair Play Academy", []),
    ("Giulia Bianchi - Ufficio Intercultura", ["Giulia Bianchi"]),
])
def test_the_names_of_a_contact_field_are_its_persons_not_its_team_or_role(contact, names):
    """A name written otherwise than 'Name, role' stayed in the texts; a team's name in a contact field would be left
    out of every text of the run ('The […] brings together…')."""
    from pipeline.report.redact import Redactor, contact_names

    assert contact_names(contact) == names
    redact = Redactor([contact, "Kari Nilsen, kari@ex.no"])
    for name in names:
        assert name not in redact(f"{name} trains 40 volunteers every year.")
    assert redact("The Welcome Centre and the Service jeunesse of the city train the Project coordinator.") == \
        "The Welcome Centre and the Service jeunesse of the city train the Project coordinator."
    # in any case and spacing, and only as a whole word
    assert redact("KARI  NILSEN and Kari\nNilsen opened it; the Kari Nilsenfund pays.") == \
        "[…] and […] opened it; the Kari Nilsenfund pays."
    assert redact("Human Rights Day is marked each December.") == "Human Rights Day is marked each December."


def test_redactor_leaves_out_numbers_after_a_comma_a_dash_or_is_and_keeps_file_and_budget_numbers():
    from pipeline.report.redact import Redactor

    redact = Redactor([])
    for said in ("Call the helpline, 22 33 44 55, any day.", "Helpline – 22 33 44 55.",
                 "The helpline number is 22 33 44 55.", "Families phoned the team on 742 1234.",
                 "Help line: 22 33 44 55.", "Helpline (free): 22 33 44 55.", "Hotline (24/7): 742 1234.",
                 "Renseignements au 22 33 44 55.", "Le standard (22 33 44 55) répond.", "Our number: 22 33 44 55.",
                 "Mob. 912 34 567."):
        assert "[…]" in redact(said) and not any(ch.isdigit() for ch in redact(said).replace("24/7", "")), said
    for kept in ("Budget line 20230145 of the city", "Numéro de dossier : 0123 456 789", "Inscriptions: 1 200 en 2023",
                 "Renseignements : 12 500 000 €",
                 "Contact the families, 1 200 in all, each year", "Call for projects – 12 500 000 in total"):
        assert redact(kept) == kept


def test_redactor_leaves_out_numbers_after_words_of_calling_or_reaching():
    from pipeline.report.city import Redactor

    redact = Redactor([])
    # a local number (3 + 4 digits) or one in pairs, a few words after a verb of calling or reaching
    for said, number in (("Parents could call the project line at 742 1234 or write to the school.", "742 1234"),
                         ("Families reach the team on 22 33 44 55.", "22 33 44 55"),
                         ("Phone the desk on 742-1234", "742-1234"),
                         ("Get in touch with the coach on 742 12 34", "742 12 34"),
                         ("Contact the project team: 22 33 44 55", "22 33 44 55"),
                         ("Text the mentors at 742.1234", "742.1234"), ("WhatsApp 742 1234", "742 1234"),
                         ("dial 22 33 44 55", "22 33 44 55")):
        assert redact(said) == said.replace(number, "[…]"), said
    # after the same words: dates, years, amounts, counts, identifiers, rooms and opening hours stay
    for kept in ("Call the team on 12 March", "Contact the families on 12 03 2024 and 14 05 2024",
                 "The open call on 2022-2023 funded 14 groups", "Reach the volunteers on 2022 2023",
                 "The call reached its target at 1 200 000 €", "Contact the fund at 12 500 000 EUR",
                 "We reach them at 1 234 567 households", "Contact the association SIRET: 123 456 789 00012",
                 "Call the desk on floor 3, room 214", "Reach the desk on weekdays at 08 30 - 12 00"):
        assert redact(kept) == kept, kept


def test_redactor_leaves_out_numbers_after_french_words_of_calling():
    from pipeline.report.city import Redactor

    redact = Redactor([])
    for said, number in (("Les familles joignent l'équipe au 22 33 44 55", "22 33 44 55"),
                         ("Les familles joignent l’équipe au 22 33 44 55.", "22 33 44 55"),
                         ("On peut contacter la médiatrice au 742 1234", "742 1234"),
                         ("Contactez-nous au 22 33 44 55", "22 33 44 55"), ("Composez le 22 33 44 55", "22 33 44 55"),
                         ("par téléphone au 22 33 44 55", "22 33 44 55"),
                         ("La permanence est joignable au numéro 22 33 44 55", "22 33 44 55"),
                         ("Un SMS au numéro 742 12 34", "742 12 34"),
                         ("Téléphonez à l'accueil d'Emmaüs au 742 1234", "742 1234")):
        assert redact(said) == said.replace(number, "[…]"), said
    # not a phone after the same words: the first of January, a date, a floor, a room, an amount, a span of years,
    # a count, a street number, an ISBN; and a number in pairs with no word of calling before it
    for kept in ("Contacter la mairie au 1er janvier 2024", "Joindre les pièces au 31 décembre 2024",
                 "joindre l'équipe au 3e étage, salle 214", "Joindre au dossier le budget de 1 200 000 €",
                 "contacter les familles le 12 03 2024", "joindre au bilan 2022-2023",
                 "contacter les 22 33 44 55 familles", "au numéro 12 de la rue", "joignable au 2022 - 2023",
                 "Contactez-nous : ISBN 978-2-07-036822-8", "Joindre le budget au 12 500 000 €", "22 33 44 55"):
        assert redact(kept) == kept, kept


def test_redactor_leaves_out_a_number_chained_to_one_left_out():
    from pipeline.report.city import Redactor

    redact = Redactor([])
    # after a left-out number, one joined by 'or', 'and', a comma or a slash, with a note in brackets, goes too
    for said, left in (("Call the project line at 742 1234 or 742 1235.", "Call the project line at […] or […]."),
                       ("Ring us on 742 1234, 742 1235.", "Ring us on […], […]."),
                       ("Reach the team on 22 33 44 55 (day) / 22 33 44 56 (night).",
                        "Reach the team on […] (day) / […] (night)."),
                       ("Tel: 22 33 44 55; fax: 22 33 44 56", "Tel: […]; fax: […]"),
                       ("Les familles joignent l'équipe au 22 33 44 55 ou au 22 33 44 56.",
                        "Les familles joignent l'équipe au […] ou au […]."),
                       ("Numéro vert 0 800 12 34 56 (appel gratuit) ou 22 33 44 57",
                        "Numéro vert […] (appel gratuit) ou […]"),
                       ("Appelez le 742 12 34, le 742 12 35 ou le 742 12 36.",
                        "Appelez le […], le […] ou le […].")):
        assert redact(said) == left, said
    # what follows a left-out number and is no phone number stays
    for said, left in (("Call 742 1234 or 12 03 2024", "Call […] or 12 03 2024"),
                       ("Call 742 1234 and 1 200 families", "Call […] and 1 200 families"),
                       ("Appelez le 22 33 44 55 ou le 1er janvier 2024",
                        "Appelez le […] ou le 1er janvier 2024")):
        assert redact(said) == left, said


def test_redactor_leaves_out_numbers_right_after_a_verb_or_in_brackets():
    from pipeline.report.city import Redactor

    redact = Redactor([])
    # a verb of calling right before the number, a name and a bracket, 'to'
    for said, number in (("Call 22 33 44 57 for an appointment.", "22 33 44 57"),
                         ("Parents call 742 1236 in the evening.", "742 1236"),
                         ("Call Fatima (742 1234) or Omar.", "742 1234"),
                         ("Parents can send an SMS to 742 1238.", "742 1238"),
                         ("The team can be contacted at 22 33 44 60 or on WhatsApp.", "22 33 44 60"),
                         ("The mediators are available on 22 33 44 55 from 9 to 5.", "22 33 44 55"),
                         ("Call 22 33 44 55 24/7.", "22 33 44 55"),
                         ("Appelez 22 33 44 57 pour un rendez-vous.", "22 33 44 57"),
                         ("Les médiatrices sont disponibles au 22 33 44 59 du lundi au vendredi.", "22 33 44 59"),
                         ("Les mentors sont joignables 7j/7 au 742 12 35.", "742 12 35"),
                         ("Contactez Fatima (742 12 34) ou Omar.", "742 12 34")):
        assert redact(said) == said.replace(number, "[…]"), said
    # right after the same words: years, dates, counts and amounts stay
    for kept in ("The open call 2022-2023 funded 14 groups", "Call 12 03 2024 a milestone",
                 "Parents call 1 200 times a year", "Contact 12 500 000 residents",
                 "Appelez 1 200 familles", "Contacter 12 500 000 habitants", "disponibles au 1er janvier 2024"):
        assert redact(kept) == kept, kept


def test_redactor_leaves_out_numbers_after_phone_labels():
    from pipeline.report.city import Redactor

    redact = Redactor([])
    for said, number in (("Helpline: 22 33 44 56.", "22 33 44 56"), ("Hotline: 742 1235.", "742 1235"),
                         ("Phone number 22 33 44 58.", "22 33 44 58"), ("Tel 22 33 44 59.", "22 33 44 59"),
                         ("Tlf. 22 33 44 55", "22 33 44 55"), ("Infoline 742 1234", "742 1234"),
                         ("The helpline (22 33 44 62) is open every day.", "22 33 44 62"),
                         ("Mobile team: 22 33 44 55.", "22 33 44 55"),
                         ("Permanence téléphonique : 22 33 44 56.", "22 33 44 56"),
                         ("Numéro vert 22 33 44 57.", "22 33 44 57"),
                         ("La ligne d'écoute 22 33 44 58 est ouverte le soir.", "22 33 44 58"),
                         ("Tél 22 33 44 61.", "22 33 44 61"), ("GSM : 0475 12 34 56", "0475 12 34 56")):
        assert redact(said) == said.replace(number, "[…]"), said
    # after the same labels: years, dates, counts, amounts and floors stay
    for kept in ("Helpline since 2019 2020", "Hotline: 1 200 calls in 2023", "The helpline (2022-2023) answered",
                 "Phone line budget: 12 500 000 €", "Numéro vert depuis le 1er janvier 2024",
                 "La ligne d'écoute au 3e étage", "Permanence téléphonique : 12 03 2024"):
        assert redact(kept) == kept, kept


def test_redactor_leaves_out_a_number_broken_at_a_line_end():
    from pipeline.report.city import Redactor

    redact = Redactor([])
    for said, left in (("Families can call us on 22 33\n44 63 during office hours.",
                        "Families can call us on […] during office hours."),
                       ("Call us on +47 22 33\n44 55.", "Call us on […]."),
                       ("Appelez-nous au 22 33\n44 60 en semaine.", "Appelez-nous au […] en semaine."),
                       # a whole number ends at the line: the next line's figures are something else
                       ("Call 742 1234\n2023 report", "Call […]\n2023 report"),
                       ("Tél. 22 33 44 55\n2023 : 1 200 appels", "Tél. […]\n2023 : 1 200 appels")):
        assert redact(said) == left, said


def test_redactor_keeps_iso_dates_file_numbers_and_counts():
    from pipeline.report.city import Redactor

    redact = Redactor([])
    for kept in ("First contact: 2024-01-22.", "Contact the centre on 2024-01-22.", "Contactez-nous le 2024-01-22.",
                 "Dossier n° 0123 456 789.", "Report no. 0123 4567 89 of the council.",
                 "Délibération nº 0123 456 789",
                 "Call for projects: 12 500 000 in total.", "Contacter : 12 345 678 visiteurs"):
        assert redact(kept) == kept, kept
    # a number the phone labels name stays out: « Tél. n° … », 'Phone no. …'
    for said in ("Tel. no. 0123 456 789", "Phone no. 22 33 44 55", "Téléphone n° 22 33 44 55"):
        assert redact(said).endswith("[…]"), said


def test_unchanged_inputs_leave_reports_alone(run_copy):
    first = write_city_reports(run_copy, ["Oslo"], formats=("html",))
    stamp = first[0].stat().st_mtime_ns
    assert write_city_reports(run_copy, ["Oslo"], formats=("html",)) == first
    assert first[0].stat().st_mtime_ns == stamp
    with_contacts = write_city_reports(run_copy, ["Oslo"], formats=("html",), include_contacts=True)
    assert with_contacts[0].name == "oslo-with-contacts.html" and with_contacts[0].exists()
    assert first[0].stat().st_mtime_ns == stamp  # the shareable report is not replaced


def test_word_template_holds_the_styles_the_writer_uses(tmp_path):
    import zipfile

    from pipeline.report.writers import DOCX_TEMPLATE

    doc = Document(str(DOCX_TEMPLATE))
    for name in ("Title", "Heading 1", "Heading 2", "List Bullet", "Table Grid"):
        assert doc.styles[name].style_id  # KeyError when the template lost it
    assert doc.styles["Normal"].font.name == "Calibri"
    names = zipfile.ZipFile(DOCX_TEMPLATE).namelist()
    assert "word/stylesWithEffects.xml" not in names and DOCX_TEMPLATE.stat().st_size < 50_000
    # the script that writes it gives the same styles
    module = load_script("scripts/make_report_template.py")
    rebuilt = Document(str(module.build(tmp_path / "t.docx")))
    assert sorted(s.style_id for s in rebuilt.styles) == sorted(s.style_id for s in doc.styles)


def test_a_word_report_is_the_same_bytes_each_time(run_copy):
    from pipeline.report.city import CityReportBuilder
    from pipeline.report.view import build_view
    from pipeline.report.writers import render_city_docx

    report = CityReportBuilder(build_view(run_copy)).build("Oslo")
    assert render_city_docx(report) == render_city_docx(report)


def test_control_characters_stay_out_of_the_word_file():
    import io

    from pipeline.report.writers import _word_run

    run = _word_run("Budget\x0b2023\x0cend\nnext line")
    assert "\x0b" not in run and "\x0c" not in run and "<w:br/>" in run
    from lxml import etree

    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    etree.parse(io.BytesIO(str(run).replace("<w:r>", f"<w:r {ns}>", 1).encode()))  # well-formed


def test_the_reports_and_the_similarity_notebook_quote_the_last_measurement_of_a_score():
    """The number of texts the city reports' method note cites is that of benchmarks/results/neighbour_areas.json,
    and notebook 3 reads its table from that file rather than quoting figures."""
    import json

    import nbformat

    from pipeline.report.view import load_catalogue

    root = Path(__file__).resolve().parents[1]
    measured = json.loads((root / "benchmarks" / "results" / "neighbour_areas.json").read_text(encoding="utf-8"))
    catalogue = load_catalogue()
    for lang, word in (("en", "texts"), ("fr", "textes")):
        method = " ".join(catalogue[lang]["city"]["method"].split())
        assert re.findall(rf"(\d+) {word}", method) == [str(measured["texts"])], lang
    notebook = nbformat.read(root / "notebooks" / "03_similarity.ipynb", as_version=4)
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert not re.search(r"\d+ texts", text) and "neighbour_areas.json" in notebook.cells[2].source


def test_forms_sent_again_are_told_apart_by_their_file(run_copy):
    """A resubmission often keeps its title: "also submitted" names each form's file, so two lines are not twins."""
    practices = pd.read_parquet(run_copy / "practices.parquet")
    similar = pd.read_parquet(run_copy / "similar.parquet")
    first, second = practices[practices["city"] == "Oslo"]["practice_id"].iloc[:2]
    pair = similar.iloc[:2].copy()
    pair[["practice_id", "neighbour_id", "rank", "score"]] = [[first, second, 0, 0.97], [second, first, 0, 0.97]]
    pd.concat([similar, pair]).to_parquet(run_copy / "similar.parquet")
    write_city_reports(run_copy, ["Oslo"])
    page = (run_copy / CITY_REPORTS_DIR / "oslo.html").read_text(encoding="utf-8")
    files = dict(zip(practices["practice_id"], practices["source_file"]))
    assert f"{files[second]})" in page and f"{files[first]})" in page
    assert Path(files[second]).name in _docx_text(run_copy / CITY_REPORTS_DIR / "oslo.docx")


def test_a_form_sent_as_copies_is_shown_once_with_its_copies_listed(run_copy):
    """The same form as .docx, .odt and .pdf: one practice in the city's report, not three with three match lists."""
    practices = pd.read_parquet(run_copy / "practices.parquet")
    similar = pd.read_parquet(run_copy / "similar.parquet")
    oslo = practices[practices["city"] == "Oslo"]
    first, second = oslo["practice_id"].iloc[:2]
    assert oslo["lang"].iloc[0] == oslo["lang"].iloc[1]
    pair = similar.iloc[:2].copy()
    pair[["practice_id", "neighbour_id", "rank", "score", "relation", "near_duplicate"]] = [
        [first, second, 0, 0.99, "near_duplicate", True], [second, first, 0, 0.99, "near_duplicate", True]]
    pd.concat([similar, pair]).to_parquet(run_copy / "similar.parquet")
    write_city_reports(run_copy, ["Oslo"])
    tree = lxml_html.fromstring((run_copy / CITY_REPORTS_DIR / "oslo.html").read_text(encoding="utf-8"))
    sections = tree.xpath("//section[@class='practice']")
    assert len(sections) == len(oslo) - 1
    files = dict(zip(practices["practice_id"], practices["source_file"]))
    shown = " ".join(s.text_content() for s in sections)
    assert f"{Path(files[first]).name})" in shown or f"{Path(files[second]).name})" in shown, "the copy is listed"


def test_the_city_a_file_path_names():
    from pipeline.cities import city_in_path

    named = {path: (info.name if info else None) for path in (
        "2024/patras/Patras_blank_form.docx", "2024/inbox-octobre/Lyon_mediatrices_VF.docx", "misc/fiche.docx",
        "2024/lyon/scan 3.pdf", "Geneve et Lyon.docx", "reggio-emilia-p2-06.docx", "Form-Ville de Genève.docx")
        for info in [city_in_path(path)]}
    assert named == {"2024/patras/Patras_blank_form.docx": "Patras", "2024/inbox-octobre/Lyon_mediatrices_VF.docx": "Lyon",
                     "misc/fiche.docx": None, "2024/lyon/scan 3.pdf": "Lyon", "Geneve et Lyon.docx": None,
                     "reggio-emilia-p2-06.docx": "Reggio Emilia", "Form-Ville de Genève.docx": "Genève"}


def test_a_city_read_with_the_programme_s_name_beside_it_is_that_city():
    """A PDF of the template reads the header cell beside the city on its line: 'Bergen ICC' is Bergen."""
    from pipeline.cities import city_key

    assert city_info("Bergen ICC").name == "Bergen" and city_key("Bergen – Intercultural City") == city_key("Bergen")
    assert city_key("Larnaka ICC") == city_key("Larnaka")
