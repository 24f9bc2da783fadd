"""What the worker leans on inside Huey's consumer: fail loudly if an upgrade moves it.

thumbgen.workers.consumer subclasses Huey's Consumer, Worker and Scheduler and
overrides hooks that are not all public. pyproject pins Huey to the minor
range these were checked against; this file is what makes a wider range safe.
"""

from __future__ import annotations

import inspect

import huey
from huey.consumer import Consumer, ConsumerStopped, ProcessEnvironment, Scheduler, Worker

from thumbgen.workers import consumer as worker


def test_the_consumer_hooks_the_worker_overrides_exist() -> None:
    for name in ("get_environment", "_create_worker", "_create_scheduler", "start", "loop", "stop"):
        assert callable(getattr(Consumer, name)), name
    params = inspect.signature(Consumer.__init__).parameters
    for name in (
        "workers",
        "periodic",
        "initial_delay",
        "backoff",
        "max_delay",
        "scheduler_interval",
        "worker_type",
        "check_worker_health",
        "health_check_interval",
        "shutdown_timeout",
    ):
        assert name in params, name
    assert "graceful" in inspect.signature(Consumer.stop).parameters
    assert issubclass(ConsumerStopped, Exception)


def test_worker_and_scheduler_hooks_exist() -> None:
    for cls in (Worker, Scheduler):
        for name in ("initialize", "loop"):
            assert callable(getattr(cls, name)), (cls, name)
    assert callable(Worker.shutdown)
    params = inspect.signature(Worker.__init__).parameters
    for name in ("huey", "default_delay", "max_delay", "backoff"):
        assert name in params, name
    # The Scheduler is built with these keywords in worker._JobConsumer.
    params = inspect.signature(Scheduler.__init__).parameters
    for name in ("huey", "interval", "periodic"):
        assert name in params, name


def test_the_process_environment_takes_the_graceful_and_interrupt_signals() -> None:
    # ProcessEnvironment(graceful, interrupt): children ignore the first and
    # are interrupted with the second.
    import signal

    env = ProcessEnvironment(signal.SIGINT, signal.SIGUSR1)
    assert env.forks is True


def test_a_started_consumer_has_the_attributes_the_worker_reads(tmp_path) -> None:
    # worker._reap() joins consumer.worker_threads and consumer.scheduler.
    instance = huey.MemoryHuey("pins", utc=True)
    consumer = Consumer(instance, workers=1, worker_type="thread")
    assert isinstance(consumer.worker_threads, list)
    assert hasattr(consumer, "scheduler")
    assert hasattr(consumer, "stop_flag")
    for name in ("default_delay", "max_delay", "backoff", "scheduler_interval", "periodic"):
        assert hasattr(consumer, name), name
    assert issubclass(worker._JobConsumer, Consumer)


def test_the_main_loop_waits_on_the_stop_flag_for_stop_flag_timeout() -> None:
    # _JobConsumer shortens _stop_flag_timeout so that a stop signal is seen sooner.
    import inspect

    instance = huey.MemoryHuey("pins", utc=True)
    consumer = Consumer(instance, workers=1, worker_type="thread")
    assert consumer._stop_flag_timeout == 0.1
    assert "self.stop_flag.wait(timeout=self._stop_flag_timeout)" in inspect.getsource(
        Consumer.loop
    )


def test_the_installed_huey_is_in_the_pinned_range() -> None:
    major, minor = (int(x) for x in huey.__version__.split(".")[:2])
    assert (major, minor) == (3, 5), huey.__version__
