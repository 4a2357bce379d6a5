"""City similarity reports: for each practice of a city, the similar practices of other cities.

Read from a run's tables (practices, similar, areas if present); written as one self-contained HTML file
(Jinja2, inline CSS, no external assets) and one Word file (python-docx) per city, under
<out>/reports/cities/<city_slug>.html|.docx. French for French-speaking cities (resources/cities.yaml),
English otherwise. Contact persons and e-mail addresses are personal data: they appear only with
include_contacts=True; otherwise names of contact persons and any e-mail address are removed from the texts.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pandas as pd

from pipeline.cities import CITIES_FILE, city_info, city_key, country_name
from pipeline.config import RESOURCES_DIR
from pipeline.normalize import fold
from pipeline.report import CITY_REPORTS_DIR, city_slug
from pipeline.tables import atomic_write_bytes

STAMPS_FILE = ".inputs.json"  # per report file: hash of the inputs it was written from
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
EXCERPT_CHARS = 650

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International numbers (+47 22 33 44 55) and French-style ones (01 23 45 67 89); not years or amounts.
_PHONE = re.compile(r"(?<!\w)\+\d[\d ().-]{7,}\d(?!\w)|(?<![\w.,])0\d(?:[ .-]?\d{2}){4}(?!\d)")

STRINGS = {
    "en": {
        "title": "Similar practices in other cities",
        "intro": ("This report lists, for each good practice that {city} sent to the Intercultural Cities "
                  "programme, the practices of other member cities that are closest to it. It is meant to help "
                  "you find cities that have tried something similar and learn from them."),
        "method": ("Closeness is measured automatically by comparing the meaning of the texts ({model}), across "
                   "languages: a practice written in French can match one written in English. A high score "
                   "means the texts describe similar work; it says nothing about quality. Texts are quoted in "
                   "the language in which the other city wrote them."),
        "contacts_off": ("Contact details are not included in this report. The Intercultural Cities secretariat "
                         "can put you in touch with the cities concerned."),
        "contacts_on": "This copy includes contact persons: share it only with the people who need them.",
        "run": "Based on {n} practices from {m} cities, processed on {date}.",
        "contents": "Your practices",
        "matches_n": "{n} similar practices",
        "matches_1": "1 similar practice",
        "matches_0": "no similar practice",
        "period": "Period",
        "areas": "Areas of action",
        "suggested": "suggested",
        "none_found": ("No practice of another city is close enough to this one (similarity below {min}). "
                       "It may be the first of its kind in the network."),
        "similarity": "Similarity",
        "why": "Why they match",
        "closest_on": "closest on",
        "shared_terms": "shared terms",
        "your_practice": "Your practice",
        "contact": "Contact",
        "department": "Department",
        "duplicates": "Also submitted by your city (probably the same practice, e.g. in another language)",
        "strength": {"high": "very close", "mid": "close", "low": "related"},
        "unknown": "not stated",
        "ongoing": "ongoing",
        "other_lang": "written in {lang}",
        "lang_names": {"en": "English", "fr": "French"},
        "footer": "Intercultural Cities good-practice analysis",
        "sections": {"purpose": "Purpose", "starting_point": "Starting point", "process": "Process",
                     "impact": "Impact", "main_objective": "Main objective", "title": "Title"},
    },
    "fr": {
        "title": "Pratiques similaires dans d'autres villes",
        "intro": ("Ce rapport présente, pour chaque bonne pratique que {city} a transmise au programme des "
                  "Cités interculturelles, les pratiques d'autres villes membres qui s'en rapprochent le plus. "
                  "Il doit vous aider à repérer les villes qui ont tenté une démarche comparable et à "
                  "apprendre de leur expérience."),
        "method": ("La proximité est mesurée automatiquement en comparant le sens des textes ({model}), d'une "
                   "langue à l'autre : une pratique rédigée en anglais peut correspondre à une pratique "
                   "rédigée en français. Un score élevé indique que les textes décrivent un travail semblable ; "
                   "il ne dit rien de sa qualité. Les textes sont cités dans la langue où l'autre ville les "
                   "a rédigés."),
        "contacts_off": ("Les coordonnées des personnes de contact ne figurent pas dans ce rapport. Le "
                         "secrétariat des Cités interculturelles peut vous mettre en relation avec les villes "
                         "concernées."),
        "contacts_on": ("Cette version contient les personnes de contact : ne la transmettez qu'aux personnes "
                        "qui en ont besoin."),
        "run": "Établi à partir de {n} pratiques de {m} villes, traitées le {date}.",
        "contents": "Vos pratiques",
        "matches_n": "{n} pratiques similaires",
        "matches_1": "1 pratique similaire",
        "matches_0": "aucune pratique similaire",
        "period": "Période",
        "areas": "Domaines d'action",
        "suggested": "suggéré",
        "none_found": ("Aucune pratique d'une autre ville n'est assez proche de celle-ci (similarité inférieure "
                       "à {min}). C'est peut-être la première de ce type dans le réseau."),
        "similarity": "Similarité",
        "why": "Pourquoi elles se ressemblent",
        "closest_on": "rubrique la plus proche",
        "shared_terms": "termes communs",
        "your_practice": "Votre pratique",
        "contact": "Contact",
        "department": "Service",
        "duplicates": ("Également transmise par votre ville (sans doute la même pratique, par exemple dans "
                       "une autre langue)"),
        "strength": {"high": "très proche", "mid": "proche", "low": "apparentée"},
        "unknown": "non précisée",
        "ongoing": "en cours",
        "other_lang": "rédigée en {lang}",
        "lang_names": {"en": "anglais", "fr": "français"},
        "footer": "Analyse des bonnes pratiques des Cités interculturelles",
        "sections": {"purpose": "But", "starting_point": "Point de départ", "process": "Processus",
                     "impact": "Impact", "main_objective": "Objectif principal", "title": "Titre"},
    },
}


# --------------------------------------------------------------------------- cities


# --------------------------------------------------------------------------- building the content


def _text(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
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


def _term_patterns(terms: Iterable[str]) -> re.Pattern | None:
    """A pattern for the shared terms in either language: concept labels expand to all their forms."""
    from pipeline.similar import term_concepts

    forms: set[str] = set()
    for term in terms:
        folded = fold(term)
        concept = next((c for c in term_concepts() if folded in {fold(v) for v in c.labels.values()}), None)
        if concept is not None:
            forms.update(p.pattern for p in concept.patterns)
        else:
            forms.add(r"\b" + re.escape(folded) + r"\w{0,3}\b")
    return re.compile("|".join(sorted(forms)), re.I) if forms else None


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in "’‘":
        return "'"
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)) or ch
    return base[0].lower()[0]


def _fold_chars(text: str) -> str:
    """Lower case without accents, character for character (unlike fold(), which may change the length)."""
    return "".join(map(_fold_char, text))


def _segments(text: str | None, pattern: re.Pattern | None) -> list[tuple[str, bool]]:
    """The text split into (piece, is_shared_term) so both writers can highlight shared terms.

    Matching runs on an accent-folded copy with one character per character, so positions carry over.
    """
    if not text:
        return []
    if pattern is None:
        return [(text, False)]
    folded = _fold_chars(text)
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
    hits = [len(pattern.findall(_fold_chars(x))) for x in sentences]
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


class Redactor:
    """Removes e-mail addresses, phone numbers and the names of contact persons from texts."""

    def __init__(self, contacts: Iterable[str | None]):
        names = set()
        for contact in contacts:
            contact = _text(contact)
            if not contact:
                continue
            head = _EMAIL.sub("", contact).split(",")[0].strip(" ;()-")
            head = re.sub(r"^(?:dr|prof|mme|mr|mrs|ms|m)\.?\s+", "", head, flags=re.I)
            if len(head) >= 4:
                names.add(head)
        self._names = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))) if names else None

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        text = _EMAIL.sub("[…]", text)
        text = _PHONE.sub("[…]", text)
        if self._names is not None:
            text = self._names.sub("[…]", text)
        return text


def _period(row: dict, s: dict) -> str:
    text = _text(row.get("period_text"))
    if text:
        return text
    start, end = row.get("period_start"), row.get("period_end")
    start = None if start is None or pd.isna(start) else int(start)
    end = None if end is None or pd.isna(end) else int(end)
    if start and end:
        return f"{start}–{end}" if start != end else str(start)
    if start:
        return f"{start} – {s['ongoing']}" if row.get("ongoing") else str(start)
    return s["unknown"]


def _areas(row: dict, lang: str, suggested: dict[str, list[str]], s: dict) -> list[str]:
    """Declared areas by name; the classifier's suggestions when the city declared none."""
    try:
        from pipeline.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
    except Exception:  # the taxonomy file is part of the package, but a report must not fail on it
        taxonomy = None

    def name(code: str) -> str:
        if taxonomy is not None and code in taxonomy.areas:
            return f"{code}. {taxonomy.areas[code].name(lang)}"
        return code

    declared = _list(row.get("declared_areas"))
    if declared:
        return [name(c) for c in declared]
    guessed = suggested.get(row["practice_id"]) or _list(row.get("predicted_areas"))[:2]
    return [f"{name(c)} ({s['suggested']})" for c in guessed]


