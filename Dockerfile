# syntax=docker/dockerfile:1
# The site's image. The builder stage makes a virtual environment holding the package (built
# as a wheel) and its dependencies; the runtime stage copies it onto a slim Python without
# build tools, and runs as an unprivileged user. See docs/deploy.md.

FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY pledge ./pledge
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install /wheels/pledge-*.whl \
    && /opt/venv/bin/pledge --help > /dev/null


FROM python:3.11-slim AS runtime
# DejaVu: the fonts the share card (/c/{slug}/share.png) is drawn with. Tesseract reads the
# text of uploaded screenshots, in Indonesian and English (pledge/hoaxes/ocr.py).
RUN apt-get update \
    && apt-get install --yes --no-install-recommends fonts-dejavu-core \
        tesseract-ocr tesseract-ocr-ind tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 pledge \
    && useradd --system --uid 10001 --gid pledge --home-dir /app --shell /usr/sbin/nologin pledge

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# Templates and static files are read from the working directory.
COPY templates ./templates
COPY static ./static
COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint
# var/ holds the SQLite database when PLEDGE_DATABASE_URL is left at its default: mount a
# volume here for that. With PostgreSQL nothing is written inside the container.
RUN mkdir -p /app/var && chown pledge:pledge /app/var

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PLEDGE_ENV=production \
    PORT=8000 \
    WORKERS=2 \
    FORWARDED_ALLOW_IPS=127.0.0.1

USER pledge:pledge
EXPOSE 8000

# No curl in the image: Python asks /healthz itself (any answer but 2xx raises, exit 1).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)" || exit 1

ENTRYPOINT ["docker-entrypoint"]
CMD ["serve"]
