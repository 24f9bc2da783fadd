"""The S3 client is made once per bucket and configuration, and made again when either changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from thumbgen.storage.s3 import _client


@pytest.fixture(autouse=True)
def _aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No request is sent: making a client connects to nothing.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-one")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))


def test_one_client_serves_every_call_for_a_bucket() -> None:
    assert _client("photos") is _client("photos")
    assert _client("photos") is not _client("thumbs")


def test_other_settings_make_another_client(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _client("photos")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-two")
    assert _client("photos") is not before


def test_a_rotated_profile_makes_another_client(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.setenv("AWS_PROFILE", "work")
    credentials = tmp_path / "credentials"
    credentials.write_text("[work]\naws_access_key_id = A\naws_secret_access_key = B\n")
    before = _client("photos")
    assert _client("photos") is before
    credentials.write_text("[work]\naws_access_key_id = C\naws_secret_access_key = D\n")
    assert _client("photos") is not before
