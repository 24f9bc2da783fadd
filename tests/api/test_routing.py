"""Routing and the one error shape: unknown routes, wrong methods, the schema, health, 500s.

Every error the API returns is ``{"error": "one line"}`` (thumbgen/server/errors.py),
whatever raised it: routing, validation, a route's own refusal, or a bug.
"""

from __future__ import annotations

import logging
import shutil

import pytest
from support.inprocess import ApiClient, InProcessServer


def assert_error(r: object, status: int) -> str:
    """``r`` is ``status`` with exactly ``{"error": "<one line>"}`` as JSON; the line."""
    import httpx

    assert isinstance(r, httpx.Response)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert list(body) == ["error"], body
    line = body["error"]
    assert isinstance(line, str)
    assert line
    assert "\n" not in line
    assert "Traceback" not in line
    return line


@pytest.mark.parametrize(
    "path", ["/nope", "/jobs/1/nope", "/queue", "/queue/stop", "/static", "/thumbnail/x.jpg"]
)
def test_an_unknown_route_is_404_in_the_error_shape(http: ApiClient, path: str) -> None:
    assert assert_error(http.get(path), 404) == "Not Found"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/jobs", "GET"),
        ("POST", "/jobs", "GET"),
        ("PUT", "/jobs/1", "GET"),
        ("GET", "/jobs/1/retry", "POST"),
        ("GET", "/queue/pause", "POST"),
        ("GET", "/queue/resume", "POST"),
        ("DELETE", "/thumbnails/x.jpg", "GET, HEAD"),
        ("POST", "/status", "GET"),
        ("POST", "/health", "GET"),
        ("POST", "/", "GET, HEAD"),
    ],
)
def test_a_wrong_method_is_405_with_allow(
    http: ApiClient, method: str, path: str, allowed: str
) -> None:
    r = http.request(method, path)
    assert assert_error(r, 405) == "Method Not Allowed"
    # The methods' order follows a set's: compare them as a set.
    assert set(r.headers["allow"].split(", ")) == set(allowed.split(", "))


def test_a_wrong_method_is_405_before_the_token_is_asked_for(
    guarded: InProcessServer,
) -> None:
    with guarded.client(auth=False) as anon:
        assert assert_error(anon.get("/queue/pause"), 405) == "Method Not Allowed"


def test_health_says_ok_and_nothing_about_the_queue(srv: InProcessServer, http: ApiClient) -> None:
    r = http.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert srv.queue.location not in r.text


@pytest.mark.parametrize(
    ("path", "status", "start"),
    [
        ("/jobs/abc", 404, "Not Found"),  # not a job id: no such route
        ("/jobs/0", 422, "Invalid job_id: "),
        ("/jobs/-3", 404, "Not Found"),
        (f"/jobs/{2**63}", 422, "Invalid job_id: "),
        ("/jobs/999", 404, "No job 999"),
        ("/jobs?state=bogus", 422, "Invalid state: "),
        ("/jobs?limit=0", 422, "Invalid limit: "),
        ("/jobs?limit=10001", 422, "Invalid limit: "),
        ("/jobs?limit=many", 422, "Invalid limit: "),
        ("/throughput?minutes=0", 422, "Invalid minutes: "),
        ("/throughput?minutes=61", 422, "Invalid minutes: "),
        ("/static/nothing.js", 404, "No dashboard file 'nothing.js'"),
        ("/thumbnails/missing.jpg", 404, "No such thumbnail"),
        ("/thumbnails/%2e%2e/secret.txt", 400, "Invalid thumbnail path"),
    ],
)
def test_every_refusal_is_one_json_line(
    http: ApiClient, path: str, status: int, start: str
) -> None:
    assert assert_error(http.get(path), status).startswith(start)


def test_a_post_refusal_is_one_json_line_too(http: ApiClient) -> None:
    assert assert_error(http.post("/jobs/7/retry"), 404) == "No job 7"
    assert assert_error(http.post("/jobs/x/retry"), 422).startswith("Invalid job_id: ")
    assert "multipart/form-data" in assert_error(http.post("/thumbnails"), 400)


def test_an_unexpected_error_is_a_plain_500_and_the_traceback_goes_to_the_log(
    srv: InProcessServer, http: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    # The uploads folder goes away under the running server: writing the
    # upload fails with an OSError nobody expected.
    shutil.rmtree(srv.uploads_dir)
    with caplog.at_level(logging.ERROR, logger="thumbgen.server"):
        r = http.post("/thumbnails", files={"file": ("a.jpg", b"\xff\xd8\xff\xe0" + b"0" * 64)})
    assert assert_error(r, 500) == "Internal error; the server's log has the details"
    [record] = [rec for rec in caplog.records if rec.name == "thumbgen.server"]
    assert record.getMessage() == "Unexpected error on POST /thumbnails"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], FileNotFoundError)
    assert http.get("/jobs").json() == []


def test_the_openapi_schema_documents_every_route_and_its_errors(http: ApiClient) -> None:
    r = http.get("/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["info"]["title"] == "thumbgen"
    assert '{"error": "one line"}' in schema["info"]["description"]
    assert set(schema["paths"]) == {
        "/health",
        "/status",
        "/jobs",
        "/jobs/{job_id}",
        "/jobs/{job_id}/retry",
        "/jobs/{job_id}/cancel",
        "/jobs/retry",
        "/jobs/cancel",
        "/jobs/clear",
        "/failures",
        "/queue/pause",
        "/queue/resume",
        "/thumbnails",
        "/thumbnails/{path}",
        "/events/s3",
        "/throughput",
        "/metrics",
    }  # the dashboard page and its files are left out
    assert set(schema["paths"]["/thumbnails/{path}"]) == {"get", "head"}
    [scheme] = schema["components"]["securitySchemes"].values()
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    secured = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path == "/health":
                assert "security" not in operation
                assert "503" in operation["responses"]
                continue
            assert operation.get("security"), (method, path)
            assert {"401", "503"} <= set(operation["responses"]), (method, path)
            secured.append((method, path))
    assert len(secured) == 17
    ids = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))  # OpenAPI: unique, GET and HEAD of one route too
    body = schema["paths"]["/thumbnails"]["post"]["requestBody"]["content"]
    form = body["multipart/form-data"]["schema"]
    assert form["required"] == ["file"]
    assert set(form["properties"]) == {"file", "size", "fit", "format", "quality"}
    assert form["additionalProperties"] is False
    assert form["properties"]["quality"] == {"type": "integer", "minimum": 1, "maximum": 100}


def test_the_schema_is_served_without_a_token_and_the_docs_page_too(
    guarded: InProcessServer,
) -> None:
    with guarded.client(auth=False) as anon:
        assert anon.get("/openapi.json").status_code == 200
        docs = anon.get("/docs")
        assert docs.status_code == 200
        assert "/openapi.json" in docs.text
