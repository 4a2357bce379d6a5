"""City similarity reports: for each practice of a city, the similar practices of other cities.

Built from the run's view (pipeline/report/view.py, made once per run) as a typed view-model per city
(`CityReport`), which two writers render: one self-contained HTML file (Jinja2, inline CSS, no external assets)
and one Word file (in the styles of templates/city-report.docx) per city, under
<out>/reports/cities/<city_slug>.html|.docx. French for French-speaking cities (resources/cities.yaml), English
otherwise; the words come from resources/reports.yaml, shared with the summary. Contact persons and e-mail addresses are personal data: they appear only with
include_contacts=True; otherwise names of contact persons and any e-mail address are removed from the texts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pipeline.cities import CITIES_FILE, city_country, city_info, city_key, city_name, country_name
from pipeline.config import ReportSettings, Settings
from pipeline.normalize import fold, fold_chars
from pipeline.report import CITY_REPORTS_DIR, city_slug
from pipeline.report.redact import Redactor
from pipeline.report.view import CATALOGUE_FILE, RunView, build_view, counted
from pipeline.report.writers import TEMPLATES_DIR, render_city_docx, render_city_html
from pipeline.tables import atomic_write_bytes

# Redactor and city_info are imported from here by the web app and the notebooks.
__all__ = ["CityReport", "CityReportBuilder", "Duplicate", "Neighbour", "PracticeItem", "Redactor", "ReportFiles",
           "STAMPS_FILE", "build_city_context", "build_city_report", "city_info", "render_docx", "render_html",
           "write_city_reports"]

STAMPS_FILE = ".inputs.json"  # per report file: hash of the inputs it was written from
EXCERPT_CHARS = ReportSettings().excerpt_chars
FORMATS = ("html", "docx")

# Writers by format name; each turns a CityReport into the bytes of one file.
WRITERS = {"html": lambda report: render_city_html(report).encode("utf-8"), "docx": render_city_docx}
render_html, render_docx = render_city_html, render_city_docx  # earlier names of the two writers


# --------------------------------------------------------------------------- the view-model


@dataclass(frozen=True)
class Duplicate:
    """Another practice of the same city that is nearly the same text (rank 0 in the similar table)."""

    title: str
    lang: str | None
    score: float
    score_text: str
    file: str = ""  # the form's file name: a resubmission often keeps the title, and only its file tells them apart


@dataclass(frozen=True)
class Neighbour:
    """A similar practice of another city, with the passages of both practices that match."""

    rank: int
    title: str
    city: str
    country: str | None
    period: str
    areas: list[str]
    score: float
    score_text: str
    strength: str
    section: str | None
    section_label: str | None
    mine_text: list[tuple[str, bool]]  # (piece, is_shared_term), so writers can highlight shared terms
    their_text: list[tuple[str, bool]]
    shared_terms: list[str]
    lang_note: str | None
    contact: str | None
    department: str | None
    near_duplicate: bool


@dataclass(frozen=True)
class PracticeItem:
    """One practice of the city and what is similar to it."""

    id: str
    anchor: str
    title: str
    period: str
    areas: list[str]
    count_label: str
    neighbours: list[Neighbour]
    duplicates: list[Duplicate]
    none_found: str


@dataclass(frozen=True)
class CityReport:
    """Everything a city report shows, in the city's language; both writers render only this."""

    lang: str
    s: dict  # the words of the city reports in `lang` (resources/reports.yaml, `city` with `lang_names`)
    city: str
    country: str | None
    intro: str
    method: str
    contacts_note: str
    run_note: str
    versions_note: str  # said only when a practice of the run came in more than one version
    items: list[PracticeItem]
    include_contacts: bool


# --------------------------------------------------------------------------- text helpers


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    value = str(value).strip()
    return value or None


def _list(value) -> list:
    if value is None or isinstance(value, float):
        return []
    return [v for v in list(value) if v is not None]


def _excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str | None:
    """The start of a section, cut at a sentence or word boundary."""
    text = _text(text)
    if not text or len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind(".\n"), cut.rfind("\n"))
    if end > limit * 0.6:
        return cut[: end + 1].rstrip() + " […]"
    return cut[: cut.rfind(" ")].rstrip(" ,;:") + " […]"



