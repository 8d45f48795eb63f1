# feed-monitor service image. Runtime dependencies come from requirements.lock (pinned and
# hash-checked, the versions CI tested; refresh with ./scripts/lock); the project itself is
# installed on top without resolving anything again.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    MONITOR_CONFIG=/app/config/monitor.toml MONITOR_SERVER__ENABLED=true MONITOR_SERVER__HOST=0.0.0.0
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install --no-deps . && useradd --create-home --uid 10001 monitor \
    && mkdir -p /app/config/data && chown -R monitor /app/config
COPY config/monitor.toml ./config/monitor.toml
USER monitor
EXPOSE 9108
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=5).status == 200 else 1)" || monitor health
ENTRYPOINT ["monitor"]
CMD ["run"]
