"""`make run`: the web server, a Celery worker and Celery beat together (honcho).

Ctrl-C stops all three, and the embedded PostgreSQL and Redis too when this run
started them (`make stop` stops them otherwise).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from config import devservices

BASE_DIR = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args()

    started_here = not os.environ.get("DATABASE_URL") and not devservices._pg_running()
    devservices.up()
    bin_dir = Path(sys.executable).parent
    procfile = BASE_DIR / ".run" / "Procfile"
    procfile.parent.mkdir(exist_ok=True)
    procfile.write_text(
        f"web: {sys.executable} manage.py runserver 127.0.0.1:{args.port}\n"
        f"worker: {bin_dir / 'celery'} -A config worker -l warning -c 2\n"
        f"beat: {bin_dir / 'celery'} -A config beat -l warning -s {BASE_DIR / '.run' / 'celerybeat-schedule'}\n"
    )
    print(f"\nYhdessä is starting: http://espoo.localhost:{args.port}/  http://vantaa.localhost:{args.port}/"
          f"  (public page http://localhost:{args.port}/). Ctrl-C stops it.\n", flush=True)
    proc = subprocess.Popen([str(bin_dir / "honcho"), "-d", str(BASE_DIR), "start", "-f", str(procfile)])
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return proc.wait()
    finally:
        if started_here:
            devservices.down()
            print("Embedded PostgreSQL and Redis stopped.")


if __name__ == "__main__":
    sys.exit(main())
