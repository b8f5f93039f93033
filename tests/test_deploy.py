"""Production configuration: Django's deploy checks, the secret key guard, security headers,
and the container files (docker-compose.yml, Dockerfile, gunicorn) checked structurally.

Settings are read at import, so production values are tested in subprocesses with a clean
environment; the in-process test suite runs with development settings.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config import devservices

ROOT = Path(__file__).resolve().parent.parent
BASE_DOMAIN = "yhdessa.example.fi"


def production_env(**overrides: str | None) -> dict[str, str]:
    """A production environment as an operator would set it (servers: the embedded ones)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "YHDESSA_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or devservices.embedded_database_url(),
        "REDIS_URL": os.environ.get("REDIS_URL") or devservices.embedded_redis_url(),
        "YHDESSA_BASE_DOMAIN": BASE_DOMAIN,
        "ALLOWED_HOSTS": f"{BASE_DOMAIN},.{BASE_DOMAIN}",
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def production_settings(*names: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}, default=str))"
    )
    result = run([sys.executable, "-c", code], production_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- Django settings in production ----------------------------------------------------------


def test_check_deploy_finds_no_issues():
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    result = run([sys.executable, "-c", "import django; django.setup()"], production_env(SECRET_KEY=None))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


def test_production_security_settings():
    values = production_settings(
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_PROXY_SSL_HEADER",
        "CSRF_TRUSTED_ORIGINS",
        "ALLOWED_HOSTS",
        "CONTENT_SECURITY_POLICY",
    )
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert f"https://*.{BASE_DOMAIN}" in values["CSRF_TRUSTED_ORIGINS"]
    assert values["ALLOWED_HOSTS"] == [BASE_DOMAIN, f".{BASE_DOMAIN}"]
    assert "unsafe-inline" not in json.dumps(values["CONTENT_SECURITY_POLICY"])


@pytest.mark.django_db
def test_pages_carry_a_csp_without_unsafe_inline(espoo_client):
    response = espoo_client.get("/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if " " in part.strip())
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert directives["script-src"].split()[0] == "'self'" and "*" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    # An inline script runs only with the nonce the header names (django-csp adds it when a template uses it).
    nonces = set(re.findall(r"'nonce-([^']+)'", directives["script-src"]))
    for tag in re.findall(r"<script\b[^>]*>", response.content.decode()):
        assert "src=" in tag or any(f'nonce="{nonce}"' in tag for nonce in nonces), tag


def test_static_files_collect_with_hashed_names(tmp_path):
    # Production serves hashed names from a manifest (whitenoise's compressing subclass of Django's
    # manifest storage); a CSS url() pointing at a missing file fails the image build. The plain
    # manifest storage finds the same errors without spending half a minute on compression.
    code = (
        "import django; django.setup(); from django.conf import settings; from django.test import override_settings; "
        "from django.core.management import call_command; "
        "assert 'Manifest' in settings.STORAGES['staticfiles']['BACKEND']; "
        "storages = {**settings.STORAGES, 'staticfiles': "
        "{'BACKEND': 'django.contrib.staticfiles.storage.ManifestStaticFilesStorage'}}; "
        f"override_settings(STATIC_ROOT={str(tmp_path)!r}, STORAGES=storages).enable(); "
        "call_command('collectstatic', interactive=False, verbosity=0)"
    )
    result = run([sys.executable, "-c", code], production_env())
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").exists()


def test_every_setting_read_from_the_environment_is_documented():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    names = set(
        re.findall(
            r"""(?:os\.environ\.get|os\.environ\[|env_bool|env_list)\(?\s*["']([A-Z0-9_]+)["']""", settings_source
        )
    )
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "YHDESSA_ENV", "YHDESSA_BASE_DOMAIN"} <= names
    operations = (ROOT / "docs" / "operations.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in operations)
    assert not missing, f"docs/operations.md does not describe: {missing}"


# --- docker-compose.yml -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_of(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


APP_SERVICES = ["web", "worker", "beat", "migrate"]


def test_compose_has_the_services(compose):
    services = compose["services"]
    assert set(services) == {"db", "redis", *APP_SERVICES}
    assert services["db"]["image"].split(":")[1].startswith("16")
    assert services["redis"]["image"].split(":")[1].startswith("7")


def test_compose_commands(compose):
    services = compose["services"]
    assert command_of(services["web"]) == "gunicorn config.wsgi -c config/gunicorn.conf.py"
    assert command_of(services["worker"]).startswith("celery -A config worker")
    assert command_of(services["beat"]).startswith("celery -A config beat")
    assert "migrate_schemas --executor=multiprocessing" in command_of(services["migrate"])
    assert services["migrate"]["restart"] == "no"
    # Exactly one beat, or every scheduled task runs twice.
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert (ROOT / "config" / "gunicorn.conf.py").exists()


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_app_services_are_configured_by_environment(compose, name):
    env = compose["services"][name]["environment"]
    assert env["YHDESSA_ENV"] == "production"
    for required in ["SECRET_KEY", "YHDESSA_BASE_DOMAIN"]:
        assert env[required].startswith(f"${{{required}:?"), f"{required} must be required, never defaulted"
    assert env["DATABASE_URL"].startswith("postgresql://") and "@db:5432/" in env["DATABASE_URL"]
    assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert "ALLOWED_HOSTS" in env


def test_compose_app_services_wait_for_migrations(compose):
    for name in ["web", "worker", "beat"]:
        depends = compose["services"][name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == "service_healthy"
    assert compose["services"]["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_compose_healthchecks(compose):
    services = compose["services"]
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert "ping" in " ".join(services["redis"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_docker_compose_config_when_available(tmp_path):
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("docker compose is not installed here")
    env = {**os.environ, "SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "pw", "YHDESSA_BASE_DOMAIN": BASE_DOMAIN}
    result = subprocess.run(
        [docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- Dockerfile and gunicorn -----------------------------------------------------------------------


def test_dockerfile():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.12-slim", dockerfile, re.M)
    for package in ["libpango-1.0-0", "libpangoft2-1.0-0", "fonts-noto-core"]:
        assert package in dockerfile, package
    assert "requirements/base.lock" in dockerfile and (ROOT / "requirements" / "base.lock").exists()
    assert "collectstatic" in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".pgdata", ".env"} <= set(ignored)


def test_gunicorn_config_loads():
    result = run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        production_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
