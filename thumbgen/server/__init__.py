"""``thumbgen serve``: the HTTP upload API (and dashboard) on top of the job queue.

The only package that imports FastAPI, Starlette, uvicorn or python-multipart.
It never decodes an image: uploads are streamed to disk, sniffed by their
first bytes and queued through :mod:`thumbgen.commands`, as ``add`` does;
the workers (embedded or elsewhere) make the thumbnails.

- ``settings``: what one server runs with;
- ``auth``: the bearer-token dependency and access to the app's settings and queue;
- ``errors``: every error as ``{"error": "one line"}``;
- ``uploads``: streaming a multipart body to content-named files;
- ``routes``: the JSON endpoints; ``thumbs``: serving finished thumbnails;
- ``dashboard``: the page at ``/``; ``app``: putting it together;
- ``running``: uvicorn with embedded workers, and stopping.
"""
