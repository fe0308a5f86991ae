"""Settings from the environment, with embedded defaults that need no servers.

Nothing set: a SQLite file in the instance folder, background jobs run inline, an
in-memory rate-limit store.  ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and
Redis.  ``LOYALTY_ENV=production`` turns on secure cookies and refuses the default secret.
"""
import os
from email.utils import parseaddr

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused in production


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def served_base_url():
    """The address ``flask run`` serves (``make run`` passes its HOST and PORT as
    ``FLASK_RUN_HOST`` / ``FLASK_RUN_PORT``): development's public address outside requests."""
    host = os.environ.get("FLASK_RUN_HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):  # every interface: this computer answers on its loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('FLASK_RUN_PORT') or 5000}"


def normalize_database_url(url):
    """Accept the URL forms hosting providers hand out and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    """Read once when the app is created; tests pass overrides to ``create_app``."""

    def __init__(self, instance_path):
        self.ENV_NAME = os.environ.get("LOYALTY_ENV", "development")
        #: The deployed release's name (a tag or commit): the terminal's service worker keeps
        #: its files under it, so a new release replaces what tablets kept.
        self.RELEASE = os.environ.get("LOYALTY_RELEASE") or ""
        # Log lines (loyalty/logs.py): "json", one object per line (production's default), or
        # "text", readable lines (development's).
        self.LOG_FORMAT = (os.environ.get("LOG_FORMAT")
                           or ("json" if self.ENV_NAME == "production" else "text")).lower()
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or DEFAULT_SECRET_KEY
        # Keys the hash that keeps staff PINs unique per store; set it on its own so rotating
        # SECRET_KEY (sessions, CSRF) leaves stored PINs working.
        self.PIN_LOOKUP_KEY = os.environ.get("PIN_LOOKUP_KEY") or self.SECRET_KEY
        default_db = "sqlite:///" + os.path.join(instance_path, "loyalty.sqlite3")
        self.SQLALCHEMY_DATABASE_URI = normalize_database_url(
            os.environ.get("DATABASE_URL", default_db)
        )
        # A read replica (a PostgreSQL standby) for the reads that may lag by its delay: the
        # merchants' statistics, retention and exports, the statement, the back office's
        # figures (ARCHITECTURE.md "Beyond one database server"). Unset: all on DATABASE_URL.
        self.DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL") or None
        # A connection the database dropped while it sat in the pool (a restart, a failover,
        # an idle timeout) is found by a ping at checkout and replaced before the request uses
        # it: by default at every checkout, so a restart costs no request an error.
        # DB_POOL_PING_IDLE_SECONDS=10 pings only a connection idle that long (``database.py``):
        # one round trip less per request on a busy worker, at the price of one failed request
        # per worker when the database restarts under load. DB_POOL_PRE_PING=0 turns pings off.
        self.DB_POOL_PRE_PING = _bool("DB_POOL_PRE_PING", True)
        self.DB_POOL_PING_IDLE_SECONDS = _int("DB_POOL_PING_IDLE_SECONDS", 0)
        self.SQLALCHEMY_ENGINE_OPTIONS = {
            "pool_pre_ping": self.DB_POOL_PRE_PING and self.DB_POOL_PING_IDLE_SECONDS <= 0,
            "pool_recycle": _int("DB_POOL_RECYCLE_SECONDS", 1800),
        }
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        # Jobs run in the request when there is no Redis (the embedded default).
        self.JOBS_INLINE = _bool("JOBS_INLINE", default=self.REDIS_URL is None)

        production = self.ENV_NAME == "production"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", production)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.PREFERRED_URL_SCHEME = "https" if production else "http"
        self.PROXY_FIX = _bool("PROXY_FIX", production)
        # The largest request body (uploads included); larger ones answer 413 with a message.
        self.MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_MB", 8) * 1024 * 1024
        self.WTF_CSRF_TIME_LIMIT = None  # a terminal stays open all day; the session bounds it
        # A signed-in session nobody used for this long ends (a counter tablet left overnight).
        self.SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 12 * 60)

        # Links in emails, posters and wallet passes are absolute, built on this address
        # (required in production). Unset in development, a page's links follow the address
        # it was opened on, and work outside requests uses the one ``flask run`` serves.
        self.PUBLIC_BASE_URL = (os.environ.get("PUBLIC_BASE_URL") or "").rstrip("/") or None
        self.DEVELOPMENT_BASE_URL = served_base_url()
        # Outgoing email. Without SMTP_HOST messages are kept in the sent_emails table (admins
        # read them in the back office) and written to the log.
        self.SMTP_HOST = os.environ.get("SMTP_HOST") or None
        self.SMTP_PORT = _int("SMTP_PORT", 587)
        self.SMTP_SECURITY = (os.environ.get("SMTP_SECURITY") or "starttls").lower()  # or ssl, none
        self.SMTP_USER = os.environ.get("SMTP_USER") or None
        self.SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
        self.SMTP_TIMEOUT_SECONDS = _int("SMTP_TIMEOUT_SECONDS", 20)
        self.MAIL_FROM = os.environ.get("MAIL_FROM") or "Loyalty <no-reply@localhost>"
        # Where people report an accessibility problem (the /accessibility page names it).
        self.ACCESSIBILITY_CONTACT = (os.environ.get("ACCESSIBILITY_CONTACT")
                                      or parseaddr(self.MAIL_FROM)[1])
        # Wallet passes (../README.md "Wallets"). Apple is on when its five required settings
        # are set, Google when its two are; without them the card page shows no wallet button.
        self.APPLE_PASS_TYPE_ID = os.environ.get("APPLE_PASS_TYPE_ID") or None
        self.APPLE_TEAM_ID = os.environ.get("APPLE_TEAM_ID") or None
        self.APPLE_PASS_CERT_FILE = os.environ.get("APPLE_PASS_CERT_FILE") or None
        self.APPLE_PASS_KEY_FILE = os.environ.get("APPLE_PASS_KEY_FILE") or None
        self.APPLE_PASS_KEY_PASSWORD = os.environ.get("APPLE_PASS_KEY_PASSWORD") or None
        self.APPLE_WWDR_CERT_FILE = os.environ.get("APPLE_WWDR_CERT_FILE") or None
        self.APPLE_APNS_URL = (os.environ.get("APPLE_APNS_URL")
                               or "https://api.push.apple.com").rstrip("/")
        # Certificates trusted for APNs' own (default: the system's); for a stand-in APNs.
        self.APPLE_APNS_CA_FILE = os.environ.get("APPLE_APNS_CA_FILE") or None
        self.GOOGLE_WALLET_ISSUER_ID = os.environ.get("GOOGLE_WALLET_ISSUER_ID") or None
        self.GOOGLE_WALLET_SERVICE_ACCOUNT_FILE = (
            os.environ.get("GOOGLE_WALLET_SERVICE_ACCOUNT_FILE") or None)
        self.GOOGLE_WALLET_API_URL = (
            os.environ.get("GOOGLE_WALLET_API_URL")
            or "https://walletobjects.googleapis.com/walletobjects/v1").rstrip("/")
        # Background jobs: seconds before each retry of a failing job (then it is failed),
        # and how long an outbox row handed to RQ may stay undelivered before the drain
        # hands it over again (Redis lost it, or its worker died).
        self.JOB_RETRY_DELAYS = [int(part) for part in (
            os.environ.get("JOB_RETRY_DELAYS") or "30,300,1800").split(",") if part.strip()]
        self.OUTBOX_REDELIVER_SECONDS = _int("OUTBOX_REDELIVER_SECONDS", 900)
        # The long-running processes (worker.py): Redis not answering is tried again after 1 s,
        # doubling up to REDIS_RETRY_MAX_SECONDS. A busy worker says it is alive every
        # WORKER_HEARTBEAT_SECONDS; one silent for WORKER_LOST_AFTER_SECONDS has died, and the
        # drain puts its jobs back on their queues. An idle worker looks after its queues
        # (restarts RQ's scheduler of due retries, cleans registries) every
        # WORKER_MAINTENANCE_SECONDS. The schedule not ticking for SCHEDULE_STALE_SECONDS is
        # shown as a problem (health check, back office).
        self.REDIS_RETRY_MAX_SECONDS = _int("REDIS_RETRY_MAX_SECONDS", 30)
        self.WORKER_HEARTBEAT_SECONDS = _int("WORKER_HEARTBEAT_SECONDS", 10)
        self.WORKER_LOST_AFTER_SECONDS = _int("WORKER_LOST_AFTER_SECONDS", 45)
        self.WORKER_MAINTENANCE_SECONDS = _int("WORKER_MAINTENANCE_SECONDS", 30)
        self.SCHEDULE_STALE_SECONDS = _int("SCHEDULE_STALE_SECONDS", 60)
        # /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is a 404.
        self.METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
        # Seconds a queue's jobs wait before they run: a burst of changes to one card gives one
        # wallet update.
        self.OUTBOX_DELAYS = {"wallet": _int("WALLET_PUSH_DELAY_SECONDS", 5)}
        # Points expiry and its warnings run once a day, from this hour of each merchant's
        # own morning (their time zone).
        self.MORNING_HOUR = _int("MORNING_HOUR", 4)
        # Without Redis, `make run` (INLINE_SCHEDULE=1 on its `flask run`) runs the schedule in a
        # thread of the web process: the drain, each merchant's morning, the pruning.
        self.INLINE_SCHEDULE = _bool("INLINE_SCHEDULE", False)
        # Pruning, once a day (days): delivered outbox rows, emails' texts (the record stays),
        # ended or idle sign-in sessions and used or expired one-time links, webhook deliveries
        # delivered or failed. The ledger and the audit log are never pruned.
        self.PRUNE_OUTBOX_DAYS = _int("PRUNE_OUTBOX_DAYS", 7)
        self.PRUNE_EMAIL_BODY_DAYS = _int("PRUNE_EMAIL_BODY_DAYS", 30)
        self.PRUNE_SESSION_DAYS = _int("PRUNE_SESSION_DAYS", 30)
        self.PRUNE_WEBHOOK_DELIVERY_DAYS = _int("PRUNE_WEBHOOK_DELIVERY_DAYS", 30)

        self.BABEL_DEFAULT_LOCALE = "en"
        self.BABEL_DEFAULT_TIMEZONE = "Europe/Luxembourg"  # dates people read; stored in UTC
        self.BABEL_TRANSLATION_DIRECTORIES = os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "translations"
        )
        self.LANGUAGES = {"en": "English", "fr": "Français", "de": "Deutsch", "lb": "Lëtzebuergesch"}

        self.BCRYPT_ROUNDS = _int("BCRYPT_ROUNDS", 12)
        # A 4-6 digit PIN is not protected by its hash cost offline (the keyed lookup and the
        # lockout protect it): a lower cost keeps a PIN action quick at the counter.
        self.PIN_BCRYPT_ROUNDS = _int("PIN_BCRYPT_ROUNDS", 10)
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "loyalty")
        # Failed sign-ins, counted before the password is checked: for one account from one
        # address, for one account from anywhere, and a much larger ceiling for one address
        # (a shop's router: a colleague's typos must not lock the owner out).
        self.LOGIN_ACCOUNT_ADDRESS_LIMIT = os.environ.get(
            "LOGIN_ACCOUNT_ADDRESS_LIMIT", "5 per 5 minutes")
        self.LOGIN_ACCOUNT_LIMIT = os.environ.get("LOGIN_ACCOUNT_LIMIT", "20 per 15 minutes")
        self.LOGIN_ADDRESS_LIMIT = os.environ.get("LOGIN_ADDRESS_LIMIT", "100 per 15 minutes")
        # Customers joining online: per address, and per email address.
        self.JOIN_ADDRESS_LIMIT = os.environ.get("JOIN_ADDRESS_LIMIT", "10 per hour")
        self.JOIN_EMAIL_LIMIT = os.environ.get("JOIN_EMAIL_LIMIT", "3 per hour")
        # Card-link emails one recipient gets, whatever address or phone number was typed to
        # ask for them (a sign-up with a stranger's phone number emails that stranger).
        self.CARD_LINK_RECIPIENT_LIMIT = os.environ.get("CARD_LINK_RECIPIENT_LIMIT",
                                                        "3 per hour")
        # "Forgot your password?": per typed email and per address; and the reset emails one
        # person gets, whoever asked for them (an admin's or owner's button included).
        self.PASSWORD_RESET_EMAIL_LIMIT = os.environ.get("PASSWORD_RESET_EMAIL_LIMIT",
                                                         "3 per hour")
        self.PASSWORD_RESET_ADDRESS_LIMIT = os.environ.get("PASSWORD_RESET_ADDRESS_LIMIT",
                                                           "10 per hour")
        self.PASSWORD_RESET_RECIPIENT_LIMIT = os.environ.get("PASSWORD_RESET_RECIPIENT_LIMIT",
                                                             "3 per hour")
        # Calls of the PassKit web service from one address (phones update their passes).
        self.WALLET_ADDRESS_LIMIT = os.environ.get("WALLET_ADDRESS_LIMIT", "120 per minute")
        # Wrong or locked staff PINs per terminal address, on top of the per-PIN lockout.
        self.PIN_FAILURE_LIMIT = os.environ.get("PIN_FAILURE_LIMIT", "20 per 10 minutes")
        # Requests per API key (a till, a web shop), on the shared counters.
        self.API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "20 per second")

        # Platform defaults for per-merchant loyalty settings (admins can override them).
        self.DEFAULT_PIN_LOCKOUT_ATTEMPTS = _int("DEFAULT_PIN_LOCKOUT_ATTEMPTS", 5)
        self.DEFAULT_PIN_LOCKOUT_MINUTES = _int("DEFAULT_PIN_LOCKOUT_MINUTES", 30)
        self.DEFAULT_TIMEZONE = "Europe/Luxembourg"
        self.DEFAULT_CURRENCY = "EUR"

    @property
    def is_production(self):
        return self.ENV_NAME == "production"

    def as_dict(self):
        return {key: getattr(self, key) for key in dir(self) if key.isupper()}
