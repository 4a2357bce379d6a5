"""The batch summary page: what came in, what the analysis found and what needs attention.

`write_summary(out_dir)` reads the tables and manifest.json of one run and writes one self-contained HTML
page (inline CSS and SVG charts, no scripts, no external assets) to out_dir/reports/summary.html.
Every table may be empty or missing (a run where every file failed still gets a page).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from pipeline.cities import city_key
from pipeline.stages import model_fallbacks
from pipeline.report import CITY_REPORTS_DIR, REPORTS_DIR, SUMMARY_FILE, city_slug
from pipeline.tables import SCHEMAS, atomic_write_bytes
from pipeline.taxonomy import load_taxonomy

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE = "summary.html.j2"

CRITERIA = ("targeted", "needs_based", "context_sensitive", "high_impact", "modelable", "transferable")
CRITERION_NAMES = {
    "targeted": "Targeted", "needs_based": "Needs-based", "context_sensitive": "Context-sensitive",
    "high_impact": "High impact", "modelable": "Modelable", "transferable": "Transferable",
}
# A criterion at this level or below is listed under "needs attention" (levels run 0-3).
LOW_LEVEL = 0
TOP_MATCHES = 15
LEVEL_COLOURS = ("#c0392b", "#e67e22", "#8fbc5a", "#2e7d32")

_WARNING_TEXT = {
    "missing": "missing field",
    "missing_section": "missing section",
    "no_description_sections": "description has no sections",
    "unrecognised_area": "declared area not recognised",
    "unparsed_period": "period not understood",
    "short_description": "very short description",
}
# Informational warnings that do not need anyone's attention.
_QUIET_WARNINGS = ("inherited:",)


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


def write_summary(out_dir: Path) -> Path:
    """Write out_dir/reports/summary.html from the run's tables and manifest; returns its path."""
    out_dir = Path(out_dir)
    path = out_dir / SUMMARY_FILE
    html = render_summary(out_dir)
    atomic_write_bytes(path, html.encode("utf-8"))
    return path


def render_summary(out_dir: Path) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template(TEMPLATE).render(**summary_context(Path(out_dir)))


def summary_context(out_dir: Path) -> dict:
    """Everything the page shows, as plain values (also handy for tests and notebooks)."""
    manifest = _read_manifest(out_dir)
    files = _read(out_dir, "files")
    practices = _read(out_dir, "practices")
    areas = _read(out_dir, "areas")
    similar = _read(out_dir, "similar")
    criteria = _read(out_dir, "criteria")
    guidelines = _read(out_dir, "guidelines")
    taxonomy = load_taxonomy()

    by_id = {p["practice_id"]: p for p in _records(practices)}
    for p in by_id.values():
        p["anchor"] = practice_anchor(p["practice_id"])
        p["city_href"] = city_href(p.get("city"))
        p["declared_areas"] = _list(p.get("declared_areas"))
        p["predicted_areas"] = _list(p.get("predicted_areas"))
        p["warnings"] = [w for w in _list(p.get("warnings")) if not w.startswith(_QUIET_WARNINGS)]
        p["criteria"] = {}
    for row in _records(criteria):
        if row["practice_id"] in by_id:
            by_id[row["practice_id"]]["criteria"][row["criterion"]] = row
    failed_checks: dict[str, list[str]] = {}
    for row in _records(guidelines):
        if row.get("passed") is False:
            failed_checks.setdefault(row["practice_id"], []).append(row["check"])
    for pid, p in by_id.items():
        p["failed_checks"] = failed_checks.get(pid, [])

    status = files["status"].value_counts().to_dict() if len(files) else {}
    counts = {
        "files": len(files),
        "ok": int(status.get("ok", 0)),
        "empty_form": int(status.get("empty_form", 0)),
        "error": int(status.get("error", 0)),
        "practices": len(by_id),
        "cities": len({p["city"] for p in by_id.values() if p.get("city")}),
        "languages": sorted({p["lang"] for p in by_id.values() if p.get("lang")}),
        "similar_pairs": len(similar),
        "criteria_rows": len(criteria),
        "ignored": len((manifest.get("counts") or {}).get("ignored_system_files") or []),
    }
    criterion_names = [c for c in CRITERIA if c in set(criteria["criterion"])] if len(criteria) else []
    criterion_names += sorted(set(criteria["criterion"]) - set(criterion_names)) if len(criteria) else []
    attention = _attention(files, by_id, taxonomy, similar)
    reviews = _reviews(_read(out_dir, "reviews"), by_id)
    return {
        "title": "Batch summary",
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "out_dir": str(out_dir.resolve()),
        "manifest": manifest,
        "counts": counts,
        "run_sentence": _run_sentence(counts),
        "timings": _timings(manifest),
        "reviews": reviews,
        "models": _flatten(manifest.get("models", {})),
        "model_fallbacks": model_fallbacks(manifest.get("models") or {}),
        "warning_text": _warning_text,
        "settings": _flatten(manifest.get("settings", {})),
        "versions": manifest.get("versions", {}),
        "pipeline_version": manifest.get("pipeline_version", ""),
        "errors": [r for r in _records(files) if r.get("status") == "error"],
        "error_codes": files.loc[files["status"] == "error", "error_code"].value_counts().to_dict() if len(files) else {},
        "areas_chart": Markup(areas_chart_svg(list(by_id.values()), taxonomy)) if by_id else None,
        "criteria_chart": Markup(criteria_chart_svg(criteria, criterion_names)) if len(criteria) else None,
        "criterion_names": criterion_names,
        "criterion_labels": CRITERION_NAMES,
        "level_colours": LEVEL_COLOURS,
        "matches": strongest_matches(similar, by_id),
        "attention": attention,
        "n_attention": sum(len(g.items) for g in attention),
        "practices": sorted(by_id.values(), key=lambda p: (p.get("city") or "~", p.get("title") or "")),
        "area_name": lambda code: _area_name(taxonomy, code),
        "has_areas": len(areas) > 0,
        "has_similar": len(similar) > 0,
        "cities_dir": Path(CITY_REPORTS_DIR).relative_to(REPORTS_DIR).as_posix(),
    }


