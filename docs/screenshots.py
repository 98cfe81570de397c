"""Take the README's screenshots from the demo: ``make screenshots`` (serves the demo on a spare
port in a temporary home, logs in as the demo agent, saves the queue and a case page)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
BIN = Path(sys.executable).parent
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="aftersales-shots-"))
    env = {
        **os.environ,
        "AFTERSALES_HOME": str(home),
        "DATABASE_URL": f"sqlite:///{home}/demo.sqlite3",
    }
    run = lambda *args: subprocess.run([str(BIN / "aftersales"), *args], env=env, check=True)  # noqa: E731
    run("migrate", "--no-input", "-v0")
    run("demo")
    port = free_port()
    server = subprocess.Popen([str(BIN / "aftersales"), "serve", "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/desk/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(home / "profile"),
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                headless=True,
                args=FLAGS,
                locale="zh-CN",
                viewport={"width": 1280, "height": 800},
            )
            page = context.new_page()
            page.goto(base + "/desk/login/")
            page.fill("#id_username", "agent")
            page.fill("#id_password", "demo-agent-pass")
            page.click("button[type=submit]")
            page.wait_for_selector("tr[data-case]")
            page.screenshot(path=str(OUT / "queue.png"))
            page.goto(base + "/desk/?state=inspecting")
            page.locator("tr[data-case] a").first.click()
            page.wait_for_selector("#actions")
            page.screenshot(path=str(OUT / "case.png"), full_page=False)
            context.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(home, ignore_errors=True)
    print(f"saved {OUT / 'queue.png'} and {OUT / 'case.png'}")


if __name__ == "__main__":
    main()
