"""The batch summary page: what came in, what the analysis found and what needs attention.

`write_summary(out_dir)` writes one self-contained HTML page (inline CSS and SVG charts, no scripts, no external
assets) to out_dir/reports/summary.html, from the run's view (pipeline/report/view.py: the tables in memory or read
once, shared with the city reports). The words come from resources/reports.yaml, the catalogue of the city reports:
the page is written in English, and in French with lang="fr" (reports/summary.fr.html). The run writes its messages
in English: the French page says each in French from the catalogue that wrote it (resources/errors.yaml), or gives
the web app's French text of its error code where no entry wrote it, and the template's French names of fields,
sections and checks (pipeline.web.i18n, which imports no web framework). Criteria hints, stored in each practice's
language, are shown in the page's (pipeline.phrasebook).
Every table may be empty or missing (a run where every file failed still gets a page).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from markupsafe import Markup

from pipeline.cities import city_info, city_key, city_name, joint_cities, name_parts
from pipeline.config import ReportSettings
from pipeline.records import DUPLICATE_FILE, UNREADABLE_FOLDER
from pipeline.review_copies import copies_of_reviewed
from pipeline.similar import fill_from_versions
from pipeline.report import CITY_REPORTS_DIR, REPORTS_DIR, SUMMARY_FILE, city_slug
from pipeline.report.view import RunView, build_view, counted, load_catalogue, singular
from pipeline.report.writers import render_summary_html, stream_summary_html
from pipeline.stages import model_fallbacks
from pipeline.tables import atomic_write_bytes, is_missing
from pipeline.web.reviews import row_disagreement

if TYPE_CHECKING:
    from pipeline.web.i18n import Translator

CRITERIA = ("targeted", "needs_based", "context_sensitive", "high_impact", "modelable", "transferable")
# A criterion at this level or below is listed under "needs attention" (levels run 0-3).
LOW_LEVEL = 0
TOP_MATCHES = ReportSettings().summary_top_matches
LEVEL_COLOURS = ("#c0392b", "#e67e22", "#8fbc5a", "#2e7d32")
# Informational warnings that do not need anyone's attention.
_QUIET_WARNINGS = ("inherited:",)
# Warnings (their part before ':') of a form that leaves out a field or section: "Missing fields and sections".
_MISSING = {"missing", "missing_section", "no_description_sections", "unlabelled_text"}
# How a form was read: shown beside the practice, nothing to follow up with the city.
_READING_NOTES = {"converted", "ocr", "no_template_labels", "title_from_heading", "title_from_file_name",
                  "guide_example"}


@dataclass
class Attention:
    """One item of the "needs attention" list."""

    kind: str
    text: str
    source_file: str | None = None
    practice_id: str | None = None
    title: str | None = None
    city: str | None = None
    city_href: str | None = None


@dataclass
class AttentionGroup:
    key: str
    title: str
    explanation: str
    items: list[Attention] = field(default_factory=list)


class Words:
    """The summary's words in one language (resources/reports.yaml, `summary`), with its plural rule."""

    def __init__(self, lang: str = "en", catalogue: dict | None = None):
        catalogue = catalogue or load_catalogue()
        self.lang = lang if lang in catalogue else "en"
        self.t = catalogue[self.lang]["summary"]

    def __getitem__(self, key: str):
        return self.t[key]

    def plural(self, n: int, noun: str) -> str:
        return counted(n, self.t["plural"][noun], self.lang)

    def _singular(self, n: int) -> bool:
        return singular(n, self.lang)

    def card(self, key: str, n: int) -> str:
        """The label under a count ([one, many], or one word for any count)."""
        label = self.t["cards"][key]
        return label if isinstance(label, str) else label[0 if self._singular(n) else 1]

    @cached_property
    def tr(self) -> "Translator":
        """The web app's words in this language: error texts, and the names of fields, sections and checks that
        `check` and the site use."""
        from pipeline.web.i18n import Messages

        return Messages.load().translator(self.lang)

    def criterion(self, name: str) -> str:
        return self.t["criteria_names"].get(name, name)

    def labelled(self, label: str, value: str) -> str:
        """'label: value', with the space French puts before the colon."""
        return self.t["colon"].format(label=label, value=value)

    def warning(self, warning: str) -> str:
        """'missing_section:references' -> 'missing section: Key reference documents' (the template's name)."""
        labels = self.t["warnings"]
        if warning in labels:  # a note whose detail is one of a few words ('converted:text-only')
            return labels[warning]
        kind, _, detail = warning.partition(":")
        label = labels.get(kind, kind.replace("_", " "))
        if kind == "unknown_label":  # the labels as the form wrote them, each quoted
            return self.labelled(label, self.tr.quoted(detail.split("|")))
        return self.labelled(label, self.tr.field(detail)) if detail else label

    def run_text(self, message: str | None, general: str) -> str:
        """A message the run wrote (in English) in the page's language, with its detail; where no entry of
        resources/errors.yaml wrote it (a run of an older version), the more general text in the page's language."""
        return self.tr.run_message(message) or general

    def error(self, row: dict) -> str:
        """Why a file of files.parquet could not be used."""
        code = row.get("error_code") or ""
        general = self.tr.error(code) or self.t["errors"].get(code) or self.t["errors"]["unknown"]
        return self.run_text(row.get("message"), general)

    def step(self, name: str) -> str:
        """A step of the run (timings) or a stage (fallbacks, failures)."""
        return self.t["steps"].get(name, name.replace("_", " "))


