"""S3 event notifications: queue the objects they say were created (``POST /events/s3``).

AWS (through SNS, SQS or EventBridge to a webhook), MinIO, Ceph and
SeaweedFS all send the same JSON: ``{"Records": [{"eventName":
"ObjectCreated:Put", "s3": {"bucket": {"name": ...}, "object": {"key": ...}}}]}``,
with the key URL-encoded (a space is ``+``). Only objects under the prefixes
the server was given (``serve --events``) are queued, with ``{dir}`` measured
from that prefix exactly as ``watch`` of the same prefix does, so an event
and the polling watch that backs it up name the same job. Objects under the
output prefix are never sources: thumbnails that trigger thumbnails are the
classic loop of a bucket that notifies on every PUT.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from thumbgen.errors import SourceMissing, UsageError
from thumbgen.options import Options

from .adding import AddReport, submit_found

if TYPE_CHECKING:
    from thumbgen.jobqueue.huey_app import Queue
    from thumbgen.storage import Entry

#: Records one notification may carry: AWS sends one, MinIO batches up to
#: its queue limit; more is not a notification.
MAX_RECORDS = 10_000


@dataclasses.dataclass
class EventReport:
    """What one notification queued, and what it named that was not queued (and why)."""

    added: AddReport | None
    ignored: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer of ``POST /events/s3``."""
        added = self.added.to_dict() if self.added is not None else None
        return {
            "queued": added["queued"] if added else 0,
            "already_queued": added["already_queued"] if added else 0,
            "up_to_date": added["up_to_date"] if added else 0,
            "skipped": (added["skipped"] if added else []),
            "ignored": [{"object": o, "reason": r} for o, r in self.ignored],
        }


def created_objects(payload: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """The ``s3://`` locations of the objects ``payload`` says were created.

    Also the records left out, with why (deletions, other events). A
    payload that is not a notification is a UsageError.
    """
    records = payload.get("Records") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        raise UsageError('Not an S3 event notification: expected {"Records": [...]}')
    if len(records) > MAX_RECORDS:
        raise UsageError(f"Too many records: at most {MAX_RECORDS} in one notification")
    created: list[str] = []
    ignored: list[tuple[str, str]] = []
    for record in records:
        s3 = record.get("s3") if isinstance(record, dict) else None
        bucket = _get(s3, "bucket", "name")
        key = _get(s3, "object", "key")
        if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
            raise UsageError(
                "Invalid S3 event record: it names no s3.bucket.name and s3.object.key"
            )
        location = f"s3://{bucket}/{urllib.parse.unquote_plus(key)}"
        event = str(record.get("eventName", ""))
        if "ObjectCreated" not in event:
            ignored.append((location, f"{event or 'an unnamed event'} is not a new object"))
        else:
            created.append(location)
    return list(dict.fromkeys(created)), ignored


def queue_events(
    queue: Queue,
    payload: Any,
    prefixes: Sequence[str],
    options: Options,
    *,
    priority: int = 0,
) -> EventReport:
    """Queue the objects a notification names under ``prefixes`` (one HEAD each).

    The HEAD gives the object's ETag now: an event delivered late for an
    object since overwritten queues the version that is there, and one for
    an object since deleted is ignored.
    """
    from thumbgen.storage import open_storage

    from .discovery import objects

    created, ignored = created_objects(payload)
    roots = sorted((p.rstrip("/") + "/" for p in prefixes), key=len, reverse=True)
    out = options.out_dir.rstrip("/") + "/"
    by_root: dict[str, list[Entry]] = {}
    for location in created:
        root = next((r for r in roots if location.startswith(r)), None)
        if root is None:
            ignored.append((location, "not under a prefix this server takes events for"))
        elif location.startswith(out):
            ignored.append((location, "a thumbnail: under the output prefix"))
        else:
            try:
                entry = open_storage(root).stat(location[len(root) :])
            except SourceMissing:
                ignored.append((location, "gone since the event"))
                continue
            by_root.setdefault(root, []).append(entry)
    added: AddReport | None = None
    for root, entries in by_root.items():
        found = objects(open_storage(root), entries, exclude=[options.out_dir])
        report = submit_found(queue, found, options, priority=priority, batch=None)
        if added is None:
            added = report
        else:
            added.submitted.merge(report.submitted)
            added.skipped += report.skipped
    return EventReport(added, ignored)


def _get(data: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(data, dict):
            return None
        data = data.get(name)
    return data
