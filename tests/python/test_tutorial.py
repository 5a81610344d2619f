"""docs/tutorial.md is a test: its files and commands, exactly as printed,
run in a temporary directory.

The tutorial marks what it wants run with an HTML comment before a fenced
block (invisible when rendered):

- ``<!-- tutorial: install -->``: the install commands (a ``sh`` block), run
  for real only by the slow test, in a copy of this checkout with a fresh
  venv (pip builds the C library);
- ``<!-- tutorial: file NAME -->``: the block is the file NAME (relative to
  the directory the commands are in at that point);
- ``<!-- tutorial: run [expect=fail] [needs=PROG] [report] -->``: a ``sh``
  block, run with ``bash -e`` in the current directory; its exit status must
  be zero (or not, with ``expect=fail``); ``needs=tshark`` skips it when the
  program is missing; ``report`` says it is the failing test whose plugin
  report (seed, replay command, pcap, counters) is checked, and whose replay
  command is run to fail the same way;
- ``<!-- tutorial: output -->``: the output the tutorial shows for the run
  before it; each line must match a line of the real output, in order, with
  ``...`` standing for any text.

The directory and exported variables carry over from one block to the next,
as in a reader's shell.  The fast test runs everything but the install with
this interpreter (``python`` and ``pytest`` on PATH are shims for it); the
slow test runs the install and then everything with the venv it made.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
# CI: a missing tool (tshark, cmake) fails instead of skipping.
REQUIRE_ALL = os.environ.get("USTACK_REQUIRE_ALL") == "1"


def unavailable(reason: str) -> None:
    """Skip for ``reason``; under USTACK_REQUIRE_ALL=1 fail with it."""
    if REQUIRE_ALL:
        pytest.fail(f"USTACK_REQUIRE_ALL=1: {reason}", pytrace=False)
    pytest.skip(reason)


MARK = re.compile(r"^<!--\s*tutorial:\s*(?P<kind>\w+)(?P<args>[^>]*?)\s*-->\s*$")
FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)\s*$")


@dataclass
class Block:
    """One marked block of the tutorial."""

    kind: str  # install, file, run, output
    text: str
    line: int  # where the block starts in tutorial.md (1-based)
    name: str = ""  # the file's name
    opts: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"docs/tutorial.md:{self.line}"


def parse_tutorial(text: str) -> list[Block]:
    """The marked blocks of ``text`` in order.  A marker must be followed
    (blank lines allowed) by a fenced block."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i].strip())
        i += 1
        if not m:
            continue
        kind, words = m.group("kind"), m.group("args").split()
        if kind not in ("install", "file", "run", "output"):
            raise ValueError(f"docs/tutorial.md:{i}: unknown marker {kind!r}")
        while i < len(lines) and not lines[i].strip():
            i += 1
        f = FENCE.match(lines[i]) if i < len(lines) else None
        if f is None:
            raise ValueError(f"docs/tutorial.md:{i}: a tutorial marker without a code block")
        start, fence = i + 1, f.group("fence")
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"docs/tutorial.md:{start}: unterminated code block")
        i += 1
        block = Block(kind, "\n".join(body) + "\n", start)
        if kind == "file":
            if not words:
                raise ValueError(f"{block.where}: a file marker without a name")
            block.name, words = words[0], words[1:]
        for w in words:
            key, _, value = w.partition("=")
            block.opts[key] = value
        blocks.append(block)
    return blocks


def blocks() -> list[Block]:
    return parse_tutorial(TUTORIAL.read_text())


# --- running ------------------------------------------------------------------


class Shell:
    """A reader's shell: bash per block, the directory and the exported
    environment carried from one block to the next."""

    def __init__(self, cwd: Path, env: dict[str, str], state: Path) -> None:
        self.cwd = cwd
        self.env = env
        self.state = state  # a file holding `export -p` after each block

    def run(self, script: str, timeout: float) -> subprocess.CompletedProcess[str]:
        cwd_file = self.state.with_suffix(".cwd")
        prologue = ""
        if self.state.exists():
            prologue = f". {shlex.quote(str(self.state))}\n"
        full = (
            "set -e\n"
            + prologue
            + f"cd {shlex.quote(str(self.cwd))}\n"
            + f"trap 'export -p > {shlex.quote(str(self.state))}; "
            + f"pwd > {shlex.quote(str(cwd_file))}' EXIT\n"
            + script
        )
        proc = subprocess.run(
            ["bash", "-c", full],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if cwd_file.exists():
            self.cwd = Path(cwd_file.read_text().strip())
        return proc


def shims(bindir: Path) -> None:
    """``python`` and ``pytest`` in ``bindir`` that run this interpreter."""
    bindir.mkdir(parents=True, exist_ok=True)
    for name, args in (("python", ""), ("python3", ""), ("pytest", " -m pytest")):
        path = bindir / name
        path.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)}{args} "$@"\n')
        path.chmod(0o755)


