"""Archive benchmark: a large CoP archive on PostgreSQL, then page and search latency.

Run by hand from the repository root::

    .venv/bin/python bench/archive.py [--scale 1.0] [--requests 300] [--workers N]
                                      [--keep] [--reuse DATABASE]

`--scale 0.01` is a quick smoke run (about a minute). At full scale it seeds 100,000 threads
with 1,000,000 replies across 50 CoPs by 5,000 authors (health and social care vocabulary),
with their search index, which takes a few minutes on 2 cores.

What it does:

1. Creates a throwaway PostgreSQL database on the server named by COPNET_BENCH_POSTGRES
   (default postgresql://postgres@127.0.0.1:5432/postgres), migrates it and creates the CoPs.
2. Seeds authors, threads, replies and `search_entries` with COPY. Generator processes
   (`--workers`, default: CPUs - 1) build the rows and analyse each post exactly as copnet
   indexes it (`models.text_analysis.entry_terms`, then `models.search_index.search_vector_sql` in
   PostgreSQL), while this process streams them to PostgreSQL; the GIN index is built after
   the load, then VACUUM ANALYZE. A progress line shows rows/s and ETA. Prints the seeding
   rate, index build time and database and table sizes.
3. Starts copnet (`python -m server.cli.main serve`, workers off) and measures, one request at a
   time over a keep-alive connection after `--warm` warm-up requests (never measured), the
   latency of `/t/{id}` (thread page), `/c/{name}` (CoP page, HTML) and `/search?q=...` (HTML;
   `--queries`, at least 330, distinct queries built from the seeding vocabulary: words,
   pairs, phrases, exclusions, some with CoP or kind filters), plus `models.search.search()`
   called directly (database and snippets, no HTTP) and a bare SQL reference: the same
   full-text match and rank as one plain statement through asyncpg, so the cost copnet adds
   is visible. Any measured request that does not answer 200 fails the run at once. Prints
   p50/p95/max against the targets: thread page p50 < 30 ms; CoP page p50 < 30 ms and
   p95 < 50 ms; search page p50 < 50 ms and p95 < 150 ms.
4. Stops copnet and drops the database (also on Ctrl-C), unless `--keep`; `--reuse NAME` migrates
   a database kept by an earlier `--keep` run to this copnet's schema and measures it, without
   seeding.

"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import checkout  # noqa: F401  (this checkout's code before an installed copnet)
from sqlalchemy.engine import URL, make_url
from yarl import URL as WebURL

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
THREADS = 100_000
REPLIES = 1_000_000
COPS = 50
AUTHORS = 5_000
THREADS_PER_CHUNK = 250
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
# kind -> (p50 target, p95 target or None), in ms
TARGETS = {
    "thread page": (30.0, None),
    "CoP page": (30.0, 50.0),
    "search page": (50.0, 150.0),
}

# ------------------------------------------------------------------------- the vocabulary

COP_TOPICS = [
    ("nursing-practice", "Nursing Practice"),
    ("social-work", "Social Work"),
    ("dementia-care", "Dementia Care"),
    ("falls-prevention", "Falls Prevention"),
    ("safeguarding", "Safeguarding Adults"),
    ("child-protection", "Child Protection"),
    ("palliative-care", "Palliative and End of Life Care"),
    ("mental-health", "Mental Health"),
    ("learning-disability", "Learning Disability"),
    ("district-nursing", "District Nursing"),
    ("care-homes", "Care Homes"),
    ("domiciliary-care", "Home Care"),
    ("infection-control", "Infection Prevention"),
    ("tissue-viability", "Tissue Viability"),
    ("medicines-safety", "Medicines Safety"),
    ("stroke-rehab", "Stroke Rehabilitation"),
    ("frailty", "Frailty"),
    ("diabetes", "Diabetes Care"),
    ("carers", "Unpaid Carers"),
    ("social-prescribing", "Social Prescribing"),
    ("midwifery", "Midwifery"),
    ("health-visiting", "Health Visiting"),
    ("school-nursing", "School Nursing"),
    ("occupational-therapy", "Occupational Therapy"),
    ("physiotherapy", "Physiotherapy"),
    ("speech-language", "Speech and Language Therapy"),
    ("nutrition", "Nutrition"),
    ("continence", "Continence Care"),
    ("sepsis", "Sepsis and Deterioration"),
    ("discharge", "Discharge and Flow"),
    ("reablement", "Reablement"),
    ("homelessness", "Homelessness and Health"),
    ("substance-use", "Substance Use"),
    ("domestic-abuse", "Domestic Abuse"),
    ("autism", "Autism"),
    ("young-carers", "Young Carers"),
    ("foster-care", "Fostering"),
    ("research", "Practice Research"),
    ("quality-improvement", "Quality Improvement"),
    ("education", "Practice Education"),
    ("preceptorship", "Preceptorship"),
    ("digital-care", "Digital Care Records"),
    ("telecare", "Telecare"),
    ("long-covid", "Long COVID"),
    ("pain", "Pain Management"),
    ("wound-care", "Wound Care"),
    ("advance-care", "Advance Care Planning"),
    ("capacity", "Mental Capacity"),
    ("wellbeing", "Staff Wellbeing"),
    ("patient-voice", "Patient Voice"),
]

TOPICS = [
    "night shift handover",
    "falls prevention",
    "pressure ulcer care",
    "safeguarding referral",
    "medication errors",
    "dementia care",
    "delirium screening",
    "discharge planning",
    "care home staffing",
    "mental capacity assessment",
    "deprivation of liberty safeguards",
    "sepsis recognition",
    "end of life care",
    "hospital at home",
    "carer support",
    "domiciliary visits",
    "learning disability annual health checks",
    "child protection plans",
    "hand hygiene audit",
    "catheter care",
    "nutrition and hydration",
    "continence assessment",
    "insulin safety",
    "stroke rehabilitation",
    "frailty scoring",
    "polypharmacy review",
    "social prescribing",
    "loneliness in older people",
    "homelessness outreach",
    "substance misuse support",
    "domestic abuse disclosure",
    "personal budgets",
    "Care Act assessment",
    "reablement goals",
    "moving and handling",
    "lone working",
    "restraint reduction",
    "positive behaviour support",
    "advance care planning",
    "DNACPR conversations",
    "bereavement support",
    "pain assessment",
    "NEWS2 escalation",
    "SBAR communication",
    "duty of candour",
    "incident reporting",
    "quality improvement",
    "clinical supervision",
    "reflective practice",
    "student placements",
    "preceptorship",
    "agency staff induction",
    "wound dressing choice",
    "long COVID clinics",
    "transition to adult services",
    "young carers assessment",
    "foster placement breakdown",
    "mental health crisis",
    "suicide prevention",
    "breastfeeding support",
    "postnatal depression",
    "immunisation uptake",
    "telecare alarms",
    "digital care records",
]
OPENERS = [
    "On our ward",
    "In the care home",
    "In community practice",
    "During the night shift",
    "Last week",
    "Since the new policy",
    "In our locality",
    "At the team huddle",
    "After the CQC inspection",
    "In my experience",
    "On the stroke unit",
    "In district nursing",
    "In the reablement team",
    "At the safeguarding hub",
    "In primary care",
    "On a home visit",
]
SUBJECTS = [
    "the nurses",
    "our social workers",
    "the carers",
    "healthcare assistants",
    "the GP",
    "the discharge coordinator",
    "family members",
    "the safeguarding lead",
    "the pharmacist",
    "student nurses",
    "the occupational therapist",
    "the physiotherapist",
    "the ward manager",
    "the matron",
    "support workers",
    "the mental health team",
    "residents",
    "patients",
    "the dietitian",
    "the tissue viability nurse",
    "the advanced practitioner",
    "paramedics",
]
VERBS = [
    "reviewed",
    "discussed",
    "documented",
    "escalated",
    "improved",
    "struggled with",
    "introduced",
    "audited",
    "shared",
    "piloted",
    "questioned",
    "simplified",
    "redesigned",
    "rolled out",
    "evaluated",
    "raised concerns about",
    "asked for training on",
    "updated",
]
OBJECTS = [
    "the handover sheet",
    "the falls risk assessment",
    "medication charts",
    "the care plan",
    "capacity assessments",
    "pressure area checks",
    "the MUST screening tool",
    "NEWS2 scores",
    "the referral pathway",
    "person-centred goals",
    "the discharge checklist",
    "the safeguarding form",
    "fluid balance charts",
    "the bowel chart",
    "the sepsis bundle",
    "the consent process",
    "the red bag scheme",
    "the rota",
    "hourly rounding",
    "the delirium screen",
    "anticipatory medicines",
    "the wound formulary",
    "the MAR chart",
    "the lasting power of attorney",
    "the best interests meeting",
    "carer's assessments",
    "the frailty score",
    "the admission criteria",
    "the escalation plan",
    "bed rails",
    "call bells",
    "pain scores",
    "the do not attempt resuscitation form",
    "the insulin passport",
    "hearing aids and glasses",
    "the This is Me document",
    "the communication passport",
]
TAILS = [
    "with good results",
    "but staffing was tight",
    "after an incident",
    "following NICE guidance",
    "to reduce readmissions",
    "for people living with dementia",
    "with the family present",
    "across both sites",
    "over the winter pressures",
    "with agency staff",
    "at weekends",
    "for residents with learning disabilities",
    "in partnership with the local authority",
    "using quality improvement methods",
    "and it saved time",
    "but documentation lagged",
    "which patients appreciated",
    "after feedback from carers",
    "during the heatwave",
    "before discharge",
    "on admission",
    "at the end of life",
]
QUESTIONS = [
    "Has anyone else tried this?",
    "How do you handle this in your team?",
    "Would you share your template?",
    "What does your policy say?",
    "Is there evidence for this approach?",
    "How do you involve families?",
    "Who signs this off in your organisation?",
    "Any tips for night staff?",
]
FIRST_NAMES = [
    "Aisha",
    "Ben",
    "Chloe",
    "Dev",
    "Ewa",
    "Femi",
    "Grace",
    "Hamza",
    "Isla",
    "Jon",
    "Kemi",
    "Liam",
    "Maya",
    "Nia",
    "Owen",
    "Priya",
    "Rhys",
    "Sara",
    "Tom",
    "Uma",
    "Vik",
    "Wen",
    "Yusuf",
    "Zoe",
]
ROLES = ["RN", "SW", "OT", "HCA", "RMN", "GP", "PT", "carer", "student", "lecturer"]

SEARCHES = [
    "handover",
    "falls prevention",
    '"care plan"',
    "safeguarding referral",
    "dementia -hospital",
    "pressure ulcer",
    "medication errors",
    "capacity assessment",
    "sepsis",
    "discharge planning",
    "loneliness",
    "NEWS2 escalation",
    "insulin passport",
    '"best interests meeting"',
    "delirium screen",
    "bereavement",
    "agency staff induction",
    "hourly rounding",
    "bed rails",
    "wound formulary",
    "reablement goals",
    "telecare",
    "DNACPR",
    "night shift -agency",
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------- row generation


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        text = text.replace("\r", "\\r")
    return text


def copy_line(values) -> str:
    return "\t".join(_copy_value(value) for value in values) + "\n"


STOPWORDS = {"the", "our", "a", "an", "of", "to", "and", "on", "in", "for", "with", "at"}


def distinct_searches(count: int, seed: int = 5) -> list[str]:
    """`count` different queries built from the seeding vocabulary (words, pairs, phrases,
    exclusions) and the hand-written SEARCHES, in a shuffled but repeatable order."""
    words = sorted(
        {
            word.strip(",.?").lower()
            for phrase in (*TOPICS, *OBJECTS, *SUBJECTS)
            for word in phrase.split()
            if len(word) > 3 and word.lower() not in STOPWORDS
        }
    )
    phrases = sorted({" ".join(t.split()[-2:]).lower() for t in (*TOPICS, *OBJECTS)})
    rng = random.Random(seed)
    found = dict.fromkeys(SEARCHES)
    shapes = ("word", "pair", "phrase", "exclude")
    attempts = 0
    while len(found) < count and attempts < count * 50:
        attempts += 1
        shape = rng.choice(shapes)
        if shape == "word":
            query = rng.choice(words)
        elif shape == "pair":
            query = " ".join(rng.sample(words, 2))
        elif shape == "phrase":
            query = f'"{rng.choice(phrases)}"'
        else:
            query = f"{rng.choice(words)} -{rng.choice(words)}"
        found.setdefault(query)
    queries = list(found)
    rng.shuffle(queries)
    return queries[:count]


POST_COLUMNS = [
    "id",
    "ap_id",
    "community_id",
    "author_id",
    "thread_id",
    "parent_id",
    "depth",
    "type",
    "title",
    "content_html",
    "source",
    "summary",
    "sensitive",
    "url",
    "attachments",
    "published",
    "updated",
    "deleted_at",
    "like_count",
    "reply_count",
    "last_activity_at",
    "shared_from_id",
]
ENTRY_COLUMNS = [
    "id",
    "kind",
    "post_id",
    "document_id",
    "community_id",
    "thread_id",
    "published",
]
STAGING_COLUMNS = [*ENTRY_COLUMNS, "title_terms", "body_terms"]


def _sentence(rng: random.Random, topic: str) -> str:
    roll = rng.random()
    if roll < 0.15:
        return rng.choice(QUESTIONS)
    if roll < 0.35:
        return f"We changed how we approach {topic} {rng.choice(TAILS)}."
    return (
        f"{rng.choice(OPENERS)} {rng.choice(SUBJECTS)} {rng.choice(VERBS)} "
        f"{rng.choice(OBJECTS)} {rng.choice(TAILS)}."
    )


def _paragraphs(rng: random.Random, topic: str) -> list[str]:
    count = rng.choice((1, 1, 2, 2, 3))
    return [" ".join(_sentence(rng, topic) for _ in range(rng.randint(1, 3))) for _ in range(count)]


def generate_chunk(spec: dict) -> tuple[bytes, bytes, int]:
    """COPY text for one chunk of threads with their replies: (posts, search_entries, rows)."""
    from models.text_analysis import entry_terms  # each worker process imports once

    rng = random.Random(spec["seed"])
    next_id = spec["first_id"]
    posts = io.StringIO()
    entries = io.StringIO()
    rows = 0
    replies_left = spec["replies"]
    threads = spec["threads"]
    # Some threads are busy, most are quiet: Pareto weights share the chunk's replies.
    weights = [rng.paretovariate(1.3) for _ in range(threads)]
    total_weight = sum(weights)
    shares = [int(replies_left * w / total_weight) for w in weights]
    shares[0] += replies_left - sum(shares)
    # Posts arrive roughly in time order (each chunk is a slice of the archive's three years).
    starts = sorted(rng.uniform(0, spec["span"]) for _ in range(threads))
    for index in range(threads):
        community = spec["cops"][min(int(rng.paretovariate(0.9)) - 1, len(spec["cops"]) - 1)]
        community = rng.choice(spec["cops"]) if rng.random() < 0.5 else community
        topic = rng.choice(TOPICS)
        title = f"{topic[0].upper()}{topic[1:]}: {rng.choice(OBJECTS)} {rng.choice(TAILS)}"
        paragraphs = _paragraphs(rng, topic)
        published = NOW - SPAN + timedelta(seconds=spec["start"] + starts[index])
        root_id = next_id
        next_id += 1
        thread_posts = [(root_id, None, 0, title, paragraphs, published)]
        when = published
        depths = {root_id: 0}
        reply_ids = []
        for _ in range(shares[index]):
            reply_id = next_id
            next_id += 1
            parent = root_id if not reply_ids or rng.random() < 0.5 else rng.choice(reply_ids)
            depths[reply_id] = depths[parent] + 1
            when = when + timedelta(minutes=rng.expovariate(1 / 90))
            thread_posts.append(
                (reply_id, parent, depths[reply_id], "", _paragraphs(rng, topic), when)
            )
            reply_ids.append(reply_id)
        last_activity = max(when, published)
        for post_id, parent, depth, post_title, parts, at in thread_posts:
            author = rng.randrange(spec["authors"][0], spec["authors"][1])
            content = "".join(f"<p>{part}</p>" for part in parts)
            is_root = parent is None
            posts.write(
                copy_line(
                    (
                        post_id,
                        None,
                        community,
                        author,
                        None if is_root else root_id,
                        parent,
                        depth,
                        "Page" if is_root else "Note",
                        post_title,
                        content,
                        "\n\n".join(parts),
                        "",
                        False,
                        None,
                        "[]",
                        at,
                        None,
                        None,
                        rng.choice((0, 0, 0, 1, 2, 5)),
                        len(reply_ids) if is_root else 0,
                        last_activity if is_root else at,
                        None,
                    )
                )
            )
            title_terms, body_terms = entry_terms(post_title, "\n\n".join(parts))
            entries.write(
                copy_line(
                    (
                        post_id,
                        "thread" if is_root else "reply",
                        post_id,
                        None,
                        community,
                        root_id,
                        at,
                        title_terms,
                        body_terms,
                    )
                )
            )
            rows += 1
    return posts.getvalue().encode(), entries.getvalue().encode(), rows


# ------------------------------------------------------------------------------ database


def database_urls(server: str, name: str) -> tuple[URL, URL]:
    """(admin URL, benchmark database URL), both plain postgresql:// (asyncpg DSNs)."""
    admin = make_url(server).set(drivername="postgresql")
    return admin, admin.set(database=name)


