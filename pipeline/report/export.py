"""The spreadsheet of a run: one sheet each for practices, areas, criteria, similar practices, reviews, the history
of the reviews and files.

`write_workbook(data_dir, path, reviews)` (and `workbook_bytes` for the web app) read the run's tables and write
an .xlsx with openpyxl: a filter on every header, the header row frozen, columns sized to their contents.
The practices sheet's `practice_key` names the practice each row is a version of (the id `research.practice_keys`
gives: language versions and copies sent again, linked at rank 0 of similar.parquet, share it), so versions can be
grouped or filtered in the spreadsheet.
Every `city` column holds the city as the form wrote it; `city_listed` beside it (and `neighbour_city_listed` beside
`neighbour_city`) the name the reports give it in the workbook's language (`pipeline.cities.city_name`: 'Ville de
Genève' and 'Geneva, Switzerland' are Geneva in English, Genève in French), or the name as written when the city is
not listed, so one city's forms can be grouped however they wrote it. The workbook's language (`lang`, English by
default; the web app's is the secretariat's page language) also names the areas (`area_name`), the criteria
(`criterion_name`, as `check` names them) and countries, says each practice's warnings in words beside their codes
(`warnings_text`, as `check` says them), says the criteria hints (stored in each practice's language) in its own,
as the summary does, and says the files' messages (the run writes them in English; a French workbook gives each in
French from resources/errors.yaml, as the French summary does). Headers stay the tables'
column names and the codes stay as the tables hold them, so a notebook reads the workbook and the tables alike.
Personal data is left out as in the city reports: no contact person (unless asked: `include_contacts`), and e-mail
addresses, phone numbers and the contact's name removed from the texts. The files sheet lists every input file with its status, so the files that
were rejected or blank can be filtered and chased with the cities that sent them. Cell texts are written as text,
never as formulas, so a form whose text starts with '=' cannot run anything in the reader's spreadsheet program.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Callable, Collection, Iterable, Mapping, Sequence

import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.cities import city_country, city_in_path, city_name, country_name
from pipeline.criteria import CRITERIA
from pipeline.report.redact import Redactor, contacts_of  # the city reports' rule for personal data, shared
from pipeline.review_copies import copies_of_reviewed
from pipeline.similar import same_practice_pairs, version_keys, version_order, version_words
from pipeline.tables import atomic_write_bytes
from pipeline.taxonomy import load_taxonomy
from pipeline.web.i18n import Messages, Translator  # words only: no web framework

SHEETS = ("practices", "areas", "criteria", "similar", "reviews", "review_history", "files")
MAX_CELL_CHARS = 32_000  # Excel holds at most 32,767 characters in a cell
MIN_WIDTH, MAX_WIDTH = 8, 60
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")  # what the xlsx format cannot hold (an older run's tables may)
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")

# main_area_reviewed, areas_reviewed: what the secretariat's reviews set, beside the analysis's answer (empty where
# no review set them; the reviews sheet says who and when)
# practice_key: the practice the row is a version of, beside the id so that versions sort and filter together
# city_listed: beside the city as written, the name the reports give it (see above); warnings_text: beside the
# codes, each warning in words as `check` and the site say it, in the workbook's language
PRACTICE_COLUMNS = ("practice_id", "practice_key", "source_file", "lang", "city", "city_listed", "country",
                    "department", "form_date", "title", "declared_area_text", "declared_areas", "main_objective",
                    "period_text", "period_start", "period_end", "ongoing", "purpose", "starting_point", "process",
                    "impact", "references", "n_words", "warnings", "warnings_text", "predicted_areas",
                    "main_area_pred", "area_mismatch", "main_area_reviewed", "areas_reviewed")
# city, city_listed, title: in the order `_who` gives them, as on the other sheets; reviewer and reviewed_at: the
# last review, beside everyone whose values the row holds and who set which; in_run: whether the reviewed
# practice is in this run (its id follows its file's content); copies_in_run: its other copies here
# (pipeline/review_copies.py)
# disagreement: a main area one reviewer set outside the area set another chose (training leaves the practice out)
REVIEW_COLUMNS = ("practice_id", "city", "city_listed", "title", "main_area", "areas", *CRITERIA, "note", "reviewer",
                  "reviewers", "set_by", "disagreement", "reviewed_at_utc", "n_reviews", "in_run", "copies_in_run")
# every stored review, oldest first per practice, with what it set; replaced_later: each of its values a later review
# set otherwise, and who ("main_area -> 11 (Ben)"), as the reviews sheet holds only the values that stand
HISTORY_COLUMNS = ("practice_id", "city", "city_listed", "title", "reviewed_at_utc", "reviewer", "main_area", "areas",
                   *CRITERIA, "note", "replaced_later")
# Excel has no time zones: a review's time (UTC) is written without its zone, so the header and each cell say UTC,
# lest it be read as local time.
UTC_FORMAT = 'yyyy-mm-dd hh:mm "UTC"'

# city_listed: the listed names of the cities of a file's practices, or, for a file that gave none (not read, blank),
# the listed city its path names ('2024/patras/Patras_blank_form.docx'), so that its city can be asked for a new one
FILE_COLUMNS = ("source_file", "city_listed", "status", "error_code", "message", "n_practices")


def write_workbook(data_dir: Path, path: Path, reviews: Sequence[dict] = (), lang: str = "en",
                   include_contacts: bool = False, history: Sequence[dict] = ()) -> Path:
    """Write the workbook of the run in `data_dir` to `path` (atomically) and return the path."""
    atomic_write_bytes(Path(path), workbook_bytes(data_dir, reviews, lang, include_contacts, history))
    return Path(path)


def workbook_bytes(data_dir: Path, reviews: Sequence[dict] = (), lang: str = "en",
                   include_contacts: bool = False, history: Sequence[dict] = ()) -> bytes:
    """The workbook as bytes; `reviews` are rows of reviews.parquet (see pipeline.web.reviews), `history` every
    stored review (`pipeline.web.reviews.review_history`: the review_history sheet); city and area names in `lang`
    ('en' or 'fr'). `include_contacts`: the practices sheet also gives each form's `contact_person` as written
    (personal data, for the secretariat putting cities in touch); the texts stay without contacts."""
    if lang not in ("en", "fr"):
        raise ValueError(f"the workbook is written in English or French ('en', 'fr'), not {lang!r}")

    def listed(city: str | None) -> str | None:
        return _listed(city, lang)

    words = Messages.load().translator(lang)

    def who(practice_id: str) -> tuple:
        city, listed_city, title = _who(practices, practice_id, lang)
        return city, listed_city, redacted(title)

    tables = {name: _rows(data_dir, name) for name in ("practices", "areas", "criteria", "similar", "files")}
    practices = {r["practice_id"]: r for r in tables["practices"]}
    # every contact of the run, as in the city reports: a translation whose contact reads "see French version"
    # names its contact in its text
    redact = Redactor(c for r in practices.values() for c in contacts_of(r))

    def redacted(value):
        if isinstance(value, list):
            return [redact(v) for v in value]
        return redact(value) if isinstance(value, str) else value

    # the same linking as research.practice_keys: the first full version in `version_order` stands for the practice
    keys = version_keys(sorted(practices, key=lambda pid: version_order(practices[pid])),
                        same_practice_pairs(tables["similar"]), version_words(practices.values()))
    derived = {"city_listed": lambda r: listed(r.get("city")),
               "country": lambda r: country_name(_country(r.get("city")), lang),
               "practice_key": lambda r: keys[r["practice_id"]],
               "warnings_text": lambda r: words.semicolon.join(map(words.warning, r.get("warnings") or [])) or None,
               "main_area_reviewed": lambda r: reviewed.get(r["practice_id"], {}).get("main_area"),
               "areas_reviewed": lambda r: reviewed.get(r["practice_id"], {}).get("areas")}
    reviewed = {r["practice_id"]: r for r in reviews}

    columns = PRACTICE_COLUMNS
    if include_contacts:
        at = columns.index("department") + 1
        columns = (*columns[:at], "contact_person", *columns[at:])
        derived["contact_person"] = lambda r: r.get("contact_person")
        derived["department"] = lambda r: r.get("department")  # a contact is often typed there
    book = Workbook()
    book.remove(book.active)
    sheet = partial(_sheet, cut_note=lambda n: words("export.cut", n=n))
    sheet(book, "practices", columns,
           ([derived[c](r) if c in derived else redacted(r.get(c))
             for c in columns] for r in tables["practices"]))
    names = load_taxonomy().areas
    # the areas and criteria sheets name the practice too, so a filter on one key gives the rows of all its versions
    sheet(book, "areas", ("practice_id", "practice_key", "city", "city_listed", "title", "area", "area_name",
                           "probability", "suggested", "evidence"),
           ([r["practice_id"], keys.get(r["practice_id"], r["practice_id"]), *who(r["practice_id"]),
             r["area"], names[r["area"]].name(lang) if r["area"] in names else None, r["probability"], r["suggested"],
             redacted(r["evidence"])] for r in tables["areas"]))
    # criterion_name: as `check` and the site name it (resources/messages.yaml), as area_name names an area
    criterion_names = words.shared("criteria")
    # level_reviewed: the level a review set, beside the model's (empty where none did), as main_area_reviewed
    sheet(book, "criteria", ("practice_id", "practice_key", "city", "city_listed", "title", "criterion",
                              "criterion_name", "level", "level_reviewed", "score", "evidence", "hint"),
           ([r["practice_id"], keys.get(r["practice_id"], r["practice_id"]), *who(r["practice_id"]),
             r["criterion"], criterion_names.get(r["criterion"]), r["level"],
             reviewed.get(r["practice_id"], {}).get(r["criterion"]), r["score"],
             _lines(redacted(r["evidence"])), words.phrase(r["hint"])] for r in tables["criteria"]),
           wrapped={"evidence"})
    sheet(book, "similar", ("practice_id", "city", "city_listed", "title", "rank", "neighbour_id", "neighbour_city",
                             "neighbour_city_listed", "neighbour_title", "score", "relation", "weak", "matched_section",
                             "shared_terms"),
           ([r["practice_id"], *who(r["practice_id"]), r["rank"], r["neighbour_id"],
             *who(r["neighbour_id"]), r["score"], r.get("relation"), r.get("weak"),
             r.get("matched_section"), r.get("shared_terms")] for r in tables["similar"]))  # older tables lack some
    copies = copies_of_reviewed(reviews, practices, tables["similar"])
    sheet(book, "reviews", REVIEW_COLUMNS,
           ([r["practice_id"], *(who(r["practice_id"]) if r["practice_id"] in practices
                                 else (r.get("city"), listed(r.get("city")), r.get("title"))),  # as stored
             r.get("main_area"), r.get("areas"), *(r.get(c) for c in CRITERIA), r.get("note"), r.get("reviewer"),
             r.get("reviewers"), _set_by(r.get("set_by")), _disagreement(r), _naive(r.get("reviewed_at")),
             r.get("n_reviews"), r["practice_id"] in practices,
             [f"{c['practice_id']} ({c['relation']})" for c in copies.get(r["practice_id"], [])]] for r in reviews),
           formats={"reviewed_at_utc": UTC_FORMAT})
    sheet(book, "review_history", HISTORY_COLUMNS,
          ([h["practice_id"], *(who(h["practice_id"]) if h["practice_id"] in practices
                                else (h.get("city"), listed(h.get("city")), h.get("title"))),
            _naive(datetime.fromisoformat(h["reviewed_at"]) if h.get("reviewed_at") else None), h["reviewer"],
            h.get("main_area"), h.get("areas"), *(h.get(c) for c in CRITERIA), h.get("note"),
            _replaced(h.get("replaced") or {})] for h in history),
          formats={"reviewed_at_utc": UTC_FORMAT})
    cities_of_file: dict[str, list[str]] = {}
    for r in tables["practices"]:
        name = listed(r.get("city"))
        if name and name not in cities_of_file.setdefault(r.get("source_file"), []):
            cities_of_file[r.get("source_file")].append(name)

    def file_city(r: dict) -> str | None:
        named = city_in_path(r.get("source_file"))
        return words.semicolon.join(cities_of_file.get(r.get("source_file")) or []) or (
            named.name_in(lang) if named else None)

    sheet(book, "files", FILE_COLUMNS, ([_run_message(r.get(c), words) if c == "message" else
                                          file_city(r) if c == "city_listed" else r.get(c)
                                          for c in FILE_COLUMNS] for r in tables["files"]))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rows(data_dir: Path, name: str) -> list[dict]:
    path = Path(data_dir) / f"{name}.parquet"
    return pq.read_table(path).to_pylist() if path.exists() else []


def _country(city: str | None) -> str | None:
    return city_country(city)  # a listed city's, or the one written after an unlisted city


def _listed(city: str | None, lang: str) -> str | None:
    """The city's listed name in `lang`, as the reports give it; as written when it is not listed."""
    return city_name(city, lang) or None


