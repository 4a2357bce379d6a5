"""`icc-practices check` from a cold start: one new process per check, as a city officer would start it.

Three checks of an English and of a French sample form (median), and the very first check of a French form on a
machine where the cache folder is empty (spaCy's French tokenizer pattern, the USE tokenizer's tables, the lemma
tables and the lemmatised cue phrases are computed and stored then; see pipeline/regex_store.py and
pipeline/startup_store.py). Target: under 5 s. The console script of the interpreter running this file is used, so
run it with the environment to measure (a plain `pip install .` has no torch; the development one has).

The machine's speed changes from day to day, so two figures of the same run sit beside the checks: the import of
the third-party libraries a check loads, alone in a new process (the part of a cold start the project cannot cut
without dropping a library), and a fixed pure-Python loop (to compare days).

    .venv/bin/python benchmarks/bench_check.py
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FORMS = {"en": ROOT / "data" / "raw" / "ballarat-p4-05.docx", "fr": ROOT / "data" / "raw" / "geneve-p1-06.docx"}
TARGET_S = 5.0


def _steal_ticks() -> int:
    """CPU time the virtual machine's host took away (the `steal` column of /proc/stat): it slows every figure."""
    try:
        return int(Path("/proc/stat").read_text().split("\n", 1)[0].split()[8])
    except (OSError, IndexError, ValueError):
        return 0


def _env(cache_dir: Path) -> dict:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ICC_CACHE_DIR": str(cache_dir)}


def one_check(form: Path, cache_dir: Path, cpu: list[float] | None = None) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline", "check", str(form)], cwd=ROOT, env=_env(cache_dir),
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall


_LIBRARIES = """
import sys
from pipeline.cli import app
app(["check", sys.argv[1]], standalone_mode=False)
names = sorted({m.split(".")[0] for m in list(sys.modules)} - set(sys.stdlib_module_names) - {"pipeline", "__main__"})
print(" ".join(n for n in names if not n.startswith("_")), file=sys.stderr)
"""
_LOOP = "import time; t = time.perf_counter(); s = sum(i * i for i in range(5_000_000)); print(time.perf_counter() - t)"


def _child(args: list[str], cache_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(cache_dir), check=True, capture_output=True,
                          text=True)


def library_import_s(form: Path, cache_dir: Path) -> tuple[float, list[str]]:
    """Median wall time of a new process importing only the third-party libraries a check of `form` loads."""
    names = _child(["-c", _LIBRARIES, str(form)], cache_dir).stderr.strip().splitlines()[-1].split()
    code = "\n".join(f"try:\n    import {n}\nexcept Exception:\n    pass" for n in names)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        _child(["-c", code], cache_dir)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), names


def main() -> None:
    out: dict = {"target_s": TARGET_S, "python": sys.executable, "runs": {}}
    steal0, t0 = _steal_ticks(), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        out["first_french_check_empty_cache_s"] = round(one_check(FORMS["fr"], cache), 2)
        for lang, form in FORMS.items():
            cpu: list[float] = []
            times = [one_check(form, cache, cpu) for _ in range(3)]
            out["runs"][lang] = {"form": form.name, "seconds": [round(t, 2) for t in times],
                                 "median_s": round(statistics.median(times), 2),
                                 "cpu_median_s": round(statistics.median(cpu), 2)}
        floor, names = library_import_s(FORMS["fr"], cache)
        out["library_import_s"] = round(floor, 2)
        out["libraries"] = names
    out["python_loop_s"] = round(float(subprocess.run([sys.executable, "-c", _LOOP], capture_output=True, text=True,
                                                      check=True).stdout), 2)
    for run in out["runs"].values():
        run["beyond_library_import_s"] = round(run["median_s"] - out["library_import_s"], 2)
    ticks = os.sysconf("SC_CLK_TCK") * (time.perf_counter() - t0) * (os.cpu_count() or 1)
    out["host_steal_share"] = round((_steal_ticks() - steal0) / ticks, 3) if ticks else None
    out["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "check.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    lines = ["`icc-practices check` on one form, each check a new process (median of 3), "
             f"target under {TARGET_S:.0f} s. Interpreter: `{sys.executable}`.", "",
             "| form | median wall | runs | median CPU time | beyond the libraries' import |", "|---|---|---|---|---|"]
    for lang, run in out["runs"].items():
        lines.append(f"| {lang} ({run['form']}) | {run['median_s']:.2f} s | {', '.join(f'{t:.2f}' for t in run['seconds'])} "
                     f"| {run['cpu_median_s']:.2f} s | {run['beyond_library_import_s']:.2f} s |")
    lines += ["", f"First French check with an empty cache folder (the French tokenizer pattern, the USE "
              f"tokenizer's tables, the lemma tables and the lemmatised cue phrases are computed and stored): {out['first_french_check_empty_cache_s']:.2f} s.",
              f"Importing the libraries a French check loads, alone in a new process: {out['library_import_s']:.2f} s "
              f"({len(out['libraries'])} packages: {', '.join(out['libraries'])}).",
              f"Machine speed on the day: a fixed pure-Python loop took {out['python_loop_s']:.2f} s.",
              f"Load average at the end: {out['load_average_1min_at_end']}; share of CPU time taken by the virtual "
              f"machine's host during the benchmark (steal): {out['host_steal_share']}."]
    (RESULTS / "check.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
