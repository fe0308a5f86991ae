"""The platform the scale benchmark measures, seeded by COPY (``bench/platform_scale.py``).

``seed(url, plan)`` fills a migrated, empty PostgreSQL database with ``plan.merchants``
merchants (each an owner, one to five stores, a stamps, points or hybrid program with two
rewards; a third of the points programs expire points after 180 days without activity, so a
morning has work), ``plan.cards`` customers with one card each and ``plan.rows`` ledger rows over
``plan.days`` days. The largest merchant holds a tenth of the rows (half of them on a tiny
platform); the others get a log-normal share (most a few thousand rows). Rows are generated in
Python, card by card, from a seeded RNG, and streamed with ``COPY`` (psycopg 3) a batch of
cards at a time: no table is ever held in memory. Each card's balances, lifetime counters and
last-activity times are the sums of the rows written for it, so ``flask loyalty check-ledger``
finds no drift. The ledger's secondary indexes are dropped during the COPY and rebuilt after,
foreign keys are not checked row by row (``session_replication_role = replica``: the rows are
generated consistent), then ``ANALYZE``.

Ids are given explicitly (merchant ``m`` has program ``m``; customer and card share an id), so
the database must be empty; the sequences are moved past them at the end.
"""
import hashlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import bcrypt
import psycopg

#: Changes whenever what ``seed`` writes changes: a database seeded by another version is rebuilt.
SEED_VERSION = 1
PASSWORD = "bench-password-123"
ADMIN = "admin@scale.example"
#: The terminal load signs in as ``terminal<i>@bench.example.com`` (``bench/terminal_load.py``).
TERMINAL_EMAIL = "terminal{}@bench.example.com"
TERMINALS = 16
EXPIRY_DAYS = 180
REWARDS = (("Coffee", 50), ("Cake", 150))

FIRST = ("Anna", "Luc", "Marie", "Paul", "Sophie", "Jean", "Léa", "Tom", "Eva", "Marc", "Zoé",
         "Nico", "Clara", "Ben", "Julie", "Max", "Laura", "Yann", "Inès", "Olivier")
LAST = ("Muller", "Schmit", "Weber", "Hoffmann", "Wagner", "Becker", "Klein", "Reuter",
        "Thill", "Kieffer", "Schroeder", "Majerus", "Goergen", "Welter", "Meyer", "Faber",
        "Müller", "Lefèvre", "Da Silva", "Ferreira", "Kremer", "Bauer", "Hansen", "Peters")


@dataclass(frozen=True)
class Plan:
    merchants: int = 2_000
    cards: int = 2_000_000
    rows: int = 20_000_000
    days: int = 730
    seed: int = 29

    def scaled(self, factor):
        return Plan(max(3, round(self.merchants * factor)), max(10, round(self.cards * factor)),
                    max(100, round(self.rows * factor)), self.days, self.seed)


def owner_email(merchant_id):
    return f"owner{merchant_id}@scale.example"


def card_number(card_id):
    """A 12-digit number unique per id (7919 is prime to 10**12), as ``XXXX-XXXX-XXXX``."""
    n = f"{(card_id * 7919 + 104_729) % 10**12:012d}"
    return f"{n[:4]}-{n[4:8]}-{n[8:]}"


def merchant_rows(plan, rng):
    """Ledger rows per merchant, the largest first: a tenth of all (half on a platform of
    fewer than 16 merchants), the rest log-normal (median a few thousand), each smaller."""
    share = 0.1 if plan.merchants >= 16 else 0.5
    largest = int(plan.rows * share)
    weights = [rng.lognormvariate(0, 1.5) for _ in range(plan.merchants - 1)]
    total = sum(weights)
    rest = plan.rows - largest
    sizes = [max(1, min(largest - 1, int(rest * w / total))) for w in weights]
    sizes[sizes.index(min(sizes))] += max(0, rest - sum(sizes))
    if max(sizes) >= largest:  # a tiny platform: keep the largest the largest
        sizes = [min(s, largest - 1) for s in sizes]
    return [largest, *sizes]


def _split(total, parts, rng):
    """``total`` as ``parts`` positive integers with a long tail (regulars and one-visit cards)."""
    weights = [rng.expovariate(1.0) + 0.05 for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % parts] += 1
    return counts


class _Times:
    """Timestamps as COPY text, cached per minute (20M rows, about a million distinct minutes)."""

    def __init__(self, now):
        self.now = now
        self.cache = {}

    def __call__(self, seconds_ago):
        minute, second = divmod(seconds_ago, 60)
        text = self.cache.get(minute)
        if text is None:
            text = self.cache[minute] = (self.now - timedelta(minutes=minute)).strftime(
                "%Y-%m-%d %H:%M")
        return f"{text}:{59 - second:02d}+00"


