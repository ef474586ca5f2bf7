# Sarah's image: the bot only (the training extras stay out, so it is small). One image for every
# role: SARAH_ROLE=all|ingress|worker picks what runs.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The locked dependency set first (exact versions, checked by hash): this layer is rebuilt only when
# the lock changes. run.txt includes the otel extra, so OTEL_EXPORTER_OTLP_ENDPOINT turns traces on.
COPY requirements/pip.txt requirements/run.txt requirements/
RUN pip install --require-hashes -r requirements/pip.txt \
 && pip install --require-hashes --no-deps -r requirements/run.txt
# Then Sarah herself, built from the whole build context as .dockerignore leaves it: a new package
# is in the image without anyone listing it here. Files a package reads beside its code (the Redis
# scripts in handlers/store/lua/, the training data) come as its package data in pyproject.toml.
COPY . /tmp/sarah-src
RUN pip install --no-deps --no-build-isolation /tmp/sarah-src && rm -rf /tmp/sarah-src \
 && useradd --create-home sarah
USER sarah
# HTTP mode: /slack/events. Every role: /healthz, /readyz, /metrics (SARAH_HEALTH_PORT, default SARAH_PORT;
# in HTTP mode /metrics needs a SARAH_HEALTH_PORT of its own, see docs/operations-endpoints.md).
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["python", "-m", "bot.probe", "/healthz"]
CMD ["sarah"]