def _run_message(text: str | None, words: Translator) -> str | None:
    """A message of files.parquet in the workbook's language, with its detail (the French from
    resources/errors.yaml, as the French summary gives it); as the run wrote it where no entry of the catalogue
    wrote it (a run of an older version)."""
    return words.run_message(text) or text


def _who(practices: dict[str, dict], practice_id: str, lang: str) -> tuple:
    """city (as written), city_listed and title of a practice."""
    row = practices.get(practice_id, {})
    return row.get("city"), _listed(row.get("city"), lang), row.get("title")


def _set_by(set_by: dict | None) -> str | None:
    """Who set which value, one person at a time: 'Élodie Martin: main_area, areas, note; Jean Dupont: modelable'."""
    fields: dict[str, list[str]] = {}
    for name, who in (set_by or {}).items():
        if who:
            fields.setdefault(who, []).append(name)
    return "; ".join(f"{who}: {', '.join(names)}" for who, names in fields.items()) or None


def _disagreement(review: dict) -> str | None:
    """A main area one reviewer set outside the area set another chose, in words: "main area 2 (Ben) is outside
    the area set 4, 5 (Anna)"; None when the reviewed values fit together."""
    from pipeline.web.reviews import row_disagreement

    found = row_disagreement(review)
    if found is None:
        return None
    return (f"main area {found['main_area']} ({found['main_by']}) is outside the area set "
            f"{', '.join(found['areas'])} ({found['areas_by']})")


