"""Huey is imported without redis-py for SQLite queues, and still serves Redis ones.

``huey.storage`` imports redis-py if it can, which loads asyncio: most of
the start-up of every worker and ``add --wait``. ``huey_app.import_huey``
keeps it out until the Redis backend loads it, then fills in what Huey's
Redis storage needs. Each check runs in a fresh interpreter: this test
process has imported redis-py already.
"""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> None:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_the_worker_module_loads_huey_without_redis() -> None:
    _run(
        "import sys\n"
        "import thumbgen.workers.consumer\n"
        "import huey.storage\n"
        "assert 'redis' not in sys.modules, 'redis-py was imported'\n"
        "assert huey.storage.Redis is None\n"
    )


def test_a_redis_transport_still_works_after_huey_came_without_redis() -> None:
    # A SQLite queue first (Huey without redis-py), then a Redis queue in the
    # same process: its transport is made from Huey's Redis storage, filled in.
    # The storage connects lazily, so no server is needed to make it.
    _run(
        "import thumbgen.workers.consumer\n"
        "import huey.storage\n"
        "assert huey.storage.Redis is None\n"
        "import redis\n"
        "from thumbgen.jobqueue.huey_app import import_huey\n"
        "import_huey()\n"
        "from thumbgen.jobqueue.redis.connection import Settings\n"
        "from thumbgen.jobqueue.redis.huey_storage import make_huey\n"
        "from thumbgen.jobqueue.redis.url import parse\n"
        "h = make_huey(parse('redis://127.0.0.1:1/0'), Settings.from_env())\n"
        "assert isinstance(h.storage.conn, redis.Redis)\n"
        "assert huey.storage.ConnectionError is redis.exceptions.ConnectionError\n"
        "assert huey.storage.TimeoutError is redis.exceptions.TimeoutError\n"
    )
