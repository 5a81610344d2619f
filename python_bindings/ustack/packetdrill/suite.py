"""Runs packetdrill scripts and reports per group: pass, fail, unsupported.

A script's group is its first folder below the suite root (``snd-syn``,
``state-event-engine``, ...).  Each script runs on a fresh stack.  The
report lists, for every failure, the first mismatching line with the
expected and the actual packet (or syscall result), and for every skip the
reason; it is printed and can be written as JSON.  IPv4 and IPv6 scripts
are counted apart (the group table has a column set for each, the summary a
line for each, the in-scope pass rate is per family); the closing line reads
"N passed, N failed, N skipped" over both.

The headline is the pass rate over every script of each family that ran
(passed / total, skips counting as not passed), ahead of the in-scope rate
of the six groups the conformance goal first counted (IN_SCOPE_GROUPS).
Failures are listed again at the end, one line each.  FreeBSD marks the
scripts its own stack fails with a ``<script>.exfail`` file beside them
(text "Bug."; the suite's run-tests.sh counts them as expected failures):
the report says which of those pass here, and a failure stays a failure
whether FreeBSD expects it or not.
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ustack.packetdrill.lexer import ParseError
from ustack.packetdrill.runner import (
    Backend,
    Failure,
    RunOptions,
    ScriptRunner,
    Unsupported,
    inet6_missing,
    script_family,
)
from ustack.packetdrill.virtual import VirtualBackend

__all__ = [
    "IN_SCOPE_GROUPS",
    "FAMILIES",
    "LOCAL_IP",
    "REMOTE_IP",
    "LOCAL_IP6",
    "REMOTE_IP6",
    "ScriptResult",
    "file_family",
    "freebsd_exfail",
    "select_scripts",
    "Report",
    "default_suite_dir",
    "find_scripts",
    "run_script",
    "run_scripts",
]

# The in-process backend never touches a network device; its addresses are
# still from 198.18.0.0/15 like everything else ustack's tests use.
LOCAL_IP = "198.18.0.1"
REMOTE_IP = "198.18.0.2"
# The IPv6 twins' addresses: from 2001:2::/64 (RFC 5180's benchmarking
# prefix, as issue 17 asks), not packetdrill's default fd3d:fa7b:d17d::/48.
LOCAL_IP6 = "2001:2::1"
REMOTE_IP6 = "2001:2::2"
# --family: which scripts a run takes, by their --ip_version.
FAMILIES = ("4", "6", "both")
# The six groups of the first conformance goal (--in-scope, the "in scope"
# rate; fast-open and tcp-over-udp came later).  The headline rate counts
# every group; IPv4 and IPv6 scripts are counted apart either way.
IN_SCOPE_GROUPS = (
    "snd-syn",
    "state-event-engine",
    "rcv-data-segments",
    "rcv-icmp",
    "socket-api",
    "snippets",
)


def default_suite_dir() -> Path:
    """$USTACK_CONFORMANCE_DIR, else ../shared/conformance/tcp-testsuite next to the
    source tree (the scripts are read there, never copied into the project)."""
    env = os.environ.get("USTACK_CONFORMANCE_DIR")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[3]
    return root.parent / "shared" / "conformance" / "tcp-testsuite"


def freebsd_exfail(path: Path) -> str:
    """FreeBSD's own verdict that its stack fails the script: the first line
    of ``<script>.exfail`` beside it ("Bug." throughout the suite), or ""
    when there is no such file."""
    ex = path.with_suffix(".exfail")
    try:
        text = ex.read_text(errors="replace").strip()
    except OSError:
        return ""
    return text.splitlines()[0] if text else f"{ex.name} exists"


def _short(r: ScriptResult) -> str:
    """The script's path from its group's folder on (the whole path when the
    group is not one of its folders)."""
    parts = Path(r.path).parts
    if r.group in parts:
        return str(Path(*parts[parts.index(r.group) :]))
    return r.path


@dataclass
class ScriptResult:
    path: str
    group: str
    status: str  # "pass", "fail", "unsupported", "error"
    line: int = 0
    reason: str = ""
    expected: str = ""
    actual: str = ""
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    attempts: int = 1  # runs it took (more than 1 only with retries on a real-time back end)
    family: int = 4  # the script's IP version (--ip_version)
    freebsd_exfail: str = ""  # FreeBSD fails it too: its .exfail text ("Bug."), else ""


@dataclass
class Report:
    results: list[ScriptResult] = field(default_factory=list)
    seconds: float = 0.0

    def _of(self, family: int | None) -> list[ScriptResult]:
        return [r for r in self.results if family is None or r.family == family]

    def families(self) -> list[int]:
        """The IP versions of the scripts that ran, in order (4 before 6)."""
        return sorted({r.family for r in self.results})

    def counts(self, family: int | None = None) -> Counter[str]:
        """Results by status, of one family (4, 6) or of all (None)."""
        return Counter(r.status for r in self._of(family))

    def by_group(self, family: int | None = None) -> dict[str, Counter[str]]:
        groups: dict[str, Counter[str]] = {}
        for r in self._of(family):
            groups.setdefault(r.group, Counter())[r.status] += 1
        return groups

    def totals(self, family: int | None = None) -> tuple[int, int]:
        """(passed, total) over every script of ``family`` (4, 6; None: both)
        that ran: skips count as not passed."""
        rs = self._of(family)
        return sum(r.status == "pass" for r in rs), len(rs)

    def pass_rate(self, family: int | None = None) -> float:
        """Percent of every script of ``family`` that passed (the headline)."""
        passed, total = self.totals(family)
        return 100.0 * passed / total if total else 0.0

    def failures(self) -> list[ScriptResult]:
        """Every script that failed or could not run (errors), .exfail or not."""
        return [r for r in self.results if r.status in ("fail", "error")]

    def exfail(self, status: str) -> list[ScriptResult]:
        """The scripts FreeBSD marks as failing on its own stack (.exfail) whose
        status here is ``status`` ("pass", "fail" with errors, "unsupported")."""
        want = ("fail", "error") if status == "fail" else (status,)
        return [r for r in self.results if r.freebsd_exfail and r.status in want]

    def in_scope(self, family: int = 4) -> tuple[int, int]:
        """(passed, total) of the ``family`` scripts in IN_SCOPE_GROUPS."""
        scoped = [r for r in self._of(family) if r.group in IN_SCOPE_GROUPS]
        return sum(r.status == "pass" for r in scoped), len(scoped)

    def in_scope_pass_rate(self, family: int = 4) -> float:
        """Percent of the IPv4 (``family`` 4, the default) or IPv6 scripts in
        IN_SCOPE_GROUPS that passed (skips count as not passed)."""
        passed, total = self.in_scope(family)
        return 100.0 * passed / total if total else 0.0

    def summary_line(self, family: int | None = None) -> str:
        c = self.counts(family)
        failed = c["fail"] + c["error"]
        return f"{c['pass']} passed, {failed} failed, {c['unsupported']} skipped"

    def format(self, *, verbose: bool = False) -> str:
        lines = []
        for r in self.results:
            if r.status in ("fail", "error"):
                lines.append(f"FAIL {r.path}:{r.line}: {r.reason}")
                if r.expected or r.actual:
                    lines.append(f"    expected: {r.expected}")
                    lines.append(f"    actual:   {r.actual}")
            elif r.status == "unsupported" and verbose:
                lines.append(f"SKIP {r.path}:{r.line}: {r.reason}")
        lines.append("")
        families = self.families() or [4]
        width = max((len(g) for g in self.by_group()), default=5)
        lines.append(f"{'':<{width}}" + "".join(f"  {f'IPv{f}':<16}" for f in families).rstrip())
        lines.append(f"{'group':<{width}}" + "  pass  fail  skip" * len(families))
        per = {f: self.by_group(f) for f in families}
        for group in sorted(self.by_group()):
            row = f"{group:<{width}}"
            for f in families:
                c = per[f].get(group, Counter())
                row += f"  {c['pass']:4}  {c['fail'] + c['error']:4}  {c['unsupported']:4}"
            lines.append(row)
        retried = [r for r in self.results if r.attempts > 1]
        if retried:
            lines.append("")
            lines.append("needed more than one run (real time; a timing miss is retried):")
            for r in retried:
                outcome = "passed" if r.status == "pass" else "still failed"
                lines.append(f"  {r.path}: {outcome} at run {r.attempts}")
        reasons = Counter((r.family, r.reason) for r in self.results if r.status == "unsupported")
        if reasons:
            lines.append("")
            lines.append("skipped, by reason:")
            for (fam, reason), n in reasons.most_common():
                lines.append(f"  {n:4}  IPv{fam}: {reason}")
        failures = self.failures()
        if failures:
            lines.append("")
            lines.append(f"failed ({len(failures)}):")
            for r in failures:
                note = f" [FreeBSD fails it too: .exfail {r.freebsd_exfail!r}]"
                lines.append(
                    f"  IPv{r.family} {_short(r)}:{r.line}: {r.reason}"
                    + (note if r.freebsd_exfail else "")
                )
        marked = [r for r in self.results if r.freebsd_exfail]
        if marked:
            passing = self.exfail("pass")
            lines.append("")
            lines.append(
                f"FreeBSD's expected failures (.exfail): {len(marked)} scripts, "
                f"{len(passing)} pass here, {len(self.exfail('fail'))} fail, "
                f"{len(self.exfail('unsupported'))} skipped"
            )
            for r in passing:
                lines.append(f"  passes here, FreeBSD fails it: IPv{r.family} {_short(r)}")
        lines.append("")
        lines.append("pass rate over all scripts, per family (skips count as not passed):")
        for f in families:
            passed, total = self.totals(f)
            lines.append(f"  IPv{f}  {passed}/{total}  ({self.pass_rate(f):.1f}%)")
        for f in families:
            passed, total = self.in_scope(f)
            scope = ""
            if total:
                scope = f"; in scope {passed}/{total} ({100.0 * passed / total:.1f}%)"
            lines.append(f"IPv{f}: {self.summary_line(f)}{scope}")
        lines.append(f"{self.summary_line()} ({self.seconds:.1f} s)")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "summary": dict(self.counts()),
                "groups": {g: dict(c) for g, c in self.by_group().items()},
                "families": {
                    f"ipv{f}": {
                        "summary": dict(self.counts(f)),
                        "groups": {g: dict(c) for g, c in self.by_group(f).items()},
                        "passed": self.totals(f)[0],
                        "total": self.totals(f)[1],
                        "pass_rate": round(self.pass_rate(f), 2),
                        "in_scope_passed": self.in_scope(f)[0],
                        "in_scope_total": self.in_scope(f)[1],
                    }
                    for f in self.families()
                },
                "failures": [
                    {
                        "path": r.path,
                        "family": r.family,
                        "line": r.line,
                        "reason": r.reason,
                        "freebsd_exfail": r.freebsd_exfail,
                    }
                    for r in self.failures()
                ],
                "freebsd_exfail": {
                    "pass": [r.path for r in self.exfail("pass")],
                    "fail": [r.path for r in self.exfail("fail")],
                    "unsupported": [r.path for r in self.exfail("unsupported")],
                },
                "seconds": round(self.seconds, 3),
                "results": [asdict(r) for r in self.results],
            },
            indent=2,
        )


def find_scripts(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[Path, Path]]:
    """(root, script) for each .pkt file named or found under a folder, sorted."""
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*.pkt")):
                yield p, f
        else:
            yield p.parent, p


_IP_VERSION = re.compile(r"^--ip_version=(\S+)", re.MULTILINE)


def file_family(path: Path) -> int:
    """A script's IP version by its ``--ip_version`` line (without reading
    the rest): 6 for ipv6, else 4; by the file name (``*ipv6*``) when it
    cannot be read."""
    try:
        m = _IP_VERSION.search(path.read_text(errors="replace"))
    except OSError:
        return 6 if "ipv6" in path.name else 4
    return 6 if m is not None and m.group(1) == "ipv6" else 4


def select_scripts(
    paths: Iterable[str | os.PathLike[str]], family: str = "both"
) -> Iterator[tuple[Path, Path]]:
    """:func:`find_scripts` with only the IPv4 (``family`` "4") or IPv6 ("6")
    scripts, or all ("both")."""
    if family not in FAMILIES:
        raise ValueError(f"family {family!r}: expected one of {', '.join(FAMILIES)}")
    for root, path in find_scripts(paths):
        if family == "both" or str(file_family(path)) == family:
            yield root, path


def _group(root: Path, path: Path) -> str:
    """The script's folder right below the suite root (the folder holding
    run-tests.sh, as FreeBSD's suite does), else the folder it was found in."""
    for parent in path.resolve().parents:
        if (parent / "run-tests.sh").exists():
            return path.resolve().relative_to(parent).parts[0]
    return root.name if root.is_dir() else path.parent.name


