"""The batch summary page in a real headless Chromium: it loads cleanly, shows the run's counts, and a
screenshot is kept in the test's temporary folder for people to look at.

Chromium comes from Debian (`apt-get install -y chromium`). Playwright drives it when the `playwright` package is
installed; otherwise, and in the second test always, Chromium's own --screenshot and --dump-dom flags are used.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipeline.report.summary import write_summary
from pipeline.run import run_batch

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PNG = b"\x89PNG\r\n\x1a\n"


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install -y chromium)")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG, "not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def with_playwright(page_path: Path, shot: Path) -> dict:
    """Load the page in Chromium through Playwright; return console problems, counts and what was drawn."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"requestfailed: {r.url}"))
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            counts = {n: page.inner_text(f"#count-{n}") for n in ("files", "ok", "empty", "errors", "practices")}
            charts = [page.locator(f"#{c} svg").bounding_box() for c in ("chart-areas", "chart-criteria")
                      if page.locator(f"#{c} svg").count()]
            page.screenshot(path=str(shot), full_page=True)
            link = page.locator("details[id^='attention-'] a[href^='#p-']").first
            target = None
            if link.count():
                link.click()
                target = page.evaluate("location.hash")
        finally:
            browser.close()
    return {"problems": problems, "counts": counts, "charts": charts, "target": target}


def with_chromium_flags(page_path: Path, shot: Path, tmp: Path) -> dict:
    """The same checks with Chromium's own flags: a screenshot, the DOM and the console log on stderr."""
    base = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp / 'profile'}", "--hide-scrollbars", "--enable-logging=stderr",
            "--v=0"]
    url = page_path.resolve().as_uri()
    shot_run = subprocess.run([*base, "--window-size=1280,2400", f"--screenshot={shot}", url],
                              capture_output=True, text=True, timeout=90)
    dom_run = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=90)
    assert dom_run.returncode == 0, dom_run.stderr[-2000:]
    # Chromium logs every console message at INFO level, whatever its type; the page has no scripts, so any
    # console line at all is a problem.
    problems = [line for line in (shot_run.stderr + dom_run.stderr).splitlines() if ":CONSOLE" in line]
    counts = {}
    for n in ("files", "ok", "empty", "errors", "practices"):
        found = re.search(rf'id="count-{n}">(\d+)<', dom_run.stdout)
        counts[n] = found.group(1) if found else None
    return {"problems": problems, "counts": counts, "dom": dom_run.stdout}


def expected_counts(out: Path) -> dict:
    files = pd.read_parquet(out / "files.parquet")
    practices = pd.read_parquet(out / "practices.parquet")
    status = files["status"].value_counts()
    return {"files": str(len(files)), "ok": str(status.get("ok", 0)), "empty": str(status.get("empty_form", 0)),
            "errors": str(status.get("error", 0)), "practices": str(len(practices))}


def have_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def test_summary_in_headless_chromium(sample_out, tmp_path):
    page = write_summary(sample_out)
    shot = tmp_path / "summary.png"
    if have_playwright():
        seen = with_playwright(page, shot)
        assert len(seen["charts"]) == 2 and all(b and b["width"] > 300 and b["height"] > 150 for b in seen["charts"])
        assert seen["target"] and seen["target"].startswith("#p-"), "a needs-attention link leads to its practice"
    else:
        seen = with_chromium_flags(page, shot, tmp_path)
    assert seen["problems"] == []
    assert seen["counts"] == expected_counts(Path(sample_out)) == {
        "files": "50", "ok": "49", "empty": "1", "errors": "0", "practices": "52"}
    width, height = png_size(shot)
    assert width >= 1000 and height >= 2000, (width, height)
    assert shot.stat().st_size > 50_000, "a blank page compresses to almost nothing"
    print(f"screenshot: {shot}")


def test_failed_run_page_with_chromium_flags(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    out = tmp_path / "out"
    run_batch([inputs], out, reports=False)
    page = write_summary(out)
    shot = tmp_path / "failed-run.png"
    seen = with_chromium_flags(page, shot, tmp_path)
    assert seen["problems"] == []
    assert seen["counts"] == expected_counts(out) == {
        "files": "1", "ok": "0", "empty": "0", "errors": "1", "practices": "0"}
    assert "broken.docx" in seen["dom"]
    assert png_size(shot) == (1280, 2400)
    print(f"screenshot: {shot}")


def test_flags_driver_sees_console_errors(tmp_path):
    """The console check above can fail: a page with a script error is caught."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>')
    seen = with_chromium_flags(page, tmp_path / "broken.png", tmp_path)
    assert any("undefinedFunction" in line for line in seen["problems"])
