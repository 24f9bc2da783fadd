"""The parts of Huey thumbgen's queue leans on beyond its public API, pinned.

The SQLite backend overrides ``SqliteStorage._create_connection``, creates
Huey's tables from a copy of ``SqliteStorage.ddl`` and writes tokens
straight into the ``task`` and ``schedule`` tables, in the job's own
transaction. None of that is Huey's promise, so an upgrade that changes
it must fail here, loudly, before it strands a job. (The worker's use of
Huey's consumer internals is pinned beside the worker.)

Everything runs on in-memory databases: no files, no processes.
"""

from __future__ import annotations

import datetime
import inspect
import sqlite3

import huey
import pytest
from huey import SqliteHuey
from huey.storage import SqliteStorage

from thumbgen.jobqueue.contract import QUEUE_NAME, Backend
from thumbgen.jobqueue.huey_app import Queue
from thumbgen.jobqueue.sqlite import db as sqlite_db
from thumbgen.jobqueue.sqlite import huey_storage, schema

#: The minor version these pins were checked on; pyproject pins the same range.
PINNED = (3, 5)


def _storage() -> SqliteStorage:
    storage = huey_storage.NormalSyncStorage(QUEUE_NAME, filename=":memory:", create_tables=False)
    with storage.db(commit=True) as curs:
        for ddl in SqliteStorage.ddl:
            curs.execute(ddl)
    return storage


def _columns(conn: sqlite3.Connection, table: str) -> dict[str, tuple[str, bool]]:
    """name -> (declared type, NOT NULL) for each column of ``table``."""
    return {
        name: (kind.lower(), bool(notnull))
        for _, name, kind, notnull, _, _ in conn.execute(f"PRAGMA table_info({table})")
    }


def test_huey_is_the_minor_version_these_pins_were_checked_on() -> None:
    version = tuple(int(part) for part in huey.__version__.split(".")[:2])
    assert version == PINNED, f"huey {huey.__version__}: re-check the pins below, then move PINNED"


def test_create_connection_is_the_hook_that_makes_each_connection() -> None:
    hook = SqliteStorage.__dict__.get("_create_connection")
    assert callable(hook)
    assert list(inspect.signature(hook).parameters) == ["self"]
    storage = huey_storage.NormalSyncStorage(QUEUE_NAME, filename=":memory:", create_tables=False)
    conn = storage.conn  # made through the hook, lazily
    assert isinstance(conn, sqlite3.Connection)
    assert conn.isolation_level is None  # autocommit, as Huey's own writes expect
    assert conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL: the override ran
    storage.close()


def test_sqlite_huey_builds_its_storage_from_storage_class() -> None:
    assert SqliteHuey.storage_class is SqliteStorage
    transport = huey_storage.make_huey(":memory:", 1.0)
    assert isinstance(transport.storage, huey_storage.NormalSyncStorage)
    assert transport.name == QUEUE_NAME


def test_the_schema_creates_hueys_tables_exactly_as_huey_would() -> None:
    assert tuple(SqliteStorage.ddl) == schema.HUEY_DDL
    assert schema.statements()[: len(schema.HUEY_DDL)] == list(SqliteStorage.ddl)


def test_ddl_has_the_task_and_schedule_tables_the_store_writes() -> None:
    conn = sqlite3.connect(":memory:")
    for ddl in SqliteStorage.ddl:
        conn.execute(ddl)
    task = _columns(conn, "task")
    schedule = _columns(conn, "schedule")
    assert {k: task[k] for k in ("queue", "data", "priority")} == {
        "queue": ("text", True),
        "data": ("blob", True),
        "priority": ("real", True),
    }
    assert {k: schedule[k] for k in ("queue", "data", "timestamp")} == {
        "queue": ("text", True),
        "data": ("blob", True),
        "timestamp": ("real", True),
    }
    # The store's own statements compile against them.
    conn.execute(sqlite_db.INSERT_TOKEN, (QUEUE_NAME, b"x"))
    conn.execute(sqlite_db.INSERT_SCHEDULED_TOKEN, (QUEUE_NAME, b"x", 1.0))
    assert conn.execute(sqlite_db.COUNT_TOKENS, (QUEUE_NAME, QUEUE_NAME)).fetchone() == (2,)
    for sql in sqlite_db.DELETE_TOKENS:
        conn.execute(sql, (QUEUE_NAME,))
    assert conn.execute(sqlite_db.COUNT_TOKENS, (QUEUE_NAME, QUEUE_NAME)).fetchone() == (0,)


def test_huey_dequeues_and_counts_a_token_row_the_store_wrote() -> None:
    storage = _storage()
    storage.conn.execute(sqlite_db.INSERT_TOKEN, (QUEUE_NAME, b"token"))
    storage.conn.execute(sqlite_db.INSERT_TOKEN, ("another-queue", b"not ours"))
    assert storage.queue_size() == 1
    assert bytes(storage.dequeue()) == b"token"
    assert storage.dequeue() is None
    storage.close()


@pytest.mark.parametrize("delay", [0.0, 60.0])
def test_hueys_scheduler_reads_the_timestamp_the_store_wrote(delay: float) -> None:
    # Queue.delayed() makes the (message, timestamp) pair the store inserts;
    # Huey's scheduler must release it at its eta and not before.
    transport = huey_storage.make_huey(":memory:", 1.0)
    queue = Queue(Backend(":memory:", lambda: transport, lambda tokens: None))  # tokens, no store
    data, timestamp = queue.delayed(delay)
    eta = transport.deserialize_task(data).eta
    storage = transport.storage
    with storage.db(commit=True) as curs:
        for ddl in SqliteStorage.ddl:
            curs.execute(ddl)
    storage.conn.execute(sqlite_db.INSERT_SCHEDULED_TOKEN, (QUEUE_NAME, data, timestamp))
    assert storage.schedule_size() == 1
    assert transport.read_schedule(eta - datetime.timedelta(seconds=1)) == []
    (task,) = transport.read_schedule(eta)
    assert task.name == "run_token"
    storage.close()
