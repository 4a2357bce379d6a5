"""Command line: run, check, report, train, evaluate, serve, export, settings.

Settings are read once, when the command line starts: the defaults, then icc-practices.toml (or the file given
with --config), then --setting KEY=VALUE and each command's own options.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import List, Optional, Sequence

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pipeline.config import (CLI_INPUT, CLI_OUTPUT, CONFIG_FILE, DEFAULT_CRITERIA_MODEL_DIR, DEFAULT_INPUT,
                             DEFAULT_MODEL_DIR, RESOURCES_DIR, Settings, SettingsError, load_settings, load_yaml,
                             offline_hub, parse_assignment, settings_toml)
from pipeline.records import DUPLICATE_FILE
from pipeline.registry import loader
from pipeline.report import CITY_REPORTS_DIR, SUMMARY_FILE

# Plain help: Typer's Rich help gives every on/off flag a value type (`--force <bool>`, `--help <bool>`).
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Analyse Intercultural Cities good-practice reports.")
console = Console(stderr=True)


def plain(value) -> str:
    """A form's text, a file name or a path as printed: '[/b]' or '[red]' in it is no markup."""
    return escape(str(value))
# The settings read when the command line started (by `main`), for the command and its helpers.
_settings: ContextVar[Settings | None] = ContextVar("settings", default=None)
# True in a process started from the console (`entry`), false when the app is called in-process (tests).
_console_process = False


def entry() -> None:
    """The `icc-practices` console command."""
    global _console_process
    _console_process = True
    app()


@contextmanager
def _terminate_as_interrupt():
    """SIGTERM (`kill`, a service manager or a job's time limit) ends a run as Ctrl-C does: a conversion under way
    stops its program and removes its copy of the submission, and the run says it was interrupted. Worker
    processes finish the file they are reading, then stop."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _end_process_now() -> None:
    """End a console process without tearing down its loaded models: freeing the spaCy and USE tables one
    object at a time takes about a second, longer than the answer of a `check`. Output is flushed first;
    nothing is left to write."""
    if not _console_process:
        return
    import logging
    import os
    import sys

    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a reader that went away (`check form.docx | head`): nothing more can be written
        pass
    os._exit(0)


@app.callback()
def main(
    config: Optional[Path] = typer.Option(None, "--config", dir_okay=False,
                                          help=f"Settings file (TOML; default: ./{CONFIG_FILE} when present)."),
    assignments: Optional[List[str]] = typer.Option(None, "--setting", metavar="KEY=VALUE",
                                                    help="One setting, e.g. --setting similar.whole_weight=0.5 (repeatable)."),
) -> None:
    """Read the settings once and keep model loading offline for the whole command."""
    offline_hub()
    try:
        _settings.set(load_settings(config, dict(parse_assignment(a) for a in assignments or ())))
    except SettingsError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2)


def current_settings(**options) -> Settings:
    """The settings read when the command started, with the command's own options (None: not given)."""
    return (_settings.get() or load_settings()).with_(**options)


@app.command()
def run(
    inputs: Optional[List[Path]] = typer.Argument(None, help="Files or folders of submissions (default: data/raw of the current folder)."),
    out: Path = typer.Option(CLI_OUTPUT, "--out", "-o", help="Folder for the output tables."),
    # None: the setting's value (icc-practices.toml or --setting); the help shows its built-in default
    embedder: Optional[str] = typer.Option(None, help="use-multilingual | tfidf | sentence-transformers:<name or path>",
                                           show_default=f"setting embedder, built in: {Settings.embedder}"),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Similar practices kept per practice.",
                                        show_default=f"setting top_k, built in: {Settings.top_k}"),
    min_score: Optional[float] = typer.Option(None, "--min-score", help="Lowest similarity kept.",
                                              show_default=f"setting min_similarity, built in: {Settings.min_similarity}"),
    no_analysis: bool = typer.Option(False, "--no-analysis", help="Only ingest and segment."),
    force: bool = typer.Option(False, "--force", help="Run even when nothing changed since the last run in --out."),
    replace: bool = typer.Option(False, "--replace",
                                 help="Replace the tables of an earlier run in --out that read more files."),
) -> None:
    """Process a batch of submissions and write the output tables."""
    from pipeline.run_key import key_of, run_key_parts, unchanged_outputs

    settings = current_settings(embedder=embedder, top_k=top_k, min_similarity=min_score)
    inputs = inputs or [CLI_INPUT]
    for item in inputs:
        if not item.exists():
            console.print(f"[red]Input not found:[/red] {plain(item)}")
            raise typer.Exit(2)
    from pipeline.inputs import discover
    from pipeline.run import OutputFolderError, refuse_an_input_folder_as_output

    try:
        refuse_an_input_folder_as_output(out, inputs)
    except OutputFolderError as exc:
        console.print(f"[red]Not run:[/red] {plain(exc)}", highlight=False)
        raise typer.Exit(2)
    submissions = discover(inputs, skip=out)
    if not submissions:
        # an empty or mistyped folder: say so rather than write empty tables over a previous run
        console.print(f"[red]No submissions in[/red] {plain(', '.join(map(str, inputs)))}: the folder holds no files "
                      "(lock, hidden and system files, and the tables and reports of a run, are not submissions). "
                      "Nothing was written.")
        raise typer.Exit(2)
    # the files the last run in `out` read, with their content hash: what may go missing, and what changed
    read_before = _files_read(out)
    _refuse_to_replace_a_larger_run(out, inputs, [f for f in submissions if not f.path.is_dir()], replace, read_before)
    key_parts = run_key_parts(inputs, settings, analyse=not no_analysis, skip=out, files=submissions)
    last = None if force else unchanged_outputs(out, key_of(key_parts))
    if last is not None:
        counts = last["counts"]
        console.print(f"Nothing changed since the last run in {plain(out)} (same files, settings, code, models and exported "
                      f"reviews): its {counts['practices']} practices from {counts['files']} files are kept. "
                      "--force runs again.")
        return
    from pipeline.run import RunInProgress, make_output_folder, run_batch

    had_a_run = (out / "manifest.json").exists()
    parts_before = _manifest(out).get("run_key_parts") or {} if had_a_run else {}
    try:
        make_output_folder(out)  # before any file is read: a folder it cannot write to would cost the whole run
        with _terminate_as_interrupt(), Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=False) as bar:
            task = bar.add_task("Reading submissions", total=None)
            batch = run_batch(
                inputs, out, settings,
                progress=lambda name: bar.advance(task),
                on_files=lambda n: bar.update(task, total=n),
                analyse=not no_analysis,
                key_parts=key_parts,
            )
    except (RunInProgress, OutputFolderError) as exc:
        console.print(f"[red]Not run:[/red] {plain(exc)}", highlight=False)
        raise typer.Exit(2)
    except KeyboardInterrupt:
        # each table is replaced whole, and manifest.json gets its run_key only once everything is written; it is
        # marked unfinished before the first table is replaced
        if not had_a_run:
            where = f"{out} holds no complete run yet"
        elif _manifest(out).get("unfinished"):
            where = f"the outputs in {out} may mix it with the last one"
        else:
            where = f"the last run's outputs in {out} are as it left them"
        console.print(f"[yellow]Interrupted:[/yellow] this run did not finish, so {where}. Run the same command "
                      "again: the files read so far come from the cache.", highlight=False)
        raise typer.Exit(130)
    counts = batch.manifest["counts"]
    status = counts["by_status"]
    copies = counts.get("duplicate_files", 0)
    errors = status["error"] - copies
    closed = counts.get("unreadable_folders", 0)
    console.print(
        f"[bold]{counts['files']}[/bold] file{'s' * (counts['files'] != 1)}: {status['ok']} ok, "
        f"{status['empty_form']} blank form{'s' * (status['empty_form'] != 1)}, "
        f"{errors} error{'s' * (errors != 1)}"
        + (f", {copies} {'copy' if copies == 1 else 'copies'} of another file" if copies else "")
        + (f"; {closed} folder{'s' * (closed != 1)} that could not be opened, {'its' if closed == 1 else 'their'} "
           "files not read" if closed else "")
        + f" -> [bold]{counts['practices']}[/bold] practice{'s' * (counts['practices'] != 1)} "
        f"({counts['cache_hits']} file{'s' * (counts['cache_hits'] != 1)} reused from cache)"
    )
    if read_before:
        _say_what_changed(read_before, batch.files)
    _say_what_else_changed(parts_before, key_parts)
    from pipeline.stages import model_fallbacks

    for stage, note in model_fallbacks(batch.manifest.get("models") or {}).items():
        console.print(f"[yellow]Note ({stage}):[/yellow] {plain(note)}.")
    for stage, why in (batch.manifest.get("stage_errors") or {}).items():
        console.print(f"[red]The {stage} stage failed[/red] ({plain(why)}); its table is empty, the others are complete.")
    ignored = counts.get("ignored_system_files") or []
    if ignored:
        console.print(f"  {len(ignored)} system file(s) ignored (lock, hidden or thumbnail files): {plain(', '.join(ignored[:5]))}")
    earlier = counts.get("skipped_output_folders") or []
    if earlier:
        console.print(f"  Outputs of an earlier run (tables, reports, cache), not read as submissions, in "
                      f"{len(earlier)} folder(s): {plain(', '.join(earlier[:5]))}")
    duplicates = [r for r in batch.files if r.error_code == DUPLICATE_FILE]
    for r in duplicates[:5]:
        console.print(f"  [yellow]copy[/yellow] {plain(r.source_file)}: {plain(r.message)}")
    if len(duplicates) > 5:
        console.print(f"  ... and {len(duplicates) - 5} more copies in files.parquet")
    failed = [r for r in batch.files if r.status == "error" and r.error_code != DUPLICATE_FILE]
    for r in failed[:20]:
        console.print(f"  [red]{r.error_code}[/red] {plain(r.source_file)}: {plain(r.message)}")
    if len(failed) > 20:
        console.print(f"  ... and {len(failed) - 20} more in files.parquet")
    _print_outputs(Path(out), batch, analysed=not no_analysis)


