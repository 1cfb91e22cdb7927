"""``everest-elearn hub run`` stops promptly on SIGTERM, and takes its managed services with it.

Started the way a script's background job starts it (SIGINT ignored, which children inherit):
JupyterHub stops each managed service with SIGINT and waits 30 s before trying SIGTERM.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.hub import hub_env, start_hub, stop_hub
from tests.fixtures.oidc import free_port

pytestmark = [pytest.mark.services]
SERVICES = ("everest_elearn.courses.service_app", "jupyterhub_idle_culler")
# A bound on behaviour, not a timing: well under the 30 s a service ignoring SIGINT costs.
PROMPT = 20.0


def children(pid: int) -> dict[int, str]:
    """Child processes of ``pid`` and their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # ended meanwhile
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = cmdline
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status waits to be collected


def ignore_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_hub_run_stops_with_its_services_soon_after_sigterm(tmp_path: Path) -> None:
    ports = {n: free_port() for n in ("port", "hub_port", "proxy_api_port", "courses_port")}
    token = secrets.token_hex(24)
    env = hub_env(tmp_path, ports, "everest/notebook:none", None, "tshutdown", token)
    env["EVEREST_HUB__IDLE_TIMEOUT"] = "3600"  # the idle culler runs as a second service
    command = [str(Path(sys.executable).parent / "everest-elearn"), "hub", "run"]
    hub = start_hub(env, tmp_path, "tshutdown", token, command, preexec_fn=ignore_interrupt)
    process = hub.process
    assert process is not None
    try:
        deadline = time.monotonic() + 60
        services: dict[int, str] = {}
        while len(services) < len(SERVICES):
            services = {
                pid: line
                for pid, line in children(process.pid).items()
                if any(name in line for name in SERVICES)
            }
            assert time.monotonic() < deadline, f"services not started: {hub.log_tail()}"
            time.sleep(0.2)

        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=PROMPT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the hub still runs {PROMPT:.0f} s after SIGTERM: {hub.log_tail()}")
        assert code == 0
        assert [line for pid, line in services.items() if alive(pid)] == []
    finally:
        stop_hub(hub)