def summary_path(out_dir: Path, lang: str = "en") -> Path:
    """reports/summary.html in English, reports/summary.<lang>.html in another language."""
    path = Path(out_dir) / SUMMARY_FILE
    return path if lang == "en" else path.with_name(f"{path.stem}.{lang}{path.suffix}")


def write_summary(out_dir: Path, lang: str = "en", view: RunView | None = None) -> Path:
    """Write the summary page of the run in `out_dir` (see `summary_path`); returns its path. `view`: the run's
    view when the caller already holds one (it is built from `out_dir` otherwise)."""
    path = summary_path(out_dir, lang)
    atomic_write_bytes(path, stream_summary_html(summary_context(Path(out_dir), lang, view)))
    return path


def render_summary(out_dir: Path, lang: str = "en", view: RunView | None = None) -> str:
    return render_summary_html(summary_context(Path(out_dir), lang, view))


def summary_context(out_dir: Path, lang: str = "en", view: RunView | None = None) -> dict:
    """Everything the page shows, as plain values (also handy for tests and notebooks)."""
    view = view or build_view(Path(out_dir))
    out_dir = Path(view.out_dir)
    words = Words(lang, view.catalogue)
    manifest = view.manifest
    files = view.frame("files")
    file_rows = view.records("files")
    errors = [dict(r, reason=words.error(r)) for r in file_rows
              if r.get("status") == "error" and r.get("error_code") != DUPLICATE_FILE]
    duplicates = _duplicates(file_rows)
    # Only what the page shows of the criteria rows: evidence sentences of a large run would fill memory.
    shown = ("practice_id", "criterion", "level", "hint")
    criteria = view.frame("criteria", shown)
    similar = view.tables["similar"]
    taxonomy = view.taxonomy

    # The page's own copies: it adds links, criteria and checks to each practice, and names each city by its
    # listed name, in the page's language where cities.yaml has one ('Ville de Genève' is Geneva, Genève in French).
    # titles as the city reports show them: without a contact's name, address or phone
    by_id = {pid: dict(p, title=view.redactor(p.get("title"))) for pid, p in view.practices.items()}
    for p in by_id.values():
        p["anchor"] = practice_anchor(p["practice_id"])
        p["city_href"] = city_href(p.get("city"))
        p["city"] = city_name(p.get("city"), words.lang) or None
        p["declared_areas"] = _list(p.get("declared_areas"))
        p["predicted_areas"] = _list(p.get("predicted_areas"))
        p["warnings"] = [w for w in _list(p.get("warnings")) if not w.startswith(_QUIET_WARNINGS)]
        p["criteria"] = {}
    for row in view.records("criteria", shown):
        if row["practice_id"] in by_id:
            # the hint in the page's language, not the practice's
            by_id[row["practice_id"]]["criteria"][row["criterion"]] = dict(row, hint=words.tr.phrase(row["hint"]))
    failed_checks: dict[str, list[str]] = {}
    for row in view.records("guidelines"):
        if row.get("passed") is False:
            failed_checks.setdefault(row["practice_id"], []).append(row["check"])
    for pid, p in by_id.items():
        p["failed_checks"] = [words.tr.check(c) for c in failed_checks.get(pid, [])]

    status = files["status"].value_counts().to_dict() if len(files) else {}
    # a folder that could not be opened is listed among the errors, but counted as a folder, not a file
    folders = sum(r.get("error_code") == UNREADABLE_FOLDER for r in file_rows)
    counts = {
        "files": len(files) - folders,
        "ok": int(status.get("ok", 0)),
        "empty_form": int(status.get("empty_form", 0)),
        "error": len(errors) - folders,
        "folders": folders,
        "duplicate": len(duplicates),
        "practices": len(by_id),
        "distinct": view.n_distinct,
        "cities": view.n_cities,
        "languages": sorted({p["lang"] for p in by_id.values() if p.get("lang")}),
        "similar_pairs": len(similar),
        "criteria_rows": len(criteria),
        "ignored": len((manifest.get("counts") or {}).get("ignored_system_files") or []),
        "earlier_outputs": len((manifest.get("counts") or {}).get("skipped_output_folders") or []),
    }
    # The charts count practices, not forms: one version of each practice (research.distinct_practices' rule)
    # stands for the others, so a practice sent in English and in French is one bar, not two; a declared area
    # its own form left out is taken from another version.
    filled = fill_from_versions(list(by_id.values()), view.practice_keys)
    counted = [dict(p, **filled.get(pid, {})) for pid, p in by_id.items() if view.is_representative(pid)]
    if len(criteria):
        criteria = criteria[criteria["practice_id"].map(view.is_representative).astype(bool)]
    criterion_names = [c for c in CRITERIA if c in set(criteria["criterion"])] if len(criteria) else []
    criterion_names += sorted(set(criteria["criterion"]) - set(criterion_names)) if len(criteria) else []
    review_rows = view.records("reviews")
    attention = _attention(file_rows, by_id, taxonomy, view.records("similar"), words, review_rows)
    reviews = _reviews(review_rows, by_id)
    for review in review_rows:  # the practices table's third line of areas: as reviewed, main first
        if review["practice_id"] in by_id:
            practice = by_id[review["practice_id"]]
            main = [review["main_area"]] if review.get("main_area") else []
            practice["reviewed_areas"] = [*main, *(c for c in review.get("areas") or [] if c not in main)]
            # and a reviewed level beside the analysis's, shown in its place
            practice["criteria"] = {c: dict(row, reviewed=review.get(c)) if review.get(c) is not None else row
                                    for c, row in practice["criteria"].items()}
    return {
        "lang": words.lang,
        "t": words.t,
        "card": words.card,
        "title": words["title"],
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "out_dir": str(out_dir.resolve()),
        "manifest": manifest,
        "counts": counts,
        "run_sentence": _run_sentence(counts, words),
        "timings": _timings(manifest, words),
        "reviews": reviews,
        "models": _named(_flatten(manifest.get("models", {})), words["model_names"]),
        "model_fallbacks": {stage: words["fallback_notes"].get(stage, note)
                            for stage, note in model_fallbacks(manifest.get("models") or {}).items()},
        "warning_text": words.warning,
        "step_name": words.step,
        "field_name": words.tr.field,
        "labelled": words.labelled,
        "decimal": lambda value: _decimal(float(value), words),
        "settings": _named(_flatten(manifest.get("settings", {}), lang=words.lang), words["settings_names"]),
        "versions": manifest.get("versions", {}),
        "pipeline_version": manifest.get("pipeline_version", ""),
        "errors": errors,
        "error_codes": dict(Counter(r.get("error_code") for r in errors).most_common()),
        "duplicates": duplicates,
        "areas_chart": Markup(areas_chart_svg(counted, taxonomy, words)) if by_id and taxonomy else None,
        "criteria_chart": Markup(criteria_chart_svg(criteria, criterion_names, words)) if len(criteria) else None,
        "criterion_names": criterion_names,
        "criterion_labels": words["criteria_names"],
        "criteria_order": ", ".join(words.criterion(c) for c in criterion_names),
        "level_colours": LEVEL_COLOURS,
        "matches": strongest_matches(view.records("similar"), by_id, view.report_settings.summary_top_matches),
        "attention": attention,
        "n_attention": sum(len(g.items) for g in attention),
        "attention_concerns": _attention_concerns(attention, words),
        "practices": sorted(by_id.values(), key=lambda p: (p.get("city") or "~", p.get("title") or "")),
        "area_name": lambda code: _area_name(taxonomy, code, words.lang),
        "has_areas": len(view.tables["areas"]) > 0,
        "has_similar": len(similar) > 0,
        "cities_dir": Path(CITY_REPORTS_DIR).relative_to(REPORTS_DIR).as_posix(),
    }


