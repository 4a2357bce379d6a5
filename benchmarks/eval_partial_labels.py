"""Criteria levels of forms laid out other than the template asks: parts unlabelled, plain text wrapped.

Cities do not always use the template's sub-headings: some write the description as prose and label one part
(often the impact), some put everything under the first heading, and some send the form as plain text whose
lines were wrapped at a fixed width (a pasted e-mail). Each realistic text written with labelled sections is
laid out eight ways and read back through the pipeline:

- as written: every part under its label, in a Word form;
- impact only labelled: purpose, starting point and process as unlabelled prose, then the labelled impact
  (references after it fall under the impact, as the segmenter reads them);
- first part only labelled: everything under the first label;
- no labels: the whole description as prose;
- Word, a paragraph per line: every part under its label, each line of a paragraph wrapped at 72 characters a
  Word paragraph of its own, as in text pasted from a PDF;
- plain text wrapped at 72 or at 40 characters: every part under its label, one line broken into several;
- process as bullets: each sentence of the process a bullet point of its own.

The words are the same in every layout, so word count ranks them alike; the model's Spearman with the mean
of the two readings shows what the layout costs. Test half (texts no model trained on) and tune half (the
criteria model's own training texts, so read as a check only). Writes benchmarks/results/partial_labels.{json,md}.

    .venv/bin/python benchmarks/eval_partial_labels.py [--out NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.realistic import CRITERIA, SECTIONS, gap_interval, load_realistic, read_back, reference_levels, spearman  # noqa: E402

LAYOUTS = {  # name: how the form is written (see pipeline.realistic.read_back); "first": the first part's label only
    "as written": {},
    "impact only labelled": {"labelled": ("impact",)},
    "first part only labelled": {"labelled": "first"},
    "no labels": {"labelled": ()},
    "Word, a paragraph per line": {"wrap": 72},
    "text wrapped at 72": {"wrap": 72, "plain_text": True},
    "text wrapped at 40": {"wrap": 40, "plain_text": True},
    "process as bullets": {"bullets": True},
}


def _labelled(layout, text) -> tuple[str, ...] | None:
    if layout == "first":
        return tuple(k for k in SECTIONS if (text.sections or {}).get(k))[:1]
    return layout


def half_figures(data, split: str) -> dict:
    from pipeline.config import Settings
    from pipeline.criteria import scorer_for
    from pipeline.embed import make_embedder

    texts = [t for t in data.rated() if t.split == split and not t.free_prose]
    ids = [t.id for t in texts]
    units = [t.unit for t in texts]
    settings = Settings()
    scorer = scorer_for(settings, make_embedder(settings.embedder, None, settings.threads))
    mean = reference_levels(data, ids)
    out: dict = {"n": len(ids), "layouts": {}}
    words = None
    as_written: dict = {}
    for name, layout in LAYOUTS.items():
        by_labels: dict = {}  # the first labelled part differs by text: one read-back per set of labels
        for text in texts:
            by_labels.setdefault(_labelled(layout.get("labelled"), text), []).append(text)
        practices = {}
        for labelled, group in by_labels.items():
            practices.update(read_back(group, settings, **{**layout, "labelled": labelled}))
        plist = [practices[i] for i in ids]
        if words is None:
            words = [float(p.n_words) for p in plist]
        rows = {(r["practice_id"], r["criterion"]): r for r in scorer.score(plist)}
        figures = {}
        for crit in CRITERIA:
            scores = [rows[(i, crit)]["score"] for i in ids]
            figures[crit] = {"model": spearman(scores, mean[crit]), "word_count": spearman(words, mean[crit]),
                             "mean_level": round(float(np.mean([rows[(i, crit)]["level"] for i in ids])), 2)}
            if name == "as written":
                as_written[crit] = scores
            else:
                figures[crit]["model_minus_as_written"] = gap_interval(scores, as_written[crit], mean[crit], units)
        figures["mean"] = {"model": round(float(np.mean([figures[c]["model"] for c in CRITERIA])), 3),
                           "word_count": round(float(np.mean([figures[c]["word_count"] for c in CRITERIA])), 3)}
        out["layouts"][name] = figures
    return out


def markdown(result: dict) -> str:
    lines = ["# Forms laid out other than the template asks (realistic set)", "",
             "Spearman of the criteria model's score with the mean of the two readings, the realistic texts written",
             "with labelled sections laid into Word forms six ways and into plain-text forms wrapped at 72 and 40",
             "characters (`benchmarks/eval_partial_labels.py`). Word count is the same in every layout. Mean level",
             "given in brackets.", ""]
    for split, block in result.items():
        lines += [f"## {split} half ({block['n']} texts)", "",
                  "| criterion | word count | " + " | ".join(LAYOUTS) + " |",
                  "|---|---|" + "---|" * len(LAYOUTS)]
        for crit in CRITERIA:
            cells = [f"{block['layouts'][name][crit]['model']:.2f} ({block['layouts'][name][crit]['mean_level']:.1f})"
                     for name in LAYOUTS]
            lines.append(f"| {crit} | {block['layouts']['as written'][crit]['word_count']:.2f} | " + " | ".join(cells) + " |")
        lines.append("| **mean** | " + f"{block['layouts']['as written']['mean']['word_count']:.2f} | "
                     + " | ".join(f"{block['layouts'][name]['mean']['model']:.2f}" for name in LAYOUTS) + " |")
        lines += ["", "Each layout minus the form as written, with a 95% interval (2,000 paired bootstrap draws of the",
                  "practices, both language versions of one drawn together):", "",
                  "| criterion | " + " | ".join(n for n in LAYOUTS if n != "as written") + " |",
                  "|---|" + "---|" * (len(LAYOUTS) - 1)]
        for crit in CRITERIA:
            cells = []
            for name in LAYOUTS:
                if name != "as written":
                    g = block["layouts"][name][crit]["model_minus_as_written"]
                    cells.append(f"{g['gap']:+.2f} ({g['low']:+.2f} to {g['high']:+.2f})")
            lines.append(f"| {crit} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="partial_labels", help="file name under benchmarks/results (no suffix)")
    args = parser.parse_args()
    data = load_realistic()
    result = {split: half_figures(data, split) for split in ("test", "tune")}
    out = ROOT / "benchmarks" / "results" / args.out
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
