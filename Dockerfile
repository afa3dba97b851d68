# The aws-encryption source plugin as a CloudQuery `registry: docker` image.
# The CLI replaces CMD with `serve --network tcp --address 0.0.0.0:7777 ...` and dials port 7777.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app
COPY pyproject.toml README.md ./
COPY plugin plugin
COPY queries queries
RUN pip install .

EXPOSE 7777
ENTRYPOINT ["aws-encryption"]
# Security (docs/security.md): the port is unauthenticated gRPC; whoever reaches it can sync
# every account the container's credentials reach and point the plugin at any endpoint.
# `registry: docker` publishes it on the host's loopback only (containers on the same Docker network
# still reach it). Run by hand, publish it the same way (`docker run -p 127.0.0.1:7777:7777 ...`) or
# on a private network. A derived image can restrict specs, e.g.
# `ENV AWS_ENCRYPTION_ALLOWED_ENDPOINTS=none AWS_ENCRYPTION_ALLOWED_PROFILES=none`.
CMD ["serve", "--address", "[::]:7777", "--log-format", "json", "--log-level", "info"]
