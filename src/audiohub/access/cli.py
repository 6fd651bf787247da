"""`audiohub users ...`, `audiohub keys ...`, `audiohub audit` and `audiohub purge`: accounts,
API keys, the audit trail and retention from a shell on the hub's host.

They open the database the settings name (DATABASE_URL, or the data dir's SQLite file), the one
the gateway keeps accounts in. What they change is audited as "cli:<OS user>".
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from audiohub.access.permissions import ROLES
from audiohub.access.schemas import AuditAction, AuditFilter
from audiohub.access.service import AccessService
from audiohub.components import Components
from audiohub.config import Settings
from audiohub.errors import AudioHubError

users = typer.Typer(help="Accounts for the dashboard: create, list, disable, change roles.",
                    no_args_is_help=True)
keys = typer.Typer(help="API keys for programs: create (shown once), list, revoke.",
                   no_args_is_help=True)
console = Console(stderr=True)
out = Console()

ROLE_HELP = f"One of {', '.join(ROLES)}."
Role = Annotated[str, typer.Option("--role", help=ROLE_HELP, show_default=False)]


def cli_actor() -> str:
    """Who the audit trail says acted: the OS user running the command."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # a container user with no name
        return "cli:unknown"


def _settings() -> Settings:
    from audiohub.cli import _settings as read  # the CLI's own: its messages and exit code

    return read()


@contextmanager
def _opened(settings: Settings | None = None) -> Iterator[tuple[Settings, Components]]:
    """The settings and the database they name; our errors as a red line and exit code 2."""
    settings = settings or _settings()
    parts = Components(settings)
    try:
        yield settings, parts
    except AudioHubError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from exc
    finally:
        parts.close()


@contextmanager
def _access() -> Iterator[AccessService]:
    with _opened() as (settings, parts):
        yield AccessService(parts.db, settings.auth, settings.data_dir)


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- users --------------------------------------------------------------------------------------

@users.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Letters, digits and . _ @ - (an email fits).")],
    role: Role,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin (scripts) "
                                 "instead of asking twice.")] = False,
) -> None:
    """Make an account (`--role admin` for the first admin, as the setup link does)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True,
                                err=True)
    with _access() as access:
        user = access.create_user(username, password, role, cli_actor())
    console.print(f"created {user.username} ({user.role})")


@users.command("list")
def users_list() -> None:
    """Every account, its role and whether it is disabled."""
    with _access() as access:
        found = access.users()
    table = Table(title=f"{len(found)} users")
    for col in ("user", "role", "state", "created"):
        table.add_column(col)
    for u in found:
        table.add_row(u.username, u.role, "disabled" if u.disabled else "enabled",
                      _when(u.created_at))
    out.print(table)


@users.command("disable")
def users_disable(username: str) -> None:
    """Sign the user out everywhere and refuse their sign-ins (the last admin stays)."""
    with _access() as access:
        access.set_disabled(username, True, cli_actor())
    console.print(f"disabled {username}")


@users.command("enable")
def users_enable(username: str) -> None:
    """Let a disabled user sign in again."""
    with _access() as access:
        access.set_disabled(username, False, cli_actor())
    console.print(f"enabled {username}")


@users.command("set-role")
def users_set_role(username: str,
                   role: Annotated[str, typer.Argument(help=ROLE_HELP)]) -> None:
    """Change a user's role (from their next request on)."""
    with _access() as access:
        user = access.set_role(username, role, cli_actor())
    console.print(f"{user.username} is now {user.role}")


# --- keys ---------------------------------------------------------------------------------------

@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Letters, digits and . _ - ; unique.",
                                      show_default=False)],
    role: Role,
    expires: Annotated[float | None, typer.Option(
        "--expires", help="Days until the key stops working (default: never).")] = None,
) -> None:
    """Make a key. It is printed once, alone on stdout (KEY=$(audiohub keys create ...)); only
    its hash is kept."""
    with _access() as access:
        new = access.create_key(name, role, cli_actor(), expires_days=expires)
    typer.echo(new.key)
    until = f", expires {_when(new.info.expires_at)}" if new.info.expires_at else ""
    console.print(f"key {name} ({role}{until}) created. It is shown only this once: store it "
                  "now. Send it as `Authorization: Bearer KEY` or `X-API-Key: KEY`.")


@keys.command("list")
def keys_list() -> None:
    """Every key: its name, first characters, role and state (never the key)."""
    with _access() as access:
        found = access.keys()
    now = datetime.now(UTC)
    table = Table(title=f"{len(found)} keys")
    for col in ("name", "prefix", "role", "state", "created", "expires", "last used"):
        table.add_column(col)
    for k in found:
        table.add_row(k.name, f"{k.prefix}…", k.role, k.state(now), _when(k.created_at),
                      _when(k.expires_at) or "never", _when(k.last_used_at) or "never")
    out.print(table)


@keys.command("revoke")
def keys_revoke(name: str) -> None:
    """Stop a key working, from the next request on, in every process."""
    with _access() as access:
        access.revoke_key(name, cli_actor())
    console.print(f"revoked {name}")


# --- the audit trail and retention --------------------------------------------------------------

def audit(
    actor: Annotated[str | None, typer.Option(help="Only this user, key (key:NAME) or "
                                                   "cli:USER.")] = None,
    action: Annotated[AuditAction | None, typer.Option(help="Only this action.")] = None,
    call: Annotated[int | None, typer.Option(help="Only rows about this call id.")] = None,
    since: Annotated[str | None, typer.Option(
        help="Only rows at or after this ISO date/time (UTC unless it says).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Newest rows shown.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """The audit trail, newest first: who did what, to which call, when, from where."""
    from audiohub.cli import _since

    after = _since(since)
    if after is not None and after.tzinfo is None:
        after = after.replace(tzinfo=UTC)
    with _access() as access:
        page = access.audit_page(AuditFilter(actor=actor, action=action, call_id=call,
                                             since=after, limit=limit))
    if as_json:
        typer.echo(json.dumps([e.model_dump(mode="json") for e in page.items], indent=2))
        return
    table = Table(title=f"{len(page.items)} of {page.total} audit rows")
    for col in ("at", "actor", "action", "call", "detail", "address"):
        table.add_column(col, overflow="fold")
    for e in page.items:
        table.add_row(_when(e.at), e.actor, e.action.value,
                      "" if e.call_id is None else str(e.call_id), e.detail, e.address or "")
    out.print(table)


def purge(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List what would be removed; change nothing.")] = False,
) -> None:
    """Apply RETENTION_DAYS (whole calls) and AUDIO_RETENTION_DAYS (recordings only) now, and
    print what was removed. The server and the worker also do this daily."""
    from audiohub.persistence.retention import policy_set
    from audiohub.persistence.retention import purge as run_purge

    settings = _settings()
    if settings.services.url("persistence"):
        console.print("[red]PERSISTENCE_SERVICE_URL is set:[/red] the calls and recordings are "
                      "that service's; run `audiohub purge` with its settings, on its host")
        raise typer.Exit(2)
    if not policy_set(settings.auth):
        console.print("neither RETENTION_DAYS nor AUDIO_RETENTION_DAYS is set: nothing to purge")
        return
    with _opened(settings) as (_, parts):
        report = run_purge(parts.store, settings, dry_run=dry_run, actor=cli_actor())
    for line in report.lines():
        typer.echo(line)