def _segments(text: str | None, pattern: re.Pattern | None) -> list[tuple[str, bool]]:
    """The text split into (piece, is_shared_term) so both writers can highlight shared terms.

    Matching runs on an accent-folded copy with one character per character, so positions carry over.
    """
    if not text:
        return []
    if pattern is None:
        return [(text, False)]
    folded = fold_chars(text)
    out, last = [], 0
    for m in pattern.finditer(folded):
        if m.start() > last:
            out.append((text[last:m.start()], False))
        out.append((text[m.start():m.end()], True))
        last = m.end()
    if last < len(text):
        out.append((text[last:], False))
    return out


def _focused_excerpt(text: str | None, pattern: re.Pattern | None, limit: int = EXCERPT_CHARS) -> str | None:
    """The passage of a section where the shared terms are densest, cut to about `limit` characters."""
    from pipeline.embed import split_sentences

    text = _text(text)
    if not text or len(text) <= limit or pattern is None:
        return _excerpt(text, limit)
    sentences = split_sentences(text)
    if len(sentences) < 2:
        return _excerpt(text, limit)
    hits = [len(pattern.findall(fold_chars(x))) for x in sentences]
    best, best_start = -1, 0
    for start in range(len(sentences)):
        size, score = 0, 0
        for k in range(start, len(sentences)):
            size += len(sentences[k]) + 1
            if size > limit and k > start:
                break
            score += hits[k]
        if score > best:
            best, best_start = score, start
    picked, size = [], 0
    for k in range(best_start, len(sentences)):
        if size + len(sentences[k]) > limit and picked:
            break
        picked.append(sentences[k])
        size += len(sentences[k]) + 1
    body = _excerpt("\n".join(picked), limit) or ""
    prefix = "[…] " if best_start > 0 else ""
    suffix = " […]" if best_start + len(picked) < len(sentences) and not body.endswith("[…]") else ""
    return prefix + body + suffix


def _period(row: dict, s: dict, lang: str) -> str:
    """The period as the form wrote it when the form is in the report's language, else in the report's words from
    the years read in it (as written when none were read)."""
    start, end = row.get("period_start"), row.get("period_end")
    start = None if start is None or start != start else int(start)
    end = None if end is None or end != end else int(end)
    text = _text(row.get("period_text"))
    if text and (row.get("lang") == lang or start is None):
        return text
    if start and end:
        return f"{start}–{end}" if start != end else str(start)
    if start:
        return f"{start} – {s['ongoing']}" if row.get("ongoing") else str(start)
    return s["unknown"]


def _number(value: float, lang: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "fr" else text


def _date(value: str, lang: str, months: list[str]) -> str:
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value or "")
    if not match:
        return value or "?"
    y, m, d = match.groups()
    day = "1er" if lang == "fr" and int(d) == 1 else str(int(d))  # « le 1er mars », « le 2 mars »
    return f"{day} {months[int(m) - 1]} {y}"


# --------------------------------------------------------------------------- building the view-model


