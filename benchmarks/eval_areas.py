"""Area classifier on the own evaluation set (data/eval/areas, its `test` part: the `tune` part may be trained on).

Models: the zero-shot prior with no labels (cold start), the classifier trained on the declared areas of the
sample corpus alone, and the shipped model (models/area-classifier). Writes benchmarks/results/eval_areas.json
and eval_areas.md.

    .venv/bin/python benchmarks/eval_areas.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.classify import encode_practices, load_area_classifier, predict_areas  # noqa: E402
from pipeline.estimators import make_area_classifier, zero_shot_classifier  # noqa: E402
from pipeline.training import training_labels  # noqa: E402
from pipeline.config import DEFAULT_MODEL_DIR, DEFAULT_OUTPUT  # noqa: E402
from pipeline.embed import make_embedder  # noqa: E402
from pipeline.evaluation import area_metrics, load_eval_practices, metrics_table  # noqa: E402
from pipeline.run import discover, ingest_files  # noqa: E402
from pipeline.config import Settings  # noqa: E402

BROAD = ("1", "13", "16")


def main() -> dict:
    embedder = make_embedder("use-multilingual", DEFAULT_OUTPUT / ".cache" / "embeddings")
    with tempfile.TemporaryDirectory() as tmp:
        results, _ = ingest_files(discover([ROOT / "data" / "raw"]), Settings(), Path(tmp))
    train, labels = training_labels([p for r in results for p in r.practices])
    eval_practices, gold = load_eval_practices(ROOT / "data" / "eval" / "areas", split="test")
    t0 = time.perf_counter()
    enc_train = encode_practices(train, embedder)
    enc_eval = encode_practices(eval_practices, embedder)
    encode_s = time.perf_counter() - t0

    models = {
        "zero-shot (no labels)": zero_shot_classifier(embedder),
        "trained on the sample corpus alone": make_area_classifier(embedder).fit(enc_train, labels),
    }
    if (DEFAULT_MODEL_DIR / "model.json").exists():
        models["shipped model"] = load_area_classifier(DEFAULT_MODEL_DIR, embedder=embedder)
    out: dict = {"n_train": len(train), "n_eval": len(eval_practices), "embedder": embedder.model_id,
                 "encode_seconds": round(encode_s, 2),
                 "eval_langs": {lang: sum(p.lang == lang for p in eval_practices) for lang in ("en", "fr")},
                 "models": {}}
    sections = []
    for name, model in models.items():
        pred = predict_areas(model, enc_eval)
        metrics = area_metrics(gold, pred.proba, pred.suggested, pred.classes, main_ranking=pred.main_ranking)
        metrics["broad_areas"] = {c: {k: metrics["per_label"][c][k] for k in ("gold", "suggested", "precision", "recall")}
                                  for c in BROAD}
        out["models"][name] = metrics
        sections.append(metrics_table(metrics, name))
    head = ["# Area classifier on the evaluation set", "",
            f"Evaluated on the test part of data/eval/areas: {len(eval_practices)} separately written practices "
            f"({out['eval_langs']['en']} EN, {out['eval_langs']['fr']} FR), never trained on. Embedder "
            f"`{embedder.model_id}`. The shipped model's training data: models/area-classifier/MODEL_CARD.md.", "",
            "| model | top-1 main | top-3 main | micro-F1 | macro-F1 | suggested/practice | 1: sugg/gold | 13: sugg/gold | 16: sugg/gold |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name, m in out["models"].items():
        broad = " | ".join(f"{m['broad_areas'][c]['suggested']}/{m['broad_areas'][c]['gold']}" for c in BROAD)
        head.append(f"| {name} | {m['top1_main']:.3f} | {m['top3_main']:.3f} | {m['micro_f1']:.3f} | "
                    f"{m['macro_f1']:.3f} | {m['mean_suggested']:.2f} | {broad} |")
    text = "\n".join(head) + "\n\n" + "\n".join(sections)
    results_dir = ROOT / "benchmarks" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "eval_areas.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    (results_dir / "eval_areas.md").write_text(text, encoding="utf-8")
    print("\n".join(head))
    return out


if __name__ == "__main__":
    main()
