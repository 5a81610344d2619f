"""Packet-level scripting from Python (issue 21, docs/scripting.md)."""