def _replaced(replaced: dict) -> str | None:
    """What later reviews set otherwise: "main_area -> 11 (Ben); note -> replaced (Ben)"."""
    def shown(name: str, value) -> str:
        if name == "note":
            return "replaced"
        return ", ".join(value) if isinstance(value, list) else str(value)

    return "; ".join(f"{name} -> {shown(name, value)} ({who})" for name, (value, who) in replaced.items()) or None


def _naive(value):
    """A time in UTC without its zone, which Excel cannot hold (see UTC_FORMAT)."""
    return value.replace(tzinfo=None) if hasattr(value, "tzinfo") and value.tzinfo else value


def _lines(sentences) -> str | None:
    """Evidence sentences one per line (a sentence may hold '; ', which joins the short lists), each on one line
    (a PDF's line breaks inside a sentence dropped)."""
    return "\n".join(" ".join(s.split()) for s in sentences) if sentences else None


def _english_cut(n: int) -> str:
    return f" […] [cut: {n:,} characters]"


def _cell_value(value, cut_note: Callable[[int], str] = _english_cut):
    """A value as a cell holds it; a text longer than a cell holds is cut after a word and says so (`cut_note`,
    given the text's length), so that nobody takes it for the whole text."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value if v is not None)
    if isinstance(value, str):
        value = _ILLEGAL.sub(" ", value)
        if len(value) > MAX_CELL_CHARS:
            note = cut_note(len(value))
            kept = value[:MAX_CELL_CHARS - len(note)]
            space = max(kept.rfind(" "), kept.rfind("\n"))  # a list of links is cut between two, not in one
            value = (kept[:space] if space >= len(kept) - 2000 else kept) + note
        return value
    return value


def _sheet(book: Workbook, title: str, columns: Sequence[str], rows: Iterable[Sequence],
           wrapped: Collection[str] = (), formats: Mapping[str, str] | None = None,
           cut_note: Callable[[int], str] = _english_cut) -> Worksheet:
    """A sheet with a bold, frozen and filtered header; cells of the `wrapped` columns show their lines, and those of
    the columns `formats` names are shown in its number format; a text cut to fit a cell ends with `cut_note`."""
    sheet = book.create_sheet(title)
    sheet.append(list(columns))
    widths = [len(c) for c in columns]
    formats = formats or {}
    for values in rows:
        cells = [_cell_value(v, cut_note) for v in values]
        sheet.append(cells)
        for j, value in enumerate(cells):
            if value is not None and columns[j] in formats:
                sheet.cell(row=sheet.max_row, column=j + 1).number_format = formats[columns[j]]
                widths[j] = max(widths[j], len(formats[columns[j]]) - 2)
            if isinstance(value, str):
                cell = sheet.cell(row=sheet.max_row, column=j + 1)
                cell.data_type = TYPE_STRING  # text, even when it starts with '=' (no formula injection)
                if columns[j] in wrapped:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                widths[j] = max(widths[j], min(len(value), MAX_WIDTH))
            elif value is not None:
                widths[j] = max(widths[j], len(str(value)))
    for j, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(j + 1)].width = max(MIN_WIDTH, min(width + 2, MAX_WIDTH))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(sheet.max_row, 1)}"
    return sheet