def _number(value: float, lang: str) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "fr" else text


def _date(value: str, lang: str) -> str:
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value or "")
    if not match:
        return value or "?"
    y, m, d = match.groups()
    return f"{d}/{m}/{y}" if lang == "fr" else f"{int(d)} {_MONTHS[int(m) - 1]} {y}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _run_date(out_dir: Path, manifest: dict) -> str:
    """Day the run's tables were written (from the manifest when it says, else the table's file time)."""
    import datetime as dt

    date = manifest.get("generated_at") or manifest.get("finished_at")
    if date:
        return str(date)[:10]
    path = Path(out_dir) / "practices.parquet"
    if not path.exists():
        return "?"
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc).strftime("%Y-%m-%d")


def _strength(score: float) -> str:
    return "high" if score >= 0.75 else "mid" if score >= 0.6 else "low"


def _report_lang(city: str, rows: pd.DataFrame) -> str:
    info = city_info(city)
    if info is not None:
        return info.report_lang
    langs = Counter(rows["lang"].fillna("und"))
    return "fr" if langs.get("fr", 0) > sum(langs.values()) / 2 else "en"


def _load(out_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[str]], dict]:
    practices = pd.read_parquet(out_dir / "practices.parquet")
    path = out_dir / "similar.parquet"
    similar = pd.read_parquet(path) if path.exists() else pd.DataFrame(
        columns=["practice_id", "neighbour_id", "rank", "score", "matched_section", "shared_terms",
                 "neighbour_city", "near_duplicate"])
    # The area stage's suggestions, main area first, as practices.parquet holds them.
    suggested = {pid: _list(codes)[:3] for pid, codes in zip(practices["practice_id"], practices["predicted_areas"])} \
        if "predicted_areas" in practices else {}
    manifest = {}
    if (out_dir / "manifest.json").exists():
        try:
            manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
        except ValueError:
            manifest = {}
    return practices, similar, suggested, manifest


