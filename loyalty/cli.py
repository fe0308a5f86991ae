"""``flask loyalty ...`` and ``flask translate ...`` commands."""
import os

import click
from babel.messages.frontend import CommandLineInterface
from flask import current_app
from flask.cli import AppGroup

from loyalty import clock
from loyalty.cli_statement import statement_command
from loyalty.models import MAX_ID
from loyalty.services import outbox
from loyalty.services.customers.storefront import merchant_for_slug
from loyalty.services.delivery.expiry_warnings import warn_expiring_points
from loyalty.services.engine.ledger import ledger_drift
from loyalty.services.engine.points import expire_points
from loyalty.services.errors import DomainError, NotFound
from loyalty.services.integrations import api_keys
from loyalty.services.merchant import stores
from loyalty.services.platform import accounts, job_monitor, pruning
from loyalty.services.platform.demo import (
    DEMO_PASSWORD,
    HISTORY_DAYS,
    demo_pins,
    load_demo_data,
)

loyalty_cli = AppGroup("loyalty", help="Loyalty platform administration.")
translate_cli = AppGroup("translate", help="Extract, update and compile translations.")
api_key_cli = AppGroup("api-key", help="API keys for tills and web shops (owners also manage "
                                        "them under Settings > Integrations).")
loyalty_cli.add_command(api_key_cli)
loyalty_cli.add_command(statement_command)
#: A key made without --scope may look cards up and credit purchases: what a till needs.
#: Enrolling customers and redeeming rewards are given on purpose (as on the owner's page).
DEFAULT_SCOPES = ("cards:read", "purchases")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POT_FILE = os.path.join(ROOT, "translations", "messages.pot")


@loyalty_cli.command("demo")
@click.option("--history-days", default=HISTORY_DAYS, show_default=True, type=click.IntRange(0),
              help="Days of past counter activity to make up.")
def demo_command(history_days):
    """Load demo data (idempotent) and print the demo logins."""
    logins = load_demo_data(history_days=history_days)
    click.echo("Demo data ready. Sign in with password " + click.style(DEMO_PASSWORD, bold=True))
    for role, email in logins:
        click.echo(f"  {role:<40} {email}")
    click.echo("Staff PINs at the terminal:")
    for merchant, store, name, pin in demo_pins():
        click.echo(f"  {merchant} {store:<8} {name:<8} PIN {pin}")


@loyalty_cli.command("check-ledger")
def check_ledger_command():
    """Verify every card's balances and counters against the ledger; exit 1 on drift."""
    drift = ledger_drift()
    if not drift:
        click.echo("Ledger OK: every card's balances and counters match its transactions.")
        return
    for card in drift:
        details = ", ".join(
            f"{name}: card {have} != ledger {want}" for name, (have, want) in card["fields"].items()
        )
        click.echo(f"card {card['card_id']} ({card['card_number']}): {details}", err=True)
    raise SystemExit(1)


@loyalty_cli.command("expire-points")
def expire_points_command():
    """Expire points of inactive cards and warn those close to it (the schedule does this
    every morning)."""
    click.echo(f"Expired the points of {expire_points()} cards.")
    click.echo(f"Warned {warn_expiring_points()} customers that their points expire soon.")


@loyalty_cli.command("drain-outbox")
def drain_outbox_command():
    """Hand the outbox's waiting work over now (the schedule does this every few seconds)."""
    click.echo(f"Handed over {outbox.drain()} outbox rows.")


@loyalty_cli.command("jobs")
def jobs_command():
    """Queue lengths, failed jobs, the outbox backlog, whether the schedule ticks and its last
    runs."""
    state = job_monitor.overview()
    if state.inline:
        click.echo("Jobs run inline (no REDIS_URL): no queues, no schedule.")
    if state.redis_error:
        click.echo(f"Redis does not answer: {state.redis_error}", err=True)
    click.echo(f"Outbox: {state.backlog} waiting, oldest {state.backlog_age_s} s.")
    for name, queued, running, scheduled in state.queues:
        click.echo(f"Queue {name:<8} {queued} waiting, {running} running, "
                   f"{scheduled} waiting to retry")
    click.echo(f"Failed jobs: {len(state.failed)}")
    for job in state.failed:
        when = job.when.isoformat(timespec="seconds") if job.when else "?"
        click.echo(f"  {job.ref:<24} {job.what}: {job.attempts} attempts, failed {when}: "
                   f"{job.error}")
    if state.scheduled:
        ticked = (state.schedule_ticked.isoformat(timespec="seconds") if state.schedule_ticked
                  else "never")
        stale = " (stale: is `python worker.py cron` running?)" if state.schedule_stale else ""
        click.echo(f"Schedule: last tick {ticked}{stale}")
    for name, every, _about, last, status, upcoming in state.scheduled:
        timing = f"every {every} s" if isinstance(every, int) else f"cron {every!r} (UTC)"
        last_run = last.isoformat(timespec="seconds") if last else "never"
        click.echo(f"Scheduled {name:<13} {timing:<24} last run {last_run} {status or ''} "
                   f"next {upcoming.isoformat(timespec='seconds')}")


@loyalty_cli.command("prune-sessions")
@click.option("--keep-days", default=30, show_default=True, help="Keep sessions this recent.")
def prune_sessions_command(keep_days):
    """Delete sign-in sessions that ended or went idle long ago."""
    deleted, _links = pruning.prune_sessions(clock.now(), keep_days=keep_days)
    click.echo(f"Deleted {deleted} old sessions.")


