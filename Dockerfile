# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY pledge ./pledge
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PLEDGE_ENV=production
RUN useradd --create-home --uid 10001 pledge
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY templates ./templates
COPY static ./static
RUN mkdir -p /app/var && chown pledge:pledge /app/var
USER pledge
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
# Migrate, then serve. PLEDGE_SECRET_KEY must be set; PLEDGE_DATABASE_URL for PostgreSQL.
CMD ["sh", "-c", "pledge db upgrade && exec pledge serve --host 0.0.0.0 --port 8000 --forwarded-allow-ips='*'"]
