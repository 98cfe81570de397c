"""The suite's own guard: a process a test started and left running is found and killed, even
when its parent is gone (it is re-parented to the test process, a child subreaper)."""

from __future__ import annotations

import subprocess

from tests.conftest import leaked_processes, running_descendants


def test_a_process_left_running_is_found_and_killed():
    # given a process started by a test and never stopped
    before = set(running_descendants())
    lingering = subprocess.Popen(["sleep", "300"], start_new_session=True)

    # when the guard looks after the test
    leaked = leaked_processes(before, grace=0.2)

    # then it names the process and kills it
    assert list(leaked) == [lingering.pid]
    assert "sleep 300" in leaked[lingering.pid]
    assert lingering.wait(timeout=5) == -9


def test_an_orphaned_grandchild_is_found_too():
    # given a shell that starts a process in the background and exits at once (the way a server
    # master killed with SIGKILL leaves its worker behind)
    before = set(running_descendants())
    subprocess.run(["sh", "-c", "sleep 301 & exit 0"], check=True)

    # when the guard looks
    leaked = leaked_processes(before, grace=0.2)

    # then the orphan was re-parented to the test process, found and killed
    assert list(leaked.values()) == ["sleep 301"]
    assert "sleep 301" not in running_descendants().values()


def test_processes_that_end_in_time_are_not_leaks():
    before = set(running_descendants())
    subprocess.Popen(["sleep", "0.1"])
    assert leaked_processes(before, grace=5) == {}