def dsn(url: URL) -> str:
    return url.render_as_string(hide_password=False)


async def migrate_kept(url: URL) -> None:
    """Bring a kept database up to this copnet's schema (a no-op when it is current)."""
    from models.database import create_engine
    from models.migrate import upgrade

    engine = create_engine(dsn(url.set(drivername="postgresql+asyncpg")))
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql("VACUUM ANALYZE posts")
    finally:
        await engine.dispose()


async def create_schema(url: URL, cop_count: int) -> list[tuple[int, str]]:
    """Migrate and create the CoPs; returns [(actor id, name)]."""
    from models.actors import ensure_instance_actor
    from models.communities import create_community
    from models.database import create_engine, session_factory
    from models.migrate import upgrade

    engine = create_engine(dsn(url.set(drivername="postgresql+asyncpg")))
    cops = []
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session:
            await ensure_instance_actor(session)
            for index in range(cop_count):
                name, title = COP_TOPICS[index % len(COP_TOPICS)]
                name = name.replace("-", "_")
                if index >= len(COP_TOPICS):
                    name, title = f"{name}_{index // len(COP_TOPICS)}", f"{title} {index}"
                community = await create_community(
                    session, name, title=title, summary_html=f"<p>A CoP about {title}.</p>"
                )
                cops.append((community.actor_id, name))
            await session.commit()
    finally:
        await engine.dispose()
    return cops