def plugin_entry_point() -> bool:
    """Whether pytest finds the plugin by itself (ustack installed by pip)."""
    return any(ep.name == "ustack.testing" for ep in entry_points(group="pytest11"))


def child_env(bindir: Path | None) -> dict[str, str]:
    """A reader's environment: none of this pytest's settings."""
    env = dict(os.environ)
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        env.pop(name, None)
    env.pop("VIRTUAL_ENV", None)
    if bindir is not None:
        env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    return env


def output_matches(shown: str, actual: str) -> str | None:
    """None when every line of ``shown`` matches a line of ``actual`` in
    order (``...`` is any text, spacing is free), else the first line that
    does not."""
    lines = [ln.strip() for ln in actual.splitlines()]
    pos = 0
    for want in shown.splitlines():
        want = want.strip()
        if not want or want == "...":
            continue
        pattern = ".*".join(
            r"\s+".join(re.escape(word) for word in part.split()) for part in want.split("...")
        )
        rx = re.compile(pattern)
        while pos < len(lines) and not rx.fullmatch(lines[pos]):
            pos += 1
        if pos == len(lines):
            return want
        pos += 1
    return None


REPORT_LINES = {
    "seed": re.compile(r"^seed: \d+", re.M),
    "replay": re.compile(r"^\s*replay: .*pytest .*--ustack-seed=\d+", re.M),
    "pcap": re.compile(r"\.pcap", re.I),
    "counters": re.compile(r"tcps_\w+"),
}


def replay_command(out: str) -> str:
    """The replay command line of a plugin report (``replay: CMD``)."""
    for line in out.splitlines():
        m = re.match(r"\s*replay:\s*(?P<cmd>.*--ustack-seed.*)$", line)
        if m:
            return m.group("cmd").strip()
    raise AssertionError(f"no replay command in the report:\n{out}")


def failure_summary(out: str) -> list[str]:
    """The assertion lines (``E   ...``) of a pytest run's failures."""
    return [ln.strip() for ln in out.splitlines() if ln.startswith("E ")]


def run_blocks(shell: Shell, items: list[Block], work: Path, *, timeout: float) -> Iterator[str]:
    """Runs the tutorial's blocks (but the install) in ``shell``; yields a line
    per block for the test log."""
    last: str | None = None
    for block in items:
        if block.kind == "install":
            continue
        if block.kind == "file":
            path = shell.cwd / block.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text)
            yield f"{block.where}: wrote {path.relative_to(work)}"
            continue
        if block.kind == "output":
            if last is None:
                continue  # its command was skipped
            bad = output_matches(block.text, last)
            assert bad is None, (
                f"{block.where}: the tutorial shows {bad!r}; the real output was:\n{last}"
            )
            continue
        need = block.opts.get("needs")
        if need and shutil.which(need, path=shell.env.get("PATH")) is None:
            assert not REQUIRE_ALL, f"USTACK_REQUIRE_ALL=1: {block.where} needs {need}"
            last = None
            yield f"{block.where}: skipped, no {need}"
            continue
        start = time.monotonic()
        proc = shell.run(block.text, timeout)
        last = proc.stdout + proc.stderr
        took = time.monotonic() - start
        want_fail = block.opts.get("expect") == "fail"
        failed = proc.returncode != 0
        assert failed == want_fail, (
            f"{block.where}: exit status {proc.returncode}, expected "
            f"{'nonzero' if want_fail else 0}\n$ {block.text}\n{last}"
        )
        if "report" in block.opts:
            check_report(shell, last, timeout)
        yield f"{block.where}: exit {proc.returncode} in {took:.1f} s"


def check_report(shell: Shell, out: str, timeout: float) -> None:
    """The failing run's plugin report has its seed, replay command, pcap and
    counters, the pcap exists, and the replay command fails the same way."""
    for what, rx in REPORT_LINES.items():
        assert rx.search(out), f"the report has no {what} line:\n{out}"
    pcaps = re.findall(r"(\S+\.pcap(?:ng)?)\b", out)
    assert any((shell.cwd / p).exists() for p in pcaps), (pcaps, out)
    cmd = replay_command(out)
    again = shell.run(cmd, timeout)
    out2 = again.stdout + again.stderr
    assert again.returncode != 0, f"the replay command passed: {cmd}\n{out2}"
    assert failure_summary(out2) == failure_summary(out), (cmd, out, out2)


# --- the tests ------------------------------------------------------------------


