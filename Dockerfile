# Sarah's image: the bot only (the training extras stay out, so it is small). One image for every
# role: SARAH_ROLE=all|ingress|worker picks what runs.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY config ./config
COPY training ./training
# The otel extra too, so OTEL_EXPORTER_OTLP_ENDPOINT turns traces on without a rebuild.
RUN pip install ".[otel]" && useradd --create-home sarah
USER sarah
# HTTP mode: /slack/events. Every role: /healthz, /readyz, /metrics (SARAH_HEALTH_PORT, default SARAH_PORT;
# in HTTP mode /metrics needs a SARAH_HEALTH_PORT of its own, see docs/operations-endpoints.md).
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["python", "-m", "bot.probe", "/healthz"]
CMD ["sarah"]