def practice_anchor(practice_id: str) -> str:
    return f"p-{practice_id}"


def city_href(city: str | None) -> str | None:
    """Link from the summary page (in reports/) to the city's report (in reports/cities/); None without a city,
    which has no report."""
    if not city_key(city):
        return None
    return f"{Path(CITY_REPORTS_DIR).relative_to(REPORTS_DIR).as_posix()}/{city_slug(city)}.html"


def _rows(table) -> list[dict]:
    """Rows of a table given as records or as a DataFrame (None for missing values)."""
    return _records(table) if isinstance(table, pd.DataFrame) else list(table)


def _duplicate_groups(similar) -> dict[str, str]:
    """A representative id per practice: same-city near-duplicates (rank 0 rows) share one."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for row in _rows(similar):
        if row.get("rank") == 0 and row.get("near_duplicate"):
            a, b = sorted((find(row["practice_id"]), find(row["neighbour_id"])))
            if a != b:
                parent[b] = a
    return {x: find(x) for x in parent}


def strongest_matches(similar, by_id: dict[str, dict], n: int = TOP_MATCHES) -> list[dict]:
    """The best-scoring pairs of practices from different cities, each unordered pair once; a resubmission or
    translation of a practice counts as the practice itself, and a pair kept only as a practice's best match below
    the run's lowest score (`weak`) is no lead to offer. `similar`: the similar table (DataFrame or rows)."""
    best: dict[tuple[str, str], dict] = {}
    rows = _rows(similar)
    group = _duplicate_groups(rows)
    keys: dict[str | None, str] = {}

    def key_of(city: str | None) -> str:
        if city not in keys:
            keys[city] = city_key(city)
        return keys[city]

    for row in rows:
        a, b = by_id.get(row["practice_id"]), by_id.get(row["neighbour_id"])
        if a is None or b is None or a["practice_id"] == b["practice_id"] or row.get("weak"):
            continue
        if key_of(a.get("city")) == key_of(b.get("city")):
            continue
        key = tuple(sorted((group.get(a["practice_id"], a["practice_id"]), group.get(b["practice_id"], b["practice_id"]))))
        if key not in best or row["score"] > best[key]["score"]:
            best[key] = {"a": a, "b": b, "score": float(row["score"]), "section": row.get("matched_section"),
                         "terms": _list(row.get("shared_terms"))[:6],
                         "near_duplicate": bool(row.get("near_duplicate"))}
    return sorted(best.values(), key=lambda m: (-m["score"], m["a"]["practice_id"]))[:n]


