"""Gunicorn settings for the web container: `gunicorn config.wsgi -c config/gunicorn.conf.py`.

Everything is read from the environment so one image serves any size of deployment.
The web tier is stateless (sessions and cache in PostgreSQL/Redis), so scale by adding
containers behind the load balancer rather than by raising workers without limit: every
worker thread can hold a database connection (see docs/operations.md, "Connections").
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# Per-municipality state (model states, compiled templates, caches) accumulates in a worker
# that has served hundreds of schemas; recycling workers keeps resident memory flat.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))

# Database connections (and the optional psycopg pool) must be opened after the fork,
# never shared by workers, so the application is loaded in each worker.
preload_app = False

# The TLS-terminating load balancer sets X-Forwarded-Proto/For; trust it only from the
# addresses it connects from (the container network by default).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")

# Heartbeat files on tmpfs: a container's overlay filesystem can stall them.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm" if os.path.isdir("/dev/shm") else None)

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# No query strings in the access log: filters carry ids only, but tokens must never reach logs.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s host=%({host}i)s'
