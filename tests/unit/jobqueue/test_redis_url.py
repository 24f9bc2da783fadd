"""Redis queue URLs: parsing, never showing a password, settings from the environment.

Pure parts only (no server): the backend's use of them is in the contract
suite and tests/e2e/test_redis_*.py.
"""

from __future__ import annotations

import pytest

from thumbgen.errors import QueueError
from thumbgen.jobqueue.contract import QUEUE_NAME
from thumbgen.jobqueue.redis import connection, url


def test_a_full_url_parses() -> None:
    loc = url.parse("redis://:s3cret@cache.example:6380/2")
    assert (loc.host, loc.port, loc.db, loc.password, loc.tls) == (
        "cache.example",
        6380,
        2,
        "s3cret",
        False,
    )


def test_defaults_and_tls() -> None:
    loc = url.parse("rediss://redis.internal")
    assert (loc.host, loc.port, loc.db, loc.password, loc.tls) == (
        "redis.internal",
        6379,
        0,
        None,
        True,
    )


def test_user_and_escaped_password() -> None:
    loc = url.parse("redis://thumbs:p%40ss%3Aw@h:1/0")
    assert (loc.username, loc.password) == ("thumbs", "p@ss:w")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("redis://h:notaport/0", "Bad port"),
        ("redis://h:6379/zero", "Bad database number"),
        ("http://h/0", "Not a Redis URL"),
    ],
)
def test_bad_urls_give_one_line(text: str, message: str) -> None:
    with pytest.raises(QueueError, match=message) as caught:
        url.parse(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("redis://:s3cret@h:6379/0", "redis://:***@h:6379/0"),
        ("redis://user:s3cret@h/1", "redis://user:***@h/1"),
        ("rediss://h:6379/0", "rediss://h:6379/0"),
        ("redis://:s3cret@h:notaport/0", "redis://:***@h:notaport/0"),
    ],
)
def test_shown_hides_the_password(text: str, shown: str) -> None:
    assert url.shown(text) == shown
    with pytest.raises(QueueError) as caught:
        url.parse(text.replace("redis", "http", 1).replace("https", "http"))
    assert "s3cret" not in str(caught.value)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THUMBGEN_REDIS_LEASE", "4.5")
    monkeypatch.setenv("THUMBGEN_REDIS_RECONNECT", "60")
    settings = connection.Settings.from_env()
    assert (settings.lease, settings.reconnect) == (4.5, 60.0)
    assert settings.socket_timeout == connection.Settings.socket_timeout


def test_a_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THUMBGEN_REDIS_LEASE", "soon")
    with pytest.raises(QueueError, match="THUMBGEN_REDIS_LEASE='soon' is not a number"):
        connection.Settings.from_env()


def test_the_lease_outlasts_many_heartbeats() -> None:
    from thumbgen.workers import consumer as worker

    # A healthy worker must survive several missed beats before losing a job.
    assert connection.Settings.lease >= 10 * worker.HEARTBEAT_SECONDS


def test_huey_reads_tokens_from_the_keys_the_scripts_write() -> None:
    """Pins Huey's key names: the Lua scripts push tokens into these very keys."""
    from thumbgen.jobqueue.huey_app import import_huey
    from thumbgen.jobqueue.redis import huey_storage, scripts

    # As the Redis backend does: redis-py first, then Huey with its Redis names
    # filled in (a test that imported the worker first left Huey without them).
    connection.import_redis()
    import_huey()
    from huey import RedisHuey

    huey = RedisHuey(QUEUE_NAME, results=False)
    assert huey.storage.queue_key == huey_storage.TOKEN_LIST
    assert huey.storage.schedule_key == huey_storage.TOKEN_SCHEDULE
    assert f"'{huey_storage.TOKEN_LIST}'" in scripts.SUBMIT
    assert f"'{huey_storage.TOKEN_SCHEDULE}'" in scripts.SUBMIT


def test_a_sentinel_url_names_the_sentinels_the_service_and_the_database() -> None:
    loc = url.parse("redis+sentinel://:s3cret@10.0.0.1:26380,10.0.0.2/jobs/2")
    assert loc.sentinels == (("10.0.0.1", 26380), ("10.0.0.2", 26379))
    assert (loc.service, loc.db, loc.password) == ("jobs", 2, "s3cret")
    assert loc.shown == "redis+sentinel://:***@10.0.0.1:26380,10.0.0.2/jobs/2"
    assert url.parse("redis+sentinel://h/jobs").db == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("redis+sentinel://h:26379", "No service name"),
        ("redis+sentinel://h:26379/jobs/x", "Bad database number 'x'"),
        ("redis+sentinel://h:port/jobs", "Bad sentinel 'h:port'"),
    ],
)
def test_a_bad_sentinel_url_is_one_line(text: str, message: str) -> None:
    with pytest.raises(QueueError, match=message):
        url.parse(text)