@loyalty_cli.command("prune")
def prune_command():
    """Delete or empty now what the daily pruning would (the PRUNE_* settings)."""
    for what, count in pruning.prune_all().items():
        click.echo(f"{what}: {count}")


@loyalty_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True, default="Administrator")
@click.password_option()
def create_admin_command(email, name, password):
    """Create a platform administrator."""
    try:
        user = accounts.register_user(email, password, name, is_platform_admin=True)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(f"Created platform admin {user.email}.")


def _merchant(slug):
    try:
        return merchant_for_slug(slug)
    except NotFound:
        raise click.ClickException(f"No merchant with the slug {slug!r}.") from None


def _open_store(merchant, code):
    """The merchant's open store with this code (any case), or a ClickException naming the
    codes there are."""
    open_stores = [store for store in stores.stores_of(merchant.id) if store.is_active]
    found = next((store for store in open_stores if store.code == code.strip().upper()), None)
    if found is None:
        codes = ", ".join(store.code for store in open_stores) or "none"
        raise click.ClickException(f"{merchant.slug} has no open store with the code {code!r} "
                                   f"(open stores: {codes}).")
    return found


@api_key_cli.command("create")
@click.option("--merchant", "slug", required=True, help="The merchant's slug.")
@click.option("--name", required=True, help='What the key is for, such as "Till 2, Gare".')
@click.option("--store", "store_code", metavar="CODE",
              help="Bind the key to this open store: its purchases count there.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(list(api_keys.SCOPES)),
              help="What the key may do; repeat for several. Without --scope: cards:read and "
                   "purchases (look cards up, credit purchases and refunds). cards:write "
                   "(enrol) and redemptions are only given when named.")
def api_key_create_command(slug, name, store_code, scopes):
    """Create an API key and print it (shown only this once; only its hash is kept).

    The key alone goes to standard output, so `KEY=$(flask loyalty api-key create ...)`
    captures it; what was created is said on standard error."""
    merchant = _merchant(slug)
    store = _open_store(merchant, store_code) if store_code else None
    try:
        row, key = api_keys.create_key(merchant.id, name=name, scopes=scopes or DEFAULT_SCOPES,
                                       store_id=store.id if store else None)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo(key)
    click.echo(f"Created API key {row.id} {row.name!r} for {merchant.slug} "
               f"(store {store.code if store else 'any'}; scopes {row.scopes}). "
               "Keep it now: it is not shown again.", err=True)


@api_key_cli.command("list")
@click.option("--merchant", "slug", required=True, help="The merchant's slug.")
def api_key_list_command(slug):
    """A merchant's API keys: id, prefix, state, store, scopes, last use, name."""
    merchant = _merchant(slug)
    for row in api_keys.keys_of(merchant.id):
        state = "active" if row.revoked_at is None else "revoked"
        used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "never"
        store = row.store.code if row.store else "any"
        click.echo(f"{row.id:>6} {row.prefix}... {state:<7} store {store:<8} "
                   f"last used {used:<25} {row.scopes:<45} {row.name}")


@api_key_cli.command("revoke")
@click.option("--merchant", "slug", required=True, help="The merchant's slug.")
@click.argument("key_id", type=click.IntRange(1, MAX_ID))
def api_key_revoke_command(slug, key_id):
    """Revoke a merchant's API key at once (its id from `api-key list`)."""
    merchant = _merchant(slug)
    try:
        row = api_keys.revoke_key(merchant.id, key_id)
    except NotFound:
        raise click.ClickException(f"{merchant.slug} has no API key {key_id}.") from None
    click.echo(f"Revoked API key {row.id} {row.name!r}: requests with it are refused.")


def _pybabel(*args):
    if CommandLineInterface().run(["pybabel", *args]):
        raise click.ClickException("pybabel " + " ".join(args) + " failed")


def _catalog_dir():
    return current_app.config["BABEL_TRANSLATION_DIRECTORIES"]


@translate_cli.command("extract")
def extract_command():
    """Extract every marked string into translations/messages.pot."""
    _pybabel("extract", "-F", os.path.join(ROOT, "babel.cfg"), "-k", "_l", "-k", "lazy_ngettext:1,2",
             "--no-location",
             "--sort-output", "-o", POT_FILE, os.path.join(ROOT, "loyalty"))


@translate_cli.command("update")
def update_command():
    """Extract, then merge new strings into every catalog."""
    extract_command.callback()
    _pybabel("update", "-i", POT_FILE, "-d", _catalog_dir(), "--no-fuzzy-matching",
             "--ignore-obsolete")


@translate_cli.command("init")
@click.argument("language")
def init_command(language):
    """Start a catalog for a new language."""
    extract_command.callback()
    _pybabel("init", "-i", POT_FILE, "-d", _catalog_dir(), "-l", language)


@translate_cli.command("compile")
def compile_command():
    """Compile every catalog to .mo files (and WTForms' messages where we keep a catalog of
    them: languages WTForms does not ship)."""
    _pybabel("compile", "-d", _catalog_dir(), "--statistics")
    _pybabel("compile", "-d", _catalog_dir(), "-D", "wtforms", "--statistics")


def register_commands(app):
    app.cli.add_command(loyalty_cli)
    app.cli.add_command(translate_cli)
