"""Scale: the whole pipeline over 1,000 / 3,000 / 10,000 practices built from the sample sources.

For each size N the corpus builder writes N submissions (one practice per file, mostly .docx in the layouts of
scripts/build_corpus.py, one in eight as a .txt form) from the 52 practices of data/sources/practices. Each
practice is a perturbed copy of a source, so that no cache (per-file results, embeddings, criteria) can hide
work: it gets a city of its own draw (the member cities of pipeline/resources/cities.yaml under their names and
aliases, and generated names, about three practices per city as in the sample corpus), a new contact person,
its years shifted, its other figures redrawn, the source city's name replaced in the text, sentences or list
items reordered, a sentence dropped now and then, and one or two sentences taken from another practice of the
same language. Everything is drawn from one seeded generator: the same seed gives byte-identical files.

Then `icc-practices run IN --out OUT` runs in a new process, as a user would start it, and the benchmark reads
the stage times from OUT/manifest.json (timings_seconds) and the peak memory of that process (ru_maxrss of its
rusage, from os.wait4), or, when larger, that of the process and its file-reading workers together (the
manifest's `ingest_segment_with_workers`). After the sizes, the run of the re-run size (1,000, or the smallest) is started again
on the unchanged input and output folders: an unchanged re-run, compared with the cold run in process wall
time (process start included).

With `--copies 176x10` it first measures the issue's own comparison: 176 practices from as many cities, then
ten copies of that set (1,760 practices from 1,760 cities: each practice of each copy under a city of its own,
in the city field and wherever its text names the city, the rest of its form unchanged), both run cold.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 1000,3000,10000] [--copies 176x10] [--keep] [--seed 13]

Writes benchmarks/results/scale.json and scale.md. The 10,000 size takes a while: run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import build_corpus as corpus  # noqa: E402
from pipeline.cities import city_key  # noqa: E402
from pipeline.config import RESOURCES_DIR, SEED  # noqa: E402
from pipeline.normalize import fold  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
PRACTICES_PER_CITY = 3  # the sample corpus: 52 practices from 18 cities
TEXT_FIELDS = ("title", "main_objective", "purpose", "starting_point", "process", "impact", "references")
SHUFFLED = ("purpose", "starting_point", "process", "impact")
# Layouts of scripts/build_corpus.py with their share of the files; one in eight is a plain-text form.
LAYOUTS = (("docx-table", 2), ("docx-sdt", 1), ("docx-paragraphs", 1), ("docx-columns", 1), ("docx-textbox", 1),
           ("docx-merged", 1), ("txt", 1))
TARGETS = {"work_10x_time_ratio": 4.0, "peak_rss_mb_10k": 1024, "wall_s_10k": 15 * 60, "rerun_share": 0.05}

# Syllables of generated city names; a French city takes one of the French prefixes half of the time.
_ROOTS = ("Bel", "Cor", "Dal", "Esk", "Fal", "Gor", "Hal", "Ist", "Jar", "Kel", "Lor", "Mar", "Nor", "Ost", "Pel",
          "Quin", "Ros", "Sal", "Tor", "Ul", "Val", "Wes", "Yr", "Zan", "Ard", "Bran", "Cal", "Dor", "Em", "Fen")
_MIDDLES = ("", "a", "e", "i", "o", "an", "en", "er", "in", "or", "ul", "ar")
_ENDS = {"en": ("ford", "berg", "dal", "stad", "holm", "wick", "by", "ton", "burg", "field", "haven", "mouth"),
         "fr": ("ville", "court", "mont", "ac", "ières", "bourg", "val", "ange", "eux", "ay", "ot", "y")}
_FR_PREFIXES = ("Saint-", "Sainte-", "Le ", "La ", "Villeneuve-", "Mont-")
_FIRST = {"en": ("Anna", "Ben", "Chloe", "Daniel", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Karin", "Liam",
                 "Maya", "Nikos", "Olga", "Pavel", "Rosa", "Sami", "Tara", "Viktor"),
          "fr": ("Amélie", "Bastien", "Camille", "Driss", "Élodie", "François", "Gaëlle", "Hélène", "Isabelle",
                 "Julien", "Karima", "Laurent", "Manon", "Nicolas", "Océane", "Pascal", "Rachid", "Sophie", "Thomas",
                 "Yasmine")}
_LAST = {"en": ("Andersen", "Berg", "Costa", "Duffy", "Ek", "Fischer", "Greco", "Horvat", "Ivanova", "Jensen", "Kowal",
                "Lund", "Moreno", "Novak", "Olsen", "Popescu", "Quinn", "Rossi", "Schmidt", "Walsh"),
         "fr": ("Bernard", "Chevalier", "Diallo", "Fontaine", "Garnier", "Haddad", "Lambert", "Lefèvre", "Martin",
                "Mercier", "Morel", "Nguyen", "Petit", "Renaud", "Roux", "Simon", "Traoré", "Vidal", "Blanc", "Dupont")}

_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_NUMBER = re.compile(r"(?<!\d)\d+(?!\d)")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[«\"“(]?[A-ZÀ-ÖØ-Þ0-9])")


@dataclass(frozen=True)
class City:
    name: str
    lang: str  # language of the practices drawn for it


# --------------------------------------------------------------------------- corpus builder


def listed_cities() -> list[City]:
    """Member cities of resources/cities.yaml, under their name, each alias and each of their names in English or
    French (the same city either way)."""
    data = yaml.safe_load((RESOURCES_DIR / "cities.yaml").read_text(encoding="utf-8"))["cities"]
    out = []
    for name, item in data.items():
        lang = item.get("report_lang", "en")
        out.extend(City(n, lang) for n in [name, *item.get("aliases", []), *(item.get("names") or {}).values()])
    return out


def city_pool(n_cities: int, rng: random.Random) -> list[City]:
    """`n_cities` distinct cities: every listed one first (under a name or an alias), then generated names."""
    listed = listed_cities()
    by_key: dict[str, list[City]] = {}
    for c in listed:
        by_key.setdefault(city_key(c.name), []).append(c)
    keys = sorted(by_key)
    rng.shuffle(keys)
    pool = [rng.choice(by_key[k]) for k in keys[:n_cities]]
    seen = set(by_key)
    while len(pool) < n_cities:
        lang = "fr" if rng.random() < 0.45 else "en"
        name = rng.choice(_ROOTS) + rng.choice(_MIDDLES) + rng.choice(_ENDS[lang])
        if lang == "fr" and rng.random() < 0.5:
            name = rng.choice(_FR_PREFIXES) + name
        if rng.random() < 0.3:
            name += f" {rng.choice(('North', 'South', 'East', 'West', 'Upper', 'Lower'))}" if lang == "en" else \
                f"-{rng.choice(('sur-Mer', 'les-Bains', 'en-Vallée', 'la-Forêt', 'le-Haut'))}"
        key = city_key(name)
        if key not in seen:
            seen.add(key)
            pool.append(City(name, lang))
    return pool


def _sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE.split(paragraph) if s.strip()]


def _shift_years(text: str, offset: int) -> str:
    return _YEAR.sub(lambda m: str(int(m.group()) + offset), text)


def _redraw_numbers(text: str, rng: random.Random) -> str:
    """Figures other than years and small numbers (days, months, counts up to 31) redrawn with as many digits."""

    def swap(m: re.Match) -> str:
        digits = m.group()
        if _YEAR.fullmatch(digits) or set(digits) == {"0"}:
            return digits
        if len(digits) >= 3:
            return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in digits[1:])
        if len(digits) == 2 and int(digits) > 31:
            return str(rng.randint(32, 99))
        return digits

    return _NUMBER.sub(swap, text)


def _reorder(text: str, rng: random.Random) -> str:
    """List items or sentences of each paragraph reordered (half of the paragraphs); now and then one dropped."""
    paragraphs = []
    for para in corpus._paras(text):
        lines = [ln for ln in para.split("\n") if ln.strip()]
        units, joiner = (lines, "\n") if len(lines) > 1 else (_sentences(para), " ")
        if len(units) > 1 and rng.random() < 0.5:
            rng.shuffle(units)
        if len(units) >= 3 and rng.random() < 0.3:
            units.pop(rng.randrange(len(units)))
        paragraphs.append(joiner.join(units))
    return "\n\n".join(paragraphs)


def _contact(original: str | None, lang: str, rng: random.Random) -> str:
    name = f"{rng.choice(_FIRST[lang])} {rng.choice(_LAST[lang])}"
    email = ".".join(fold(name).lower().split()) + "@example.org"
    parts = [s.strip() for s in (original or "").split(",")]
    role = [s for s in parts[1:] if "@" not in s]
    return ", ".join([name, *role, email])


def perturb(source: dict, index: int, city: City, donors: list[dict], rng: random.Random) -> dict:
    """A new practice from a source practice: another city, contact, years and figures, reordered text, and
    one or two sentences of another practice of the same language."""
    p = dict(source)
    p["id"] = f"s{index:05d}"
    p["city"] = city.name
    p["country"] = None
    p["contact_person"] = _contact(source.get("contact_person"), source["lang"], rng)
    offset = rng.randint(-3, 0)
    for name in ("form_date", "period_text"):
        p[name] = _shift_years(corpus._value(source.get(name)), offset) or None
    period = dict(source["period"])
    p["period"] = {k: (v + offset if k in ("start", "end") and v is not None else v) for k, v in period.items()}
    for name in TEXT_FIELDS:
        text = corpus._value(source.get(name))
        if not text:
            continue
        text = text.replace(source["city"], city.name)
        text = _redraw_numbers(_shift_years(text, offset), rng)
        if name in SHUFFLED:
            text = _reorder(text, rng)
        p[name] = text
    for _ in range(rng.choice((0, 1, 1, 2))):
        donor = rng.choice(donors)
        sentences = [s for n in SHUFFLED for para in corpus._paras(donor.get(n)) for s in _sentences(para)]
        target = rng.choice([n for n in SHUFFLED if p.get(n)] or ["purpose"])
        paras = corpus._paras(p.get(target)) or [""]
        k = rng.randrange(len(paras))
        paras[k] = (paras[k] + " " + rng.choice(sentences)).strip()
        p[target] = "\n\n".join(paras)
    return p


def build_practices(n: int, seed: int = SEED, per_city: int = PRACTICES_PER_CITY) -> list[dict]:
    """`n` practices as source records (the fields of data/sources/practices/*.yaml), the same for one seed."""
    rng = random.Random(seed)
    sources = corpus.load_sources()
    by_lang = {lang: [s for s in sources if s["lang"] == lang] for lang in ("en", "fr")}
    cities = city_pool(max(1, math.ceil(n / per_city)), rng)
    city_by_lang = {lang: [c for c in cities if c.lang == lang] or cities for lang in ("en", "fr")}
    out = []
    for i in range(n):
        source = sources[i % len(sources)]
        city = rng.choice(city_by_lang[source["lang"]])
        donors = [s for s in by_lang[source["lang"]] if s["id"] != source["id"]]
        out.append(perturb(source, i, city, donors, rng))
    return out


def build_copies(n_distinct: int, copies: int, seed: int = SEED, rename_in_text: bool = True) -> list[dict]:
    """`copies` copies of `n_distinct` practices from as many cities, as the issue measured ten copies of a
    held-out set: every practice of every copy has a city of its own. With `rename_in_text` the copy's text names
    its city wherever the original named its own; otherwise only the city field changes. The first copy is the
    same either way, and the rest of a practice's form is the same in every copy."""
    rng = random.Random(seed + 2)
    base = build_practices(n_distinct, seed, per_city=1)
    pool = city_pool(n_distinct * copies, rng)
    out = []
    for k in range(copies):
        for i, p in enumerate(base):
            city = pool[k * n_distinct + i]
            q = dict(p)
            q["id"] = f"c{k:02d}-{p['id']}"
            q["city"] = city.name
            named = pool[i].name if (k and not rename_in_text) else city.name
            for name in TEXT_FIELDS:
                if q.get(name):
                    q[name] = corpus._value(q[name]).replace(p["city"], named)
            out.append(q)
    return out


def _write_one(job: tuple[dict, int, str, Path]) -> Path:
    p, i, layout, folder = job
    stem = corpus.slug(p)
    if layout == "txt":
        path = folder / f"{stem}.txt"
        path.write_text(corpus.text_form(p, i), encoding="utf-8")
        return path
    doc = corpus._new_doc()
    if layout == "docx-table":
        corpus.docx_form(doc, p, i)
    elif layout == "docx-sdt":
        corpus.docx_form(doc, p, i, sdt=True)
    elif layout == "docx-paragraphs":
        corpus.docx_paragraph_form(doc, p, i)
    elif layout == "docx-columns":
        corpus.docx_column_header_form(doc, p, i)
    elif layout == "docx-textbox":
        corpus.docx_textbox_form(doc, p, i)
    else:
        corpus.docx_merged_form(doc, p, i)
    path = folder / f"{stem}.docx"
    corpus.save_docx(doc, path)  # fixed zip timestamps: the same practice gives the same bytes
    return path


def write_corpus(practices: list[dict], folder: Path, seed: int = SEED, jobs: int = 1,
                 period: int | None = None) -> list[Path]:
    """One file per practice in `folder`, in the layouts of scripts/build_corpus.py.

    Layouts are drawn here, so the files are the same whatever the number of worker processes. With `period`,
    practice i takes the layout of practice i % period (copies of a set keep their files' layouts)."""
    rng = random.Random(seed + 1)
    deck = [name for name, weight in LAYOUTS for _ in range(weight)]
    layouts: list[str] = []
    while len(layouts) < len(practices):  # every run of len(deck) files holds each layout its share of times
        rng.shuffle(deck)
        layouts.extend(deck)
    folder.mkdir(parents=True, exist_ok=True)
    plan = [(p, i, layouts[i % (period or len(practices))], folder) for i, p in enumerate(practices)]
    if jobs <= 1:
        return [_write_one(job) for job in plan]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs) as pool:  # python-docx takes about 80 ms a file
        return list(pool.map(_write_one, plan, chunksize=32))


# --------------------------------------------------------------------------- measuring


_CLI: list[str] = []  # --cli: the icc-practices command of another installation


def cli_command() -> list[str]:
    if _CLI:
        return list(_CLI)
    script = Path(sys.executable).parent / "icc-practices"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


def installation(command: list[str]) -> str:
    """Which installation runs the pipeline: its Python, and whether torch is importable there (spaCy's thinc
    imports it when present, which adds to the peak memory)."""
    python = Path(command[0]).parent / "python" if command[0].endswith("icc-practices") else Path(command[0])
    probe = subprocess.run([str(python), "-c", "import importlib.util as u; print(u.find_spec('torch') is not None)"],
                           capture_output=True, text=True)
    torch = probe.stdout.strip() == "True"
    return f"{python.parent.parent}: " + ("with torch (development install)" if torch else "without torch (default install)")


def machine_probe() -> float:
    """Seconds for a fixed piece of work (Python loops, hashing, a matrix product) in this process, just before a
    run: the machine's speed varies by a third or more between runs, and this says how fast it was."""
    import hashlib

    import numpy as np

    t0 = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i % 7
    hashlib.sha256(bytes(30_000_000)).digest()
    a = np.random.default_rng(0).random((400, 400))
    for _ in range(50):
        a = np.tanh(a @ a.T / 400)
    return round(time.perf_counter() - t0, 2)


def run_cli(inp: Path, out: Path, log: Path) -> dict:
    """`icc-practices run IN --out OUT` in a new process: wall time, exit code, peak RSS, the manifest's timings."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    load = os.getloadavg()[0]
    probe = machine_probe()
    manifest_path = out / "manifest.json"
    before = manifest_path.stat().st_mtime_ns if manifest_path.exists() else None
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen([*cli_command(), "run", str(inp), "--out", str(out)], stdout=fh,
                                stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        # wait4 gives this child's own rusage (its peak RSS), not the maximum over every child so far
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"run failed ({proc.returncode}); see {log}:\n" + log.read_text(encoding="utf-8")[-2000:])
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    counts = manifest["counts"]
    # A run that finds nothing changed since the last one keeps its outputs and leaves the manifest alone.
    kept = before is not None and manifest_path.stat().st_mtime_ns == before
    stage_peaks = {} if kept else manifest.get("peak_rss_mb") or {}
    # The run's process alone, or while it read files in worker processes: it and every worker at its peak.
    peak = max(usage.ru_maxrss / 1024, stage_peaks.get("ingest_segment_with_workers", 0))
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(peak, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "load_avg_at_start": round(load, 2),
            "machine_probe_s": probe,
            "practices": counts["practices"], "files": counts["files"], "by_status": counts["by_status"],
            "cache_hits": counts.get("cache_hits"), "kept_outputs": kept,
            "stages_s": {} if kept else manifest["timings_seconds"],
            "stages_peak_rss_mb": stage_peaks,
            "stage_errors": manifest.get("stage_errors") or {},
            "reports": len(manifest.get("reports") or [])}


def measure(n: int, work: Path, seed: int, rerun: bool, jobs: int = 2) -> dict:
    inp, out = work / f"in-{n}", work / f"out-{n}"
    t0 = time.perf_counter()
    practices = build_practices(n, seed)
    paths = write_corpus(practices, inp, seed, jobs)
    row = {"n": n, "build_s": round(time.perf_counter() - t0, 1),
           "cities": len({city_key(p["city"]) for p in practices}),
           "docx_files": sum(p.suffix == ".docx" for p in paths), "txt_files": sum(p.suffix == ".txt" for p in paths)}
    print(f"{n}: corpus built in {row['build_s']} s ({row['cities']} cities); running the pipeline", flush=True)
    row["cold"] = run_cli(inp, out, work / f"run-{n}.log")
    row["cold"]["practices_per_s"] = round(row["cold"]["practices"] / row["cold"]["wall_s"], 2)
    print(f"{n}: cold {row['cold']}", flush=True)
    if rerun:
        row["rerun"] = run_cli(inp, out, work / f"rerun-{n}.log")
        row["rerun_share"] = round(row["rerun"]["wall_s"] / row["cold"]["wall_s"], 4)
        print(f"{n}: unchanged re-run {row['rerun']['wall_s']} s ({row['rerun_share']:.1%} of cold)", flush=True)
    return row


def measure_copies(n_distinct: int, copies: int, work: Path, seed: int, jobs: int = 2) -> dict:
    """The issue's own comparison: a set of `n_distinct` practices, and `copies` copies of it (a new city for
    each practice of each copy), all run cold; the time ratio of the whole runs. The copies are run twice: with
    their texts naming their new cities, and with only the city field changed."""
    renamed = build_copies(n_distinct, copies, seed)
    field_only = build_copies(n_distinct, copies, seed, rename_in_text=False)
    runs = {}
    for label, subset in (("one", renamed[:n_distinct]), ("all", renamed), ("all_field_only", field_only)):
        inp, out = work / f"copies-in-{label}", work / f"copies-out-{label}"
        write_corpus(subset, inp, seed, jobs, period=n_distinct)
        print(f"copies: {len(subset)} practices written; running the pipeline", flush=True)
        runs[label] = run_cli(inp, out, work / f"copies-{label}.log")
        print(f"copies {label}: {runs[label]}", flush=True)
        shutil.rmtree(inp, ignore_errors=True)
    one = runs["one"]
    return {"distinct": n_distinct, "copies": copies, **runs,
            "time_ratio": round(runs["all"]["wall_s"] / one["wall_s"], 2),
            "cpu_ratio": round(runs["all"]["cpu_s"] / one["cpu_s"], 2),
            "time_ratio_field_only": round(runs["all_field_only"]["wall_s"] / one["wall_s"], 2),
            "cpu_ratio_field_only": round(runs["all_field_only"]["cpu_s"] / one["cpu_s"], 2)}


def ratios(rows: list[dict]) -> list[dict]:
    """Each larger size against the smallest: work ratio, time ratio, and the time ratio for ten times the work
    at the same growth rate (time ~ work^b, so 10x work costs 10^b times the time)."""
    if not rows:
        return []
    base = rows[0]
    out = []
    for row in rows[1:]:
        work = row["n"] / base["n"]
        time_ratio = row["cold"]["wall_s"] / base["cold"]["wall_s"]
        exponent = math.log(time_ratio) / math.log(work) if work > 1 and time_ratio > 0 else float("nan")
        cpu_ratio = row["cold"]["cpu_s"] / base["cold"]["cpu_s"]
        marginal = (row["cold"]["cpu_s"] - base["cold"]["cpu_s"]) / (row["n"] - base["n"])
        out.append({"from": base["n"], "to": row["n"], "work_ratio": round(work, 2), "time_ratio": round(time_ratio, 2),
                    "growth_exponent": round(exponent, 3), "time_ratio_for_10x_work": round(10 ** exponent, 2),
                    # CPU time is less sensitive than wall time to other work on the machine
                    "cpu_ratio": round(cpu_ratio, 2), "marginal_cpu_s_per_practice": round(marginal, 3)})
    return out


def _probe(run: dict) -> str:
    return f"{run['machine_probe_s']:.2f} s" if "machine_probe_s" in run else "-"


def write_results(results: dict, folder: Path = RESULTS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scale.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    rows = results["sizes"]
    copies = results.get("copies") or {}
    runs = [r["cold"] for r in rows] + [copies[k] for k in ("one", "all", "all_field_only") if k in copies]
    stages = [s for s in ("ingest_segment", "load_embedder", "areas", "similar", "criteria", "reports")
              if any(s in r["stages_s"] for r in runs)]
    lines = [
        "# Scale: the whole pipeline at " + (", ".join(f"{r['n']:,}" for r in rows) or "ten copies of one set of")
        + " practices", "",
        f"`{results['command']}` on {results['machine']['cpus']} CPU cores ({results['machine']['note']}); "
        f"pipeline installation: {results.get('installation', 'the benchmark interpreter')}.",
        "Each size is a new corpus built from the 52 sample sources (perturbed copies: new city, contact, years and "
        "figures, reordered and mixed sentences; one practice per file, "
        "7 in 8 files .docx, the others .txt), run by `icc-practices run IN --out OUT` in a new process with "
        "empty caches. Stage times from OUT/manifest.json; peak memory is the process's ru_maxrss, or that of the "
        "process and its file-reading workers together when larger. Machine probe: "
        "seconds for a fixed piece of work just before each run (`machine_probe`; lower is a faster machine).", "",
        "| practices | cities | files .docx / .txt | process wall | practices/s | peak RSS | CPU time | load at start | "
        "machine probe | " + " | ".join(stages) + " |",
        "|---" * (9 + len(stages)) + "|",
    ]
    for r in rows:
        c = r["cold"]
        lines.append(f"| {c['practices']:,} | {r['cities']:,} | {r['docx_files']:,} / {r['txt_files']:,} | "
                     f"{c['wall_s']:.1f} s | {c['practices_per_s']:.2f} | {c['peak_rss_mb']:.0f} MB | {c['cpu_s']:.0f} s | "
                     f"{c['load_avg_at_start']} | {_probe(c)} | " + " | ".join(f"{c['stages_s'].get(s, 0):.1f} s" for s in stages)
                     + " |")
    marks = [s for s in ("ingest_segment", "ingest_segment_with_workers", "areas", "similar", "criteria", "reports")
             if any(s in r["cold"].get("stages_peak_rss_mb", {}) for r in rows)]
    if marks:
        lines += ["", "Memory high-water mark of the run's process at the end of each stage (OUT/manifest.json, "
                  "`peak_rss_mb`): the stage where it jumps is where the peak is reached. `ingest_segment_with_workers` "
                  "adds the reading workers, each counted at the largest one's peak, as if all peaked at once; the "
                  "peak memory column above is the larger of it and the process's own peak.", "",
                  "| practices | " + " | ".join(marks) + " |", "|---" * (1 + len(marks)) + "|"]
        for r in rows:
            m = r["cold"].get("stages_peak_rss_mb", {})
            lines.append(f"| {r['cold']['practices']:,} | " + " | ".join(
                f"{m[s]:.0f} MB" if s in m else "-" for s in marks) + " |")
    busy = [r["n"] for r in rows if r["cold"]["load_avg_at_start"] > results["machine"]["cpus"]]
    if busy:
        lines += ["", "Load average above the number of CPUs at the start of the run of " + ", ".join(f"{n:,}" for n in busy)
                  + " practices: the one-minute average still counts the corpus builder (two processes) that ran just "
                  "before, or other work shared the machine; if the latter, those wall times are longer than the "
                  "machine alone would give (CPU time is less affected)."]
    errors = {r["n"]: r["cold"]["stage_errors"] for r in rows if r["cold"]["stage_errors"]}
    if errors:
        lines += ["", f"Stage errors: {errors}"]
    lines += ["", "## Ten times the work", ""]
    for g in results["ratios"]:
        lines.append(f"- {g['to']:,} vs {g['from']:,} practices: {g['work_ratio']:g}x the work in {g['time_ratio']:g}x "
                     f"the time (time ~ work^{g['growth_exponent']}: 10x the work would take "
                     f"{g['time_ratio_for_10x_work']:g}x the time). Target: at most {TARGETS['work_10x_time_ratio']:g}x. "
                     f"CPU time: {g['cpu_ratio']:g}x; each practice past the first {g['from']:,} cost "
                     f"{g['marginal_cpu_s_per_practice']:g} CPU-seconds.")
    if not results["ratios"]:
        lines.append("- one size only: no ratio.")
    lines.append("- Here no text repeats: every practice is a new perturbation. The issue's comparison (ten copies "
                 "of one set of 176 practices, whole runs with reports) is `--copies 176x10`, below.")
    copies = results.get("copies")
    if copies:
        one, every = copies["one"], copies["all"]
        lines += ["", f"## {copies['copies']} copies of one set ({copies['distinct']:,} against "
                  f"{every['practices']:,} practices)", "",
                  f"`--copies {copies['distinct']}x{copies['copies']}`: {copies['distinct']:,} perturbed practices from as "
                  f"many cities, then {copies['copies']} copies of that set, each practice of each copy under a city of "
                  "its own, the rest of each form unchanged: ten times the work as the issue measured it, whole cold "
                  "runs with reports. The copies run twice: with their texts naming their new city wherever the "
                  "original named its own, and with only the city field changed.", "",
                  "| run | practices | process wall | CPU time | peak RSS | load at start | machine probe | "
                  + " | ".join(stages) + " |", "|---" * (7 + len(stages)) + "|"]
        named = (("one set", one), ("copies, city named in the text", every),
                 ("copies, city field only", copies.get("all_field_only")))
        for label, c in named:
            if c:
                lines.append(f"| {label} | {c['practices']:,} | {c['wall_s']:.1f} s | {c['cpu_s']:.0f} s | "
                             f"{c['peak_rss_mb']:.0f} MB | {c['load_avg_at_start']} | {_probe(c)} | "
                             + " | ".join(f"{c['stages_s'].get(s, 0):.1f} s" for s in stages) + " |")
        target = TARGETS["work_10x_time_ratio"]
        lines += ["", f"- City named in the text: {copies['copies']}x the work in {copies['time_ratio']:g}x the time "
                  f"(CPU time {copies['cpu_ratio']:g}x); target at most {target:g}x: "
                  f"{'met' if copies['time_ratio'] <= target else 'not met'}."]
        if "time_ratio_field_only" in copies:
            lines.append(f"- City field only: {copies['time_ratio_field_only']:g}x the time (CPU time "
                         f"{copies['cpu_ratio_field_only']:g}x): "
                         f"{'met' if copies['time_ratio_field_only'] <= target else 'not met'}.")
    rerun = next((r for r in rows if "rerun" in r), None)
    if rerun:
        lines += ["", "## Unchanged re-run", "",
                  f"{rerun['n']:,} practices, same input and output folders, new process: {rerun['rerun']['wall_s']:.1f} s "
                  f"against {rerun['cold']['wall_s']:.1f} s cold = {rerun['rerun_share']:.1%} "
                  f"(target at most {TARGETS['rerun_share']:.0%}); " + (
                      "the run found nothing changed and kept the outputs of the cold run (no stage ran)."
                      if rerun["rerun"].get("kept_outputs") else
                      f"{rerun['rerun']['cache_hits']} files reused from cache; stages: "
                      + ", ".join(f"{k} {v}" for k, v in rerun["rerun"]["stages_s"].items()) + " s.")]
    big = next((r for r in rows if r["n"] >= 10_000), None)
    lines += ["", "## Targets at 10,000 practices", ""]
    if big:
        c = big["cold"]
        lines.append(f"- peak memory {c['peak_rss_mb']:.0f} MB (target under {TARGETS['peak_rss_mb_10k']} MB): "
                     f"{'met' if c['peak_rss_mb'] < TARGETS['peak_rss_mb_10k'] else 'not met'}")
        lines.append(f"- wall time {c['wall_s'] / 60:.1f} min (target under 15 min): "
                     f"{'met' if c['wall_s'] < TARGETS['wall_s_10k'] else 'not met'}")
    else:
        lines.append("- not measured in this run: `.venv/bin/python benchmarks/bench_scale.py --sizes 1000,3000,10000`")
    (folder / "scale.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,3000,10000", help="Comma-separated numbers of practices.")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--rerun-size", type=int, default=1000,
                        help="The size run a second time unchanged (the smallest size when it is not among --sizes).")
    parser.add_argument("--jobs", type=int, default=2, help="Processes writing the corpus (not the pipeline).")
    parser.add_argument("--keep", action="store_true", help="Keep the corpora and outputs (their folder is printed).")
    parser.add_argument("--results", type=Path, default=RESULTS, help="Folder for scale.json and scale.md.")
    parser.add_argument("--cli", type=Path, default=None,
                        help="The icc-practices command to measure (default: the one beside this interpreter), "
                             "for example that of a plain `pip install .` without torch.")
    parser.add_argument("--copies", default=None, metavar="NxK",
                        help="Also measure K copies of a set of N practices against the set alone (the issue's "
                             "comparison is 176x10).")
    parser.add_argument("--render", action="store_true",
                        help="Only rewrite scale.md (and the ratios) from the measurements in scale.json.")
    args = parser.parse_args()
    if args.render:
        results = json.loads((args.results / "scale.json").read_text(encoding="utf-8"))
        results["ratios"] = ratios(results["sizes"])
        write_results(results, args.results)
        return
    if args.cli:
        _CLI[:] = [str(args.cli)]
    installed = installation(cli_command())
    sizes = sorted(int(x) for x in args.sizes.split(",") if x.strip())
    rerun_size = args.rerun_size if args.rerun_size in sizes else (sizes[0] if sizes else None)
    work = Path(tempfile.mkdtemp(prefix="icc-scale-"))
    print(f"working folder: {work}", flush=True)
    rows: list[dict] = []
    copies = None

    def save() -> None:  # after each measurement, so a long run that is stopped keeps what it measured
        results = {
            "command": "benchmarks/bench_scale.py --sizes " + ",".join(map(str, sizes))
            + (f" --copies {args.copies}" if args.copies else "") + (f" --cli {args.cli}" if args.cli else ""),
            "installation": installed,
            "machine": {"cpus": os.cpu_count(), "note": "load average at each start below"},
            "seed": args.seed, "practices_per_city": PRACTICES_PER_CITY, "targets": TARGETS,
            "sizes": rows, "ratios": ratios(rows), "copies": copies,
        }
        write_results(results, args.results)

    try:
        if args.copies:
            n_distinct, k = (int(x) for x in args.copies.lower().split("x"))
            copies = measure_copies(n_distinct, k, work, args.seed, args.jobs)
            save()
        for n in sizes:
            rows.append(measure(n, work, args.seed, rerun=n == rerun_size, jobs=args.jobs))
            save()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.keep:
        print(f"kept: {work}")


if __name__ == "__main__":
    main()