def _hex(kind, card_id):
    return hashlib.blake2b(f"{kind}{card_id}".encode(), digest_size=24).hexdigest()


def _merchant_setup(plan, rng, sizes, now, password_hash):
    """Rows of the small tables: merchants, users, memberships, stores, programs, rewards."""
    iso = now.strftime("%Y-%m-%d %H:%M:%S+00")
    merchants, users, memberships, stores, programs, rewards = [], [], [], [], [], []
    users.append((1, ADMIN, password_hash, "Scale Admin", True, iso))
    kinds = []
    store_ids = {}
    next_store = 1
    for m in range(1, plan.merchants + 1):
        merchants.append((m, f"Scale Shop {m:04d}", f"scale-shop-{m}", "Europe/Luxembourg",
                          "CHF" if m % 10 == 0 else "EUR", "lb", "LU", 0, iso))
        users.append((m + 1, owner_email(m), password_hash, f"Owner {m}", False, iso))
        memberships.append((m, m + 1, m, None, "merchant_owner", iso, iso))
        count = 5 if m == 1 else 1 + rng.randrange(3)
        store_ids[m] = list(range(next_store, next_store + count))
        for s in store_ids[m]:
            stores.append((s, m, f"Store {s - next_store + 1}", f"S{s - next_store + 1}", True, iso))
        next_store += count
        kind = "hybrid" if m == 1 else ("stamps", "points", "hybrid")[rng.randrange(3)]
        kinds.append(kind)
        expiry = EXPIRY_DAYS if kind != "stamps" and (m == 1 or rng.random() < 1 / 3) else None
        programs.append((m, m, kind, 10, "A coffee", 350, 10, 1, 0, 0, 0, expiry, 14,
                         0 if m == 1 else 15, 1_000_000 if m == 1 else 5, False,
                         f"Card {m}", "#1d5c4d", "#ffffff", True, "{}", iso, iso))
        for position, (name, cost) in enumerate(REWARDS):
            rewards.append((2 * m - 1 + position, m, m, name, cost, True, position, "{}", iso))
    first_user = plan.merchants + 2
    for i in range(TERMINALS):  # the counter staff of the largest merchant's first store
        users.append((first_user + i, TERMINAL_EMAIL.format(i), password_hash, f"Terminal {i}",
                      False, iso))
        memberships.append((plan.merchants + 1 + i, first_user + i, 1, store_ids[1][0],
                            "store_staff", iso, iso))
    tables = {
        "merchants": ("id, name, slug, timezone, currency, default_locale, country, "
                      "cache_version, created_at", merchants),
        "users": ("id, email, password_hash, name, is_platform_admin, created_at", users),
        "memberships": ("id, user_id, merchant_id, store_id, role, created_at, accepted_at",
                        memberships),
        "stores": ("id, merchant_id, name, code, is_active, created_at", stores),
        "loyalty_programs": (
            "id, merchant_id, program_type, stamps_target, stamp_reward_description, "
            "stamp_reward_value_cents, points_per_euro, point_value_cents, welcome_bonus_points, "
            "minimum_redemption_points, minimum_purchase_cents, points_expiration_days, "
            "expiry_warning_days, cooldown_minutes, max_stamps_per_day, require_staff_pin, "
            "card_name, primary_color, secondary_color, is_active, translations, activated_at, "
            "created_at", programs),
        "rewards": ("id, merchant_id, program_id, name, points_cost, is_active, position, "
                    "translations, created_at", rewards),
    }
    return tables, kinds, store_ids


def _copy_rows(cur, table, columns, rows):
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