def practice_anchor(practice_id: str) -> str:
    return f"p-{practice_id}"


def city_href(city: str | None) -> str:
    """Link from the summary page (in reports/) to the city's report (in reports/cities/)."""
    return f"{Path(CITY_REPORTS_DIR).relative_to(REPORTS_DIR).as_posix()}/{city_slug(city)}.html"


def _duplicate_groups(similar: pd.DataFrame) -> dict[str, str]:
    """A representative id per practice: same-city near-duplicates (rank 0 rows) share one."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for row in _records(similar):
        if row.get("rank") == 0 and row.get("near_duplicate"):
            a, b = sorted((find(row["practice_id"]), find(row["neighbour_id"])))
            if a != b:
                parent[b] = a
    return {x: find(x) for x in parent}


def strongest_matches(similar: pd.DataFrame, by_id: dict[str, dict], n: int = TOP_MATCHES) -> list[dict]:
    """The best-scoring pairs of practices from different cities, each unordered pair once; a resubmission or
    translation of a practice counts as the practice itself."""
    best: dict[tuple[str, str], dict] = {}
    group = _duplicate_groups(similar)
    for row in _records(similar):
        a, b = by_id.get(row["practice_id"]), by_id.get(row["neighbour_id"])
        if a is None or b is None or a["practice_id"] == b["practice_id"]:
            continue
        if city_key(a.get("city")) == city_key(b.get("city")):
            continue
        key = tuple(sorted((group.get(a["practice_id"], a["practice_id"]), group.get(b["practice_id"], b["practice_id"]))))
        if key not in best or row["score"] > best[key]["score"]:
            best[key] = {"a": a, "b": b, "score": float(row["score"]), "section": row.get("matched_section"),
                         "terms": _list(row.get("shared_terms"))[:6],
                         "near_duplicate": bool(row.get("near_duplicate"))}
    return sorted(best.values(), key=lambda m: (-m["score"], m["a"]["practice_id"]))[:n]


def _attention(files: pd.DataFrame, by_id: dict[str, dict], taxonomy, similar: pd.DataFrame | None = None) -> list[AttentionGroup]:
    groups = {
        "failed": AttentionGroup("failed", "Files that could not be read",
                                 "Nothing was taken from these files; the reason says what to fix."),
        "empty": AttentionGroup("empty", "Blank forms", "The template was sent without a title or description."),
        "missing": AttentionGroup("missing", "Missing fields and sections",
                                  "Practices whose form leaves out a field or a description section."),
        "low": AttentionGroup("low", "Criteria with no evidence",
                              "Criteria at level 0: the text gives nothing to support them." if LOW_LEVEL == 0
                              else f"Criteria at level {LOW_LEVEL} or below: the text gives little to support them."),
        "mismatch": AttentionGroup("mismatch", "Declared and predicted areas differ",
                                   "The main area the city declared is not among the areas its text points to."),
        "resubmitted": AttentionGroup("resubmitted", "Possible resubmissions and translations",
                                      "Practices of one city that are nearly the same text, or the same practice in "
                                      "another language: check whether both should be kept."),
    }
    for row in _records(files):
        if row.get("status") == "error":
            text = f"{row.get('error_code') or 'error'}: {row.get('message') or ''}".strip()
            groups["failed"].items.append(Attention("failed", text, source_file=row["source_file"]))
        elif row.get("status") == "empty_form":
            groups["empty"].items.append(Attention("empty", row.get("message") or "Blank form.",
                                                   source_file=row["source_file"]))
    for p in sorted(by_id.values(), key=lambda p: (p.get("city") or "~", p.get("title") or "")):
        def item(kind: str, text: str) -> Attention:
            return Attention(kind, text, p.get("source_file"), p["practice_id"], p.get("title"), p.get("city"),
                             p["city_href"])

        if p["warnings"]:
            groups["missing"].items.append(item("missing", "; ".join(_warning_text(w) for w in p["warnings"])))
        low = [c for c in CRITERIA if c in p["criteria"] and (p["criteria"][c].get("level") or 0) <= LOW_LEVEL]
        if low:
            groups["low"].items.append(item("low", ", ".join(CRITERION_NAMES.get(c, c) for c in low)))
        if p.get("area_mismatch"):
            declared = _codes_text(taxonomy, p["declared_areas"])
            predicted = _codes_text(taxonomy, p["predicted_areas"][:3])
            groups["mismatch"].items.append(item("mismatch", f"declared {declared}; text suggests {predicted}"))
    seen: set[tuple[str, str]] = set()
    for row in _records(similar if similar is not None else pd.DataFrame()):
        a, b = by_id.get(row["practice_id"]), by_id.get(row["neighbour_id"])
        pair = tuple(sorted((row["practice_id"], row["neighbour_id"])))
        if a is None or b is None or row.get("rank") != 0 or not row.get("near_duplicate") or pair in seen:
            continue
        seen.add(pair)
        p = a
        what = "the same practice in another language or a rewrite of it" if row.get("relation") == "version" else "nearly the same as"
        text = f"{what}: «{b.get('title') or b['practice_id']}» ({b.get('source_file')}), similarity {float(row['score']):.2f}"
        groups["resubmitted"].items.append(Attention("resubmitted", text, p.get("source_file"), p["practice_id"],
                                                     p.get("title"), p.get("city"), p["city_href"]))
    return list(groups.values())


def _warning_text(warning: str) -> str:
    kind, _, detail = warning.partition(":")
    label = _WARNING_TEXT.get(kind, kind.replace("_", " "))
    return f"{label}: {detail.replace('_', ' ')}" if detail else label


# ---------------------------------------------------------------- charts (inline SVG, no scripts)

def areas_chart_svg(practices: list[dict], taxonomy) -> str:
    """Horizontal bars per top-level area: practices that declare it as their main area, and practices whose
    text points to it first (like for like, so the two bars can be compared)."""
    declared = {c: 0 for c in taxonomy.top_codes}
    predicted = {c: 0 for c in taxonomy.top_codes}
    for p in practices:
        for target, codes in ((declared, p["declared_areas"][:1]), (predicted, p["predicted_areas"][:1])):
            for code in {taxonomy.parent(c) for c in codes if c in taxonomy.areas}:
                target[code] += 1
    has_pred = any(predicted.values())
    rows = [(f"{c}. {_short_name(taxonomy, c)}", [declared[c]] + ([predicted[c]] if has_pred else []))
            for c in taxonomy.top_codes]
    series = [("declared (main)", "#3465a4")] + ([("predicted (main)", "#f5a623")] if has_pred else [])
    return _grouped_bars(rows, series, "Practices per action area")


def criteria_chart_svg(criteria: pd.DataFrame, names: list[str]) -> str:
    """One stacked bar per criterion: how many practices reach each level 0-3."""
    rows = []
    for name in names:
        levels = criteria.loc[criteria["criterion"] == name, "level"].fillna(0).astype(int)
        rows.append((CRITERION_NAMES.get(name, name), [int((levels == k).sum()) for k in range(4)]))
    return _stacked_bars(rows, [f"level {k}" for k in range(4)], LEVEL_COLOURS, "Criteria levels (practices)")


def _grouped_bars(rows: list[tuple[str, list[int]]], series: list[tuple[str, str]], title: str) -> str:
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
                         f"<title>{escape(label)}: {value} {escape(series[j][0])}</title></rect>")
            parts.append(_text(label_w + w + 4, by + bar_h / 2, str(value), size=10))
    parts.append("</svg>")
    return "".join(parts)


def _stacked_bars(rows: list[tuple[str, list[int]]], keys: list[str], colours, title: str) -> str:
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
                             f"<title>{escape(label)}, {key}: {value}</title></rect>")
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

def _reviews(reviews: pd.DataFrame, by_id: dict[str, dict]) -> dict:
    """What the secretariat reviewed in the web app (reviews.parquet, written by `icc-practices export`)."""
    rows = [r for r in _records(reviews) if r["practice_id"] in by_id]
    mains = [r for r in rows if r.get("main_area")]
    changed = [r for r in mains if r["main_area"] != by_id[r["practice_id"]].get("main_area_pred")]
    levels = sum(1 for r in rows for c in CRITERIA if r.get(c) is not None and not pd.isna(r.get(c)))
    return {"practices": len(rows), "main_areas": len(mains), "main_areas_changed": len(changed),
            "criteria_levels": levels,
            "changed": [{"practice_id": r["practice_id"], "title": by_id[r["practice_id"]].get("title"),
                         "anchor": by_id[r["practice_id"]]["anchor"], "from": by_id[r["practice_id"]].get("main_area_pred"),
                         "to": r["main_area"], "reviewer": r.get("reviewer")} for r in changed]}


def _read(out_dir: Path, name: str) -> pd.DataFrame:
    """A table of the run, or an empty frame with the contract's columns when it is missing."""
    path = out_dir / f"{name}.parquet"
    if path.exists():
        return pd.read_parquet(path)
    return SCHEMAS[name].empty_table().to_pandas()