async def copy_authors(connection, count: int) -> tuple[int, int]:
    """Remote Person actors; returns their id range [first, last)."""
    first = int(await connection.fetchval("SELECT coalesce(max(id), 0) + 1 FROM actors"))
    rng = random.Random(7)
    buffer = io.StringIO()
    for n in range(count):
        actor_id = first + n
        domain = f"social{n % 40}.example"
        name = f"{rng.choice(FIRST_NAMES).lower()}{n}"
        buffer.write(
            copy_line(
                (
                    actor_id,
                    "Person",
                    None,
                    f"https://{domain}/users/{name}",
                    name,
                    domain,
                    f"{rng.choice(FIRST_NAMES)} ({rng.choice(ROLES)})",
                    "",
                    "",
                    f"https://{domain}/users/{name}/inbox",
                    f"https://{domain}/inbox",
                    None,
                    None,
                    f"https://{domain}/@{name}",
                    None,
                    NOW,
                    f"https://{domain}/users/{name}#main-key",
                    "-",
                    None,
                    NOW,
                    NOW,
                    False,
                )
            )
        )
    columns = [
        "id",
        "type",
        "local_name",
        "ap_id",
        "username",
        "domain",
        "display_name",
        "summary_source",
        "summary_html",
        "inbox_url",
        "shared_inbox_url",
        "outbox_url",
        "followers_url",
        "url",
        "icon_url",
        "fetched_at",
        "public_key_id",
        "public_key_pem",
        "private_key_pem",
        "published",
        "updated",
        "gone",
    ]
    await check_columns(connection, "actors", columns)
    await connection.copy_to_table(
        "actors", source=io.BytesIO(buffer.getvalue().encode()), columns=columns, format="text"
    )
    await connection.execute("SELECT setval('actors_id_seq', (SELECT max(id) FROM actors))")
    return first, first + count


