"""Workers: the processes that take jobs off the queue and make the thumbnails.

- ``consumer``: ``thumbgen worker``, a Huey consumer made to never lose or strand a job;
- ``runner``: what a worker does with a token (claim, thumbnail, record), with
  ``limits`` (the per-job time limit) and ``retry`` (backoff);
- ``embedded``: worker processes forked from a running command (``add --wait``,
  ``watch``, ``serve``);
- ``supervisor``: waiting for a batch and watching with embedded workers beside;
- ``stopping``: the one rule every long-running command stops by.
"""