class _Cards:
    """Generates customers, cards and their ledger, card by card, as COPY text."""

    CUSTOMER_COLUMNS = ("id, merchant_id, name, search_name, email, phone, preferred_locale, "
                        "consent_at, created_at")
    CARD_COLUMNS = (
        "id, merchant_id, program_id, customer_id, card_number, qr_token, page_secret, "
        "stamp_count, points_balance, stamps_earned_total, rewards_redeemed_total, "
        "points_earned_total, points_redeemed_total, points_voided_total, points_expired_total, "
        "last_stamp_at, last_points_at, last_redemption_at, last_activity_at, "
        "enrolled_at_store_id, is_active, created_at")
    LEDGER_COLUMNS = (
        "id, merchant_id, card_id, store_id, transaction_type, stamps_delta, points_delta, "
        "stamps_balance_after, points_balance_after, void_shortfall, purchase_amount_cents, "
        "reward_id, reward_description, transaction_at, created_at")

    def __init__(self, plan, now):
        self.plan, self.times = plan, _Times(now)
        self.next_card = self.next_row = 1
        self.folded = {}
        self.span = plan.days * 86_400

    def customer(self, rng, card_id, merchant_id, created):
        name = f"{FIRST[rng.randrange(len(FIRST))]} {LAST[rng.randrange(len(LAST))]}"
        folded = self.folded.get(name)
        if folded is None:
            from loyalty.contacts import fold  # noqa: PLC0415 - after the repository is on sys.path

            folded = self.folded[name] = fold(name)
        email = f"c{card_id}@scale.example" if rng.random() < 0.7 else r"\N"
        phone = f"+352621{card_id % 1_000_000:06d}" if rng.random() < 0.6 else r"\N"
        return (f"{card_id}\t{merchant_id}\t{name}\t{folded}\t{email}\t{phone}\tlb\t{created}"
                f"\t{created}\n")

    def card(self, rng, merchant_id, kind, stores, visits, merchant_age):
        """One customer, its card and its ``visits`` ledger rows: (customer, card, ledger)."""
        card_id = self.next_card
        self.next_card += 1
        t = self.times
        created_ago = rng.randrange(3_600, merchant_age)
        # A card lives from its enrolment for a while; many stop coming (points to expire).
        life = created_ago if rng.random() < 0.5 else int(created_ago * rng.random())
        offsets = sorted((created_ago - rng.randrange(max(1, life)) for _ in range(visits)),
                         reverse=True)
        store = stores[rng.randrange(len(stores))]
        stamps = points = s_earned = p_earned = p_redeemed = rewards = 0
        last_stamp = last_points = last_redeem = None
        lines = []
        reward_cost = REWARDS[0][1]
        for ago in offsets:
            at = t(ago)
            row = self.next_row
            self.next_row += 1
            roll = rng.random()
            if kind != "points" and stamps >= 10 and roll < 0.8:
                stamps -= 10
                rewards += 1
                last_redeem = ago
                lines.append(f"{row}\t{merchant_id}\t{card_id}\t{store}\tstamp_redeemed\t-10\t0"
                             f"\t{stamps}\t{points}\t0\t\\N\t\\N\tA coffee\t{at}\t{at}\n")
            elif kind != "stamps" and points >= reward_cost and roll < 0.12:
                points -= reward_cost
                p_redeemed += reward_cost
                rewards += 1
                last_redeem = ago
                lines.append(f"{row}\t{merchant_id}\t{card_id}\t{store}\tpoints_redeemed\t0"
                             f"\t{-reward_cost}\t{stamps}\t{points}\t0\t\\N\t{2 * merchant_id - 1}"
                             f"\tCoffee\t{at}\t{at}\n")
            elif kind == "stamps" or (kind == "hybrid" and roll < 0.5):
                stamps += 1
                s_earned += 1
                last_stamp = ago
                lines.append(f"{row}\t{merchant_id}\t{card_id}\t{store}\tstamp_earned\t1\t0"
                             f"\t{stamps}\t{points}\t0\t\\N\t\\N\t\\N\t{at}\t{at}\n")
            else:
                cents = 150 + rng.randrange(4_000)
                earned = cents * 10 // 100
                points += earned
                p_earned += earned
                last_points = ago
                lines.append(f"{row}\t{merchant_id}\t{card_id}\t{store}\tpoints_earned\t0"
                             f"\t{earned}\t{stamps}\t{points}\t0\t{cents}\t\\N\t\\N\t{at}\t{at}\n")
        created = t(created_ago)
        last_activity = offsets[-1] if offsets else None

        def when(ago):
            return r"\N" if ago is None else t(ago)

        card = (f"{card_id}\t{merchant_id}\t{merchant_id}\t{card_id}\t{card_number(card_id)}"
                f"\t{_hex('qr', card_id)}\t{_hex('page', card_id)}\t{stamps}\t{points}"
                f"\t{s_earned}\t{rewards}\t{p_earned}\t{p_redeemed}\t0\t0\t{when(last_stamp)}"
                f"\t{when(last_points)}\t{when(last_redeem)}\t{when(last_activity)}\t{store}"
                f"\tt\t{created}\n")
        return self.customer(rng, card_id, merchant_id, created), card, "".join(lines)


#: Secondary indexes of the big tables, dropped for the COPY and rebuilt after.
BIG_TABLES = ("loyalty_transactions", "loyalty_cards", "customers")
INDEXES_SQL = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""
SEQUENCES = ("merchants", "users", "memberships", "stores", "loyalty_programs", "rewards",
             "customers", "loyalty_cards", "loyalty_transactions")
BATCH_CARDS = 5_000