def build_city_context(out_dir: Path, city: str, include_contacts: bool = False, _loaded=None) -> dict:
    """Everything a city report shows, as plain data (used by both the HTML and the DOCX writer)."""
    practices, similar, suggested, manifest = _loaded or _load(Path(out_dir))
    keys = practices["city"].map(city_key)
    mine = practices[keys == city_key(city)]
    if mine.empty:
        known = sorted(c for c in practices["city"].dropna().unique())
        raise ValueError(f"No practice from '{city}' in {out_dir}. Cities in this run: {', '.join(known)}")
    city_name = mine["city"].dropna().iloc[0]
    lang = _report_lang(city_name, mine)
    s = STRINGS[lang]
    redact = (lambda t: t) if include_contacts else Redactor(practices["contact_person"])
    by_id = {r["practice_id"]: r for r in practices.to_dict("records")}
    info = city_info(city_name)
    min_score = (manifest.get("settings") or {}).get("min_similarity", 0.3)
    items = []
    for row in sorted(mine.to_dict("records"), key=lambda r: (str(r.get("title") or ""), r["practice_id"])):
        rows = similar[similar["practice_id"] == row["practice_id"]].sort_values("rank")
        neighbours, duplicates = [], []
        for hit in rows.to_dict("records"):
            other = by_id.get(hit["neighbour_id"])
            if other is None:
                continue
            if int(hit["rank"]) == 0:
                duplicates.append({"title": redact(_text(other.get("title"))) or other["practice_id"],
                                   "lang": s["lang_names"].get(other.get("lang"), other.get("lang")),
                                   "score": round(float(hit["score"]), 2),
                                   "score_text": _number(float(hit["score"]), lang)})
                continue
            section = _text(hit.get("matched_section"))
            terms_re = _term_patterns(_list(hit.get("shared_terms")))
            other_info = city_info(other.get("city"))
            score = float(hit["score"])
            other_lang = other.get("lang")
            neighbours.append({
                "rank": int(hit["rank"]),
                "title": redact(_text(other.get("title"))) or other["practice_id"],
                "city": _text(other.get("city")) or s["unknown"],
                "country": country_name(other_info.country if other_info else None, lang),
                "period": _period(other, s),
                "areas": _areas(other, lang, suggested, s),
                "score": round(score, 2),
                "score_text": _number(score, lang),
                "strength": s["strength"][_strength(score)],
                "section": section,
                "section_label": s["sections"].get(section, section) if section else None,
                "mine_text": _segments(redact(_focused_excerpt(row.get(section), terms_re)), terms_re) if section else [],
                "their_text": _segments(redact(_focused_excerpt(other.get(section), terms_re)), terms_re) if section else [],
                "shared_terms": _list(hit.get("shared_terms")),
                "lang_note": (s["other_lang"].format(lang=s["lang_names"].get(other_lang, other_lang))
                              if other_lang and other_lang != row.get("lang") and other_lang in s["lang_names"] else None),
                "contact": _text(other.get("contact_person")) if include_contacts else None,
                "department": _text(other.get("department")) if include_contacts else None,
                "near_duplicate": bool(hit.get("near_duplicate")),
            })
        n = len(neighbours)
        items.append({
            "id": row["practice_id"],
            "anchor": "p-" + re.sub(r"[^A-Za-z0-9_-]", "-", row["practice_id"]),
            "title": redact(_text(row.get("title"))) or row["practice_id"],
            "period": _period(row, s),
            "areas": _areas(row, lang, suggested, s),
            "count_label": s["matches_0"] if n == 0 else s["matches_1"] if n == 1 else s["matches_n"].format(n=n),
            "neighbours": neighbours,
            "duplicates": duplicates,
            "none_found": s["none_found"].format(min=_number(min_score, lang)),
        })
    model = (manifest.get("models") or {}).get("embedder") or (manifest.get("settings") or {}).get("embedder") or "?"
    date = _run_date(Path(out_dir), manifest)
    return {
        "lang": lang,
        "s": s,
        "city": city_name,
        "country": country_name(info.country if info else None, lang),
        "intro": s["intro"].format(city=city_name),
        "method": s["method"].format(model=model),
        "contacts_note": s["contacts_on"] if include_contacts else s["contacts_off"],
        "run_note": s["run"].format(n=len(practices), m=practices["city"].nunique(), date=_date(str(date)[:10], lang)),
        "items": items,
        "include_contacts": include_contacts,
    }