def _quoted(title: str) -> str:
    """A title between « », or between “ ” when it holds « » itself (« « Les Médiatrices » : … » read as a typo)."""
    return f"“{title}”" if "«" in title or "»" in title else f"«{title}»"


def _attention(files: list[dict], by_id: dict[str, dict], taxonomy, similar: list[dict],
               words: Words, reviews: list[dict] = ()) -> list[AttentionGroup]:
    names = dict(words["groups"])
    if LOW_LEVEL != 0:
        names["low"] = [names["low_above_zero"][0], names["low_above_zero"][1].format(level=LOW_LEVEL)]
    groups = {key: AttentionGroup(key, *names[key])
              for key in ("failed", "empty", "no_city", "missing", "check", "low", "mismatch", "disputed",
                          "resubmitted", "city_names")}
    reviewed = {r["practice_id"]: r for r in reviews}
    for row in files:
        if row.get("status") == "error" and row.get("error_code") != DUPLICATE_FILE:
            text = words.labelled(row.get("error_code") or "error", words.error(row))
            groups["failed"].items.append(Attention("failed", text, source_file=row["source_file"]))
        elif row.get("status") == "empty_form":
            text = words.run_text(row.get("message"), words.tr("check.blank"))
            groups["empty"].items.append(Attention("empty", text, source_file=row["source_file"]))
    for p in sorted(by_id.values(), key=lambda p: (p.get("city") or "~", p.get("title") or "")):
        def item(kind: str, text: str) -> Attention:
            return Attention(kind, text, p.get("source_file"), p["practice_id"], p.get("title"), p.get("city"),
                             p["city_href"])

        if not city_key(p.get("city")):  # a city report lists the practices of its city only
            groups["no_city"].items.append(item("no_city", words["no_city_text"]))
        kinds = {w: w.partition(":")[0] for w in p["warnings"]}
        missing = [w for w, kind in kinds.items() if kind in _MISSING]
        to_check = [w for w, kind in kinds.items() if kind not in _MISSING | _READING_NOTES]
        if missing:
            groups["missing"].items.append(item("missing", words["separator"].join(map(words.warning, missing))))
        if to_check:
            groups["check"].items.append(item("check", words["separator"].join(map(words.warning, to_check))))
        review = reviewed.get(p["practice_id"]) or {}
        # a level the secretariat reviewed stands for the analysis's: one reviewed up is no longer to follow up
        low = [c for c in CRITERIA if c in p["criteria"]
               and (review[c] if review.get(c) is not None else p["criteria"][c].get("level") or 0) <= LOW_LEVEL]
        if low:
            groups["low"].items.append(item("low", ", ".join(words.criterion(c) for c in low)))
        if p.get("area_mismatch") and not (review.get("main_area") or review.get("areas")):
            declared = _codes_text(taxonomy, p["declared_areas"], words)
            predicted = _codes_text(taxonomy, p["predicted_areas"][:3], words)
            groups["mismatch"].items.append(item("mismatch", words["mismatch_text"].format(declared=declared,
                                                                                           predicted=predicted)))
        if review and (disputed := row_disagreement(review)) is not None:
            groups["disputed"].items.append(item("disputed", words["disputed_text"].format(
                main=_codes_text(taxonomy, [disputed["main_area"]], words), main_by=disputed["main_by"],
                areas=_codes_text(taxonomy, disputed["areas"], words), areas_by=disputed["areas_by"])))
    seen: set[tuple[str, str]] = set()
    for row in similar:
        a, b = by_id.get(row["practice_id"]), by_id.get(row["neighbour_id"])
        pair = tuple(sorted((row["practice_id"], row["neighbour_id"])))
        if a is None or b is None or row.get("rank") != 0 or not row.get("near_duplicate") or pair in seen:
            continue
        seen.add(pair)
        p = a
        what = words["version_of"] if row.get("relation") == "version" else words["nearly_same"]
        text = words["resubmitted_text"].format(what=what, title=_quoted(b.get("title") or b["practice_id"]),
                                                file=b.get("source_file"), score=_decimal(float(row["score"]), words))
        groups["resubmitted"].items.append(Attention("resubmitted", text, p.get("source_file"), p["practice_id"],
                                                     p.get("title"), p.get("city"), p["city_href"]))
    for p, other in _cities_that_may_be_one(by_id.values()):
        groups["city_names"].items.append(Attention(
            "city_names", words["city_names_text"].format(city=city_name(p.get("city"), words.lang), other=other),
            p.get("source_file"), p["practice_id"], p.get("title"), p.get("city"), p["city_href"]))
    return list(groups.values())


