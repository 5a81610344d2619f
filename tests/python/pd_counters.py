"""Runs one packetdrill script on the virtual back end and returns the TCP
counters of the stack under test afterwards (for tests that check what a
script's run counted, beside what it put on the wire)."""

from __future__ import annotations

from pathlib import Path

from ustack.packetdrill.parser import parse_file
from ustack.packetdrill.runner import ScriptRunner
from ustack.packetdrill.suite import LOCAL_IP, LOCAL_IP6, REMOTE_IP, REMOTE_IP6
from ustack.packetdrill.virtual import VirtualBackend


def script_counters(path: Path, family: int = 4) -> dict[str, int]:
    """The stack's tcpstat after the script at ``path`` ran (it must pass)."""
    script = parse_file(path)
    local, remote = (LOCAL_IP, REMOTE_IP) if family == 4 else (LOCAL_IP6, REMOTE_IP6)
    be = VirtualBackend(local_ip=local, remote_ip=remote, mtu=1500, seed=1, family=family)
    runner = ScriptRunner(script, be, None)
    try:
        runner.run()
        return {k: int(v) for k, v in be.stack.netstat("tcp")["tcp"].items()}
    finally:
        runner.close()
        be.close()
