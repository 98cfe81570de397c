"""The benchmark command keeps working: a quick run on the small dataset produces every figure
(the KPIs' reports among them, from rollups built from the dataset's timeline), and the
marketplace sync's benchmark lands every request of every platform's fake once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.support import psql_admin

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_quick_benchmark_produces_every_figure():
    done = run("bench.run", "--quick", timeout=900)  # 5.5 minutes on 2 vCPUs, the sync's 3 in it
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    for key in (
        *("queue_10k", "queue_1M", "detail", "open_case", "import", "sweep", "sync"),
        "insights",
    ):
        assert key in results, key
    assert results["open_case"]["failures"] == 0
    assert results["sweep"]["2_worker"]["acted_twice"] == 0
    assert results["sweep"]["2_worker"]["left_undone"] == 0
    refunds = results["sweep"]["refunding_1_worker"]
    assert refunds["cases_paid"] == refunds["cases"] == refunds["ledger_entries"]
    for line in (
        "open case: throughput",
        "queue 1M: deep page",
        "sweep: 2 worker(s)",
        "import orders",
        "sync pinduoduo: first sync (new)",
        "KPIs 10k: dashboard, whole span, every shop",
    ):
        assert line in done.stdout


def test_the_sync_benchmark_lands_every_request_once_on_every_platform(tmp_path):
    # a few requests per platform: enough for several pages (JD and Douyin: 50 a page)
    out = tmp_path / "sync.json"
    try:
        done = run(
            *("bench.sync", "--database", "bench_sync_smoke", "--requests", "120"),
            *("--json", str(out)),
        )
    finally:
        psql_admin('DROP DATABASE IF EXISTS "bench_sync_smoke" WITH (FORCE)')
    assert done.returncode == 0, done.stderr[-3000:]
    platforms = json.loads(out.read_text())["platforms"]
    assert set(platforms) == {"taobao", "pinduoduo", "jd", "douyin", "kuaishou"}
    for code, figures in platforms.items():
        # new, then changed, then duplicates: each request landed, updated, then left alone
        assert figures["first_sync"]["changed"] == 120, code
        assert figures["changed_again"]["changed"] == 120, code
        assert figures["resync"]["changed"] == 0, code
        assert figures["read_only_walk"]["reads"] >= 120, code
        for key in ("first_sync", "changed_again", "resync", "read_only_walk"):
            assert figures[key]["per_minute"] > 0, (code, key)
        assert figures["floor_insert_per_minute"] > 0 and figures["floor_resync_per_minute"] > 0
        assert f"sync {code}: first sync (new)" in done.stdout
    assert "sync, all 5 platforms: first sync" in done.stdout