def _cities_that_may_be_one(practices) -> list[tuple[dict, str]]:
    """The practices of a city whose name may be another city's of the run written otherwise, each with the other
    names: the start of it ('Valmont' beside 'Valmont-sur-Loire', whole words) or one letter away from it
    ('Valmont-sur-Loir', unless both are cities of the list: 'Lublin', 'Dublin'). Of two such names, the one fewer practices give is flagged (the shorter on a tie). Cities
    written together ('Lyon / Grenoble') are not such a name."""
    by_key: dict[str, list[dict]] = {}
    for p in practices:
        key = city_key(p.get("city"))
        if key and not (name_parts(p.get("city")) or joint_cities(p.get("city"))):
            by_key.setdefault(key, []).append(p)
    others: dict[str, list[str]] = {}
    keys = sorted(by_key)
    listed = {key: city_info(by_key[key][0].get("city")) is not None for key in keys}
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            short, long = sorted((a, b), key=len)
            # one letter apart: not two cities of the list ('Lublin' and 'Dublin')
            typo = len(short) >= 6 and _one_edit_apart(short, long) and not (listed[a] and listed[b])
            if not (long.split()[:len(short.split())] == short.split() or typo):
                continue
            flagged, other = sorted((a, b), key=lambda k: (-len(by_key[k]), -len(k), k))[::-1]
            others.setdefault(flagged, []).append(city_name(by_key[other][0].get("city")))
    return [(p, ", ".join(f"«{name}»" for name in sorted(names))) for key, names in sorted(others.items())
            for p in by_key[key]]


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether one letter added, left out or changed makes `a` into `b`."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    i = next((k for k, (x, y) in enumerate(zip(short, long)) if x != y), len(short))
    return short[i:] == long[i + 1:]