async def check_columns(connection, table: str, columns: list[str]) -> None:
    """Fail clearly if the schema grew a NOT NULL column without default that we do not fill."""
    rows = await connection.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
        "AND is_nullable = 'NO' AND column_default IS NULL AND is_generated = 'NEVER'",
        table,
    )
    missing = sorted({row["column_name"] for row in rows} - set(columns))
    if missing:
        raise SystemExit(f"{table} has new required columns this bench does not fill: {missing}")


class Progress:
    """One status line: done/total, rate, ETA (a new line every 10 s when not a terminal)."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label = total, label
        self.started = time.monotonic()
        self.shown = 0.0
        self.tty = sys.stderr.isatty()

    def update(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.shown < (0.5 if self.tty else 10.0):
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate else 0
        width = 30
        filled = int(width * done / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        line = (
            f"{self.label} [{bar}] {done:,}/{self.total:,} rows  {rate:,.0f} rows/s  "
            f"elapsed {elapsed:,.0f} s  ETA {eta:,.0f} s"
        )
        if self.tty:
            print("\r" + line, end="\n" if final else "", file=sys.stderr, flush=True)
        else:
            log(line)


async def seed(url: URL, args) -> dict:
    """Load the archive; returns figures."""
    from models.search_index import search_vector_sql

    threads = max(1, round(THREADS * args.scale))
    replies = round(REPLIES * args.scale)
    cop_count = COPS
    author_count = max(50, round(AUTHORS * args.scale))
    figures: dict = {"threads": threads, "replies": replies, "cops": cop_count}
    started = time.monotonic()
    cops = await create_schema(url, cop_count)
    connection = await asyncpg.connect(dsn(url))
    try:
        await check_columns(connection, "posts", POST_COLUMNS)
        await check_columns(connection, "search_entries", ENTRY_COLUMNS)
        await connection.execute("SET synchronous_commit = off")
        # A throwaway database: skip foreign-key triggers during the load (ids are consistent).
        await connection.execute("SET session_replication_role = replica")
        authors = await copy_authors(connection, author_count)
        await connection.execute("DROP INDEX ix_search_entries_search_vector")
        # Entries arrive with their analysed terms; PostgreSQL keeps only the tsvector.
        await connection.execute(
            "CREATE TEMP TABLE search_staging (id bigint, kind text, post_id bigint, "
            "document_id bigint, community_id bigint, thread_id bigint, published timestamptz, "
            "title_terms text, body_terms text)"
        )
        vector = search_vector_sql("title_terms", "body_terms")
        chunks = []
        first_id = 1
        remaining_threads, remaining_replies = threads, replies
        chunk_count = max(1, -(-threads // THREADS_PER_CHUNK))
        chunk_seconds = (SPAN.total_seconds() - 7 * 86400) / chunk_count
        for index in range(chunk_count):
            chunk_threads = min(THREADS_PER_CHUNK, remaining_threads)
            chunk_replies = (
                remaining_replies
                if index == chunk_count - 1
                else round(replies * chunk_threads / threads)
            )
            chunks.append(
                {
                    "seed": index,
                    "first_id": first_id,
                    "threads": chunk_threads,
                    "replies": chunk_replies,
                    "cops": [cop_id for cop_id, _ in cops],
                    "authors": authors,
                    "start": index * chunk_seconds,
                    "span": chunk_seconds,
                }
            )
            first_id += chunk_threads + chunk_replies
            remaining_threads -= chunk_threads
            remaining_replies -= chunk_replies
        total_rows = threads + replies
        progress = Progress(total_rows, "seeding")
        loop = asyncio.get_running_loop()
        done = 0
        load_started = time.monotonic()
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            pending = [
                loop.run_in_executor(pool, generate_chunk, chunk)
                for chunk in chunks[: args.workers * 2]
            ]
            next_chunk = len(pending)
            while pending:
                posts_copy, entries_copy, rows = await pending.pop(0)
                if next_chunk < len(chunks):
                    pending.append(loop.run_in_executor(pool, generate_chunk, chunks[next_chunk]))
                    next_chunk += 1
                async with connection.transaction():
                    await connection.copy_to_table(
                        "posts", source=io.BytesIO(posts_copy), columns=POST_COLUMNS, format="text"
                    )
                    await connection.copy_to_table(
                        "search_staging",
                        source=io.BytesIO(entries_copy),
                        columns=STAGING_COLUMNS,
                        format="text",
                    )
                    await connection.execute(
                        f"INSERT INTO search_entries ({', '.join(ENTRY_COLUMNS)}, search_vector) "
                        f"SELECT {', '.join(ENTRY_COLUMNS)}, {vector} FROM search_staging"
                    )
                    await connection.execute("TRUNCATE search_staging")
                done += rows
                progress.update(done)
        progress.update(done, final=True)
        figures["load_seconds"] = time.monotonic() - load_started
        figures["rows"] = done
        await connection.execute("SELECT setval('posts_id_seq', (SELECT max(id) FROM posts))")
        await connection.execute(
            "SELECT setval('search_entries_id_seq', (SELECT max(id) FROM search_entries))"
        )
        log("building the GIN index on search_entries.search_vector ...")
        index_started = time.monotonic()
        await connection.execute("SET maintenance_work_mem = '1GB'")
        await connection.execute(
            "CREATE INDEX ix_search_entries_search_vector ON search_entries "
            "USING gin (search_vector)"
        )
        figures["gin_seconds"] = time.monotonic() - index_started
        log("VACUUM ANALYZE ...")
        vacuum_started = time.monotonic()
        await connection.execute("VACUUM (ANALYZE) actors, posts, search_entries")
        figures["vacuum_seconds"] = time.monotonic() - vacuum_started
        figures["seed_seconds"] = time.monotonic() - started
    finally:
        await connection.close()
    return figures


async def sizes(url: URL) -> dict[str, int]:
    connection = await asyncpg.connect(dsn(url))
    try:
        return {
            "database": await connection.fetchval("SELECT pg_database_size(current_database())"),
            "posts (with indexes)": await connection.fetchval(
                "SELECT pg_total_relation_size('posts')"
            ),
            "search_entries (with indexes)": await connection.fetchval(
                "SELECT pg_total_relation_size('search_entries')"
            ),
            "GIN index": await connection.fetchval(
                "SELECT pg_relation_size('ix_search_entries_search_vector')"
            ),
        }
    finally:
        await connection.close()


# ------------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """copnet in its own process group, output to a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            argv,
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def wait_ready(self, url: str, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"copnet exited early:\n{self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with client.get(url) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"copnet did not answer within {within:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log.close()


async def start_copnet(url: URL, workdir: Path) -> tuple[ServerProcess, str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "COPNET_CONFIG"},
        "DATABASE_URL": dsn(url),
        "COPNET_URL": base,
        "COPNET_HOST": "127.0.0.1",
        "COPNET_PORT": str(port),
        "COPNET_RUN_WORKERS": "false",
        "COPNET_ALLOW_PRIVATE_ADDRESSES": "true",
    }
    argv = [
        sys.executable,
        "-m",
        "server.cli.main",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    server = ServerProcess(argv, env, workdir / "copnet.log")
    await server.wait_ready(base + "/.well-known/nodeinfo")
    async with aiohttp.ClientSession() as client, client.get(base + "/search?q=x") as response:
        if response.status != 200:
            server.stop()
            raise SystemExit(f"copnet answers /search with {response.status}")
    return server, base


# --------------------------------------------------------------------------- measuring


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class NotOK(SystemExit):
    """A measured request did not answer 200: the run fails, whatever its latency."""


async def measure(client: aiohttp.ClientSession, urls: list[str], warm: int) -> dict:
    """The first `warm` URLs warm up (not measured); each of the others is measured once."""
    for url in urls[:warm]:
        async with client.get(url) as response:
            await response.read()
    latencies, statuses, size = [], {}, 0
    for url in urls[warm:]:
        started = time.perf_counter()
        async with client.get(url, headers={"Accept": "text/html"}) as response:
            body = await response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        size += len(body)
        if response.status != 200:
            raise NotOK(f"FAIL: {url} answered {response.status}: {body[:300]!r}")
    return {
        "n": len(latencies),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
        "statuses": statuses,
        "bytes": size // max(1, len(latencies)),
    }


async def measure_model_search(url: URL, queries: list[dict], warm: int) -> dict:
    from models.database import create_engine, session_factory
    from models.search import search

    engine = create_engine(dsn(url.set(drivername="postgresql+asyncpg")))
    sessions = session_factory(engine)
    latencies, totals = [], []
    try:
        for index, query in enumerate(queries):
            started = time.perf_counter()
            async with sessions() as session:
                page = await search(session, **query)
            if index >= warm:
                latencies.append((time.perf_counter() - started) * 1000)
                totals.append(page.total)
    finally:
        await engine.dispose()
    return {
        "n": len(latencies),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
        "statuses": {"matches (median)": int(statistics.median(totals))},
        "bytes": 0,
    }


async def measure_bare_sql(url: URL, queries: list[dict], warm: int) -> dict:
    """The reference: the same full-text match and rank as one plain SQL statement through
    asyncpg (no windows, no snippets, no HTML), so the cost copnet adds shows beside it."""
    from models.search import parse_query
    from models.search_candidates import TITLE_WEIGHT, tsquery_literal
    from models.search_index import SEARCH_VECTOR

    weights = f"'{{0.1, 0.2, {1 / TITLE_WEIGHT:.4f}, 1.0}}'::float4[]"
    connection = await asyncpg.connect(dsn(url))
    latencies, totals = [], []
    try:
        await connection.execute("SET jit = off")
        for index, query in enumerate(queries):
            literal = tsquery_literal(parse_query(query["query"]))
            filters, values = [], [literal]
            if query.get("community_id") is not None:
                values.append(query["community_id"])
                filters.append(f"AND community_id = ${len(values)}")
            if query.get("kind"):
                values.append(query["kind"])
                filters.append(f"AND kind = ${len(values)}")
            statement = (
                f"SELECT id, published, ts_rank_cd({weights}, {SEARCH_VECTOR}, q, 1) AS rank "
                f"FROM search_entries, CAST($1 AS tsquery) AS q "
                f"WHERE {SEARCH_VECTOR} @@ q {' '.join(filters)} "
                f"ORDER BY published DESC, id DESC LIMIT 1001"
            )
            started = time.perf_counter()
            rows = await connection.fetch(statement, *values)
            top = sorted(rows, key=lambda row: (-row["rank"], row["published"]))[:20]
            if index >= warm:
                latencies.append((time.perf_counter() - started) * 1000)
                totals.append(len(rows))
            del top
    finally:
        await connection.close()
    return {
        "n": len(latencies),
        "p50": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
        "statuses": {"matches (median)": int(statistics.median(totals))},
        "bytes": 0,
    }


async def run_latency(url: URL, base: str, args) -> dict[str, dict]:
    total = args.warm + args.requests  # warm-up requests first, never measured
    connection = await asyncpg.connect(dsn(url))
    try:
        thread_ids = [
            row["id"]
            for row in await connection.fetch(
                "SELECT id FROM posts WHERE thread_id IS NULL ORDER BY random() LIMIT $1", total
            )
        ]
        cops = await connection.fetch(
            "SELECT a.id, a.local_name FROM communities c JOIN actors a ON a.id = c.actor_id"
        )
    finally:
        await connection.close()
    rng = random.Random(11)
    kinds = [None, None, None, "thread", "reply"]
    texts = distinct_searches(max(args.queries, total))
    log(f"{len(set(texts))} distinct search queries")
    searches = []
    for n in range(total):
        query: dict = {"query": texts[n % len(texts)]}
        if n % 4 == 1:
            query["community_id"], query["cop"] = rng.choice(
                [(c["id"], c["local_name"]) for c in cops]
            )
        if n % 5 == 2:
            query["kind"] = rng.choice(kinds[3:])
        searches.append(query)

    def search_url(query: dict) -> str:
        params = {"q": query["query"]}
        if "cop" in query:
            params["cop"] = query["cop"]
        if query.get("kind"):
            params["kind"] = query["kind"]
        return str(WebURL(base + "/search").with_query(params))

    results = {}
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as client:
        log(f"measuring {args.requests} requests of each kind (after {args.warm} warm-up) ...")
        results["thread page"] = await measure(
            client, [f"{base}/t/{thread_id}" for thread_id in thread_ids], args.warm
        )
        cop_urls = [f"{base}/c/{rng.choice(cops)['local_name']}" for _ in range(total)]
        results["CoP page"] = await measure(client, cop_urls, args.warm)
        results["search page"] = await measure(
            client, [search_url(query) for query in searches], args.warm
        )
    model_queries = [
        {k: v for k, v in query.items() if k in ("query", "community_id", "kind")}
        for query in searches
    ]
    results["search() in-process"] = await measure_model_search(url, model_queries, args.warm)
    results["bare SQL reference"] = await measure_bare_sql(url, model_queries, args.warm)
    return results


# ----------------------------------------------------------------------------- report


def human_bytes(value: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.1f} {unit}" if unit != "B" else f"{value} B"
        value /= 1024
    return str(value)


def print_report(figures: dict, sizes_: dict, results: dict, args) -> None:
    print()
    print(f"archive benchmark, scale {args.scale} (load average at start {args.load:.2f})")
    if figures:
        rows = figures["rows"]
        print(
            f"  seeded {figures['threads']:,} threads + {figures['replies']:,} replies in "
            f"{figures['cops']} CoPs, with their search entries"
        )
        print(
            f"  load (COPY posts + search_entries): {figures['load_seconds']:,.1f} s = "
            f"{rows / figures['load_seconds']:,.0f} posts/s (each also indexed)"
        )
        print(
            f"  GIN index build {figures['gin_seconds']:,.1f} s, VACUUM ANALYZE "
            f"{figures['vacuum_seconds']:,.1f} s; total seeding {figures['seed_seconds']:,.1f} s "
            f"= {rows / figures['seed_seconds']:,.0f} posts/s overall"
        )
    for name, value in sizes_.items():
        print(f"  size of {name}: {human_bytes(value)}")
    print()
    print(
        f"  {'request':22} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  {'target':18} notes"
    )
    for name, result in results.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            p50_target, p95_target = target
            ok = result["p50"] < p50_target
            verdict = f"p50<{p50_target:.0f}"
            if p95_target is not None:
                ok = ok and result["p95"] < p95_target
                verdict += f",p95<{p95_target:.0f}"
            verdict += " PASS" if ok else " FAIL"
        notes = ", ".join(f"{k}: {v}" for k, v in result["statuses"].items())
        if result["bytes"]:
            notes += f", {result['bytes'] // 1024} kB/page"
        print(
            f"  {name:22} {result['n']:>5} {result['p50']:>8.1f} {result['p95']:>8.1f} "
            f"{result['max']:>8.1f}  {verdict:18} {notes}"
        )


# ------------------------------------------------------------------------------- main


async def bench(args) -> None:
    server_url = os.environ.get("COPNET_BENCH_POSTGRES", DEFAULT_POSTGRES)
    name = args.reuse or f"copnet_bench_archive_{os.getpid()}"
    admin, url = database_urls(server_url, name)
    created = False
    figures: dict = {}
    server = None
    workdir = Path(tempfile.mkdtemp(prefix="copnet-archive-"))
    try:
        if not args.reuse:
            connection = await asyncpg.connect(dsn(admin))
            try:
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()
            created = True
            log(f"created database {name}")
            figures = await seed(url, args)
        else:
            await migrate_kept(url)
        sizes_ = await sizes(url)
        server, base = await start_copnet(url, workdir)
        results = await run_latency(url, base, args)
        print_report(figures, sizes_, results, args)
    finally:
        if server is not None:
            server.stop()
        if created and not args.keep:
            connection = await asyncpg.connect(dsn(admin))
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await connection.close()
            log(f"dropped database {name}")
        elif created:
            log(f"kept database {name}: rerun with --reuse {name}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of full size (1.0)")
    parser.add_argument("--requests", type=int, default=300, help="requests per kind (300)")
    parser.add_argument("--warm", type=int, default=30, help="warm-up requests per kind (30)")
    parser.add_argument(
        "--queries", type=int, default=330, help="distinct search queries at least (330)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=max(1, (os.cpu_count() or 2) - 1),
        help="row generator processes (CPUs - 1)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="DATABASE", help="measure a kept database, no seeding")
    args = parser.parse_args(argv)
    args.load = os.getloadavg()[0]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(bench(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; copnet stopped and database dropped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
