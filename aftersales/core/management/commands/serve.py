import os
import signal
import sys

from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication

from aftersales.core.supervisor import Child, Supervisor


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
    help = (
        "Serve the web application and run the deadline worker beside it, restarting the "
        "worker whenever it exits."
    )

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
        if no_worker:
            self.stdout.write(f"serving on http://{host}:{port}/ (API docs at /api/v1/docs)")
            self.stdout.flush()
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
            return
        # The web server and the deadline worker as children of a supervisor that restarts the
        # worker whenever it exits (aftersales.core.supervisor).
        command = [sys.executable, "-m", "aftersales.cli"]
        web = [
            *command,
            "serve",
            "--no-worker",
            f"--host={host}",
            f"--port={port}",
            f"--workers={workers}",
            f"--threads={threads}",
        ]
        if no_access_log:
            web.append("--no-access-log")
        supervisor = Supervisor(
            [
                Child("web server", web, restart=False),
                Child("deadline worker", [*command, "worker"], restart=True),
            ]
        )
        signal.signal(signal.SIGTERM, supervisor.request_stop)
        signal.signal(signal.SIGINT, supervisor.request_stop)
        code = supervisor.run()
        if code:
            sys.exit(code)