def _attention_concerns(groups: list[AttentionGroup], words: Words) -> str | None:
    """What the points to follow up are about: 'in 6 practices and 2 files' (a practice may have several points; a
    file is counted here when nothing was taken from it); None when there is nothing to follow up."""
    items = [item for group in groups for item in group.items]
    practices = len({item.practice_id for item in items if item.practice_id})
    files = len({item.source_file for item in items if not item.practice_id})
    parts = [words.plural(n, noun) for n, noun in ((practices, "practice"), (files, "file")) if n]
    return words["attention_concerns"].format(what=f" {words['and']} ".join(parts)) if parts else None


def _duplicates(files: list[dict]) -> list[dict]:
    """Files with the same bytes as another file of the batch, each with the copy that was read (`used`)."""
    used = {r["sha256"]: r["source_file"] for r in files if r.get("error_code") != DUPLICATE_FILE and r.get("sha256")}
    return [{"source_file": r["source_file"], "used": used.get(r.get("sha256"))}
            for r in files if r.get("error_code") == DUPLICATE_FILE]


def _decimal(value: float, words: Words) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if words.lang == "fr" else text


# ---------------------------------------------------------------- charts (inline SVG, no scripts)

def areas_chart_svg(practices: list[dict], taxonomy, words: Words | None = None) -> str:
    """Horizontal bars per top-level area: practices that declare it as their main area, and practices whose
    text points to it first (like for like, so the two bars can be compared)."""
    declared = {c: 0 for c in taxonomy.top_codes}
    predicted = {c: 0 for c in taxonomy.top_codes}
    for p in practices:
        for target, codes in ((declared, p["declared_areas"][:1]), (predicted, p["predicted_areas"][:1])):
            for code in {taxonomy.parent(c) for c in codes if c in taxonomy.areas}:
                target[code] += 1
    has_pred = any(predicted.values())
    words = words or Words()
    rows = [(f"{c}. {_short_name(taxonomy, c, words.lang)}", [declared[c]] + ([predicted[c]] if has_pred else []))
            for c in taxonomy.top_codes]
    series = [(words["declared_main"], "#3465a4")] + ([(words["predicted_main"], "#f5a623")] if has_pred else [])
    return _grouped_bars(rows, series, words["areas_chart"], words.labelled)


def criteria_chart_svg(criteria: pd.DataFrame, names: list[str], words: Words | None = None) -> str:
    """One stacked bar per criterion: how many practices reach each level 0-3."""
    words = words or Words()
    rows = []
    for name in names:
        levels = criteria.loc[criteria["criterion"] == name, "level"].fillna(0).astype(int)
        rows.append((words.criterion(name), [int((levels == k).sum()) for k in range(4)]))
    return _stacked_bars(rows, [words["level"].format(k=k) for k in range(4)], LEVEL_COLOURS, words["criteria_chart"],
                         words.labelled)


