"""How far a new reader gets from the two readings, beside word count: the criteria targets in context.

The quote readers (data/eval/realistic/QUOTE_RULES.md) also gave each tune text a level per criterion. Read as
a third reading, their levels show how closely an independent reader follows the mean of the two readings, and
how far above word count that is: for all tune texts and for those of the first draw (units up to u132), the kind
of text the test half holds.

The test half was read once the same way by new readers (data/eval/realistic/third_reading/test; nothing trains
on it). There the third reader stands beside the shipped criteria model and word count, each with its gap over
word count and a 95% paired bootstrap interval, and the readers' quotes measure the model's evidence on texts it
never saw: how often its first evidence sentence is one the reader quoted, beside the hand-set cues' first
sentence and a sentence of the text drawn at random.
Writes benchmarks/results/third_reading.{json,md}.

    .venv/bin/python benchmarks/eval_third_reading.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.realistic import (  # noqa: E402
    CRITERIA,
    READERS,
    REALISTIC_DIR,
    gap_interval,
    load_quote_levels,
    load_quotes,
    load_realistic,
    quoted,
    read_back,
    reference_levels,
    spearman,
)

FIRST_DRAW_LAST_UNIT = "u132"
THIRD_TEST = REALISTIC_DIR / "third_reading" / "test"


def figures(data, third: dict, ids: list[str]) -> dict:
    texts = {t.id: t for t in data.texts}
    words = [len(texts[i].description().split()) for i in ids]
    out = {}
    for crit in CRITERIA:
        mean = [np.mean([data.readings[r][i].criteria[crit] for r in READERS]) for i in ids]
        out[crit] = {
            "third_reader": spearman([third[i][crit] for i in ids], mean),
            "word_count": spearman(words, mean),
            "two_readings": spearman(*[[data.readings[r][i].criteria[crit] for i in ids] for r in READERS]),
        }
    return out


def _first_evidence_quoted(rows: dict, sentences: dict, quotes: dict, third: dict, ids: list[str]) -> dict:
    """Share of texts whose first evidence sentence the reader quoted (texts with a quote and a level above 0)."""
    out = {}
    for crit in CRITERIA:
        hits, rules_hits, chance = [], [], []
        for i in ids:
            found = quotes.get(i, {}).get(crit) or []
            if not found or third[i][crit] == 0:
                continue
            for system, kept in (("model", hits), ("rules", rules_hits)):
                evidence = rows[system][(i, crit)]["evidence"]
                kept.append(bool(evidence) and bool(quoted(evidence[:1], found)[0]))
            chance.append(float(quoted(sentences[i], found).mean()) if sentences[i] else 0.0)
        out[crit] = {"texts": len(hits), "model": round(float(np.mean(hits)), 3) if hits else 0.0,
                     "hand_set_cues": round(float(np.mean(rules_hits)), 3) if rules_hits else 0.0,
                     "random_sentence": round(float(np.mean(chance)), 3) if chance else 0.0}
    return out


def test_half_figures(data) -> dict:
    """The test half's third reading beside the shipped model and word count, and the model's evidence."""
    from pipeline.config import Settings
    from pipeline.criteria import CriteriaScorer, scorer_for
    from pipeline.embed import make_embedder

    third, quotes = load_quote_levels(THIRD_TEST), load_quotes(THIRD_TEST)
    texts = [t for t in data.rated() if t.split == "test"]
    missing = [t.id for t in texts if not set(CRITERIA) <= set(third.get(t.id, {}))]
    if missing:
        raise SystemExit(f"The test half's third reading lacks {len(missing)} texts, e.g. {missing[:3]}")
    ids = [t.id for t in texts]
    settings = Settings()
    practices = read_back(texts, settings)
    plist = [practices[i] for i in ids]
    embedder = make_embedder(settings.embedder, None, settings.threads)
    model = scorer_for(settings, embedder)
    rules = CriteriaScorer(embedder=settings.embedder, threads=settings.threads, model_dir=None)
    analyses = model.analyse(plist)
    rows = {name: {(r["practice_id"], r["criterion"]): r for r in found}
            for name, found in (("model", model.score_analyses(analyses)), ("rules", rules.score(plist)))}
    sentences = {a.practice.practice_id: [s.text for s in a.sentences] for a in analyses}
    mean = reference_levels(data, ids)
    words = [float(p.n_words) for p in plist]
    units = [t.unit for t in texts]
    levels = {}
    for crit in CRITERIA:
        reader = [third[i][crit] for i in ids]
        scores = [rows["model"][(i, crit)]["score"] for i in ids]
        levels[crit] = {
            "third_reader": spearman(reader, mean[crit]), "model": spearman(scores, mean[crit]),
            "word_count": spearman(words, mean[crit]),
            "two_readings": spearman(*[[data.readings[r][i].criteria[crit] for i in ids] for r in READERS]),
            "third_reader_over_word_count": gap_interval(reader, words, mean[crit], units),
            "model_over_word_count": gap_interval(scores, words, mean[crit], units),
        }
    return {"n": len(ids), "levels": levels,
            "evidence": _first_evidence_quoted(rows, sentences, quotes, third, ids)}


def _interval(g: dict) -> str:
    return f"{g['gap']:+.2f} ({g['low']:+.2f} to {g['high']:+.2f})"


def main() -> None:
    data = load_realistic()
    third = load_quote_levels()
    tune = sorted(t.id for t in data.texts if t.split == "tune" and set(CRITERIA) <= set(third.get(t.id, {})))
    first = [i for i in tune if i.split("-")[0] <= FIRST_DRAW_LAST_UNIT]
    result = {"all tune texts": {"n": len(tune), **figures(data, third, tune)},
              "first draw's tune texts": {"n": len(first), **figures(data, third, first)}}
    lines = ["# A third reading beside word count (realistic set)", "",
             "Spearman with the mean of the two readings: the quote readers' levels (a third, independent reading),",
             "word count, and the two readings with each other. `benchmarks/eval_third_reading.py`.", ""]
    for name, block in result.items():
        lines += [f"## {name} ({block['n']})", "",
                  "| criterion | third reader | word count | third reader - word count | the two readings |",
                  "|---|---|---|---|---|"]
        for crit in CRITERIA:
            f = block[crit]
            lines.append(f"| {crit} | {f['third_reader']:.2f} | {f['word_count']:.2f} | "
                         f"{f['third_reader'] - f['word_count']:+.2f} | {f['two_readings']:.2f} |")
        lines.append("")
    test = result["test half"] = test_half_figures(data)
    lines += [f"## Test half ({test['n']}): a new reader beside the shipped model", "",
              "Word count is the practice's as the pipeline reads it (as in `evaluate --set realistic`). Gaps over word",
              "count with a 95% interval from 2,000 paired bootstrap draws of the practices (both language versions",
              "of one drawn together).", "",
              "| criterion | third reader | model | word count | third reader - word count | model - word count | the two readings |",
              "|---|---|---|---|---|---|---|"]
    for crit in CRITERIA:
        f = test["levels"][crit]
        lines.append(f"| {crit} | {f['third_reader']:.2f} | {f['model']:.2f} | {f['word_count']:.2f} | "
                     f"{_interval(f['third_reader_over_word_count'])} | {_interval(f['model_over_word_count'])} | "
                     f"{f['two_readings']:.2f} |")
    lines += ["", "First evidence sentence quoted by the test half's reader (texts where the reader quoted a sentence",
              "and gave a level above 0):", "",
              "| criterion | texts | model | hand-set cues | a sentence at random |", "|---|---|---|---|---|"]
    for crit in CRITERIA:
        e = test["evidence"][crit]
        lines.append(f"| {crit} | {e['texts']} | {e['model']:.2f} | {e['hand_set_cues']:.2f} | {e['random_sentence']:.2f} |")
    lines.append("")
    results = ROOT / "benchmarks" / "results"
    (results / "third_reading.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (results / "third_reading.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
