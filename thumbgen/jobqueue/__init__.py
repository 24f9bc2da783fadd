"""The durable job queue: a job store (the source of truth) beside Huey (the transport).

:func:`thumbgen.jobqueue.backend.open_queue` picks the backend for a location.
"""
