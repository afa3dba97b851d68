# The aws-encryption source plugin as a container image (docs/docker.md). Three uses:
# - CloudQuery `registry: docker`: the CLI replaces CMD with `serve --network tcp --address 0.0.0.0:7777 ...`
#   and dials port 7777;
# - `docker run IMAGE sync /data/spec.yml`: an in-process sync into a DuckDB file under /data;
# - `docker run IMAGE check /data/posture.duckdb`: the checks on that file, read-only.
#
# The base image is pinned by digest: the multi-platform index (linux/amd64 and linux/arm64, the targets
# `aws-encryption package` builds) of python:3.11-slim-bookworm, Python 3.11.16 on Debian 12. The tag is
# for readers; the digest alone decides what is pulled. Refresh it with
#   docker buildx imagetools inspect python:3.11-slim-bookworm --format '{{json .Manifest.Digest}}'
# (docs/docker.md, "Updating the base image").
FROM python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

LABEL org.opencontainers.image.title="aws-encryption" \
      org.opencontainers.image.description="CloudQuery source plugin: the encryption posture of AWS organisations" \
      org.opencontainers.image.licenses="MPL-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The runtime user: fixed numeric uid and gid 10001, home /home/app (where ~/.aws is mounted), and /data, the
# working directory, owned by it. A bind mount of a host directory keeps the host's ownership: run with
# `--user "$(id -u):$(id -g)"` then (HOME stays /home/app, below, so ~/.aws is found under any uid).
RUN groupadd --gid 10001 app \
 && useradd --uid 10001 --gid 10001 --no-log-init --create-home --home-dir /home/app \
        --shell /usr/sbin/nologin app \
 && chmod 0755 /home/app \
 && install -d -o 10001 -g 10001 -m 0755 /data

# Third-party dependencies, exactly as locked: every version pinned and every file's sha256 listed
# (--require-hashes refuses anything else; --no-deps installs nothing the lock does not name). Runtime
# dependencies only, for Python 3.11; regenerate after changing pyproject.toml's dependencies with
#   pip-compile --allow-unsafe --generate-hashes --output-file=docker/requirements.lock --strip-extras pyproject.toml
# (docs/docker.md, "The lock file").
COPY docker/requirements.lock /tmp/requirements.lock
RUN pip install --no-deps --require-hashes -r /tmp/requirements.lock \
 && rm /tmp/requirements.lock

# The project itself, without dependencies, built with the setuptools the lock installed (no build
# isolation, so nothing unhashed is downloaded): the packages pyproject.toml lists, plugin/ and queries/
# (installed as plugin.queries).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY plugin plugin
COPY queries queries
RUN pip install --no-deps --no-build-isolation . \
 && cd / && rm -rf /src

USER 10001:10001
ENV HOME=/home/app
WORKDIR /data

EXPOSE 7777
ENTRYPOINT ["aws-encryption"]
# Security (docs/security.md): the port is unauthenticated gRPC; whoever reaches it can sync
# every account the container's credentials reach and point the plugin at any endpoint.
# `registry: docker` publishes it on the host's loopback only (containers on the same Docker network
# still reach it). Run by hand, publish it the same way (`docker run -p 127.0.0.1:7777:7777 ...`) or
# on a private network. A derived image can restrict specs, e.g.
# `ENV AWS_ENCRYPTION_ALLOWED_ENDPOINTS=none AWS_ENCRYPTION_ALLOWED_PROFILES=none`.
CMD ["serve", "--address", "[::]:7777", "--log-format", "json", "--log-level", "info"]