def _print_outputs(out: Path, batch, analysed: bool) -> None:
    """The files this run wrote into `out`, and the reports of an earlier run it removed."""
    if analysed:
        console.print(f"Outputs in [bold]{plain(out.resolve())}[/bold]: files.parquet, practices.parquet, areas.parquet, "
                      "similar.parquet, criteria.parquet, guidelines.parquet, manifest.json")
    else:
        console.print(f"Outputs in [bold]{plain(out.resolve())}[/bold]: files.parquet, practices.parquet, manifest.json; "
                      "areas.parquet, similar.parquet, criteria.parquet and guidelines.parquet are empty "
                      "(--no-analysis: only ingest and segment)")
    # the reports this run wrote, not whatever else the folder holds
    reports = [Path(p) for p in batch.manifest.get("reports") or []]
    if Path(SUMMARY_FILE) in reports:
        console.print(f"Batch summary: [bold]{plain((out / SUMMARY_FILE).resolve())}[/bold]")
    n = sum(p.parent == Path(CITY_REPORTS_DIR) and p.suffix == ".html" for p in reports)
    if n:
        console.print(f"City reports: [bold]{plain((out / CITY_REPORTS_DIR).resolve())}[/bold] "
                      f"({n} {'city' if n == 1 else 'cities'}, HTML and DOCX)")
    removed = [Path(p) for p in batch.removed_reports]
    if removed:
        pages = [str(p) for p in removed if p.parent != Path(CITY_REPORTS_DIR)]
        n = len(removed) - len(pages)
        shown = pages + ([f"{n} city report file{'s' * (n != 1)} in {CITY_REPORTS_DIR}"] if n else [])
        console.print(f"[yellow]Removed the reports of an earlier run[/yellow] ({plain(', '.join(shown))}): they described "
                      "the tables this run replaced. A run without --no-analysis writes them again.")


@loader("cli_messages")
def _messages() -> dict:
    return load_yaml((RESOURCES_DIR / "messages.yaml").read_text(encoding="utf-8"))


def _refuse_to_replace_a_larger_run(out: Path, inputs: list[Path], submissions: list, replace: bool,
                                    read_before: dict[str, str]) -> None:
    """A run writes whole tables: the files of the last run in `out` that this one does not read would lose their
    practices, so such a run is refused unless `--replace` says that is meant. The same folders run again with
    files gone from them, or other inputs that leave out files the last run read, name those files (a file renamed,
    its content read under its new name, is not gone); fewer files from other inputs are a late file run into the
    folder of a batch, and are told how to add a file to a batch."""
    import os

    manifest = _manifest(out)
    before = (manifest.get("counts") or {}).get("files")
    if not isinstance(before, int):
        return
    n_files = len(submissions)
    recorded = manifest.get("input_paths") or (manifest.get("settings") or {}).get("inputs") or []
    same_folders = {os.path.realpath(p) for p in recorded} == {os.path.realpath(p) for p in inputs}
    # files gone are named even when others came in meanwhile (one removed, one added: the same count)
    gone = _gone_since_the_last_run(read_before, submissions)
    if not gone and before <= n_files:
        return
    one = len(gone) == 1
    shown = _first_names(gone)
    if gone and same_folders:
        said = (f"{len(gone)} file{'' if one else 's'} {'has' if one else 'have'} gone from "
                f"{', '.join(map(str, inputs))} since the last run in {out} read {'it' if one else 'them'} ({shown}): "
                f"{_what_the_gone_files_lose(out, gone)}.")
        ask = f"If {'it was' if one else 'they were'} removed on purpose, add --replace."
    elif gone and before <= n_files:
        said = (f"{len(gone)} file{'' if one else 's'} the last run in {out} read {'is' if one else 'are'} not among "
                f"this run's inputs ({shown}): {_what_the_gone_files_lose(out, gone)}. Run the batch's folders with "
                "the new ones.")
        ask = "To replace the batch's tables all the same, add --replace."
    else:
        said = (f"The last run in {out} read {before} files; this one reads {n_files}. Its tables would replace that "
                "run's: they are not added to it. To add a file to a batch, put it in the batch's folder and run the "
                "folder (files read before come from the cache).")
        ask = "To replace the batch's tables all the same, add --replace."
    if not replace:
        console.print(f"[red]Not run:[/red] {plain(said)} {ask}", highlight=False)
        raise typer.Exit(2)
    console.print(f"[yellow]{plain(said)}[/yellow] Replaced, as --replace asks.", highlight=False)