def test_tutorial_is_marked() -> None:
    """The tutorial has what the issue asks for: an install, a first test
    that fails with a report and then passes, a packet-scripted test."""
    items = blocks()
    kinds = [b.kind for b in items]
    assert kinds.count("install") == 1
    install = next(b for b in items if b.kind == "install")
    assert "pip install" in install.text
    runs = [b for b in items if b.kind == "run"]
    fails = [b for b in runs if b.opts.get("expect") == "fail"]
    assert len(fails) == 1 and "report" in fails[0].opts, [b.opts for b in runs]
    after = runs[runs.index(fails[0]) + 1 :]
    assert any("pytest" in b.text for b in after), "no passing run after the failure"
    files = [b for b in items if b.kind == "file"]
    assert any("ustack_pair" in b.text for b in files)
    assert any("ustack_peer" in b.text for b in files)
    for f in files:
        if f.name.endswith(".py"):
            compile(f.text, f.where, "exec")


def test_output_matching() -> None:
    """The matcher the tutorial's shown output goes through can fail."""
    actual = "a\nseed: 7  (x)\n1 failed in 0.52s\n"
    assert output_matches("seed: 7 ...\n...\n1 failed in ...s", actual) is None
    assert output_matches("seed: 8 ...", actual) == "seed: 8 ..."
    assert output_matches("1 failed ...\nseed: 7 ...", actual) == "seed: 7 ..."


WRONG = """
<!-- tutorial: file hello.txt -->
```text
hello
```

<!-- tutorial: run {opts} -->
```sh
cat hello.txt
```

<!-- tutorial: output -->
```text
{shown}
```
"""


@pytest.mark.parametrize(
    ("opts", "shown", "why"),
    [
        ("expect=fail", "hello", "exit status 0, expected nonzero"),
        ("", "goodbye", "the tutorial shows 'goodbye'"),
    ],
)
def test_runner_catches_a_wrong_tutorial(tmp_path: Path, opts: str, shown: str, why: str) -> None:
    """A command that succeeds where the tutorial says it fails, or output
    other than the tutorial shows, fails the test."""
    items = parse_tutorial(WRONG.format(opts=opts, shown=shown))
    assert [b.kind for b in items] == ["file", "run", "output"]
    shell = Shell(tmp_path, child_env(None), tmp_path / ".state")
    with pytest.raises(AssertionError, match=re.escape(why)):
        list(run_blocks(shell, items, tmp_path, timeout=60))


def test_tutorial_runs(tmp_path: Path) -> None:
    """Every file and command of the tutorial but the install, with this
    interpreter and this checkout's package."""
    bindir = tmp_path / ".bin"
    shims(bindir)
    env = child_env(bindir)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "python_bindings"), env.get("PYTHONPATH", "")) if p
    )
    if not plugin_entry_point():
        # ustack only on PYTHONPATH: what pip's entry point would do.
        env["PYTEST_PLUGINS"] = "ustack.testing"
    # The reader is in the checkout after installing; here it is a stand-in
    # with this checkout's examples.
    start = tmp_path / "ustack"
    start.mkdir()
    (start / "examples").symlink_to(ROOT / "examples")
    shell = Shell(start, env, tmp_path / ".state")
    for line in run_blocks(shell, blocks(), tmp_path, timeout=600):
        print(line)


def tracked_files() -> list[str]:
    """The checkout's files as git knows them (the working tree's content)."""
    proc = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [p for p in proc.stdout.split("\0") if p]


@pytest.mark.slow
def test_tutorial_install_and_run(tmp_path: Path) -> None:
    """The tutorial from the start: its install commands in a copy of this
    checkout (a fresh venv, pip building the C library, packages from the
    configured indexes only), then every other block with that venv."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        unavailable("needs a git checkout to copy")
    for tool in ("cmake", "cc"):
        if shutil.which(tool) is None:
            unavailable(f"no {tool}: pip cannot build the C library")
    checkout = tmp_path / "ustack"
    for rel in tracked_files():
        src = ROOT / rel
        if src.is_file():
            dst = checkout / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    env = child_env(None)
    env.pop("PYTHONPATH", None)  # the installed package, nothing else
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", "2")
    env["PIP_NO_INPUT"] = "1"
    shell = Shell(checkout, env, tmp_path / ".state")
    items = blocks()
    install = next(b for b in items if b.kind == "install")
    start = time.monotonic()
    proc = shell.run(install.text, timeout=1800)
    took = time.monotonic() - start
    print(f"{install.where}: install exit {proc.returncode} in {took:.0f} s")
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    assert "ustack 0.1.0" in proc.stdout.splitlines(), proc.stdout[-2000:]
    # The tutorial's install leaves the venv active, so pytest is the venv's.
    which = shell.run("command -v pytest python", timeout=60).stdout.split()
    assert all(p.startswith(str(checkout / ".venv")) for p in which), which
    for line in run_blocks(shell, items, tmp_path, timeout=600):
        print(line)
