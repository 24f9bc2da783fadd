# thumbgen's image, built from this checkout (thumbgen is not on the package
# index): `docker-compose up --build` uses it, or `docker build -t thumbgen .`.
#
# BASE is any Debian-based image with Python 3.11+ and its venv module: the
# official python image by default; the deploy test passes one it builds
# with debootstrap where no image registry is reachable.
ARG BASE=python:3.11-slim

# Stage 1: the wheel from the source, and a virtual environment with it and
# the extras a service needs (Redis queue, HTTP API, buckets). Build tools
# and pip's cache stay in this stage.
FROM ${BASE} AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY thumbgen/ thumbgen/
RUN python3 -m venv /opt/build \
 && /opt/build/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && python3 -m venv /opt/thumbgen \
 && /opt/thumbgen/bin/pip install --no-cache-dir "$(ls /wheels/thumbgen_cli-*.whl)[redis,server,s3]" \
 && /opt/thumbgen/bin/pip uninstall --yes --quiet pip

# Stage 2: the runtime, the same base with only the environment copied in
# (same path and same interpreter, so the environment works as it is).
FROM ${BASE}
RUN useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin thumbgen \
 && install -d -o thumbgen -g thumbgen /data /data/uploads /data/thumbnails /data/inbox
COPY --from=build /opt/thumbgen /opt/thumbgen
COPY examples/deploy/container/healthcheck.py /opt/thumbgen/bin/thumbgen-healthcheck
ENV PATH=/opt/thumbgen/bin:$PATH \
    PYTHONUNBUFFERED=1
# A named volume mounted on /data starts with this folder's owner, so the
# (non-root) user can write to it.
WORKDIR /data
USER thumbgen
# serve: GET /health; worker: a live worker of this container on the queue;
# watch: the queue answers. One check for every role the image runs.
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=3 \
    CMD ["/opt/thumbgen/bin/python", "/opt/thumbgen/bin/thumbgen-healthcheck"]
ENTRYPOINT ["thumbgen"]
CMD ["--help"]