def _what_the_gone_files_lose(out: Path, gone: list[str]) -> str:
    """What the tables would lose with the files gone: their practices, or only the rows of files that gave none
    (a file that could not be read, a blank form)."""
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(out / "files.parquet", columns=["source_file", "n_practices"]).to_pylist()
    except (OSError, ValueError, KeyError):
        rows = []
    named = set(gone)
    with_practices = sum(1 for r in rows if r["source_file"] in named and (r["n_practices"] or 0) > 0)
    one = len(gone) == 1
    if with_practices == len(gone):
        return f"this run's tables would no longer hold {'its' if one else 'their'} practices"
    if with_practices == 0:
        return (f"this run's tables would no longer list {'it' if one else 'them'} (no practice was read from "
                f"{'it' if one else 'them'})")
    return f"this run's tables would no longer hold the practices of {with_practices} of them"


def _gone_since_the_last_run(read_before: dict[str, str], submissions: list) -> list[str]:
    """The files the last run read (`read_before`) that this run does not, by name; a file whose content this run
    reads under another name (renamed, or moved into a folder) is not gone."""
    from pipeline.inputs import sha256_of

    now = {f.name: f for f in submissions}
    gone = {name: sha for name, sha in read_before.items() if name not in now and not name.endswith("/")}
    if not gone:
        return []
    added = {sha256_of(f.path) for name, f in now.items() if name not in read_before and f.path.is_file()}
    return sorted(name for name, sha in gone.items() if sha not in added)


def _files_read(out: Path) -> dict[str, str]:
    """The files the last run in `out` read, by name, with their content hash ({} where there is no table)."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(out / "files.parquet", columns=["source_file", "sha256"]).to_pylist()
    except (OSError, ValueError, KeyError):
        return {}
    return {r["source_file"]: r["sha256"] for r in table if r["source_file"]}


def _say_what_changed(read_before: dict[str, str], files) -> None:
    """The files new or changed since the last run (and those gone, when --replace let them go), named: what a
    re-run read again, beside the count it took from the cache."""
    now = {r.source_file: r.sha256 for r in files if not r.source_file.endswith("/")}
    new = [n for n in now if n not in read_before]
    gone = [n for n in read_before if n not in now and not n.endswith("/")]
    # a file read under another name (renamed or moved) is neither new nor gone
    was = {read_before[n]: n for n in gone}
    renamed = {n: was[now[n]] for n in new if now[n] in was}
    kinds = {"new": sorted(n for n in new if n not in renamed),
             "changed": sorted(n for n in now if n in read_before and now[n] != read_before[n]),
             "renamed": sorted(f"{old} -> {n}" for n, old in renamed.items()),
             "gone": sorted(n for n in gone if n not in renamed.values())}
    said = [f"{len(names)} {kind} ({_first_names(names)})" for kind, names in kinds.items() if names]
    if said:
        console.print(f"  Since the last run: {plain('; '.join(said))}.", highlight=False)


# what a re-run's outputs depend on beside the files, as a secretariat officer would name it
_CHANGED_PARTS = {"models": "the models (after `train`)", "settings": "the settings", "segmenter": "the way forms are read"}


def _say_what_else_changed(before: dict, now: dict) -> None:
    """The models, settings or reading that changed since the last run in the folder: the areas, levels and parts of
    practices whose files did not change may differ too."""
    changed = [words for part, words in _CHANGED_PARTS.items() if before.get(part) and before[part] != now.get(part)]
    if changed:
        console.print(f"  Also changed since the last run: {', '.join(changed)}: practices whose files did not change "
                      "may have other areas, levels or parts too (the summary names the models).", highlight=False)


def _first_names(names: list[str]) -> str:
    """The first three names, and how many more ("a.docx, b.docx, c.pdf and 2 more")."""
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _manifest(out: Path) -> dict:
    """The manifest in `out`, or {} where there is none to read."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _texts(lang: str | None) -> dict:
    """Words of the `check` output in the practice's language (French or English)."""
    return _messages()["fr" if lang == "fr" else "en"]


def _counted_words(t: dict, lang: str | None, value: str) -> str:
    """'1 mot : https://…', '12 words: The city…': a part's length and its start."""
    from pipeline.normalize import count_shown_words, is_singular

    n = count_shown_words(value)  # as the guideline checks count a part, a link one word
    return t["words"]["one" if is_singular(n, lang) else "other"].format(n=n, text=_short(value))


def _years(practice, t: dict) -> str:
    """'2021–2023', '2023', '2021–ongoing', or 'not found' when the period gives no year."""
    from pipeline.web.i18n import years_words  # no web framework: words only

    return years_words(practice.period_start, practice.period_end, practice.ongoing, t["ongoing"]) or t["no_years"]


def _declared_areas(practice, t: dict) -> tuple[str, str]:
    """The declared areas as the analysis read them, by number and name: the row's label and value."""
    from pipeline.taxonomy import load_taxonomy
    from pipeline.web.i18n import declared_areas_words  # no web framework: words only, shared with the site

    return declared_areas_words(t, load_taxonomy(), practice.lang, practice.declared_areas)


def warning_text(warning: str, lang: str | None) -> str:
    """A practice warning code ("missing_section:impact") in words a city understands."""
    from pipeline.web.i18n import warning_words  # no web framework: words only

    return warning_words(_texts(lang), warning)


@app.command()
def check(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="One submission to check."),
          lang: Optional[str] = typer.Option(
              None, "--lang", help="Say why a file cannot be read in this language only (en or fr); by default "
                                   "in both, as the file's own language is not known then. A form that can be "
                                   "read is reported in its own language, whatever this says.")) -> None:
    """Show what the pipeline finds in one submission, so a city can fix its form before sending it."""
    if lang not in (None, "en", "fr"):
        raise typer.BadParameter(f"'{lang}': give en or fr", param_hint="--lang")
    out = Console()
    settings = current_settings()
    # The encoder loads while the form is read and the language pipelines load (most of a cold check).
    embedder_ready = _in_background(lambda: _warm_embedder(settings))
    from pipeline.run import InputFile, process_file
    from pipeline.segment import Segmenter

    result = process_file(InputFile(file, file.name), settings, Segmenter(rules=settings.segment))
    if result.status == "error":
        french = _file_error_fr(result.error_code, result.message) if lang != "en" else None
        if lang != "fr" or not french:
            out.print(f"[red]{_texts('en')['cannot_use']}[/red] ({result.error_code}): {plain(result.message)}")
        if french:
            out.print(f"[red]{_texts('fr')['cannot_use']}[/red] ({result.error_code}) : {plain(french)}")
        raise typer.Exit(1)
    if result.status == "empty_form":
        said = [_texts(code)["blank"] for code in ("en", "fr") if lang in (None, code)]
        out.print("[yellow]" + "\n".join(said) + "[/yellow]")
        raise typer.Exit(1)
    _preload_language_pipelines({p.lang for p in result.practices})
    embedder_ready.join()
    models = _check_models(settings)
    areas = _check_areas(result.practices, settings, *models[:2])
    for practice in result.practices:
        t = _texts(practice.lang)
        names = t["fields"]
        table = Table(title=Text(t["practice"].format(n=practice.practice_index, title=practice.title or t["no_title"])))
        table.add_column(t["field"], style="bold")
        table.add_column(t["value"], overflow="fold")  # an e-mail address or a link wraps rather than is cut
        for name in ("city", "department", "form_date", "contact_person", "title", "declared_area_text",
                     "main_objective", "period_text"):
            # the city's own contact is shown whole: cut, it lost its e-mail address or its phone number
            table.add_row(names[name], Text(_short(getattr(practice, name), 400 if name == "contact_person" else 110)))
        table.add_row(names["lang"], t["languages"].get(practice.lang or "", practice.lang or "-"))
        table.add_row(*_declared_areas(practice, t))
        table.add_row(t["period_years"], _years(practice, t))
        unlabelled = any(w.startswith("unlabelled_text:") for w in practice.warnings)
        absent = f"[yellow]{t['not_labelled']}[/yellow]" if unlabelled else f"[red]{t['missing']}[/red]"
        for name in ("purpose", "starting_point", "process", "impact", "references"):
            value = getattr(practice, name)
            shown = Text(_counted_words(t, practice.lang, value)) if value else absent
            table.add_row(names[name], shown)
        out.print(table)
        from pipeline.web.i18n import semicolon, warnings_for_a_city  # no web framework: words only

        shown = warnings_for_a_city(practice.warnings)
        if shown:
            said = semicolon(practice.lang).join(warning_text(w, practice.lang) for w in shown)
            out.print(f"[yellow]{t['warnings']}[/yellow] " + plain(said))
        _print_analysis(out, practice, *areas[practice.practice_id], *models)
    _end_process_now()


