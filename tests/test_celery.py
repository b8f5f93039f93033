"""Celery: tasks run in the municipality they were sent from (tenant-schemas-celery)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from kombu import pools as kombu_pools

from config import devservices
from welfare import tasks

BASE_DIR = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def test_eager_task_runs_in_the_senders_schema_and_restores_it(espoo, vantaa):
    for municipality in (espoo, vantaa):
        with schema_context(municipality.schema_name):
            result = tasks.tenant_probe.delay().get()
            assert result == {"schema": municipality.schema_name, "slug": municipality.slug}
            assert connection.schema_name == municipality.schema_name
    assert connection.schema_name == "public"


def _redis_url() -> str:
    return os.environ.get("REDIS_URL") or devservices.embedded_redis_url()


def _reconnect(app) -> None:
    """Drop cached broker pools and the result backend so new URLs take effect."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    kombu_pools.reset()  # kombu's global producer pools are keyed by connection
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def real_worker(municipalities):
    """A real `celery worker` process on a private Redis database, against the test database."""
    from config.settings import _celery_url

    settings_dict = connection.settings_dict
    db_url = f"postgresql://{settings_dict['USER']}@/{settings_dict['NAME']}?host={settings_dict['HOST']}"
    broker = _celery_url(_redis_url(), 9)
    backend = _celery_url(_redis_url(), 10)
    env = {**os.environ, "DATABASE_URL": db_url, "CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": backend,
           "CELERY_TASK_ALWAYS_EAGER": "0", "YHDESSA_TESTING": "0"}
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-c", "1", "-P", "solo",
         "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    from config.celery import app

    saved = dict(app.conf)
    app.conf.update(broker_url=broker, result_backend=backend, task_always_eager=False)
    _reconnect(app)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            assert worker.poll() is None, worker.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the Celery worker did not start within 60 s"
        yield app, queue
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        app.conf.update(broker_url=saved["broker_url"], result_backend=saved["result_backend"],
                        task_always_eager=saved["task_always_eager"])
        _reconnect(app)


@pytest.mark.worker
def test_real_worker_over_redis_runs_each_task_in_the_right_schema(real_worker, espoo, vantaa):
    app, queue = real_worker
    pending = []
    for municipality in (espoo, vantaa, espoo, vantaa):
        with schema_context(municipality.schema_name):
            pending.append((municipality, tasks.tenant_probe.apply_async(queue=queue)))
    deadline = time.monotonic() + 60
    for municipality, async_result in pending:
        result = async_result.get(timeout=max(1, deadline - time.monotonic()))
        assert result == {"schema": municipality.schema_name, "slug": municipality.slug}


@pytest.mark.worker
def test_healthz_reports_a_running_worker(real_worker, municipalities, client):
    response = client.get("/healthz", headers={"host": "localhost"})
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["celery"] == {"ok": True, "workers": 1}
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]


def test_healthz_is_503_when_no_worker_answers(municipalities, client):
    from config.celery import app

    broker = _celery_url_for_empty_db()
    saved = app.conf.broker_url
    app.conf.update(broker_url=broker, task_always_eager=False)
    _reconnect(app)
    try:
        response = client.get("/healthz", headers={"host": "espoo.localhost"})
    finally:
        app.conf.update(broker_url=saved, task_always_eager=True)
        _reconnect(app)
    assert response.status_code == 503
    assert response.json()["checks"]["celery"]["ok"] is False


def test_healthz_is_503_when_redis_is_unreachable(municipalities, client, settings, tmp_path):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"unix://{tmp_path}/nothing-here.sock"}}
    response = client.get("/healthz", headers={"host": "localhost"})
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def _celery_url_for_empty_db() -> str:
    from config.settings import _celery_url

    return _celery_url(_redis_url(), 11)
