"""The pytest plugin ``ustack.testing`` (issue 21, docs/pytest-plugin.md)."""