def _in_background(work) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def _warm_embedder(settings: Settings) -> None:
    """Load the shared encoder's weights (one short text embedded), so later calls find it ready."""
    from pipeline.registry import shared_embedder

    shared_embedder(settings.embedder, settings.threads).encode(["."])


def _preload_language_pipelines(langs: set[str]) -> None:
    """Start loading the spaCy pipelines and cue matchers a form needs while the embedder loads."""

    def load() -> None:
        from pipeline.criteria import preload_language

        for lang in sorted(langs):
            preload_language(lang)

    _in_background(load)


def _check_models(settings: Settings) -> tuple:
    """The embedder, area classifier and criteria scorer of a check, loaded once for all the form's practices."""
    from pipeline.classify import load_or_zero_shot
    from pipeline.criteria import scorer_for
    from pipeline.registry import shared_embedder

    embedder = shared_embedder(settings.embedder, settings.threads)
    return embedder, load_or_zero_shot(settings, embedder)[0], scorer_for(settings, embedder)


def _check_areas(practices: list, settings: Settings, embedder, classifier) -> dict[str, tuple]:
    """Each practice's area suggestion and its rows by code, as the area stage builds them (without an Arrow
    table: pyarrow would import pandas); the versions of one practice in the file share their main area."""
    from pipeline.classify import area_rows, harmonise_versions
    from pipeline.similar import versions_among

    rows, suggestions = area_rows(practices, classifier, settings)
    if settings.areas.versions_share_main:
        keys = versions_among(practices, settings, embedder)
        suggestions = harmonise_versions(suggestions, practices, keys, settings)
    return {s.practice_id: (s, {r["area"]: r for r in rows if r["practice_id"] == s.practice_id})
            for s in suggestions}


def _print_analysis(out: Console, practice, suggestion, by_code: dict, embedder, classifier, scorer) -> None:
    """Suggested areas, criteria levels with hints, and the reporting-guideline checks of one practice."""
    from pipeline.criteria import criteria_with_guidelines
    from pipeline.taxonomy import load_taxonomy
    from pipeline.web.i18n import area_mismatch_words, area_words, declared_beside, main_not_likeliest

    t = _texts(practice.lang)
    settings = current_settings()
    taxonomy = load_taxonomy()
    areas = Table(title=t["areas_title"])
    for col in ("area", "probability", "evidence"):
        areas.add_column(t[col], overflow="fold")
    # the suggested areas, main area first, as the web check lists them, and the declared one if not among them
    shown = declared_beside(suggestion.predicted_areas, practice.declared_areas, taxonomy)
    for code in shown:
        row = by_code[code]
        probability = f"{row['probability']:.2f}"
        declared_only = code not in suggestion.predicted_areas
        tag = t["main_tag"] if code == suggestion.main_area_pred else t["declared_tag"] if declared_only else ""
        # a declared area the text does not suggest has its sentence only where it is likely enough (area_rows)
        evidence = row.get("evidence")
        areas.add_row(area_words(taxonomy, code, practice.lang) + (f" ({tag})" if tag else ""),
                      probability.replace(".", ",") if practice.lang == "fr" else probability,
                      Text(_short(evidence, EVIDENCE_CHARS)) if evidence else "-")
    out.print(areas)
    if main_not_likeliest(suggestion.main_area_pred, {code: by_code[code]["probability"] for code in shown}):
        out.print(t["main_note"], highlight=False)
    if suggestion.area_mismatch:
        why = area_mismatch_words(t, taxonomy, practice.lang, practice.declared_areas, suggestion.predicted_areas)
        if why:
            out.print(f"[yellow]{plain(why)}[/yellow]", highlight=False)

    rows, guidelines = criteria_with_guidelines([practice], settings, embedder, scorer)
    table = Table(title=t["criteria_title"])
    for col in ("criterion", "level", "evidence", "to_add"):
        table.add_column(t[col], overflow="fold")
    for row in rows:
        # every evidence sentence (at most two), each on its own line: the reader sees what was counted
        evidence = ("\n".join(_short(sentence, EVIDENCE_CHARS) for sentence in row["evidence"])
                    if len(row["evidence"]) else "-")
        table.add_row(t["criteria"].get(row["criterion"], row["criterion"]), f"{row['level']}/3", Text(evidence),
                      Text(row["hint"] or ""))
    out.print(table)

    guide = Table(title=t["guidelines_title"])
    for col in ("check", "", "detail"):
        guide.add_column(t[col] if col else "", overflow="fold")
    for row in guidelines:
        mark = f"[green]{t['ok']}[/green]" if row["passed"] else f"[red]{t['fix']}[/red]"
        guide.add_row(t["checks"].get(row["check"], row["check"].replace("_", " ")), mark, Text(row["detail"] or ""))
    out.print(guide)


def _file_error_fr(code: str | None, message: str | None) -> str | None:
    """Why a file cannot be used, in French (the file's language is not known): its message said in French
    (resources/errors.yaml), else the web app's French text of its error code."""
    from pipeline.web.i18n import Messages

    t = Messages.load().translator("fr")
    return t.run_message(message) or t.error(code)


def _labelled_practices(inputs: Optional[List[Path]]):
    """Practices read from the inputs (default: the bundled sample corpus, which `train` also reads), without running
    the analysis stages."""
    import tempfile

    from pipeline.run import discover, ingest_files

    inputs = inputs or [DEFAULT_INPUT]
    for item in inputs:
        if not item.exists():
            console.print(f"[red]Input not found:[/red] {plain(item)}")
            raise typer.Exit(2)
    files = discover(inputs)
    with tempfile.TemporaryDirectory() as tmp:
        results, _ = ingest_files(files, current_settings(), Path(tmp))
    return [p for r in results for p in r.practices], [f.name for f in files]


def _readable_reviews(path: Path, parquet: bool = True) -> None:
    """Stop the command, saying what the file is and what to give, unless `path` holds reviews that can be read: a
    review store (or, where `parquet`, a reviews.parquet)."""
    from pipeline.web.reviews import ReviewStore, ReviewStoreError, check_review_file

    try:
        if check_review_file(path, parquet=parquet) == "sqlite":
            ReviewStore(path, read_only=True).close()
    except ReviewStoreError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(2)