def seed(url, plan, *, now=None, log=print, drop_indexes=True, mark=True):
    """Seed the migrated, empty database at ``url`` (a plain ``postgresql://`` URL) with
    ``plan``; returns a summary dict (counts, seconds). ``mark`` records the seed's version
    and plan in a table of its own (``bench_seed``), which a reused database is checked by."""
    # whole minutes, one behind: no row is later than the clock (``_Times`` adds seconds)
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0) - timedelta(minutes=1)
    rng = random.Random(plan.seed)
    started = time.perf_counter()
    sizes = merchant_rows(plan, rng)
    password_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    tables, kinds, store_ids = _merchant_setup(plan, rng, sizes, now, password_hash)
    cards_per_row = plan.cards / plan.rows
    card_counts = [max(1, min(rows, round(rows * cards_per_row))) for rows in sizes]
    gen = _Cards(plan, now)
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.cursor()
        cur.execute("SET session_replication_role = replica")  # no FK triggers per row
        cur.execute("SET maintenance_work_mem = '1GB'")
        dropped = []
        if drop_indexes:
            dropped = cur.execute(INDEXES_SQL, (list(BIG_TABLES),)).fetchall()
            for name, _ in dropped:
                cur.execute(f"DROP INDEX {name}")
        with conn.transaction():
            for table, (columns, rows) in tables.items():
                _copy_rows(cur, table, columns, rows)
        log(f"  {plan.merchants:,} merchants, their owners, stores, programs and rewards")
        for index, (rows, count) in enumerate(zip(sizes, card_counts, strict=True)):
            merchant_id = index + 1
            merchant_age = plan.days * 86_400 if merchant_id == 1 else rng.randrange(
                30 * 86_400, plan.days * 86_400)
            visits = _split(rows, count, rng) if rows >= count else [1] * count
            for start in range(0, count, BATCH_CARDS):
                customers, cards, ledger = [], [], []
                for n in visits[start:start + BATCH_CARDS]:
                    customer, card, lines = gen.card(rng, merchant_id, kinds[index],
                                                     store_ids[merchant_id], n, merchant_age)
                    customers.append(customer)
                    cards.append(card)
                    ledger.append(lines)
                with conn.transaction():
                    for table, columns, chunk in (("customers", _Cards.CUSTOMER_COLUMNS, customers),
                                                  ("loyalty_cards", _Cards.CARD_COLUMNS, cards),
                                                  ("loyalty_transactions", _Cards.LEDGER_COLUMNS,
                                                   ledger)):
                        with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                            copy.write("".join(chunk))
            if merchant_id == 1 or merchant_id % 200 == 0 or merchant_id == plan.merchants:
                log(f"  merchant {merchant_id:,}/{plan.merchants:,}: {gen.next_card - 1:,} cards, "
                    f"{gen.next_row - 1:,} ledger rows, {time.perf_counter() - started:.0f} s")
        copied = time.perf_counter() - started
        # The time index first, then the ledger in its order: rows come in time order in
        # production (a day's rows are neighbours on disk), not card by card as generated.
        dropped.sort(key=lambda index: index[0] != CLUSTERED_BY)
        for name, definition in dropped:
            log(f"  rebuilding {name}")
            cur.execute(definition)
            if name == CLUSTERED_BY:
                cluster_ledger(cur, log)
        indexed = time.perf_counter() - started
        for table in SEQUENCES:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")
        if mark:
            cur.execute("CREATE TABLE bench_seed (version int, plan text, seeded_at timestamptz)")
            cur.execute("INSERT INTO bench_seed VALUES (%s, %s, now())", (SEED_VERSION, repr(plan)))
        cur.execute("VACUUM ANALYZE")  # the visibility map too: index-only scans
    total = time.perf_counter() - started
    return {"merchants": plan.merchants, "cards": gen.next_card - 1,
            "rows": gen.next_row - 1, "largest_rows": sizes[0], "copy_s": copied,
            "index_s": indexed - copied, "analyze_s": total - indexed, "total_s": total}


CLUSTERED_BY = "ix_loyalty_transactions_time"


def cluster_ledger(cur, log=print):
    """Rewrite the ledger in time order (``CLUSTER``), as production writes it."""
    started = time.perf_counter()
    cur.execute(f"CLUSTER loyalty_transactions USING {CLUSTERED_BY}")
    cur.execute("ANALYZE loyalty_transactions")
    log(f"  the ledger rewritten in time order in {time.perf_counter() - started:.0f} s")


def is_clustered(url):
    with psycopg.connect(url) as conn:
        return bool(conn.execute("SELECT indisclustered FROM pg_index WHERE indexrelid = "
                                 "%s::regclass", (CLUSTERED_BY,)).fetchone()[0])


def seeded_version(url):
    """The ``(version, plan)`` the database at ``url`` was seeded with, or None."""
    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT version, plan FROM bench_seed").fetchone()
    except psycopg.Error:
        return None
