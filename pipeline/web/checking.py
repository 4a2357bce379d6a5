"""Check one uploaded form the way the batch run would read it, and say what it finds.

The upload is written to a temporary folder only for as long as the readers need a path, then deleted: the
reading, its error codes and messages are those of `pipeline.run.process_file`, so a file gets here the same
answer as in files.parquet. Areas, criteria and guideline checks come from the pipeline's own stages, with the
models loaded once at start; similar practices are looked up in the loaded run.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from pipeline.cities import city_key, city_name
from pipeline.classify import area_suggestions, harmonise_versions, likely_enough, predict_areas
from pipeline.config import SUPPORTED_SUFFIXES
from pipeline.errors import for_visitors, message
from pipeline.records import HEADER_FIELDS, SECTION_FIELDS, FileResult, Practice
from pipeline.run import InputFile, process_file
from pipeline.similar import versions_among
from pipeline.web.catalogue import Catalogue
from pipeline.web.i18n import LANGS, Messages, Translator, declared_beside, main_not_likeliest, warnings_for_a_city
from pipeline.web.models import AnalysisModels
from pipeline.web.neighbours import SimilarPractice, similar_elsewhere

_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")
FIELDS_SHOWN = (*HEADER_FIELDS, *SECTION_FIELDS)
# Media types beside the suffixes: some browsers (phones) filter a file picker by type rather than by name.
_MEDIA_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".rtf": "application/rtf",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".pdf": "application/pdf",
}
# The file picker's `accept`: every suffix the readers take, so the page offers what the server reads.
UPLOAD_ACCEPT = ",".join([*SUPPORTED_SUFFIXES, *(_MEDIA_TYPES[s] for s in SUPPORTED_SUFFIXES if s in _MEDIA_TYPES)])


@dataclass
class CheckedPractice:
    """What the analysis says about one practice of the form."""

    practice: Practice
    main_area: str | None
    area_mismatch: bool
    areas: list[dict]  # suggested areas, main first: area, probability, evidence
    criteria: list[dict]  # criteria.parquet rows
    guidelines: list[dict]  # guidelines.parquet rows
    similar: list[SimilarPractice] = field(default_factory=list)
    # the rows of the declared areas the text does not suggest (`declared_beside`), the main one first
    declared_rows: list[dict] = field(default_factory=list)

    @property
    def declared_area(self) -> dict | None:
        """The declared main area's row when the text does not suggest it."""
        return self.declared_rows[0] if self.declared_rows else None

    @property
    def main_not_likeliest(self) -> bool:
        """Another listed area is likelier than the main one (chosen by a model of its own): the page says so."""
        shown = self.areas + self.declared_rows
        return main_not_likeliest(self.main_area, {a["area"]: a["probability"] for a in shown})

    @property
    def missing_sections(self) -> list[str]:
        return [name for name in SECTION_FIELDS if not getattr(self.practice, name)]

    @property
    def other_warnings(self) -> list[str]:
        """Warnings beyond the missing sections (listed on their own) and inherited fields (informational)."""
        return [w for w in warnings_for_a_city(self.practice.warnings)
                if not w.startswith(("missing_section:", "inherited:"))]

    @property
    def fields(self) -> dict[str, str]:
        return {name: getattr(self.practice, name) for name in FIELDS_SHOWN if getattr(self.practice, name)}

    @property
    def header_fields(self) -> dict[str, str]:
        return {name: value for name, value in self.fields.items() if name in HEADER_FIELDS}

    @property
    def section_fields(self) -> dict[str, str]:
        return {name: value for name, value in self.fields.items() if name not in HEADER_FIELDS}

    def mismatch_words(self, t: Translator) -> str | None:
        """The declared main area and the listed areas the text points to instead; None without a mismatch."""
        if not self.area_mismatch:
            return None
        return t.area_mismatch(list(self.practice.declared_areas), [a["area"] for a in self.areas])


@dataclass
class CheckReport:
    """The answer to one upload: the file's status as files.parquet would hold it, and its practices."""

    file_name: str
    status: str
    error_code: str | None
    message: str | None
    practices: list[CheckedPractice] = field(default_factory=list)
    message_lang: str = "en"  # files.parquet's messages are English; the app's own are in the visitor's language

    @property
    def lang(self) -> str | None:
        """The form's language: that of its first practice (None for a file that could not be read)."""
        return self.practices[0].practice.lang if self.practices else None


def display_name(filename: str | None) -> str:
    """The upload's own name without any folder part, shortened: it is shown back, never used as a path."""
    name = re.split(r"[\\/]", filename or "")[-1].strip() or "upload"
    return name[:120]