def _option_given(ctx: typer.Context, name: str) -> bool:
    """Whether the command line gives the option `name`, rather than leaving it at its default."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def _reviewed_run(reviews: Path, data: Optional[Path]) -> Path:
    """The run the reviews are of: `data` when given, else the folder of the review file when it holds a run (the
    store sits beside the run's tables), else data/processed; stops the command when it holds no run."""
    beside = reviews.parent if (reviews.parent / "practices.parquet").is_file() else None
    if data is None:
        data = beside or CLI_OUTPUT
    if not (data / "practices.parquet").is_file():
        console.print(f"[red]No run in {plain(data)}[/red]: give the output folder of the reviewed run with --data.")
        raise typer.Exit(2)
    if beside is not None and beside.resolve() != data.resolve():
        # a store from another run: its practices are read from this one only where it holds them too
        console.print(f"[yellow]The reviews sit beside the run in {plain(beside)}[/yellow], not in {plain(data)}: a "
                      f"reviewed practice is read from {plain(data)} where it is there too, and left out where not; "
                      f"give --data {plain(beside)} to use the run that was reviewed.", highlight=False)
    return data


def _say_reviews_used(reviews: Path, run: Optional[Path], what: str, given: int, found: int,
                      no_main_area: int = 0, held_out: Optional[dict] = None,
                      disagreeing: Sequence[str] = ()) -> None:
    """How many of the reviews given join the training texts, and why the others do not; stops the command when
    none does, rather than train a model that learned nothing from them."""
    if run is None:
        where = "the inputs"
    else:  # area training also reads the samples of data/raw, reviewed or not
        where = f"the run in {run}" + (" or the samples of the project's data/raw" if what == "reviewed areas" else "")
    held_out = held_out or {}
    used = found - no_main_area - len(held_out) - len(disagreeing)
    if disagreeing:
        console.print(f"[yellow]{len(disagreeing)} reviewed practice(s) left out[/yellow]: one reviewer's main area is "
                      "outside the area set another chose; review both together on the practice's page "
                      f"({', '.join(disagreeing)}).", highlight=False)
    if held_out:
        shown = "; ".join(f"{pid} repeats {name}" for pid, name in sorted(held_out.items()))
        console.print(f"[yellow]{len(held_out)} reviewed practice(s) left out[/yellow]: a text the figures are "
                      f"measured on must not be learned from ({shown}).", highlight=False)
    if not given:
        console.print(f"[red]No practice with {what} in {reviews}[/red]: nothing of it to train on; train without "
                      "--reviews, or give the review file that holds them.")
        raise typer.Exit(2)
    console.print(f"{given} practice(s) with {what} in {plain(reviews)}; {found} found in {plain(where)}; {used} used for training")
    if found < given:
        console.print(f"[yellow]{given - found} reviewed practice(s) not in {where} are left out[/yellow]"
                      + (": give the output folder of the reviewed run with --data." if run else "."))
    if no_main_area:
        console.print(f"[yellow]{no_main_area} area set(s) reviewed without a main area are left out[/yellow]: "
                      "neither the declared main area nor the suggested one is in the set; review the main area to "
                      "use them.")
    if not used:
        console.print(f"[red]None of the {what} in {reviews} can be used[/red]: nothing trained.")
        raise typer.Exit(2)


@app.command()
def train(
    ctx: typer.Context,
    inputs: Optional[List[Path]] = typer.Argument(None, help="Submissions with declared areas to train on alone (default: every labelled source but the test halves)."),
    model_dir: Path = typer.Option(DEFAULT_MODEL_DIR, "--model-dir", help="Where to save the area model and its card."),
    embedder: Optional[str] = typer.Option(None, help="Embedder the model is trained with (default: the `embedder` setting)."),
    criteria: bool = typer.Option(False, "--criteria", help="Train the criteria model instead (tune halves of the rated sets)."),
    hint_gaps: bool = typer.Option(False, "--hint-gaps", help="Train the hints' gap models instead (tune half of data/eval/gaps), into --criteria-model-dir."),
    criteria_model_dir: Path = typer.Option(DEFAULT_CRITERIA_MODEL_DIR, "--criteria-model-dir", help="Where to save the criteria model."),
    reviews: Optional[Path] = typer.Option(None, "--reviews", help="The web app's reviews.sqlite or a reviews.parquet: the practices whose areas were reviewed join the training texts with the reviewed areas; with --criteria, those whose levels were reviewed."),
    data: Path = typer.Option(CLI_OUTPUT, "--data", help="With --reviews: the output folder of the reviewed run, whose practices.parquet holds the reviewed texts; left out, the folder of the review file when it holds a run (the store sits beside the run's tables), else this default."),
) -> None:
    """Train the area classifier on declared areas (or, with --criteria, the criteria model; with --hint-gaps, the
    models that tell the criteria hints what a text already says), with its model card."""
    from pipeline.embed import make_embedder

    if reviews is not None:
        _readable_reviews(reviews)
        if inputs and not criteria:  # the inputs are the texts the reviews apply to
            if _option_given(ctx, "data"):
                console.print("[red]--data names the reviewed run to train with[/red]: with inputs, the reviews "
                              "apply to the inputs' practices; give one or the other.")
                raise typer.Exit(2)
        elif not hint_gaps:
            data = _reviewed_run(reviews, data if _option_given(ctx, "data") else None)
    elif _option_given(ctx, "data"):
        console.print("[red]--data names the run the reviews are of[/red]: give it with --reviews.")
        raise typer.Exit(2)

    embedder = current_settings(embedder=embedder).embedder

    emb = make_embedder(embedder, CLI_OUTPUT / ".cache" / "embeddings")
    # the model this one replaces stays beside it, to go back to, once a new one is written (a training that stops
    # or trains nothing leaves the last copy as it was); SIGTERM stops it as Ctrl-C does, so the copy is removed
    previous = _PreviousModel(criteria_model_dir if criteria or hint_gaps else model_dir)
    ctx.call_on_close(previous.discard)
    ctx.with_resource(_terminate_as_interrupt())
    if hint_gaps:
        from pipeline.hint_gaps import train_gap_model

        if criteria or reviews is not None or inputs:
            console.print("[red]--hint-gaps trains on data/eval/gaps alone[/red]: run it without --criteria, --reviews or inputs.")
            raise typer.Exit(2)

        card = train_gap_model(criteria_model_dir, emb)
        cues, chosen = card["cv_cues"], card["cv_chosen"]
        console.print(f"Trained on [bold]{card['n_sentences']}[/bold] sentences; C={card['C']:g}, threshold "
                      f"{card['threshold']:.2f}; cross-validated balanced accuracy {chosen['balanced_accuracy']:.2f} "
                      f"(cues alone {cues['balanced_accuracy']:.2f}) on the tune half of data/eval/gaps")
        console.print(f"Model and card in [bold]{plain(Path(criteria_model_dir).resolve())}[/bold]")
        _say_previous_kept(previous.commit(), criteria_model_dir)
        from pipeline.hint_gaps import load_gap_model

        model_file = Path(criteria_model_dir) / "model.json"
        read = json.loads(model_file.read_text(encoding="utf-8")).get("hint_gaps") if model_file.is_file() else None
        if read is not None and read != load_gap_model(criteria_model_dir)[1]:
            console.print("[yellow]The criteria model reads these gap models: run `icc-practices train --criteria` so "
                          "that it learns from the new ones (until then runs use the hand-set cut points).[/yellow]")
        return
    if criteria:
        from pipeline.training import train_criteria_model

        reviewed = None
        if reviews is not None:
            from pipeline.training import reviewed_rated_texts, run_practices
            from pipeline.web.reviews import load_reviewed_levels

            levels = load_reviewed_levels(reviews)
            reviewed = reviewed_rated_texts(run_practices(data), levels)
            _say_reviews_used(reviews, data, "reviewed levels", len(levels),
                              len(reviewed.practices) + len(reviewed.held_out), held_out=reviewed.held_out)
        console.print("Training the criteria model: 7-8 minutes on two cores (about 20 on a busy machine); it says "
                      "when it is done.", highlight=False)
        card = train_criteria_model(criteria_model_dir, current_settings(embedder=embedder), emb, reviewed=reviewed)
        cv = card["cv_spearman_by_C"][str(card["C"])]
        console.print(f"Trained on [bold]{sum(card['n_texts'].values())}[/bold] rated texts; C={card['C']}; "
                      f"cross-validated mean Spearman {cv['mean']:.2f} on the realistic tune half")
        console.print(f"Model and card in [bold]{plain(Path(criteria_model_dir).resolve())}[/bold]")
        _say_previous_kept(previous.commit(), criteria_model_dir)
        if reviewed is not None and reviewed.practices:
            _say_reviewed_levels_given(reviewed, criteria_model_dir, embedder)
        return
    from pipeline.training import (LabelledPractices, add_reviewed, area_training_set, train_area_model,
                                   training_labels)

    if inputs:
        practices = _labelled_practices(inputs)[0]
        labelled = LabelledPractices([], [], [], [], [])
        if reviews is None:
            labelled.add(*training_labels(practices), 1.0, "declared")
        else:
            from pipeline.web.reviews import load_area_reviews

            reviewed = load_area_reviews(reviews)
            labelled.add(*training_labels([p for p in practices if p.practice_id not in reviewed]), 1.0, "declared")
            add_reviewed(labelled, practices, reviewed)
    else:
        labelled = area_training_set(current_settings(embedder=embedder), reviews=reviews, reviewed_run=data)
    if reviews is not None:
        counts = labelled.reviewed
        _say_reviews_used(reviews, None if inputs else data, "reviewed areas", counts["reviews"],
                          counts["reviews"] - counts["not_found"], counts["no_main_area"],
                          counts.get("held_out_texts"), counts.get("disagreeing_ids", ()))
    if not labelled.practices:
        console.print("[red]No practice declares an area: nothing to train on.[/red]")
        raise typer.Exit(1)
    if not inputs:
        console.print(f"Training the area model on {len(labelled.practices)} texts: about 5 minutes on two cores "
                      "(longer on a busy machine); it says when it is done.", highlight=False)
    _, card = train_area_model(model_dir, emb, data=labelled, cross_validate=not inputs)
    console.print(f"Trained on [bold]{card['n_practices']}[/bold] labelled rows ({', '.join(f'{k} {v}' for k, v in card['sources'].items())})")
    if "cv_realistic_tune" in card:
        cv = card["cv_realistic_tune"]
        console.print(f"Cross-validated on the realistic tune half: top-1 {cv['top1']:.2f}, top-3 {cv['top3']:.2f}, set F1 {cv['set_f1']:.2f}")
    console.print(f"Model and card in [bold]{plain(Path(model_dir).resolve())}[/bold]")
    _say_previous_kept(previous.commit(), model_dir)
    if reviews is not None:
        _say_reviewed_areas_given(labelled, model_dir, emb)


def _say_reviewed_areas_given(labelled, model_dir: Path, emb) -> None:
    """Which reviewed main areas the new model ranks first: a review is one training text among thousands, so the
    model need not follow it (as `_say_reviewed_levels_given` says of the criteria)."""
    from pipeline.classify import load_area_classifier, predict_areas
    from pipeline.taxonomy import load_taxonomy

    rows = [i for i, source in enumerate(labelled.sources) if source == "reviewed"]
    if not rows:
        return
    taxonomy = load_taxonomy()
    practices = [labelled.practices[i] for i in rows]
    ranking = predict_areas(load_area_classifier(Path(model_dir), embedder=emb), practices).main_ranking
    apart = [(p, taxonomy.parent(labelled.labels[i][0]), r[0]) for p, i, r in zip(practices, rows, ranking)
             if taxonomy.parent(labelled.labels[i][0]) != r[0]]
    console.print(f"The new model ranks first {len(rows) - len(apart)} of the {len(rows)} reviewed main areas.")
    for practice, reviewed, model in apart:
        console.print(f"  {plain(practice.title or practice.practice_id)}: main area reviewed {reviewed}, model {model}",
                      highlight=False)
    if apart:
        console.print("A review is one training text among thousands (weight 1): the model need not follow it. The "
                      "review stays as given in the review store, the export and the summary, which show it beside "
                      "the model's suggestion.")
    console.print("The areas suggested for practices no one reviewed may change too: run the batch again and compare.")


class _PreviousModel:
    """The model in `model_dir` as it was before training, copied aside at once; `commit` makes the copy
    `<name>.previous` (replacing an older one) once the new model is written, `discard` drops a copy not
    committed (a training that failed or trained nothing: the last `.previous` stays as it was)."""

    def __init__(self, model_dir: Path) -> None:
        import shutil
        import tempfile

        model_dir = Path(model_dir)
        self.backup = model_dir.with_name(model_dir.name + ".previous")
        self.copy: Optional[Path] = None
        if model_dir.is_dir() and any(model_dir.iterdir()):
            self.copy = Path(tempfile.mkdtemp(prefix=f".{model_dir.name}.", dir=model_dir.parent)) / "model"
            shutil.copytree(model_dir, self.copy)

    def commit(self) -> Optional[Path]:
        import shutil

        if self.copy is None:
            return None
        shutil.rmtree(self.backup, ignore_errors=True)
        self.copy.rename(self.backup)
        self.discard()
        return self.backup

    def discard(self) -> None:
        import shutil

        if self.copy is not None:
            shutil.rmtree(self.copy.parent, ignore_errors=True)
            self.copy = None


def _say_previous_kept(backup: Optional[Path], model_dir: Path) -> None:
    if backup is not None:
        console.print(f"The model it replaced is kept in [bold]{plain(backup.resolve())}[/bold]: to go back to it, put that "
                      f"folder in place of {Path(model_dir).resolve()} (runs read the model from there).",
                      highlight=False)


def _say_reviewed_levels_given(reviewed, model_dir: Path, embedder: Optional[str]) -> None:
    """Which reviewed levels the new model gives: each review is one training text among hundreds, so some stay
    apart from the model (they stay as reviewed in the store and the export); other practices' levels may move too."""
    from pipeline.criteria import scorer_for
    from pipeline.registry import shared_embedder
    from pipeline.training import reviewed_levels_given

    settings = current_settings(embedder=embedder, criteria_model_dir=str(model_dir))
    rows = reviewed_levels_given(scorer_for(settings, shared_embedder(settings.embedder, settings.threads)), reviewed)
    apart = [r for r in rows if r["model"] != r["reviewed"]]
    console.print(f"The new model gives {len(rows) - len(apart)} of the {len(rows)} reviewed levels.")
    for r in apart:
        console.print(f"  {plain(r['title'] or r['practice_id'])}: {r['criterion']} reviewed {r['reviewed']}, model {r['model']}")
    if apart:
        console.print("A review is one training text among hundreds (weight 1): the model need not follow it. The "
                      "review stays as given in the review store and the export. Levels of practices no one reviewed "
                      "may move too: run the batch again and compare.")


@app.command()
def evaluate(
    ctx: typer.Context,
    inputs: Optional[List[Path]] = typer.Argument(None, help="Labelled submissions (default: the bundled sample corpus, as `train` reads it)."),
    eval_set: Optional[str] = typer.Option(None, "--set", help="'realistic': the models and their baselines on data/eval/realistic."),
    as_json: bool = typer.Option(False, "--json", help="With --set: print the figures as one JSON object on the last line."),
    limit: Optional[int] = typer.Option(None, "--limit", help="With --set: only the first N texts (half tune, half test)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Markdown file to write, with the figures as .json "
                                       "beside it (default: data/processed/area_evaluation.md; with --reviews: "
                                       "review_agreement.md in --data; with --set: none, the figures are printed)."),
    embedder: Optional[str] = typer.Option(None, help="Embedder to evaluate with (default: the `embedder` setting)."),
    folds: int = typer.Option(5, help="Cross-validation folds."),
    reviews: Optional[Path] = typer.Option(None, "--reviews", help="The web app's reviews.sqlite or a reviews.parquet: set the run's suggestions against the reviews of its practices."),
    data: Path = typer.Option(CLI_OUTPUT, "--data", help="With --reviews: the output folder of the reviewed run; left out, the folder of the review file when it holds a run (the store sits beside the run's tables), else this default."),
) -> None:
    """Measure the models: cross-validated area metrics on labelled practices, `--set realistic`, or a run's
    suggestions against the secretariat's reviews (`--reviews`)."""
    if reviews is not None:
        from pipeline.evaluation import models_trained_on_reviews, review_agreement, review_agreement_markdown

        _readable_reviews(reviews)
        data = _reviewed_run(reviews, data if _option_given(ctx, "data") else None)
        if not (data / "criteria.parquet").is_file():
            console.print(f"[red]No run in {plain(data)}[/red]: give the output folder of the reviewed run with --data.")
            raise typer.Exit(2)
        result = review_agreement(data, reviews)
        trained = models_trained_on_reviews(data)
        text = review_agreement_markdown(result, trained["criteria"], trained["areas"], trained)
        Console(soft_wrap=True).print(text, markup=False, highlight=False)  # a table row stays on one line
        _write_evaluation(out or data / "review_agreement.md", text, result)
        return

    embedder = current_settings(embedder=embedder).embedder

    if eval_set is not None:
        if eval_set != "realistic":
            console.print(f"[red]Unknown evaluation set {eval_set!r}[/red]: the only one is 'realistic'.")
            raise typer.Exit(2)
        from pipeline.embed import make_embedder
        from pipeline.realistic import evaluate_realistic, markdown_report

        settings = current_settings(embedder=embedder)
        emb = make_embedder(embedder, CLI_OUTPUT / ".cache" / "embeddings", settings.threads)
        result = evaluate_realistic(settings=settings, embedder=emb, limit=limit,
                                    progress=lambda msg: console.print(f"[dim]{msg}[/dim]"))
        text = markdown_report(result)
        Console(soft_wrap=True).print(text, markup=False, highlight=False)
        if out:
            _write_evaluation(out, text, result)
        if as_json:
            print(json.dumps(result, separators=(",", ":")))
        return

    from pipeline.embed import make_embedder
    from pipeline.evaluation import cross_validate, metrics_table
    from pipeline.training import training_labels

    out = out or CLI_OUTPUT / "area_evaluation.md"
    practices, _ = _labelled_practices(inputs)
    practices, labels = training_labels(practices)
    if not practices:
        console.print("[red]No practice declares an area: nothing to evaluate.[/red]")
        raise typer.Exit(1)
    emb = make_embedder(embedder, CLI_OUTPUT / ".cache" / "embeddings")
    parts = []
    results = {}
    for mode, title in (("prior", "Zero-shot prior"), ("supervised", "Supervised"), ("blend", "Blend (shipped)")):
        metrics = cross_validate({"mode": mode}, practices, labels, emb, n_splits=folds)
        results[mode] = metrics
        parts.append(metrics_table(metrics, f"{title}: {folds}-fold cross-validation, {len(practices)} practices"))
    text = "\n".join(parts)
    Console().print(text)
    _write_evaluation(out, text, results)


def _write_evaluation(out: Path, text: str, figures: dict) -> None:
    """The evaluation as Markdown in `out` and its figures as JSON beside it, saying where."""
    from pipeline.tables import atomic_write_bytes

    atomic_write_bytes(out, text.encode("utf-8"))
    atomic_write_bytes(out.with_suffix(".json"), (json.dumps(figures, indent=2) + "\n").encode("utf-8"))
    console.print(f"Written to [bold]{plain(out.resolve())}[/bold] and [bold]{plain(out.with_suffix('.json').name)}[/bold] beside it")


@app.command()
def report(
    city: Optional[List[str]] = typer.Option(None, "--city", "-c", help="City to report on (repeatable; default: every city)."),
    format: str = typer.Option("html,docx", "--format", "-f", help="html, docx or both (comma-separated)."),
    out: Path = typer.Option(CLI_OUTPUT, "--data", "--out", "-o", help="Output folder of an earlier `run` (as for serve and export); the reports are written into its reports/cities/."),
    include_contacts: bool = typer.Option(False, "--include-contacts", help="Also write <city>-with-contacts reports that show contact persons (personal data)."),
) -> None:
    """Write the similarity report of a city from an existing run (reports/cities/<city>.html|.docx)."""
    from pipeline.report.city import write_city_reports

    try:
        paths = write_city_reports(out, city or None, formats=tuple(f for f in format.split(",") if f.strip()),
                                   include_contacts=include_contacts)
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]{plain(exc)}[/red]")
        raise typer.Exit(2)
    for path in paths:
        done = "Up to date, not written again:" if path in paths.unchanged else "Written"
        console.print(f"{done} [bold]{plain(path.resolve())}[/bold]")


