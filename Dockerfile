# syntax=docker/dockerfile:1
# Yhdessä: one image for web (gunicorn), worker and beat (celery) and the migrate job.
# Build: docker build -t yhdessa .        Run: see docker-compose.yml and docs/operations.md
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    YHDESSA_ENV=production \
    MEDIA_ROOT=/data/media

# Pango/HarfBuzz for WeasyPrint's PDFs; Noto covers Finnish, Swedish and the RTL scripts
# of parent-evening content (Arabic, Farsi, Sorani); gettext compiles the translations.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-noto-core fonts-dejavu-core \
        gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 yhdessa \
    && useradd --system --uid 10001 --gid yhdessa --home-dir /home/yhdessa --create-home yhdessa \
    && mkdir -p /data/media \
    && chown yhdessa:yhdessa /data/media

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. base.lock holds the runtime
# only: the embedded PostgreSQL and Redis of development are in requirements/dev.in.
COPY requirements/base.lock requirements/base.lock
RUN pip install -r requirements/base.lock

COPY . .

# Build-time only values: settings need them to import; nothing connects to a server here.
RUN export SECRET_KEY=build-only-not-a-secret-0123456789-0123456789-0123456789 \
        DATABASE_URL=postgresql://build@build.invalid/build \
        REDIS_URL=redis://build.invalid:6379/0 \
    && python manage.py collectstatic --noinput -v 0 \
    && python manage.py compilemessages -v 0 --ignore=.venv

USER yhdessa
EXPOSE 8000

# Health checks live in docker-compose.yml: web, worker and beat share this image.
CMD ["gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py"]
