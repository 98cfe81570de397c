import os
import signal
import subprocess
import sys

from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from config.wsgi import application

        return application


class Command(BaseCommand):
    help = "Serve the web application and run the deadline worker beside it."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("AFTERSALES_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--no-worker", action="store_true", help="serve the web only")
        parser.add_argument("--no-access-log", action="store_true", help="log errors only")

    def handle(self, *args, host, port, workers, threads, no_worker, no_access_log, **options):
        worker = None
        if not no_worker:
            worker = subprocess.Popen([sys.executable, "-m", "aftersales.cli", "worker"])
        self.stdout.write(f"serving on http://{host}:{port}/ (API docs at /api/v1/docs)")
        self.stdout.flush()
        try:
            _Gunicorn(
                {
                    "bind": f"{host}:{port}",
                    "workers": workers,
                    "threads": threads,
                    "worker_class": "gthread",
                    "accesslog": None if no_access_log else "-",
                    "graceful_timeout": 5,
                }
            ).run()
        finally:
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