@app.command()
def serve(
    data: Path = typer.Option(CLI_OUTPUT, "--data", help="Output folder of a `run` (tables to browse and compare with)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (127.0.0.1: this machine only)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    reviews: Optional[Path] = typer.Option(None, "--reviews", help="Review store (default: <data>/reviews.sqlite)."),
    check_timeout: float = typer.Option(60.0, "--check-timeout", min=0, help="Seconds a web check may run before it is stopped with its worker process (checks run in two worker processes, each loading the models); 0: checks run in the server's threads, without a limit."),
    forwarded_allow_ips: Optional[str] = typer.Option(None, "--forwarded-allow-ips", help="Addresses of the reverse proxy whose X-Forwarded-Proto and -For headers are trusted (default 127.0.0.1, or $FORWARDED_ALLOW_IPS): behind an HTTPS proxy on another host, its address, so cookies are marked Secure."),
) -> None:
    """Serve the web app: check a form, browse and search the practices, review, download the spreadsheet.

    Review is on when the environment variable ICC_REVIEW_TOKEN holds a token of at least 16 characters.
    """
    import uvicorn

    from pipeline.web.app import create_app
    from pipeline.web.settings import WebSettings

    if not data.is_dir():
        # a mistyped --data would serve an empty site, and make the folder and a review store in it
        console.print(f"[red]No folder {plain(data)}[/red]: give the output folder of a run with --data, or run "
                      f"`icc-practices run --out {plain(data)}` first.", highlight=False)
        raise typer.Exit(2)
    if not (data / "practices.parquet").exists():
        console.print(f"[yellow]No run in {plain(data)}[/yellow]: the site starts empty; run `icc-practices run --out {plain(data)}` first.")
    damaged = _unreadable_tables(data)
    if damaged:
        console.print(f"[red]Cannot serve {plain(data)}[/red]: {plain(damaged)}. Run `icc-practices run --out "
                      f"{plain(data)}` again.", highlight=False)
        raise typer.Exit(2)
    settings = WebSettings.from_env(data_dir=data, reviews_path=reviews, pipeline=current_settings(),
                                    check_timeout_seconds=check_timeout or None)
    store = settings.reviews_file
    if store.exists() and store.stat().st_size:
        from pipeline.web.reviews import ReviewStore, ReviewStoreError

        try:  # a file that is not a store stops the server here rather than in a traceback once the models load
            ReviewStore(store).close()
        except ReviewStoreError as exc:
            console.print(str(exc), style="red", markup=False, highlight=False)
            raise typer.Exit(2)
    elif reviews is not None:
        console.print(f"[yellow]No review store at {plain(reviews)} yet[/yellow]: reviews made in the app start a new one there.")
    if settings.review_off_reason:
        console.print(f"[yellow]{settings.review_off_reason}[/yellow]")
    listening = _listening_socket(host, port)
    console.print(f"Loading the models, then serving on [bold]http://{host}:{port}/[/bold] (Ctrl+C to stop)")
    proxy = {"forwarded_allow_ips": forwarded_allow_ips} if forwarded_allow_ips else {}
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port, log_level="info", **proxy))
    server.run(sockets=[listening])