def _make_backend(
    kind: str,
    mtu: int,
    seed: int,
    tap: str | None = None,
    board: Any = None,
    family: int = 4,
) -> Backend:
    if family == 6 and (why := inet6_missing()) is not None:
        raise Unsupported(0, why)
    if kind == "board":
        from ustack.packetdrill.board_backend import BoardBackend

        if board is None:
            raise ValueError("--backend board needs a board (--board NAME)")
        return BoardBackend(board, mtu=mtu, family=family)
    local, remote = (LOCAL_IP6, REMOTE_IP6) if family == 6 else (LOCAL_IP, REMOTE_IP)
    if kind == "tap":
        from ustack.packetdrill.tap_backend import TapBackend

        return TapBackend(
            local_ip=local, remote_ip=remote, mtu=mtu, seed=seed, tap=tap, family=family
        )
    if kind == "netmap":
        from ustack.packetdrill.netmap_backend import NetmapBackend

        return NetmapBackend(local_ip=local, remote_ip=remote, mtu=mtu, seed=seed, family=family)
    return VirtualBackend(local_ip=local, remote_ip=remote, mtu=mtu, seed=seed, family=family)


def _stray_first_line(path: Path) -> bool:
    """A first line of one stray letter before a comment (``s//``): an
    editing slip in the suite that packetdrill's parser rejects as well."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            first = f.readline().rstrip("\n")
    except OSError:
        return False
    return re.fullmatch(r"[A-Za-z]//.*", first) is not None


def run_script(
    path: Path,
    *,
    group: str = "",
    opts: RunOptions | None = None,
    seed: int = 1,
    backend: str = "virtual",
    tap: str | None = None,
    board: Any = None,
) -> ScriptResult:
    """Parses and runs one script on a fresh stack: in virtual time, or over a
    TAP device in real time (``backend="tap"``: made for the script, inside a
    namespace of its own, or the existing device ``tap``), or on the stack
    of ``board`` (``backend="board"``: a :class:`ustack.board.Board`, reset
    for the script)."""
    from ustack.packetdrill.parser import parse_file

    t0 = time.perf_counter()
    result = ScriptResult(str(path), group or path.parent.name, "pass")
    result.family = file_family(path)
    result.freebsd_exfail = freebsd_exfail(path)
    try:
        script = parse_file(path)
    except ParseError as exc:
        result.status, result.line, result.reason = "error", exc.line, f"parse error: {exc}"
        if exc.line == 1 and _stray_first_line(path):
            result.status = "unsupported"
            result.reason = "malformed script (line 1), packetdrill rejects it too"
        return result
    mtu = int(script.option("mtu") or 1500)
    try:
        family = script_family(script.option("ip_version"))
        result.family = family
        be = _make_backend(backend, mtu, seed, tap, board, family)
    except Unsupported as exc:
        result.status, result.line, result.reason = "unsupported", 0, str(exc)
        return result
    except Exception as exc:
        result.status, result.reason = "error", f"{backend} back end: {type(exc).__name__}: {exc}"
        return result
    runner = ScriptRunner(script, be, opts)
    try:
        runner.run()
    except Failure as exc:
        result.status, result.line, result.reason = "fail", exc.line, str(exc)
        result.expected, result.actual = exc.expected, exc.actual
    except Unsupported as exc:
        result.status, result.line, result.reason = "unsupported", exc.line, str(exc)
    except Exception as exc:  # a runner or binding bug: report it, never pass
        result.status = "error"
        result.reason = f"{type(exc).__name__}: {exc}"
        result.actual = traceback.format_exc(limit=-3)
    finally:
        result.warnings = runner.warnings
        runner.close()
        be.close()
        result.seconds = time.perf_counter() - t0
    return result


def run_scripts(
    paths: Iterable[str | os.PathLike[str]],
    *,
    opts: RunOptions | None = None,
    ipv4_only: bool = False,
    family: str = "both",
    progress: Callable[[int, ScriptResult], None] | None = None,
    backend: str = "virtual",
    tap: str | None = None,
    board: str | None = None,
    retries: int = 0,
) -> Report:
    """Runs every script under ``paths``; ``family`` "4" or "6" takes only the
    scripts of that ``--ip_version`` ("both": all); ``ipv4_only`` is ``family="4"``.
    ``backend="board"`` boots ``board`` (``"host"``, ``"mps2-an385"``) once
    for the whole run.  ``retries``: on the real-time back ends (tap, board)
    a script that fails runs again, up to that many more times, because a
    busy host can delay a packet past the script's tolerance; the report
    lists every script that needed it.  The virtual back end is
    deterministic, so it never retries."""
    if backend in ("virtual", "netmap"):
        retries = 0
    report = Report()
    t0 = time.perf_counter()
    the_board: Any = None
    if backend == "board":
        from ustack.packetdrill.board_backend import open_board

        the_board = open_board(board or "mps2-an385")
    try:
        for i, (root, path) in enumerate(select_scripts(paths, "4" if ipv4_only else family)):
            for attempt in range(1, retries + 2):
                r = run_script(
                    path,
                    group=_group(root, path),
                    opts=opts,
                    backend=backend,
                    tap=tap,
                    board=the_board,
                )
                r.attempts = attempt
                if r.status != "fail":
                    break
            report.results.append(r)
            if progress is not None:
                progress(i, r)
    finally:
        if the_board is not None:
            the_board.close()
    report.seconds = time.perf_counter() - t0
    return report