def _grouped_bars(rows: list[tuple[str, list[int]]], series: list[tuple[str, str]], title: str, labelled) -> str:
    """`labelled(label, value)`: "label: value" in the page's language."""
    label_w, bar_w, bar_h, gap = 300, 520, 9, 8
    group_h = bar_h * len(series) + gap
    top = 44
    height = top + group_h * len(rows) + 10
    width = label_w + bar_w + 60
    vmax = max([max(v) for _, v in rows] + [1])
    parts = [_svg_open(width, height, title), _text(8, 14, title, weight="bold", size=14)]
    x = label_w
    for i, (name, colour) in enumerate(series):
        parts.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, 31, name))
        x += 14 + 8 * len(name) + 20
    for i, (label, values) in enumerate(rows):
        y = top + i * group_h
        parts.append(_text(label_w - 8, y + (group_h - gap) / 2, _clip(label, 44), anchor="end"))
        for j, (value, (_, colour)) in enumerate(zip(values, series)):
            w = bar_w * value / vmax
            by = y + j * bar_h
            parts.append(f'<rect x="{label_w}" y="{by:.1f}" width="{w:.1f}" height="{bar_h - 1}" fill="{colour}">'
                         f"<title>{escape(labelled(f'{label}, {series[j][0]}', value))}</title></rect>")
            parts.append(_text(label_w + w + 4, by + bar_h / 2, str(value), size=10))
    parts.append("</svg>")
    return "".join(parts)


def _stacked_bars(rows: list[tuple[str, list[int]]], keys: list[str], colours, title: str, labelled) -> str:
    label_w, bar_w, bar_h, gap, top = 150, 480, 20, 8, 44
    height = top + (bar_h + gap) * len(rows) + 10
    width = label_w + bar_w + 30
    total = max([sum(v) for _, v in rows] + [1])
    parts = [_svg_open(width, height, title), _text(8, 14, title, weight="bold", size=14)]
    for k, (key, colour) in enumerate(zip(keys, colours)):
        parts.append(f'<rect x="{label_w + k * 90}" y="26" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(label_w + k * 90 + 14, 31, key))
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar_h + gap)
        parts.append(_text(label_w - 8, y + bar_h / 2, label, anchor="end"))
        x = float(label_w)
        for key, value, colour in zip(keys, values, colours):
            w = bar_w * value / total
            if value:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}">'
                             f"<title>{escape(labelled(f'{label}, {key}', value))}</title></rect>")
                if w >= 18:
                    parts.append(_text(x + w / 2, y + bar_h / 2, str(value), anchor="middle", fill="#fff",
                                       size=11))
            x += w
    parts.append("</svg>")
    return "".join(parts)


def _svg_open(width: int, height: float, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
            f'viewBox="0 0 {width} {height:.0f}" width="{width}" height="{height:.0f}" '
            'font-family="system-ui, sans-serif" font-size="12">')


def _text(x: float, y: float, text: str, anchor: str = "start", weight: str = "normal", size: int = 12,
          fill: str = "#222") -> str:
    """A label vertically centred on y."""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-weight="{weight}" font-size="{size}" '
            f'fill="{fill}" dominant-baseline="central">{escape(text)}</text>')


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------- reading

def _reviews(reviews: list[dict], by_id: dict[str, dict]) -> dict:
    """What the secretariat reviewed in the web app (reviews.parquet, written by `icc-practices export`)."""
    rows = [r for r in reviews if r["practice_id"] in by_id]
    mains = [r for r in rows if r.get("main_area")]
    changed = [r for r in mains if r["main_area"] != by_id[r["practice_id"]].get("main_area_pred")]
    levels = sum(1 for r in rows for c in CRITERIA if not is_missing(r.get(c)))
    # a review of a practice whose file changed or left the batch: its id is no longer in this run; it is named by
    # the city and title stored with it, beside the practices of this run with the same city and title
    gone = sorted((r for r in reviews if r["practice_id"] not in by_id), key=lambda r: r["practice_id"])
    copies = copies_of_reviewed(gone, by_id, [])
    return {"practices": len(rows), "main_areas": len(mains), "main_areas_changed": len(changed),
            "criteria_levels": levels, "gone": len(gone),
            "gone_rows": [{"practice_id": r["practice_id"], "city": r.get("city"), "title": r.get("title"),
                           "reviewer": ", ".join(r.get("reviewers") or []) or r.get("reviewer"),
                           "copies": [{"title": by_id[c["practice_id"]].get("title") or c["practice_id"],
                                       "anchor": by_id[c["practice_id"]]["anchor"]}
                                      for c in copies.get(r["practice_id"], [])]} for r in gone],
            "changed": [{"practice_id": r["practice_id"], "title": by_id[r["practice_id"]].get("title"),
                         "anchor": by_id[r["practice_id"]]["anchor"], "from": by_id[r["practice_id"]].get("main_area_pred"),
                         "to": r["main_area"], "reviewer": _set_by(r, "main_area")} for r in changed]}