def _unreadable_tables(data: Path) -> str | None:
    """Which table of a run cannot be read, and why (a copy cut short, a file that is no table), or None."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.web.catalogue import TABLES

    for name in TABLES:
        path = data / f"{name}.parquet"
        if path.exists():
            try:
                pq.read_metadata(path)
            except (OSError, pa.ArrowException) as exc:
                return f"{path.name} cannot be read ({str(exc).splitlines()[0]})"
    return None


def _listening_socket(host: str, port: int):
    """The server's socket, bound as uvicorn binds it, before the models load (about 15 s): a port in use is said
    at once."""
    import errno
    import socket

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # held from now on (uvicorn's backlog): a second `serve` cannot bind it too
    except OSError as exc:
        sock.close()
        why = (f"port {port} is in use (another server, or a `serve` still running): stop it or give another --port"
               if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc))
        console.print(f"[red]Cannot serve on {host}:{port}[/red]: {why}. Nothing was loaded.")
        raise typer.Exit(2)
    return sock


@app.command()
def export(
    xlsx: Path = typer.Option(..., "--xlsx", help="Workbook to write (.xlsx)."),
    data: Path = typer.Option(CLI_OUTPUT, "--data", help="Output folder of a `run`."),
    reviews: Optional[Path] = typer.Option(None, "--reviews", help="Review store written by serve (default: <data>/reviews.sqlite; not a reviews.parquet, which export writes)."),
    lang: str = typer.Option("en", "--lang", help="Language of the city, country, area and criterion names, the warnings in words and the files' messages: en or fr (headers stay the tables' column names)."),
    include_contacts: bool = typer.Option(False, "--include-contacts", help="Also give each form's contact person on the practices sheet (personal data: for the secretariat, not to share)."),
) -> None:
    """Write the run as a spreadsheet: practices, areas, criteria, similar practices, reviews and files."""
    from pipeline.report.export import write_workbook
    from pipeline.web.reviews import export_reviews, review_history, review_rows
    from pipeline.web.settings import REVIEWS_FILE

    if lang not in ("en", "fr"):
        raise typer.BadParameter(f"'{lang}': give en or fr", param_hint="--lang")
    if xlsx.suffix.lower() != ".xlsx":
        # an Excel workbook under another name ("export.csv") opens as nothing a spreadsheet expects
        console.print(f"[red]{plain(xlsx)} is not an .xlsx file name[/red]: the export is an Excel workbook; name it "
                      f"{xlsx.with_suffix('.xlsx').name}.")
        raise typer.Exit(2)
    if not (data / "practices.parquet").exists():
        console.print(f"[red]No run in {plain(data)}[/red]: run `icc-practices run --out {plain(data)}` first.")
        raise typer.Exit(2)
    store = reviews or data / REVIEWS_FILE
    if reviews is not None or store.exists():  # no store beside the run: no review yet
        _readable_reviews(store, parquet=False)
    rows = review_rows(store)
    path = write_workbook(data, xlsx, rows, lang, include_contacts, history=review_history(store))
    path.chmod(0o600)  # reviewers' names and notes (and contacts, asked for): readable by whoever wrote it only
    console.print(f"Written [bold]{plain(path.resolve())}[/bold] ({len(rows)} reviewed "
                  f"practice{'s' * (len(rows) != 1)})")
    if include_contacts:
        console.print("[yellow]It gives the contact persons of the forms[/yellow] (personal data): keep it within the "
                      "secretariat.")
    if store.exists():
        # beside the other tables, for notebooks and training; it is part of the next run's key
        table = export_reviews(store, data)
        console.print(f"Written [bold]{plain(table.resolve())}[/bold] (the reviews as a table; the batch summary shows "
                      f"them, so the next `run` into {data} runs again if they changed)")
    import pyarrow.parquet as pq

    from pipeline.review_copies import copies_of_reviewed

    in_run = {r["practice_id"]: r for r in pq.read_table(data / "practices.parquet",
                                                         columns=["practice_id", "city", "title"]).to_pylist()}
    gone = [r for r in rows if r["practice_id"] not in in_run]
    copies = copies_of_reviewed(gone, in_run, [])  # a practice gone from the run has no row in similar.parquet
    if gone:
        console.print(f"[yellow]{len(gone)} review(s) of practices no longer in this run[/yellow] (their file changed "
                      "or left the batch; in_run is false on the reviews sheet, with their copies in this run, if "
                      "any, in copies_in_run):")
        for r in gone[:10]:
            now = ", ".join(c["practice_id"] for c in copies.get(r["practice_id"], []))
            console.print(f"  {r['practice_id']}: {plain(r.get('city') or '?')}, {plain(_short(r.get('title'), 70))}"
                          + (f" (same city and title in this run: {now})" if now else ""),
                          markup=False, highlight=False)
        if len(gone) > 10:
            console.print(f"  ... and {len(gone) - 10} more on the reviews sheet")


@app.command("settings")
def show_settings() -> None:
    """Print the settings a command would use (defaults, settings file, --setting), as TOML."""
    print(settings_toml(current_settings()), end="")


# An evidence sentence is shown whole up to this length (the web check shows it whole): only a run-on
# sentence is cut.
EVIDENCE_CHARS = 400


def _short(value, n: int = 110) -> str:
    """A value on one line, cut after a whole word."""
    from pipeline.normalize import shorten

    return shorten(value, n) if value else "-"


if __name__ == "__main__":
    app()