def check_upload(upload: BinaryIO, filename: str | None, models: AnalysisModels, catalogue: Catalogue,
                 max_practices: int | None = None, max_words: int | None = None) -> CheckReport:
    """Read, segment and analyse one uploaded file; one holding more than `max_practices` practices, or more than
    `max_words` words, is an archive, not a form, and is sent to a batch run instead of analysed (its analysis
    would hold a check slot for minutes: its time grows with the words)."""
    name = display_name(filename)
    result = read_upload(upload, name, models)
    if max_practices is not None and len(result.practices) > max_practices:
        return CheckReport(name, "error", "too_many_practices",
                           message("too_many_practices", n=len(result.practices), limit=max_practices))
    words = sum(max(p.n_words, counted_words(p.full_text())) for p in result.practices)
    if max_words is not None and words > max_words:
        return CheckReport(name, "error", "too_many_words", message("too_many_words", n=words, limit=max_words))
    report = CheckReport(name, result.status, result.error_code, for_visitors(result.message))
    if result.status == "ok":
        report.practices = analyse_practices(result.practices, models, catalogue)
    return report


# a word of more letters counts as one per so many: the encoder reads it in as many pieces
_LETTERS_PER_WORD = 12
# ... and a text counts at least one word per so many characters (a form's words have about 6 letters and a space)
_CHARS_PER_WORD = 8