def _set_by(review: dict, name: str) -> str | None:
    """Who set a reviewed value (reviews.parquet written before values were credited: who reviewed last)."""
    return (review.get("set_by") or {}).get(name) or review.get("reviewer")


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None (not NaN) for missing values."""
    out = []
    for row in df.to_dict("records"):
        out.append({k: (None if is_missing(v) else v) for k, v in row.items()})
    return out


def _list(value) -> list:
    """A list column's cell (None, list or numpy array) as a plain list."""
    return [] if value is None else list(value)



_STEP_ORDER = ("ingest_segment", "load_embedder", "areas", "similar", "criteria", "reports", "total")


def _timings(manifest: dict, words: Words) -> list[tuple[str, str, float]]:
    """(step, its name, seconds) in pipeline order (manifest.json stores them sorted by name), total last."""
    items = {k: float(v) for k, v in (manifest.get("timings_seconds") or {}).items() if isinstance(v, (int, float))}
    order = {k: i for i, k in enumerate(_STEP_ORDER)}
    keys = sorted(items, key=lambda k: (k == "total", order.get(k, len(order) - 1), k))
    return [(k, words.step(k), items[k]) for k in keys]


def _run_sentence(counts: dict, words: Words) -> str:
    text = words["run_sentence"].format(
        files=words.plural(counts["files"], "file"), ok=counts["ok"],
        blank=words.plural(counts["empty_form"], "blank_form"), errors=counts["error"],
        practices=words.plural(counts["practices"], "practice"), cities=words.plural(counts["cities"], "city"))
    if counts.get("distinct", counts["practices"]) < counts["practices"]:
        text += " " + words["run_distinct"].format(distinct=words.plural(counts["distinct"], "distinct_practice"))
    if counts.get("folders"):
        text += " " + words["run_folders"].format(folders=words.plural(counts["folders"], "folder"))
    if counts.get("duplicate"):
        text += " " + words["run_duplicates"].format(duplicates=words.plural(counts["duplicate"], "file"))
    if counts.get("ignored"):
        text += " " + words["run_ignored"].format(ignored=words.plural(counts["ignored"], "system_file"))
    if counts.get("earlier_outputs"):
        text += " " + words["run_earlier_outputs"].format(folders=words.plural(counts["earlier_outputs"], "folder"))
    return text


def _flatten(data: dict, prefix: str = "", lang: str = "en") -> list[tuple[str, str]]:
    """(dotted key, value as text); numbers with a decimal comma on a French page (a list's items then split by
    semicolons, so that "1,6 ; -3,2" stays two numbers)."""
    def text(value) -> str:
        return str(value).replace(".", ",") if lang == "fr" and isinstance(value, float) else str(value)

    out: list[tuple[str, str]] = []
    for key, value in (data or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{name}.", lang))
        elif isinstance(value, (list, tuple)):
            out.append((name, (" ; " if lang == "fr" else ", ").join(map(text, value))))
        elif value is not None:
            out.append((name, text(value)))
    return out


def _named(items: list[tuple[str, str]], names: dict[str, str]) -> list[tuple[str, str, str]]:
    """(name, key, value): the catalogue's name of each key, the key itself where it has none."""
    return [(names.get(key, key), key, value) for key, value in items]


def _short_name(taxonomy, code: str, lang: str = "en") -> str:
    area = taxonomy.areas.get(code) if taxonomy is not None else None
    return area.name(lang) if area else code


def _area_name(taxonomy, code: str, lang: str = "en") -> str:
    area = taxonomy.areas.get(code) if taxonomy is not None else None
    return f"{code} {area.name(lang)}" if area else code


def _codes_text(taxonomy, codes: list[str], words: Words) -> str:
    """'6 (Public space), 16 (Interaction)': each code with its name in the page's language; a code the taxonomy
    does not hold as written."""
    if not codes:
        return words["none"]
    return ", ".join(f"{code} ({_short_name(taxonomy, code, words.lang)})"
                     if taxonomy is not None and code in taxonomy.areas else code for code in codes)
