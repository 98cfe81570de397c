"""The benchmark command keeps working: a quick run on the small dataset produces every figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_benchmark_produces_every_figure():
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    for key in ("queue_10k", "queue_1M", "detail", "open_case", "import", "sweep"):
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
    ):
        assert line in done.stdout
