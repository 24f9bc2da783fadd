"""``GET /metrics``: the queue and this server in the Prometheus text format.

Written by ``prometheus_client`` (the Prometheus project's own Python
client), so the exposition format is theirs, not ours. Two kinds of numbers:

- The queue's, read from the store at each scrape (a custom collector):
  counters of jobs done, failed (per reason class) and vanished ever, which
  the store raises as it records each outcome; gauges of jobs per state,
  failed jobs now per reason class, live workers and jobs finished in the
  last minute; and job durations as a *gauge histogram* over the newest
  done jobs. Any number of servers on one queue report the same values.
- This server process's own, real counters: upload requests by status and
  upload body bytes received. They start at 0 with the process, as
  Prometheus counters may.

Each app has its own registry (several apps in one test process must not
share counters), and nothing is registered in the client's global one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
)
from prometheus_client.registry import Collector

from thumbgen.commands.metrics import REASON_CLASSES, queue_metrics
from thumbgen.commands.queues import Queue, State

from .auth import require_token
from .routes import COMMON

#: Upper bounds of the duration buckets, in seconds: a small JPEG to a large RAW.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

router = APIRouter(dependencies=[Depends(require_token)], responses=COMMON)


@dataclasses.dataclass
class ServerMetrics:
    """One app's registry and the counters its routes update."""

    registry: CollectorRegistry
    upload_requests: Counter
    upload_bytes: Counter

    def upload_done(self, status: int) -> None:
        """Count one upload request with the status it was answered."""
        self.upload_requests.labels(status=str(status)).inc()


def make_metrics(queue: Queue) -> ServerMetrics:
    """A registry with the queue's collector and this process's upload counters."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_QueueCollector(queue))
    return ServerMetrics(
        registry,
        Counter(
            "thumbgen_upload_requests",
            "POST /thumbnails requests this server answered, by status",
            ["status"],
            registry=registry,
        ),
        Counter(
            "thumbgen_upload_bytes",
            "Upload request body bytes this server received (refused requests too)",
            registry=registry,
        ),
    )


def get_metrics(request: Request) -> ServerMetrics:
    """The app's :class:`ServerMetrics`."""
    metrics: ServerMetrics = request.app.state.metrics
    return metrics


class _QueueCollector(Collector):
    """The queue's numbers, read from the store when scraped."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def collect(
        self,
    ) -> Iterator[GaugeMetricFamily | GaugeHistogramMetricFamily | CounterMetricFamily]:
        m = queue_metrics(self.queue)
        yield CounterMetricFamily(
            "thumbgen_jobs_done",
            "Jobs done since the queue began (any worker, any machine)",
            value=m.totals.get("done", 0),
        )
        failed_ever = CounterMetricFamily(
            "thumbgen_jobs_failed",
            "Job failures since the queue began, per reason class",
            labels=["reason_class"],
        )
        for name in sorted({n for _, n in REASON_CLASSES} | {"other"}):
            failed_ever.add_metric([name], m.totals.get(f"failed:{name}", 0))
        yield failed_ever
        yield CounterMetricFamily(
            "thumbgen_jobs_vanished",
            "Jobs whose source was gone when they ran, since the queue began",
            value=m.totals.get("vanished", 0),
        )
        jobs = GaugeMetricFamily("thumbgen_jobs", "Jobs in the queue per state", labels=["state"])
        for state in State:
            jobs.add_metric([state.value], getattr(m.counts, state.value))
        yield jobs
        failed = GaugeMetricFamily(
            "thumbgen_failed_jobs",
            "Failed jobs now, per reason class (a gauge: retry and clear lower it)",
            labels=["reason_class"],
        )
        for name, count in sorted(m.failed_by_class.items()):
            failed.add_metric([name], count)
        yield failed
        yield GaugeMetricFamily(
            "thumbgen_workers", "Live workers on the queue (any machine)", value=m.workers
        )
        yield GaugeMetricFamily(
            "thumbgen_jobs_finished_last_minute",
            "Jobs done or failed in the last 60 seconds",
            value=m.finished_last_minute,
        )
        yield GaugeMetricFamily(
            "thumbgen_queue_paused", "1 while the queue is paused", value=int(m.paused)
        )
        yield _durations(m.durations)


def _durations(durations: list[float]) -> GaugeHistogramMetricFamily:
    buckets = [
        (str(bound), float(sum(1 for d in durations if d <= bound))) for bound in DURATION_BUCKETS
    ]
    buckets.append(("+Inf", float(len(durations))))
    return GaugeHistogramMetricFamily(
        "thumbgen_job_duration_seconds",
        "Run time of the newest done jobs (up to 1000): a gauge histogram of a window, "
        "not a counter of every job",
        buckets=buckets,
        gsum_value=sum(durations),
    )


@router.get(
    "/metrics",
    summary="The queue and this server in the Prometheus text format",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(server: Annotated[ServerMetrics, Depends(get_metrics)]) -> Response:
    """Every metric, read now; the queue's numbers come from the store, as ``status`` does."""
    return Response(generate_latest(server.registry), media_type=CONTENT_TYPE_LATEST)
