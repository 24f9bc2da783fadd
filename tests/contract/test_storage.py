"""The storage contract: every implementation of :class:`thumbgen.storage.Storage`, one suite.

Each test runs once per entry of ``STORAGES`` on a fresh, empty root and
sees only the protocol: keys, entries, streams and blobs. "s3" is a prefix
of a bucket on a real S3 server (SeaweedFS, :mod:`support.s3_server`).
``broken_key`` names, per implementation, a key whose write fails for real,
to prove that a set is stored all or none.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.s3_server import S3Server

from thumbgen.errors import OutputError, SourceMissing, ThumbgenError
from thumbgen.storage import Blob, Entry, LocalStorage, Storage, Unlisted, open_storage

STORAGES = ["local", "s3"]
_PREFIXES = itertools.count()


@pytest.fixture(scope="session")
def s3_bucket(s3_server: S3Server) -> str:
    """One bucket for the session; each test gets a prefix of its own."""
    return s3_server.make_bucket("contract")


@pytest.fixture(params=STORAGES)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """A fresh, empty storage of the kind named by the parameter."""
    if request.param == "local":
        (tmp_path / "root").mkdir()
        yield open_storage(str(tmp_path / "root"))
    elif request.param == "s3":
        server: S3Server = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("s3_bucket")
        with pytest.MonkeyPatch.context() as env:
            for name, value in server.env().items():
                if name.startswith("AWS_"):
                    env.setenv(name, value)
            yield open_storage(f"{bucket}/t{next(_PREFIXES)}/")
    else:
        raise AssertionError(f"no fixture for storage {request.param!r}")


@pytest.fixture
def broken_key(storage: Storage) -> Callable[[], str]:
    """Make a key whose write fails for real.

    Locally its parent folder is a file; on S3 its name is longer than a
    server takes (255 bytes a segment on SeaweedFS, 1,024 in all on AWS).
    """

    def make() -> str:
        storage.put_all([Blob("blocker", b"x", "text/plain")])
        if isinstance(storage, LocalStorage):
            return "blocker/inside.jpg"
        return "blocker-" + "b" * 1100 + ".jpg"

    return make


def blob(key: str, data: bytes = b"data") -> Blob:
    return Blob(key, data, "image/jpeg")


def keys(storage: Storage, prefix: str = "", *, recursive: bool = True) -> list[str]:
    return [e.key for e in storage.entries(prefix, recursive=recursive) if isinstance(e, Entry)]


def test_what_is_put_is_listed_read_and_stat(storage: Storage) -> None:
    storage.put_all([blob("a.jpg", b"one"), blob("sub/deeper/b.jpg", b"two!")])
    assert keys(storage) == ["a.jpg", "sub/deeper/b.jpg"]
    assert storage.stat("sub/deeper/b.jpg").size == 4
    with storage.open("a.jpg") as f:
        assert f.read() == b"one"
        f.seek(1)  # decoders seek: every stream does
        assert f.read() == b"ne"
    assert storage.exists("a.jpg")
    assert not storage.exists("nothing.jpg")


def test_a_range_is_read_without_the_rest(storage: Storage) -> None:
    storage.put_all([blob("a.jpg", b"0123456789")])
    assert storage.read("a.jpg", 2, 3) == b"234"
    assert storage.read("a.jpg", 7) == b"789"
    assert storage.read("a.jpg") == b"0123456789"


def test_listing_leaves_out_hidden_names_and_can_stay_in_one_folder(storage: Storage) -> None:
    storage.put_all([blob("a.jpg"), blob(".hidden.jpg"), blob(".cache/x.jpg"), blob("s/b.jpg")])
    assert keys(storage) == ["a.jpg", "s/b.jpg"]
    assert keys(storage, recursive=False) == ["a.jpg"]
    assert keys(storage, "s") == ["s/b.jpg"]


def test_a_listing_streams_in_key_order_folder_by_folder(storage: Storage) -> None:
    names = [f"d{i % 3}/f{i:03}.jpg" for i in range(30)]
    storage.put_all([blob(n) for n in names])
    listing = storage.entries()
    first = next(listing)  # a generator: nothing is gathered before the first entry
    assert isinstance(first, Entry)
    assert [first.key, *(e.key for e in listing if isinstance(e, Entry))] == sorted(names)


def test_a_rewritten_object_has_a_new_version(storage: Storage) -> None:
    storage.put_all([blob("a.jpg", b"one")])
    before = storage.stat("a.jpg")
    storage.put_all([blob("a.jpg", b"other")])
    after = storage.stat("a.jpg")
    assert after.version != before.version
    assert after.size == 5
    assert storage.read("a.jpg") == b"other"


def test_a_missing_object_is_source_missing_everywhere(storage: Storage) -> None:
    with pytest.raises(SourceMissing, match=r"gone\.jpg"):
        storage.stat("gone.jpg")
    with pytest.raises(SourceMissing, match=r"gone\.jpg"), storage.open("gone.jpg"):
        pass
    with pytest.raises(SourceMissing):
        storage.read("gone.jpg", 0, 4)


def test_a_set_is_stored_all_or_none(storage: Storage, broken_key: Callable[[], str]) -> None:
    storage.put_all([blob("old.jpg", b"old")])
    bad = broken_key()
    with pytest.raises(ThumbgenError) as info:
        storage.put_all([blob("new.jpg"), blob("old.jpg", b"replaced"), blob(bad)])
    assert isinstance(info.value, OutputError) or info.value.transient
    assert bad.rsplit("/", 1)[-1] in str(info.value)  # the message names the output
    assert not storage.exists("new.jpg")
    # A replaced object of a failed set is taken back rather than left out of step.
    assert not storage.exists("old.jpg") or storage.read("old.jpg") == b"old"


def test_put_new_never_replaces(storage: Storage, tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.write_bytes(b"first")
    second.write_bytes(b"second")
    assert storage.put_new([("h.jpg", str(first))]) == [True]
    assert storage.put_new([("h.jpg", str(second)), ("i.jpg", str(second))]) == [False, True]
    assert storage.read("h.jpg") == b"first"
    assert storage.read("i.jpg") == b"second"


def test_delete_removes_what_is_there_and_counts_it(storage: Storage) -> None:
    storage.put_all([blob("a/b/x.jpg"), blob("a/y.jpg")])
    assert storage.delete(["a/b/x.jpg", "a/b/gone.jpg"]) == 1
    assert keys(storage) == ["a/y.jpg"]
    assert storage.delete(["a/y.jpg"]) == 1
    assert keys(storage) == []


def test_serve_hands_out_stored_objects_only(storage: Storage) -> None:
    storage.put_all([blob("sub/a.jpg", b"12345")])
    served = storage.serve("sub/a.jpg")
    assert served is not None
    assert served.size == 5
    assert storage.serve("sub/nothing.jpg") is None
    assert storage.serve("sub") is None  # a folder is not an object


def test_listing_reports_what_it_cannot_look_at(storage: Storage, tmp_path: Path) -> None:
    if not isinstance(storage, LocalStorage):
        pytest.skip("a dangling link is a local thing")
    storage.put_all([blob("a.jpg")])
    os.symlink(str(tmp_path / "nowhere"), os.path.join(storage.location, "dangling"))
    found = list(storage.entries())
    assert [(type(e).__name__, e.key) for e in found] == [
        ("Entry", "a.jpg"),
        ("Unlisted", "dangling"),
    ]
    unlisted = found[1]
    assert isinstance(unlisted, Unlisted)
    assert unlisted.reason == "no such file or directory"


def test_prepare_fails_as_the_write_would(storage: Storage, broken_key: Callable[[], str]) -> None:
    storage.prepare("fine/a.jpg")
    storage.put_all([blob("fine/a.jpg")])
    bad = broken_key()
    with pytest.raises(ThumbgenError) as info:
        storage.prepare(bad)
    assert bad.rsplit("/", 1)[-1] in str(info.value)
