"""The bearer token: which routes need it, what counts as sending it, and the 401s.

The token is accepted in one place only, ``Authorization: Bearer <token>``
(thumbgen/server/auth.py); not in the query string or a cookie. The
dashboard page, its files, /health and the schema hold no data and need no
token.
"""

from __future__ import annotations

import pytest
from support.inprocess import TOKEN, InProcessServer

#: Every data endpoint, with what it answers on an empty queue once the token is right.
DATA_ENDPOINTS = [
    ("GET", "/status", 200),
    ("GET", "/jobs", 200),
    ("GET", "/jobs/1", 404),
    ("POST", "/jobs/1/retry", 404),
    ("POST", "/jobs/1/cancel", 404),
    ("POST", "/jobs/retry", 200),
    ("POST", "/jobs/cancel", 200),
    ("POST", "/jobs/clear", 200),
    ("GET", "/failures", 200),
    ("POST", "/queue/pause", 200),
    ("POST", "/queue/resume", 200),
    ("POST", "/thumbnails", 400),
    ("GET", "/thumbnails/x.jpg", 404),
    ("HEAD", "/thumbnails/x.jpg", 404),
    ("GET", "/throughput", 200),
]
#: What answers without a token even on a server that has one.
OPEN_ENDPOINTS = ["/health", "/", "/static/app.js", "/static/dashboard.css", "/openapi.json"]


@pytest.mark.parametrize(("method", "path", "_"), DATA_ENDPOINTS)
def test_without_the_token_every_data_endpoint_is_401(
    guarded: InProcessServer, method: str, path: str, _: int
) -> None:
    with guarded.client(auth=False) as anon:
        r = anon.request(method, path)
    assert r.status_code == 401, (method, path, r.status_code)
    assert r.headers["www-authenticate"] == "Bearer"
    if method != "HEAD":
        assert r.json() == {
            "error": "This server needs a token: send Authorization: Bearer <token>"
        }


@pytest.mark.parametrize(("method", "path", "_"), DATA_ENDPOINTS)
def test_a_wrong_token_is_401_on_every_data_endpoint(
    guarded: InProcessServer, method: str, path: str, _: int
) -> None:
    with guarded.client(auth=False) as anon:
        r = anon.request(method, path, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401, (method, path, r.status_code)
    assert r.headers["www-authenticate"] == "Bearer"
    if method != "HEAD":
        assert r.json() == {"error": "Wrong token"}


@pytest.mark.parametrize(("method", "path", "status"), DATA_ENDPOINTS)
def test_the_right_token_reaches_every_data_endpoint(
    guarded: InProcessServer, method: str, path: str, status: int
) -> None:
    with guarded.client() as http:
        r = http.request(method, path)
    assert r.status_code == status, (method, path, r.text)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {TOKEN}x"},  # a longer token is not the token
        {"Authorization": TOKEN[:-1]},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": ""},
    ],
    ids=["longer", "no-scheme", "prefix", "empty"],
)
def test_near_misses_of_the_token_are_refused(
    guarded: InProcessServer, headers: dict[str, str]
) -> None:
    with guarded.client(auth=False) as anon:
        r = anon.get("/status", headers=headers)
    assert r.status_code == 401
    assert "token" in r.json()["error"].lower()


def test_the_token_only_counts_in_the_authorization_header(guarded: InProcessServer) -> None:
    with guarded.client(auth=False) as anon:
        for attempt in (
            {"params": {"token": TOKEN}},
            {"params": {"access_token": TOKEN}},
            {"headers": {"Cookie": f"token={TOKEN}"}},
            {"headers": {"Authorization": f"Basic {TOKEN}"}},
            {"headers": {"X-Token": TOKEN}},
        ):
            r = anon.get("/status", **attempt)
            assert r.status_code == 401, attempt
            assert "needs a token" in r.json()["error"]
        # The scheme's name is case-insensitive (RFC 7235); the token is not.
        assert anon.get("/status", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
        upper = anon.get("/status", headers={"Authorization": f"Bearer {TOKEN.upper()}"})
        assert upper.status_code == 401


@pytest.mark.parametrize("path", OPEN_ENDPOINTS)
def test_what_holds_no_data_needs_no_token(guarded: InProcessServer, path: str) -> None:
    with guarded.client(auth=False) as anon:
        r = anon.get(path)
    assert r.status_code == 200, (path, r.text)


def test_a_refused_request_changes_nothing(guarded: InProcessServer) -> None:
    with guarded.client(auth=False) as anon, guarded.client() as http:
        assert anon.post("/queue/pause").status_code == 401
        assert http.get("/status").json()["paused"] is False
        files = {"file": ("a.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100)}
        assert anon.post("/thumbnails", files=files).status_code == 401
        assert http.get("/jobs").json() == []
    assert list(guarded.uploads_dir.iterdir()) == []


# Moved from tests/e2e/test_server_security.py (no process needed); assertions unchanged.
def test_without_a_token_anyone_on_loopback_may_use_it(srv: InProcessServer) -> None:
    with srv.client(auth=False) as http:
        assert http.get("/status").status_code == 200
        assert http.post("/queue/pause").json() == {"paused": True}