class CityReportBuilder:
    """Builds the `CityReport` of any city of a run from its view; caches what reports share (term patterns,
    area names), so a city costs the work of its own practices and their neighbours only."""

    def __init__(self, view: RunView, include_contacts: bool = False):
        self.view = view
        self.include_contacts = include_contacts
        self.redact = (lambda t: t) if include_contacts else view.redactor
        self._patterns: dict[tuple[str, ...], re.Pattern | None] = {}
        self._concepts: dict[str, object] | None = None

    def build(self, city: str) -> CityReport:
        view = self.view
        group = view.cities.get(city_key(city))
        if group is None:
            known = sorted(g.name for g in view.cities.values())
            raise ValueError(f"No practice from '{city}' in {view.out_dir}. Cities in this run: {', '.join(known)}")
        mine = [view.practices[pid] for pid in group.practice_ids]
        lang = self._lang(group.name, mine)
        name = group.info.name_in(lang) if group.info else group.name
        s = {**view.words(lang)["city"], "lang_names": view.words(lang)["lang_names"]}
        items = [self._item(row, lang, s) for row in self._shown(mine)]
        date = _date(str(view.run_date)[:10], lang, view.words(lang)["months"])
        plural = view.words(lang)["summary"]["plural"]
        return CityReport(
            lang=lang, s=s, city=name,
            country=country_name(group.info.country if group.info else self._written_country(group), lang),
            intro=s["intro"].format(city=name),
            method=s["method"].format(model=view.embedder, close=_number(view.report_settings.close_score, lang),
                                      related=_number(view.report_settings.related_score, lang)),
            contacts_note=s["contacts_on"] if self.include_contacts else s["contacts_off"],
            # practices, not forms: the versions of one practice in two languages (or sent again) count once
            run_note=s["run"].format(practices=counted(view.n_distinct, plural["practice"], lang),
                                     cities=counted(view.n_cities, plural["city"], lang), date=date),
            versions_note=s["run_versions"] if view.n_distinct < len(view.practices) else "",
            items=items, include_contacts=self.include_contacts)

    def _shown(self, mine: list[dict]) -> list[dict]:
        """The city's practices by title, a copy of one already shown (the same form sent again, or as .pdf and
        .odt beside the .docx: a near duplicate in its language) left out: its item lists it among the practice's
        own versions. Versions in another language keep an item of their own (their matches are read in it)."""
        view = self.view
        shown, folded = [], set()
        for row in sorted(mine, key=lambda r: (str(r.get("title") or ""), not view.is_representative(r["practice_id"]),
                                               r["practice_id"])):
            if row["practice_id"] in folded:
                continue
            shown.append(row)
            folded |= {hit["neighbour_id"] for hit in view.neighbours.get(row["practice_id"], ())
                       if int(hit["rank"]) == 0 and hit.get("relation") == "near_duplicate"
                       and view.practices.get(hit["neighbour_id"], {}).get("lang") == row.get("lang")}
        return shown

    def _written_country(self, group) -> str | None:
        """An unlisted city's country, as one of its forms wrote it after the city ('Larnaka, Cyprus')."""
        cities = (self.view.practices.get(pid, {}).get("city") for pid in group.practice_ids)
        return next((country for country in map(city_country, cities) if country), None)

    def _item(self, row: dict, lang: str, s: dict) -> PracticeItem:
        view, redact = self.view, self.redact
        excerpt_chars = view.report_settings.excerpt_chars
        min_score = float((view.manifest.get("settings") or {}).get("min_similarity", Settings().min_similarity))
        neighbours, duplicates = [], []
        for hit in view.neighbours.get(row["practice_id"], ()):
            other = view.practices.get(hit["neighbour_id"])
            if other is None:
                continue
            score = float(hit["score"])
            if int(hit["rank"]) == 0:
                duplicates.append(Duplicate(redact(_text(other.get("title"))) or other["practice_id"],
                                            s["lang_names"].get(other.get("lang"), other.get("lang")),
                                            round(score, 2), _number(score, lang),
                                            Path(_text(other.get("source_file")) or "").name))
                continue
            section = _text(hit.get("matched_section"))
            terms = _list(hit.get("shared_terms"))
            terms_re = self._term_pattern(terms)
            other_lang = other.get("lang")
            neighbours.append(Neighbour(
                rank=int(hit["rank"]),
                title=redact(_text(other.get("title"))) or other["practice_id"],
                city=city_name(other.get("city"), lang) or s["unknown_city"],
                country=country_name(city_country(other.get("city")), lang),
                period=_period(other, s, lang),
                areas=self._areas(other, lang, s),
                score=view.report_settings.shown_score(score, bool(hit.get("weak"))),
                score_text=_number(view.report_settings.shown_score(score, bool(hit.get("weak"))), lang),
                strength=s["strength"][view.report_settings.strength(score, bool(hit.get("weak")))].format(
                    min=_number(min_score, lang)),
                section=section,
                section_label=s["sections"].get(section, section) if section else None,
                mine_text=_segments(redact(_focused_excerpt(view.text(row["practice_id"], section), terms_re, excerpt_chars)),
                                    terms_re) if section else [],
                their_text=_segments(redact(_focused_excerpt(view.text(other["practice_id"], section), terms_re, excerpt_chars)),
                                     terms_re) if section else [],
                shared_terms=terms,
                lang_note=(s["other_lang"].format(lang=s["lang_names"].get(other_lang, other_lang))
                           if other_lang and other_lang != lang and other_lang in s["lang_names"] else None),
                contact=_text(other.get("contact_person")) if self.include_contacts else None,
                department=_text(other.get("department")) if self.include_contacts else None,
                near_duplicate=bool(hit.get("near_duplicate")),
            ))
        n = len(neighbours)
        return PracticeItem(
            id=row["practice_id"],
            anchor="p-" + re.sub(r"[^A-Za-z0-9_-]", "-", row["practice_id"]),
            title=redact(_text(row.get("title"))) or row["practice_id"],
            period=_period(row, s, lang),
            areas=self._areas(row, lang, s),
            count_label=s["matches_0"] if n == 0 else s["matches_1"] if n == 1 else s["matches_n"].format(n=n),
            neighbours=neighbours,
            duplicates=duplicates,
            none_found=s["none_found"].format(min=_number(self.view.min_similarity, lang)),
        )

    def _lang(self, city: str, rows: list[dict]) -> str:
        info = city_info(city)
        if info is not None:
            return info.report_lang
        langs = Counter(r.get("lang") or "und" for r in rows)
        return "fr" if langs.get("fr", 0) > sum(langs.values()) / 2 else "en"

    def _areas(self, row: dict, lang: str, s: dict) -> list[str]:
        """Declared areas by name; the classifier's suggestions when the city declared none."""
        taxonomy = self.view.taxonomy

        def name(code: str) -> str:
            if taxonomy is not None and code in taxonomy.areas:
                return f"{code}. {taxonomy.areas[code].name(lang)}"
            return code

        declared = _list(row.get("declared_areas"))
        if declared:
            return [name(c) for c in declared]
        return [f"{name(c)} ({s['suggested']})" for c in self.view.suggested_areas(row["practice_id"])]

    def _term_pattern(self, terms: list[str]) -> re.Pattern | None:
        """A pattern for the shared terms in either language: a concept's label or form expands to all its forms."""
        key = tuple(terms)
        if key not in self._patterns:
            if self._concepts is None:
                from pipeline.similar import term_concepts

                self._concepts = {}
                for concept in term_concepts():  # first concept of a form wins, as in the terms file
                    for form in (*concept.labels.values(), *concept.forms):
                        self._concepts.setdefault(fold(form), concept)
            forms: set[str] = set()
            for term in terms:
                folded = fold(term)
                concept = self._concepts.get(folded)
                if concept is not None:
                    forms.update(p.pattern for p in concept.patterns)
                else:
                    forms.add(r"\b" + re.escape(folded) + r"\w{0,3}\b")
            self._patterns[key] = re.compile("|".join(sorted(forms)), re.I) if forms else None
        return self._patterns[key]