def _read_manifest(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None (not NaN) for missing values."""
    out = []
    for row in df.to_dict("records"):
        out.append({k: (None if _is_missing(v) else v) for k, v in row.items()})
    return out


def _list(value) -> list:
    """A list column's cell (None, list or numpy array) as a plain list."""
    return [] if value is None else list(value)


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    return value is pd.NA or value is pd.NaT


_STEP_ORDER = ("ingest_segment", "load_embedder", "areas", "similar", "criteria", "reports", "total")


def _timings(manifest: dict) -> list[tuple[str, float]]:
    """Seconds per step in pipeline order (manifest.json stores them sorted by name), total last."""
    items = {k: float(v) for k, v in (manifest.get("timings_seconds") or {}).items() if isinstance(v, (int, float))}
    order = {k: i for i, k in enumerate(_STEP_ORDER)}
    keys = sorted(items, key=lambda k: (k == "total", order.get(k, len(order) - 1), k))
    return [(k.replace("_", " "), items[k]) for k in keys]


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _run_sentence(counts: dict) -> str:
    return (f"{_plural(counts['files'], 'file')} came in: {counts['ok']} read, "
            f"{_plural(counts['empty_form'], 'blank form')}, {counts['error']} that could not be used. "
            f"They hold {_plural(counts['practices'], 'practice')} from {_plural(counts['cities'], 'city', 'cities')}."
            + (f" {_plural(counts['ignored'], 'system file')} (lock, hidden or thumbnail files) were skipped."
               if counts.get("ignored") else ""))


def _flatten(data: dict, prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in (data or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            out.append((name, ", ".join(map(str, value))))
        elif value is not None:
            out.append((name, str(value)))
    return out


def _short_name(taxonomy, code: str) -> str:
    area = taxonomy.areas.get(code)
    return area.en if area else code


def _area_name(taxonomy, code: str) -> str:
    area = taxonomy.areas.get(code)
    return f"{code} {area.en}" if area else code


def _codes_text(taxonomy, codes: list[str]) -> str:
    """'15 (Public and political participation), 3, 3c': the first code named, the others as codes."""
    if not codes:
        return "none"
    first = f"{codes[0]} ({_short_name(taxonomy, codes[0])})" if codes[0] in taxonomy.areas else codes[0]
    return ", ".join([first, *codes[1:]])
