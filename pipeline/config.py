"""Every path and setting of the pipeline in one place.

`Settings` holds every knob of a run. `load_settings` reads it once: the defaults below, then an optional
`icc-practices.toml` (in the current folder, or the file given with `--config`), then the command line.
The whole object is recorded in manifest.json. `icc-practices.toml.example` lists every key.

Importing this module changes nothing outside it: `offline_hub()` turns off Hugging Face Hub look-ups and is
called where models are loaded and when the command line starts.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import os
import tomllib
import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
RESOURCES_DIR = PACKAGE_DIR / "resources"
AREAS_FILE = RESOURCES_DIR / "areas.yaml"
LABELS_FILE = RESOURCES_DIR / "labels.yaml"
CRITERIA_FILE = RESOURCES_DIR / "criteria.yaml"

# The bundled sample corpus and its outputs in a source checkout (training, evaluation, notebooks).
DEFAULT_INPUT = PROJECT_DIR / "data" / "raw"
DEFAULT_OUTPUT = PROJECT_DIR / "data" / "processed"
# The command line's default folders, in the folder it runs in: an installed package is no place for data.
CLI_INPUT = Path("data") / "raw"
CLI_OUTPUT = Path("data") / "processed"
CONFIG_FILE = "icc-practices.toml"

# Raised whenever segmentation output changes (recorded in the manifest); cached per-file results are also keyed
# by a hash of the reading code (pipeline.run.reading_code_digest), so a change there reads files again.
SEGMENTER_VERSION = "85"

SUPPORTED_SUFFIXES = (".docx", ".doc", ".odt", ".rtf", ".txt", ".md", ".pdf")
SEED = 13


def load_yaml(stream):
    """YAML through libyaml's safe loader where PyYAML was built with it (parsing the resource files in pure Python
    takes most of a second of every cold start), else PyYAML's own safe loader: the same data either way."""
    import yaml

    return yaml.load(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def models_root() -> Path:
    """The folder of the trained models: `models/` of a source checkout, else the copy installed in the package.

    The models live at the top of the repository (models/area-classifier, models/criteria); the wheel carries
    them as `pipeline/models/` (see pyproject.toml), so `pip install .` without `-e` finds them too.
    """
    checkout = PROJECT_DIR / "models"
    if (PROJECT_DIR / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return Path(str(resources.files("pipeline") / "models"))


DEFAULT_MODEL_DIR = models_root() / "area-classifier"
DEFAULT_CRITERIA_MODEL_DIR = models_root() / "criteria"

_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def offline_hub() -> None:
    """Turn off Hugging Face Hub look-ups (they hang without a network); the models are loaded from local paths.

    A value already set in the environment is kept, so `HF_HUB_OFFLINE=0` still allows downloads.
    """
    for name in _OFFLINE_VARIABLES:
        os.environ.setdefault(name, "1")


# --------------------------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class Limits:
    """Guards against oversized or malicious input files."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_zip_entries: int = 2000
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: float = 200.0
    max_text_chars: int = 2_000_000
    max_pdf_pages: int = 300
    # .doc/.odt/.rtf go through LibreOffice and scanned pages through Tesseract: both are bounded in time.
    max_convert_seconds: float = 60.0
    max_ocr_pages: int = 30
    max_ocr_seconds: float = 180.0
    # Scanned pages: resolution they are rendered at for Tesseract, and pages read at once (one thread each).
    ocr_dpi: int = 300
    ocr_workers: int = 2


@dataclass(frozen=True)
class SegmentSettings:
    """How forms are cut into fields and sections (pipeline/segment.py)."""

    # Misspelt labels ("Implemantation period", "Tittle") match a known label this close (difflib ratio),
    # on lines of at most this many words.
    fuzzy_cutoff: float = 0.85
    fuzzy_max_words: int = 6
    # A text without the template's labels is one practice when it has at least this many words.
    min_fallback_words: int = 40
    # A file of one form with at most this many labels around prose ("City: Oslo" above a report written without
    # the template, "Key references:" before its last paragraph) is that prose with a few labelled values: the
    # prose is the description, wherever it stands, instead of the guide's preamble or a header's stray text.
    max_labels_in_prose: int = 3
    # Below this many words a description gets the `short_description` warning.
    short_description_words: int = 80
    # From this many words, prose of the description under no part label, beside labelled parts, gets the
    # `unlabelled_text` warning instead of one `missing_section` per part: the parts may well be in it.
    unlabelled_text_words: int = 40
    # A form pasted into an e-mail: a greeting line ("Bonjour,", "Dear colleagues,") is left out, and so is a
    # closing formula among the last `letter_signature_lines` lines with only lines of at most `letter_line_words`
    # words after it (a name, a service); a formula is followed by at most `letter_words_after_formula` words.
    letter_line_words: int = 8
    letter_signature_lines: int = 8
    letter_words_after_formula: int = 3
    # a line after the greeting that sends the form ("Please find below our good practice.") has at most this many
    letter_cover_words: int = 30


@dataclass(frozen=True)
class SimilarSettings:
    """The pair score and the near-duplicate rule of the similar stage (pipeline/similar.py).

    The weights were chosen on the tune half of data/eval/realistic (benchmarks/results/realistic.md): many
    weightings reach R@1 1.00 there; the default sits in the middle of that plateau.
    """

    whole_weight: float = 0.6
    chunk_weight: float = 0.2
    anchor_weight: float = 0.2
    chunk_sentences: int = 3
    # A translation keeps its facts (counts, amounts, durations): shared numbers plus a fair cosine flag it.
    fact_min_cosine: float = 0.60
    fact_min_jaccard: float = 0.40
    fact_min_count: int = 3
    max_shared_terms: int = 6
    # Terms used by more than this share of practices are not offered as the reason two practices match, unless
    # they are in at most `term_max_df_floor` texts: in a small batch the two sides of a pair are a large share on
    # their own (2 of 5 texts is 40%). From 6 texts on, the share alone decides.
    term_max_df: float = 0.35
    term_max_df_floor: int = 2
    # A practice close to many others (a broad strategy, a participation process) would be everyone's neighbour:
    # each side's hubness (the mean of its `hub_neighbours` best pair scores, above the batch's mean) is taken
    # off, times `hub_weight` (cross-domain similarity local scaling). On the realistic tune half: versions found
    # first 0.95 -> 0.98, neighbours sharing the readers' main area 0.55 -> 0.57, the most listed text 28 -> 13.
    hub_weight: float = 0.5
    hub_neighbours: int = 20
    # pair scores at or above this (a copy of the text: the near-duplicate threshold) are left out of a hubness: a
    # form sent as .docx, .odt and .pdf is not close to everything, and its copies pushed its other matches down
    hub_copy_score: float = 0.92
    # Two texts of one city in two languages are versions only if their pair score (hubness taken off) comes within
    # this of either one's best match in another city (see Settings.version_min_score). On the realistic tune half
    # every EN/FR pair the rule links is within 0.006 (benchmarks/results/version_links.md).
    version_margin: float = 0.02


@dataclass(frozen=True)
class AreaSettings:
    """The area classifier (pipeline/classify.py)."""

    # Cold start (no trained model): slope and offset of the zero-shot score, so that about the two best areas
    # of a practice pass 0.5.
    cold_calibration: tuple[float, float] = (1.6, -3.2)
    # The forms of one practice (language versions, a near copy; see the similar stage) share one main area.
    versions_share_main: bool = True
    # A declared area agrees with the text when it is suggested, has at least this probability, or is one of the
    # `area_top_n_for_mismatch` likeliest main areas with at least this chance of being the main one (a third place
    # at 0.00 is no agreement), both compared as shown, to two decimals. Out of fold on the realistic tune half
    # (benchmarks/results/declared_flag.md), a declared area none of whose readers gave it is flagged 0.92 of the
    # time (0.91 before), the readers' main area 0.02 (0.03), another area both gave, declared first, 0.01 (0.45).
    mismatch_min_probability: float = 0.2
    mismatch_min_main_chance: float = 0.05


@dataclass(frozen=True)
class CriteriaSettings:
    """Evidence shown per criterion (pipeline/criteria.py)."""

    max_evidence: int = 3
    max_evidence_learned: int = 2
    # where a criterion has a sentence model: evidence is a sentence a reader would quote with this chance
    evidence_min_chance: float = 0.3


@dataclass(frozen=True)
class ReportSettings:
    """City reports and the batch summary (pipeline/report/)."""

    excerpt_chars: int = 650
    summary_top_matches: int = 15
    # Words for a neighbour's score, from the realistic tune half (benchmarks/results/neighbour_areas.md): top-5
    # neighbours in other cities at 0.50 or more share the readers' main area 77% of the time, at 0.45-0.50 47%,
    # below 0.45 38% (two texts at random: 8%).
    close_score: float = 0.50
    related_score: float = 0.45

    def strength(self, score: float, weak: bool = False) -> str:
        """The band of a neighbour's score as printed (two decimals, so that the word never contradicts the
        number): close, related or loose; weak for the best match kept below the run's minimum score."""
        if weak:
            return "weak"
        score = round(score, 2)
        return "close" if score >= self.close_score else "related" if score >= self.related_score else "loose"

    @staticmethod
    def shown_score(score: float, weak: bool = False) -> float:
        """A pair score as printed, to two decimals: a weak match's cut down, so that the minimum score it is
        below is never what it shows (0.3993 is 0.39, not 0.40 beside matches of 0.40 that are not weak)."""
        return math.floor(score * 100 + 1e-9) / 100 if weak else round(score, 2)


@dataclass(frozen=True)
class SearchSettings:
    """The web search's second way of finding a practice, by what the query means (pipeline/web/meaning.py), and
    how its hits join those of the query's words (pipeline/web/search.py). Chosen on the tune half of
    data/eval/search (benchmarks/results/search_quality.md)."""

    # On the tune half: nDCG@5 0.10 with the words alone, 0.59 with the meaning's hits joined (0.22-0.25 and 5 or 10
    # hits tie; the fusion constant and the meaning's weight change nothing there); a query no practice answers then
    # shows 4 of them.
    meaning: bool = True
    meaning_min_score: float = 0.25
    meaning_max_hits: int = 5
    meaning_min_z: float = 1.0
    # reciprocal rank fusion: a practice's rank in each list counts 1 / (fusion_k + rank), the meaning's times
    # meaning_weight (below 1: a practice found by meaning alone comes after those the words find, unless both do)
    fusion_k: int = 60
    meaning_weight: float = 0.5


@dataclass(frozen=True)
class Settings:
    """Settings of one batch run; recorded whole in manifest.json."""

    embedder: str = "use-multilingual"
    top_k: int = 5
    min_similarity: float = 0.40
    near_duplicate_threshold: float = 0.92
    # Two practices of one city in different languages are versions of one practice when each is the other's best
    # match among the city's practices in that language, their pair score reaches this and it is not clearly below
    # either one's best match elsewhere (SimilarSettings.version_margin). On the realistic tune
    # half (99 EN/FR pairs, 483 other pairs of one city in two languages): 98 linked with 3 wrong at 0.50, 94 with
    # none at 0.55, 71 at 0.60 (benchmarks/results/version_links.md).
    version_min_score: float = 0.55
    area_top_n_for_mismatch: int = 3
    model_dir: Path = DEFAULT_MODEL_DIR
    criteria_model_dir: Path = DEFAULT_CRITERIA_MODEL_DIR
    threads: int = 2
    # Processes reading and segmenting files in a large batch (1: read in the main process).
    ingest_processes: int = 2
    seed: int = SEED
    limits: Limits = field(default_factory=Limits)
    segment: SegmentSettings = field(default_factory=SegmentSettings)
    similar: SimilarSettings = field(default_factory=SimilarSettings)
    areas: AreaSettings = field(default_factory=AreaSettings)
    criteria: CriteriaSettings = field(default_factory=CriteriaSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    search: SearchSettings = field(default_factory=SearchSettings)

    def with_(self, **changes) -> "Settings":
        """A copy with the given top-level settings changed; None leaves a setting as it is."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def record(self) -> dict:
        """Every setting as JSON values (paths as text, tuples as lists), for the manifest."""
        return _plain(dataclasses.asdict(self))

    def ingest_fingerprint(self) -> str:
        """A short hash of the settings that change what ingest and segmentation produce (cache keys)."""
        parts = {"limits": _plain(dataclasses.asdict(self.limits)), "segment": _plain(dataclasses.asdict(self.segment))}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Path) else value


# --------------------------------------------------------------------------------------------- reading


class SettingsError(ValueError):
    """A settings file or option names an unknown key or gives a value of the wrong type."""


def load_settings(config: Path | str | None = None, overrides: Mapping[str, Any] | None = None,
                  cwd: Path | None = None) -> Settings:
    """Settings from the defaults, then a TOML file, then `overrides` (dotted keys: "similar.whole_weight").

    `config` is the file given on the command line (it must exist); without it, icc-practices.toml in `cwd`
    (default: the current folder) is read when present. Relative paths in a file are relative to that file.
    None values in `overrides` (options not given) are skipped.
    """
    settings = Settings()
    path = Path(config) if config is not None else Path(cwd or Path.cwd()) / CONFIG_FILE
    if config is not None and not path.is_file():
        raise SettingsError(f"Settings file not found: {path}")
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path} is not valid TOML: {exc}") from None
        settings = _apply(settings, data, "", f"in {path}", path.resolve().parent)
    nested: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        *sections, name = key.split(".")
        target = nested
        for section in sections:
            target = target.setdefault(section, {})
        target[name] = value
    return _apply(settings, nested, "", "on the command line", Path.cwd())


def with_run_similar_settings(base: Settings, recorded: Mapping[str, Any] | None) -> Settings:
    """`base` with the similar-stage settings a run recorded in its manifest (its `similar` table, `top_k`,
    `min_similarity`, the version and near-duplicate thresholds): what a form checked against the run must be
    scored with to match its tables. Each key is taken on its own: one this version does not know, or a value of
    the wrong type, leaves the base's."""
    if not isinstance(recorded, Mapping):
        return base
    similar = recorded.get("similar") if isinstance(recorded.get("similar"), Mapping) else {}
    wanted = [({k: recorded[k]}) for k in ("top_k", "min_similarity", "version_min_score", "near_duplicate_threshold")
              if k in recorded]
    wanted += [{"similar": {k: v}} for k, v in similar.items()]
    settings = base
    for data in wanted:
        try:
            settings = _apply(settings, data, "", "in the run's manifest", Path.cwd())
        except SettingsError:
            continue
    return settings


def parse_assignment(text: str) -> tuple[str, Any]:
    """'similar.top_k=7' -> ('similar.top_k', 7): the value is read as TOML, else taken as text."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise SettingsError(f"--set takes KEY=VALUE (for example similar.whole_weight=0.5), not {text!r}")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip(), value


def _apply(obj: Any, data: Mapping[str, Any], prefix: str, where: str, base: Path) -> Any:
    """`obj` (a settings dataclass) with the values of `data`, each checked against the field's type."""
    if not isinstance(data, Mapping):
        raise SettingsError(f"Setting '{prefix.rstrip('.')}' {where} must be a table of settings")
    known = {f.name: f for f in fields(obj)}
    hints = typing.get_type_hints(type(obj))
    changes = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else ""
            raise SettingsError(f"Unknown setting '{name}' {where}{hint}; "
                                f"known{' in [' + prefix.rstrip('.') + ']' if prefix else ''}: {', '.join(known)}")
        kind = hints[key]
        current = getattr(obj, key)
        if is_dataclass(kind):
            changes[key] = _apply(current, value, f"{name}.", where, base)
        else:
            changes[key] = _convert(value, kind, name, where, base)
    return replace(obj, **changes)


def _convert(value: Any, kind: Any, name: str, where: str, base: Path) -> Any:
    def wrong(expected: str) -> SettingsError:
        return SettingsError(f"Setting '{name}' {where} must be {expected}, not {type(value).__name__} {value!r}")

    if kind is bool:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("a whole number")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise wrong("text")
        return value
    if kind is Path:
        if not isinstance(value, (str, Path)):
            raise wrong("a path (text)")
        path = Path(value).expanduser()
        return path if path.is_absolute() else (base / path)
    if typing.get_origin(kind) is tuple:
        items = typing.get_args(kind)
        if not isinstance(value, (list, tuple)) or len(value) != len(items):
            raise wrong(f"a list of {len(items)} values")
        return tuple(_convert(v, t, name, where, base) for v, t in zip(value, items))
    raise SettingsError(f"Setting '{name}' has a type the settings reader does not know: {kind}")


# --------------------------------------------------------------------------------------------- writing


def settings_toml(settings: Settings | None = None) -> str:
    """The settings as TOML that `load_settings` reads back (model paths as written, absolute)."""
    settings = settings or Settings()
    record = settings.record()
    lines = []
    sections = []
    for key, value in record.items():
        if isinstance(value, dict):
            sections.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in sections:
        lines.append("")
        lines.append(f"[{key}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