def build_city_report(view: RunView, city: str, include_contacts: bool = False) -> CityReport:
    """The view-model of one city's report."""
    return CityReportBuilder(view, include_contacts).build(city)


def build_city_context(out_dir: Path, city: str, include_contacts: bool = False) -> CityReport:
    """The report of one city from the run in `out_dir` (reads the tables; for many cities build one view with
    `build_view` and use `CityReportBuilder`)."""
    return build_city_report(build_view(Path(out_dir)), city, include_contacts)


# --------------------------------------------------------------------------- writing


class ReportFiles(list[Path]):
    """The paths of the reports a call covers, and those of them that were up to date and left as they were
    (`unchanged`): a caller can say which files it wrote."""

    def __init__(self, paths: list[Path], unchanged: list[Path]):
        super().__init__(paths)
        self.unchanged = unchanged


def write_city_reports(out_dir: Path, cities: list[str] | None = None, formats=FORMATS,
                       include_contacts: bool = False, view: RunView | None = None,
                       remove_others: bool = False) -> ReportFiles:
    """Write <out_dir>/reports/cities/<city_slug>.html and .docx for the given cities (default: all);
    with `include_contacts`, <city_slug>-with-contacts.html and .docx instead. `view`: the run's view when the
    caller already holds one (it is built from `out_dir` otherwise). `remove_others`: remove the reports an
    earlier call wrote into the folder and this one did not (a run writes all of its cities: the others are of
    cities no longer in it, or copies with contacts made from older tables)."""
    out_dir = Path(out_dir)
    if view is None:
        if not (out_dir / "practices.parquet").exists():
            raise FileNotFoundError(f"No practices.parquet in {out_dir}: run `icc-practices run` first.")
        view = build_view(out_dir)
    formats = tuple(f.strip().lower() for f in formats)
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"Unknown report format(s): {', '.join(sorted(unknown))} (use html, docx)")
    if cities is None:
        # One report per city, whatever spelling each form used ('Genève', 'Geneva').
        cities = [group.name for group in view.cities.values()]
    folder = out_dir / CITY_REPORTS_DIR
    stamps_path = folder / STAMPS_FILE
    try:
        stamps = json.loads(stamps_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stamps = {}
    common = _inputs_digest(view, include_contacts)
    builder = CityReportBuilder(view, include_contacts)
    paths: list[Path] = []
    unchanged: list[Path] = []
    changed = False
    for city in cities:
        slug = city_slug(city)
        # A report with contact data never replaces the shareable one: it gets a name of its own.
        name = f"{slug}-with-contacts" if include_contacts else slug
        targets = {fmt: folder / f"{name}.{fmt}" for fmt in FORMATS if fmt in formats}
        digest = hashlib.sha256(f"{common}|{city_key(city)}".encode()).hexdigest()
        # An unchanged run leaves unchanged reports alone: re-runs stay fast.
        if all(p.exists() and stamps.get(p.name) == digest for p in targets.values()):
            paths.extend(targets.values())
            unchanged.extend(targets.values())
            continue
        report = builder.build(city)
        for fmt, path in targets.items():
            atomic_write_bytes(path, WRITERS[fmt](report))
            stamps[path.name] = digest
            paths.append(path)
            changed = True
    if remove_others:
        keep = {p.name for p in paths}
        # Only files this function wrote (they have a stamp) and named: a file someone put here stays.
        for name in [n for n in stamps if n not in keep and _REPORT_NAME.fullmatch(n)]:
            (folder / name).unlink(missing_ok=True)
            del stamps[name]
            changed = True
    if changed:
        atomic_write_bytes(stamps_path, (json.dumps(stamps, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    return ReportFiles(paths, unchanged)


# The names `write_city_reports` gives its files: <city_slug>[-with-contacts].html|docx
_REPORT_NAME = re.compile(r"[^\W_]+(?:-[^\W_]+)*\.(?:html|docx)")


def remove_city_reports(out_dir: Path) -> list[Path]:
    """Remove the city reports `write_city_reports` wrote into the folder (they have a stamp), for a run whose
    tables they no longer describe; a file someone put here stays. Returns the files removed."""
    folder = Path(out_dir) / CITY_REPORTS_DIR
    try:
        stamps = json.loads((folder / STAMPS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    removed = [folder / name for name in stamps if _REPORT_NAME.fullmatch(name) and (folder / name).is_file()]
    for path in removed:
        path.unlink()
    (folder / STAMPS_FILE).unlink(missing_ok=True)
    return removed


_CODE = (Path(__file__), Path(__file__).with_name("view.py"), Path(__file__).with_name("writers.py"),
         Path(__file__).with_name("redact.py"))


def _inputs_digest(view: RunView, include_contacts: bool) -> str:
    """Hash of everything a report depends on: the tables, the settings shown, this code and its resources.
    The tables are hashed once per run (`RunView.tables_digest`), not once per city."""
    from pipeline.config import RESOURCES_DIR

    digest = hashlib.sha256(view.tables_digest.encode())
    for path in (*_CODE, CITIES_FILE, CATALOGUE_FILE, *sorted(TEMPLATES_DIR.glob("city*")),
                 RESOURCES_DIR / "terms.yaml", RESOURCES_DIR / "areas.yaml"):
        digest.update(path.read_bytes() if path.exists() else b"-")
    shown = {"models": (view.manifest.get("models") or {}).get("embedder"), "settings": view.manifest.get("settings"),
             "date": view.run_date, "contacts": include_contacts}
    digest.update(json.dumps(shown, sort_keys=True, default=str).encode())
    return digest.hexdigest()