# --------------------------------------------------------------------------- writers


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def render_html(context: dict) -> str:
    return _environment().get_template("city.html.j2").render(**context)


def render_docx(context: dict) -> bytes:
    import io

    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_COLOR_INDEX
    from docx.shared import Pt, RGBColor

    s = context["s"]
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)
    doc.core_properties.title = f"{s['title']} – {context['city']}"
    doc.core_properties.author = s["footer"]
    doc.core_properties.language = context["lang"]
    # Style objects looked up once: python-docx resolves a style name by scanning every style each time.
    styles = {name: doc.styles[name] for name in ("Title", "Heading 1", "Heading 2", "List Bullet", "Table Grid")}
    doc.add_paragraph(f"{context['city']}: {s['title'].lower()}" if context["lang"] == "en"
                    else f"{context['city']} : {s['title'].lower()}", style=styles["Title"])
    for text in (context["intro"], context["method"], context["contacts_note"], context["run_note"]):
        doc.add_paragraph(text)

    grey = RGBColor(0x55, 0x55, 0x55)
    for item in context["items"]:
        doc.add_paragraph(item["title"], style=styles["Heading 1"])
        meta = doc.add_paragraph()
        meta.add_run(f"{s['period']}: " if context["lang"] == "en" else f"{s['period']} : ").bold = True
        meta.add_run(item["period"])
        meta.add_run("\n")
        meta.add_run(f"{s['areas']}: " if context["lang"] == "en" else f"{s['areas']} : ").bold = True
        meta.add_run("; ".join(item["areas"]) or s["unknown"])
        for dup in item["duplicates"]:
            p = doc.add_paragraph(style=styles["List Bullet"])
            p.add_run(f"{s['duplicates']}: " if context["lang"] == "en" else f"{s['duplicates']} : ").italic = True
            p.add_run(f"{dup['title']} ({dup['lang']}, {dup['score_text']})")
        if not item["neighbours"]:
            doc.add_paragraph(item["none_found"]).runs[0].italic = True
        for n in item["neighbours"]:
            where = ", ".join(x for x in (n["city"], n["country"]) if x)
            doc.add_paragraph(f"{n['rank']}. {n['title']} – {where}", style=styles["Heading 2"])
            p = doc.add_paragraph()
            colon = ": " if context["lang"] == "en" else " : "
            p.add_run(s["similarity"] + colon).bold = True
            p.add_run(f"{n['score_text']} ({n['strength']})")
            p.add_run("\n" + s["period"] + colon).bold = True
            p.add_run(n["period"])
            p.add_run("\n" + s["areas"] + colon).bold = True
            p.add_run("; ".join(n["areas"]) or s["unknown"])
            if n["contact"] or n["department"]:
                p.add_run("\n" + s["contact"] + colon).bold = True
                p.add_run(" – ".join(x for x in (n["contact"], n["department"]) if x))
            why = doc.add_paragraph()
            why.add_run(s["why"] + colon).bold = True
            reasons = []
            if n["section_label"]:
                reasons.append(f"{s['closest_on']} « {n['section_label']} »" if context["lang"] == "fr"
                               else f"{s['closest_on']} “{n['section_label']}”")
            if n["shared_terms"]:
                reasons.append(f"{s['shared_terms']}{colon}{', '.join(n['shared_terms'])}")
            why.add_run("; ".join(reasons) or "-")
            if n["section"]:
                table = doc.add_table(rows=2, cols=2)
                table.style = styles["Table Grid"]
                table.alignment = WD_TABLE_ALIGNMENT.CENTER
                heads = (f"{s['your_practice']} – {n['section_label']}",
                         f"{n['city']} – {n['section_label']}" + (f" ({n['lang_note']})" if n["lang_note"] else ""))
                for cell, head in zip(table.rows[0].cells, heads):
                    cell.text = ""
                    run = cell.paragraphs[0].add_run(head)
                    run.bold = True
                for cell, pieces in zip(table.rows[1].cells, (n["mine_text"], n["their_text"])):
                    cell.text = ""
                    for piece, marked in pieces or [("–", False)]:
                        run = cell.paragraphs[0].add_run(piece)
                        run.font.size = Pt(9.5)
                        if marked:
                            run.bold = True
                            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
                doc.add_paragraph()
    footer = doc.sections[0].footer.paragraphs[0]
    footer.text = f"{s['footer']} – {context['city']}"
    footer.runs[0].font.color.rgb = grey
    footer.runs[0].font.size = Pt(8)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def write_city_reports(out_dir: Path, cities: list[str] | None = None, formats=("html", "docx"),
                       include_contacts: bool = False) -> list[Path]:
    """Write <out_dir>/reports/cities/<city_slug>.html and .docx for the given cities (default: all);
    with `include_contacts`, <city_slug>-with-contacts.html and .docx instead."""
    out_dir = Path(out_dir)
    if not (out_dir / "practices.parquet").exists():
        raise FileNotFoundError(f"No practices.parquet in {out_dir}: run `icc-practices run` first.")
    loaded = _load(out_dir)
    practices = loaded[0]
    if cities is None:
        # One report per city, whatever spelling each form used ('Genève', 'Geneva').
        seen: dict[str, str] = {}
        for name in practices["city"].dropna():
            seen.setdefault(city_key(name), name)
        cities = sorted(seen.values(), key=city_key)
    formats = tuple(f.strip().lower() for f in formats)
    unknown = set(formats) - {"html", "docx"}
    if unknown:
        raise ValueError(f"Unknown report format(s): {', '.join(sorted(unknown))} (use html, docx)")
    folder = out_dir / CITY_REPORTS_DIR
    stamps_path = folder / STAMPS_FILE
    try:
        stamps = json.loads(stamps_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stamps = {}
    common = _inputs_digest(out_dir, loaded[3], include_contacts)
    written: list[Path] = []
    for city in cities:
        slug = city_slug(city_info(city).name if city_info(city) else city)
        # A report with contact data never replaces the shareable one: it gets a name of its own.
        name = f"{slug}-with-contacts" if include_contacts else slug
        targets = {fmt: folder / f"{name}.{fmt}" for fmt in ("html", "docx") if fmt in formats}
        digest = hashlib.sha256(f"{common}|{city_key(city)}".encode()).hexdigest()
        # An unchanged run leaves unchanged reports alone: re-runs stay fast.
        if all(p.exists() and stamps.get(p.name) == digest for p in targets.values()):
            written.extend(targets.values())
            continue
        context = build_city_context(out_dir, city, include_contacts, _loaded=loaded)
        for fmt, path in targets.items():
            data = render_html(context).encode("utf-8") if fmt == "html" else render_docx(context)
            atomic_write_bytes(path, data)
            stamps[path.name] = digest
            written.append(path)
    if written:
        atomic_write_bytes(stamps_path, (json.dumps(stamps, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    return written


def _inputs_digest(out_dir: Path, manifest: dict, include_contacts: bool) -> str:
    """Hash of everything a report depends on: the tables, the settings shown, this code and its resources."""
    digest = hashlib.sha256()
    for name in ("practices", "similar", "areas"):
        path = out_dir / f"{name}.parquet"
        digest.update(path.read_bytes() if path.exists() else b"-")
    for path in (Path(__file__), CITIES_FILE, *sorted(TEMPLATES_DIR.glob("city*")), RESOURCES_DIR / "terms.yaml",
                 RESOURCES_DIR / "areas.yaml"):
        digest.update(path.read_bytes() if path.exists() else b"-")
    shown = {"models": manifest.get("models", {}).get("embedder"), "settings": manifest.get("settings"),
             "date": _run_date(out_dir, manifest), "contacts": include_contacts}
    digest.update(json.dumps(shown, sort_keys=True, default=str).encode())
    return digest.hexdigest()
