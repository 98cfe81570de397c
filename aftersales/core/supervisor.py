"""Keep the product's processes running.

``aftersales serve`` starts the web server and the worker (deadlines, and the delivery tasks of
e-mails, text messages and webhooks) as child processes of one small supervisor. A worker that
exits, for whatever reason (a crash, an out-of-memory kill, a SIGKILL), is logged and started
again after a pause that doubles with each quick failure (1 s, 2 s, 4 s … at most a minute) and
starts from 1 s again once a worker has run for five minutes.
When the web server exits, the supervisor stops the worker and exits with the server's code; a
SIGTERM or SIGINT stops both.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger("aftersales.supervisor")


@dataclass
class Child:
    name: str
    argv: list[str]
    # A child that restarts (the worker); one that does not ends the supervisor when it exits.
    restart: bool
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_failures: int = 0
    start_at: float = 0.0  # when a restarting child is due to start again

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    longest: float = 60.0
    # A child that ran this long before it exited starts again after the first pause.
    stable_after: float = 300.0

    def pause(self, quick_failures: int) -> float:
        """The pause before the next start, after ``quick_failures`` exits in a row (≥ 1)."""
        return min(self.first * 2 ** (quick_failures - 1), self.longest)


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        *,
        env: dict[str, str] | None = None,
        backoff: Backoff = Backoff(),
        poll_interval: float = 0.2,
        stop_timeout: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.children = children
        self.env = env
        self.backoff = backoff
        self.poll_interval = poll_interval
        self.stop_timeout = stop_timeout
        self.monotonic = monotonic
        self.stopping = False
        self.starts: dict[str, int] = {child.name: 0 for child in children}

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv, env=self.env)
        child.started_at = self.monotonic()
        self.starts[child.name] += 1
        logger.info("%s started (pid %s)", child.name, child.process.pid)

    def _exited(self, child: Child, returncode: int) -> None:
        now = self.monotonic()
        ran = now - child.started_at
        child.quick_failures = 1 if ran >= self.backoff.stable_after else child.quick_failures + 1
        pause = self.backoff.pause(child.quick_failures)
        child.start_at = now + pause
        child.process = None
        logger.error(
            "%s %s after %.1f s; starting it again in %.0f s",
            child.name,
            describe_exit(returncode),
            ran,
            pause,
        )

    def request_stop(self, signum=None, frame=None) -> None:
        self.stopping = True

    def run(self, *, until: Callable[[], bool] = lambda: False) -> int:
        """Run the children until a non-restarting one exits, a stop is requested, or ``until()``
        says so; returns the exit code for the supervisor's own process."""
        for child in self.children:
            self._start(child)
        code = 0
        try:
            while not self.stopping and not until():
                for child in self.children:
                    if child.process is None:
                        if child.restart and self.monotonic() >= child.start_at:
                            self._start(child)
                        continue
                    returncode = child.process.poll()
                    if returncode is None:
                        continue
                    if not child.restart:
                        logger.error("%s %s; stopping", child.name, describe_exit(returncode))
                        code = returncode if returncode > 0 else 1
                        self.stopping = True
                        child.process = None
                        break
                    self._exited(child, returncode)
                time.sleep(self.poll_interval)
        finally:
            self._stop_all()
        return code

    def _stop_all(self) -> None:
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            child.process.send_signal(signal.SIGTERM)
        give_up = self.monotonic() + self.stop_timeout
        for child in running:
            try:
                child.process.wait(timeout=max(give_up - self.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", child.name)
                child.process.kill()
                child.process.wait()
