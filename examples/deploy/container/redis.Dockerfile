# Redis for the compose files, from the same base as thumbgen's image (the
# base's Debian package), so the stack needs one base image and no registry
# but the package archive. Data (the append-only file) goes to /data.
ARG BASE=python:3.11-slim
FROM ${BASE}
RUN apt-get update \
 && apt-get install --yes --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o redis -g redis /data
WORKDIR /data
USER redis
EXPOSE 6379
ENTRYPOINT ["redis-server"]
