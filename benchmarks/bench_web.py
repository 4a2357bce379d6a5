"""The web app under load: how fast a warm check is, and whether 4 concurrent clients cause errors or memory growth.

The server is `uvicorn` in a separate process (this script with --serve), on 127.0.0.1 only, serving a run of
the sample corpus. Measured from outside:
1. warm POST /api/check of one form, 50 calls one after another: median and 95th percentile (target median < 1 s);
2. 4 concurrent clients for 30 s (each at most 2,000 requests), each looping over a check, a search and a
   practice page: requests, errors, latencies, and the server's RSS at the start, at the end and at its peak.

Usage: python benchmarks/bench_web.py [--data DIR] [--calls 50] [--seconds 30] [--clients 4]
Without --data, the sample corpus is run into a temporary folder first (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
RESULTS = ROOT / "benchmarks" / "results"
FORMS = {"fr": RAW / "strasbourg-p3-05.docx", "en": RAW / "dublin-p2-09.docx"}
MAX_REQUESTS_PER_CLIENT = 2000
HOST = "127.0.0.1"  # the load goes to this machine only


def serve(data: Path, port: int) -> None:
    """The server process: the app on the given run, review off, logging quiet."""
    sys.path.insert(0, str(ROOT))
    import uvicorn

    from pipeline.web.app import create_app
    from pipeline.web.settings import WebSettings

    app = create_app(WebSettings(data_dir=data, reviews_path=data / "bench-reviews.sqlite", review_token=None))
    uvicorn.run(app, host=HOST, port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def timed_checks(client, form: Path, calls: int) -> list[float]:
    data = form.read_bytes()
    seconds = []
    for _ in range(calls):
        t0 = time.perf_counter()
        response = client.post("/api/check", files={"file": (form.name, data)})
        seconds.append(time.perf_counter() - t0)
        assert response.status_code == 200 and response.json()["status"] == "ok", response.text[:300]
    return seconds


def load(base: str, n_clients: int, seconds: float, practice_ids: list[str]) -> dict:
    """n_clients threads, each looping check -> search -> practice page until the time is up."""
    import httpx

    form = FORMS["fr"].read_bytes()
    stop_at = time.monotonic() + seconds
    results: list[dict] = [{"latency": {"check": [], "search": [], "page": []}, "errors": []} for _ in range(n_clients)]

    def client_loop(k: int) -> None:
        mine = results[k]
        with httpx.Client(base_url=base, timeout=60) as client:
            for i in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= stop_at:
                    return
                kind = ("check", "search", "page")[i % 3]
                t0 = time.perf_counter()
                try:
                    if kind == "check":
                        response = client.post("/api/check", files={"file": (FORMS["fr"].name, form)})
                    elif kind == "search":
                        response = client.get("/api/practices", params={"q": "mediation", "lang": "fr"})
                    else:
                        response = client.get(f"/practices/{practice_ids[(i + k) % len(practice_ids)]}")
                    if response.status_code != 200:
                        mine["errors"].append(f"{kind}: HTTP {response.status_code}")
                except httpx.HTTPError as exc:
                    mine["errors"].append(f"{kind}: {type(exc).__name__}")
                mine["latency"][kind].append(time.perf_counter() - t0)

    threads = [threading.Thread(target=client_loop, args=(k,)) for k in range(n_clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latency = {kind: [s for r in results for s in r["latency"][kind]] for kind in ("check", "search", "page")}
    return {
        "clients": n_clients,
        "seconds": seconds,
        "requests": sum(len(v) for v in latency.values()),
        "errors": [e for r in results for e in r["errors"]],
        "by_kind": {kind: {"requests": len(v), "median_s": round(statistics.median(v), 3) if v else None,
                           "p95_s": round(percentile(v, 0.95), 3) if v else None} for kind, v in latency.items()},
    }


def sample_rss(pid: int, stop: threading.Event, samples: list[float]) -> None:
    import psutil

    process = psutil.Process(pid)
    while not stop.is_set():
        samples.append(process.memory_info().rss / 2**20)
        stop.wait(0.5)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=None, help="Output folder of a run (default: run the samples).")
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--results", type=Path, default=RESULTS, help="Folder for web.md and web.json.")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.data, args.port)
        return 0

    import httpx
    import psutil

    # Other work on the machine slows every figure below: say how busy it was.
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            sys.path.insert(0, str(ROOT))
            from pipeline.run import run_batch

            print("running the sample corpus ...", flush=True)
            data = Path(tmp) / "run"
            run_batch([RAW], data, reports=False)
        port = free_port()
        base = f"http://{HOST}:{port}"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        t0 = time.perf_counter()
        server = subprocess.Popen([sys.executable, __file__, "--serve", "--data", str(data), "--port", str(port)],
                                  env=env)
        try:
            with httpx.Client(base_url=base, timeout=120) as client:
                while True:
                    assert server.poll() is None, "the server exited"
                    try:
                        health = client.get("/healthz").json()
                        break
                    except httpx.HTTPError:
                        time.sleep(0.2)
                startup = time.perf_counter() - t0
                print(f"server up in {startup:.1f} s with {health['practices']} practices", flush=True)
                checks = {}
                for lang, form in FORMS.items():
                    timed_checks(client, form, 2)  # warm: the first calls of each language load nothing more
                    seconds = timed_checks(client, form, args.calls)
                    checks[lang] = {"form": form.name, "calls": args.calls,
                                    "median_s": round(statistics.median(seconds), 3),
                                    "p95_s": round(percentile(seconds, 0.95), 3),
                                    "max_s": round(max(seconds), 3)}
                    print(f"check {form.name}: median {checks[lang]['median_s']} s, p95 {checks[lang]['p95_s']} s", flush=True)
                practice_ids = [p["practice_id"] for p in client.get("/api/practices", params={"limit": 100}).json()["practices"]]
            server_process = psutil.Process(server.pid)
            rss_start = server_process.memory_info().rss / 2**20
            samples: list[float] = []
            stop = threading.Event()
            sampler = threading.Thread(target=sample_rss, args=(server.pid, stop, samples))
            sampler.start()
            concurrent = load(base, args.clients, args.seconds, practice_ids)
            stop.set()
            sampler.join()
            rss_end = server_process.memory_info().rss / 2**20
        finally:
            server.terminate()
            server.wait(timeout=30)

    concurrent["rss_mb"] = {"start": round(rss_start, 1), "end": round(rss_end, 1), "peak": round(max(samples), 1),
                            "end_over_start": round(rss_end / rss_start, 3),
                            "every_5_s": [round(s, 1) for s in samples[::10]]}
    result = {"startup_s": round(startup, 1), "practices": health["practices"], "warm_check": checks,
              "concurrent": concurrent, "cpus": os.cpu_count(), "load_average_before": load_before}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "web.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.results / "web.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0 if not concurrent["errors"] and checks["fr"]["median_s"] < 1.0 else 1


def markdown(result: dict) -> str:
    lines = [
        "# Web app: warm checks and concurrent clients",
        "",
        f"Server (uvicorn, one process) on 127.0.0.1, {result['practices']} practices of the sample run, "
        f"{result['cpus']} cores (load average {result['load_average_before']} just before); started and ready in "
        f"{result['startup_s']} s (models loaded and warmed once).",
        "",
        "## Warm `POST /api/check`, one call after another",
        "",
        "| form | calls | median (s) | p95 (s) | max (s) | target |",
        "|---|---|---|---|---|---|",
    ]
    for check in result["warm_check"].values():
        lines.append(f"| {check['form']} | {check['calls']} | {check['median_s']} | {check['p95_s']} | {check['max_s']} "
                     f"| median < 1 s: {'met' if check['median_s'] < 1 else 'missed'} |")
    c = result["concurrent"]
    lines += [
        "",
        f"## {c['clients']} concurrent clients for {c['seconds']:.0f} s (each looping check -> search -> practice page)",
        "",
        "| request | count | median (s) | p95 (s) |",
        "|---|---|---|---|",
        *(f"| {kind} | {v['requests']} | {v['median_s']} | {v['p95_s']} |" for kind, v in c["by_kind"].items()),
        "",
        f"Requests: {c['requests']}, errors: {len(c['errors'])}{' (' + '; '.join(sorted(set(c['errors']))[:5]) + ')' if c['errors'] else ''}.",
        f"Server RSS: {c['rss_mb']['start']} MB at the start, {c['rss_mb']['end']} MB at the end "
        f"(ratio {c['rss_mb']['end_over_start']}), peak {c['rss_mb']['peak']} MB; every 5 s: "
        f"{', '.join(str(v) for v in c['rss_mb']['every_5_s'])} MB.",
        "",
        "Checks run in worker threads, at most two at once (`WebSettings.check_workers`, one per core): under load a",
        "check waits for a free slot while searches and pages are still answered.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