def counted_words(text: str) -> int:
    """The words a check's limit counts: each piece of text between spaces (a run of signs set apart by spaces,
    '( ( ( …', holds no word but as many pieces for the encoder), a long one as one per _LETTERS_PER_WORD letters
    (18,500 random words of 95 letters took two minutes), and at least one per _CHARS_PER_WORD characters
    (19,000 random words of 11 letters took 19 s, 18,000 of 11 Chinese characters 41 s)."""
    pieces = sum(max(1, len(piece) // _LETTERS_PER_WORD) for piece in text.split())
    return max(pieces, len(text) // _CHARS_PER_WORD)


def read_upload(upload: BinaryIO, name: str, models: AnalysisModels) -> FileResult:
    """`process_file` on a temporary copy of the upload, deleted as soon as it has been read."""
    suffix = Path(name).suffix.lower()
    suffix = suffix if _SAFE_SUFFIX.match(suffix) else ""  # readers pick plain-text files by their suffix
    with tempfile.TemporaryDirectory(prefix="icc-check-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(upload, out, length=1 << 20)
        return process_file(InputFile(path, name), models.settings, models.segmenter)


def analyse_practices(practices: list[Practice], models: AnalysisModels,
                      catalogue: Catalogue | None) -> list[CheckedPractice]:
    """Areas, criteria, guideline checks and similar practices of other cities, with one embedding per text."""
    settings = models.settings
    # the run's own top_k and lowest score, as its tables list similar practices
    run = catalogue.vectors.settings if catalogue and catalogue.vectors else settings
    with models.embedder.memo():
        predictions = predict_areas(models.classifier, practices)
        suggestions = area_suggestions(predictions, practices, settings)
        if settings.areas.versions_share_main:
            suggestions = _shared_main_areas(practices, suggestions, models, catalogue, run)
        criteria_rows, guideline_rows = models.criteria(practices)
        similar = similar_elsewhere(practices, models.embedder, catalogue.vectors if catalogue else None,
                                    run.top_k, run.min_similarity, catalogue.versions if catalogue else None)
    column = {code: j for j, code in enumerate(predictions.classes)}
    checked = []
    for i, (practice, suggestion) in enumerate(zip(practices, suggestions)):
        areas = [{"area": code, "probability": round(float(predictions.proba[i, column[code]]), 4),
                  "evidence": predictions.evidence[i][column[code]]}
                 for code in declared_beside(suggestion.predicted_areas, practice.declared_areas)
                 if code in column]
        # a declared area the text does not suggest shows its likeliest sentence only where it is likely all the same
        # (a probability of areas.mismatch_min_probability or more): a sentence beside 0.00 would seem to support it
        declared = [row if likely_enough(row["probability"], settings) else row | {"evidence": None}
                    for row in areas[len(suggestion.predicted_areas):]]
        areas = areas[:len(suggestion.predicted_areas)]
        pid = practice.practice_id
        checked.append(CheckedPractice(
            practice, suggestion.main_area_pred, suggestion.area_mismatch, areas,
            [r for r in criteria_rows if r["practice_id"] == pid],
            [r for r in guideline_rows if r["practice_id"] == pid],
            similar[i], declared,
        ))
    return checked


def _shared_main_areas(practices: list[Practice], suggestions: list, models: AnalysisModels,
                       catalogue: Catalogue | None, run) -> list:
    """The suggestions with one main area per practice, as the run gives it: the versions in the file; for a
    form the run already holds (same file, same id), the versions the run linked to it; for a new draft, the run's
    form in another language that the run's rule would link to it, and that form's versions."""
    keys = versions_among(practices, run, models.embedder)
    in_run: dict[str, Practice] = {}
    group_sizes = Counter(keys.values())
    for p in practices:
        linked = catalogue.versions.get(p.practice_id, ()) if catalogue else ()
        if catalogue and p.practice_id not in catalogue.practices and group_sizes[keys[p.practice_id]] == 1:
            linked = _draft_versions_in_run(p, catalogue, run, models.embedder)
        for v in sorted(linked):
            if v in catalogue.practices and v not in keys:
                in_run[v] = Practice.from_dict(catalogue.practices[v])
                keys[v] = keys[p.practice_id]
    others = list(in_run.values())
    extra = area_suggestions(predict_areas(models.classifier, others), others, models.settings) if others else []
    shared = harmonise_versions([*suggestions, *extra], [*practices, *others], keys, models.settings)
    return shared[:len(suggestions)]


def _draft_versions_in_run(draft: Practice, catalogue: Catalogue, run, embedder) -> set[str]:
    """The run's forms that are versions of a draft the run does not hold: its city's form in another language
    that the similar stage's rule links to it, and the versions the run gave that form. The draft stands in for the
    run's forms in its own language (an earlier draft of it would otherwise take the link, and its vote)."""
    city = city_key(draft.city)
    if not city or draft.lang in (None, "", "und"):
        return set()
    others = sorted(pid for pid, row in catalogue.practices.items()
                    if row.get("lang") not in (None, "", "und", draft.lang) and city_key(row.get("city")) == city)
    if not others:
        return set()
    keys = versions_among([draft, *(Practice.from_dict(catalogue.practices[o]) for o in others)], run, embedder)
    found = {o for o in others if keys[o] == keys[draft.practice_id]}
    linked = found.union(*(catalogue.versions.get(o, set()) for o in found))
    return {v for v in linked if v in catalogue.practices and catalogue.practices[v].get("lang") != draft.lang}


def answer_translator(report: CheckReport, messages: Messages, visitor: Translator) -> Translator:
    """The language of the API's message: the form's own, or the visitor's when the file could not be read."""
    return messages.translator(report.lang) if report.lang in LANGS else visitor


def practice_translator(messages: Messages, lang: str | None, visitor: Translator) -> Translator:
    """The words a practice is shown in: its own language, or the visitor's when the site speaks neither French nor
    English for it (a German form, or 'und' when too little text said which)."""
    return messages.translator(lang) if lang in LANGS else visitor


def status_message(report: CheckReport, t: Translator) -> str | None:
    """The report's message in t's language. A file that was read: how many practices it holds, in a sentence of
    its own number (not the run's "1 practice(s) found"). Otherwise its own message when it is in that language,
    else said in t's language from the catalogue that wrote it (resources/errors.yaml), else the app's words for its
    status or error code (the English message stays when the app has no words for the code)."""
    if report.status == "ok":
        return t("check.found_1") if len(report.practices) == 1 else t("check.found_n", n=len(report.practices))
    if report.message_lang == t.lang:
        return report.message
    said = t.run_message(report.message) if report.message_lang == "en" else None
    if said:
        return said
    if report.status == "empty_form":
        return t("check.blank")
    return t.error(report.error_code) or report.message


def report_json(report: CheckReport, catalogue: Catalogue, messages: Messages, t: Translator) -> dict:
    """The answer of POST /api/check: `message` in t's language (see `answer_translator`), the texts of each
    practice in the practice's language."""
    def run_practice(practice_id: str) -> dict:
        return catalogue.practices.get(practice_id, {})

    practices = []
    for item in report.practices:
        p = item.practice
        pt = practice_translator(messages, p.lang, t)
        practices.append({
            "title": p.title,
            "city": p.city,
            "city_listed": city_name(p.city, "en") or None,  # as the reports and the workbook name it
            "lang": p.lang,
            "fields": item.fields,
            "missing_sections": [{"section": s, "label": pt.field(s)} for s in item.missing_sections],
            "warnings": [{"warning": w, "label": pt.warning(w)} for w in item.other_warnings],
            "declared_areas": list(p.declared_areas),
            "main_area": item.main_area,
            "area_mismatch": item.area_mismatch,  # the declared main area is not among the likeliest, as the page says
            "area_mismatch_text": item.mismatch_words(pt),
            "areas": [{"area": a["area"], "probability": a["probability"], "evidence": a["evidence"]}
                      for a in item.areas],
            # the declared main area with its probability when the text does not suggest it, and every declared
            # area the text does not suggest (the main one first)
            "declared_area": ({k: item.declared_area[k] for k in ("area", "probability", "evidence")}
                              if item.declared_area else None),
            "declared_not_suggested": [{k: row[k] for k in ("area", "probability", "evidence")}
                                       for row in item.declared_rows],
            "criteria": [{"criterion": r["criterion"], "level": int(r["level"]), "evidence": list(r["evidence"] or []),
                          "hint": r["hint"] or None} for r in item.criteria],
            "guidelines": [{"check": r["check"], "label": pt.check(r["check"]), "passed": bool(r["passed"]),
                            "detail": r["detail"]} for r in item.guidelines],
            "similar": [{"practice_id": s.practice_id, "city": run_practice(s.practice_id).get("city"),
                         "city_listed": city_name(run_practice(s.practice_id).get("city"), "en") or None,
                         "title": run_practice(s.practice_id).get("title"), "score": s.score} for s in item.similar],
        })
    # the run's practices of other cities than the form's (a city's own are never offered); 0 when the site holds
    # no run: an empty `similar` then says nothing of other cities' practices
    own = {city_key(item.practice.city) for item in report.practices} - {""}
    others = sum(city_key(row.get("city")) not in own for row in catalogue.practices.values()) if catalogue else 0
    return {"status": report.status, "error_code": report.error_code, "message": status_message(report, t),
            "practices": practices, "compared_with": others}
