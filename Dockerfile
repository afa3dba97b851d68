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
CMD ["serve", "--address", "[::]:7777", "--log-format", "json", "--log-level", "info"]
