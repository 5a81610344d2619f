"""Recursive-descent parser for packetdrill scripts (the dialect of FreeBSD's TCP test suite).

    script  := OPTION* event*
    event   := time (packet | syscall | BACKTICK | CODE)
    time    := '*' | bound [('~' | '...') bound]        bound := ['+'] NUMBER
    packet  := ('<' | '>') mark* (icmp | other | tcp)   mark := '[' ecn ']' | '(' name int ')'
    tcp     := flags seq:end(len)['!'] {ack N | win N | urg N} ['<' options '>'] [udp]
    icmp    := 'icmp' type [code] ['mtu' N] '[' seq:end(len) [udp] ']'
    udp     := '/' 'udp' '(' N '>' N ')'
    syscall := name '(' [expr {',' expr}] ')' '=' expr [ERRNO] ['(' text ')']
    expr    := primary {'|' primary}

Run ``python -m ustack.packetdrill.parser FILE...`` for a dump of each script's events.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

from ustack.packetdrill.ast import (
    BitOr,
    Call,
    CodeEvent,
    CommandEvent,
    Direction,
    Ellipsis_,
    EolOption,
    Event,
    Expr,
    FastOpenOption,
    GenericOption,
    IcmpEvent,
    Int,
    IpField,
    List,
    Md5Option,
    MssOption,
    Name,
    NopOption,
    OptionLine,
    OtherPacketEvent,
    SackBlock,
    SackOption,
    SackPermittedOption,
    Script,
    ShellCommand,
    Str,
    Struct,
    StructField,
    SyscallEvent,
    TcpOption,
    TcpPacketEvent,
    Time,
    TimeKind,
    TimestampOption,
    UdpEncap,
    WindowScaleOption,
)
from ustack.packetdrill.lexer import ParseError, Tok, Token, tokenize

__all__ = [
    "DEFAULT_DEFINES",
    "ParseError",
    "format_event",
    "format_expr",
    "main",
    "parse_file",
    "parse_text",
]

DEFAULT_DEFINES: frozenset[str] = frozenset({"FreeBSD"})

_ECN_MARKS = frozenset({"noecn", "ect0", "ect1", "ect01", "ce"})
_TCP_FLAGS = frozenset("FSRP.UEWC")
_MAX_U32 = 0xFFFFFFFF
_ERRNO_RE = re.compile(r"E[A-Z0-9]+")
_T = TypeVar("_T")


class _Parser:
    def __init__(self, tokens: list[Token], src: str, path: str) -> None:
        self.toks = tokens
        self.src = src
        self.path = path
        self.i = 0

    # --- token helpers ---

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, n: int = 1) -> Token:
        return self.toks[min(self.i + n, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.toks[self.i]
        if t.kind is not Tok.EOF:
            self.i += 1
        return t

    def error(self, message: str, tok: Token | None = None) -> ParseError:
        t = self.tok if tok is None else tok
        return ParseError(self.path, t.line, t.col, message)

    def expect_punct(self, text: str, context: str) -> Token:
        if not self.tok.is_punct(text):
            raise self.error(f"expected '{text}' {context}, got {self.tok.describe()}")
        return self.next()

    def accept_punct(self, text: str) -> bool:
        if self.tok.is_punct(text):
            self.next()
            return True
        return False

    def expect_word(self, context: str) -> Token:
        if self.tok.kind is not Tok.WORD:
            raise self.error(f"expected {context}, got {self.tok.describe()}")
        return self.next()

    def integer(self, context: str, lo: int = 0, hi: int = _MAX_U32) -> int:
        t = self.tok
        neg = False
        if t.is_punct("-") and lo < 0:
            self.next()
            neg = True
        t = self.tok
        if t.kind is not Tok.NUMBER:
            raise self.error(f"expected {context} (an integer), got {t.describe()}")
        value = _int_value(t.text)
        if value is None:
            raise self.error(f"expected {context} (an integer), got {t.describe()}")
        value = -value if neg else value
        if not lo <= value <= hi:
            raise self.error(f"{context} {value} out of range [{lo}, {hi}]", t)
        self.next()
        return value

    # --- script ---

    def script(self, defines: frozenset[str]) -> Script:
        options: list[OptionLine] = []
        events: list[Event] = []
        init: ShellCommand | None = None
        cleanup: ShellCommand | None = None
        while self.tok.kind is not Tok.EOF:
            t = self.tok
            if cleanup is not None:
                raise self.error(
                    "nothing may follow the cleanup command (a backtick "
                    f"command without a time at line {cleanup.line})"
                )
            if t.kind is Tok.OPTION:
                if events or init is not None:
                    raise self.error("option line after the first event: options go first")
                options.append(self.option_line())
            elif t.kind is Tok.BACKTICK:
                # Untimed backtick commands: packetdrill's init and cleanup commands.
                self.next()
                if not events and init is None:
                    init = ShellCommand(t.line, t.text)
                elif events:
                    cleanup = ShellCommand(t.line, t.text)
                else:
                    raise self.error(
                        "a second untimed backtick command before the first "
                        "event (only one init command is allowed)",
                        t,
                    )
            else:
                events.append(self.event())
        return Script(self.path, tuple(options), tuple(events), defines, init, cleanup)

    def option_line(self) -> OptionLine:
        t = self.next()
        body = t.text[2:]
        name, eq, value = body.partition("=")
        name = name.strip()
        if not name or not all(c.isalnum() or c in "_-" for c in name):
            raise self.error(f"malformed option line {t.text!r}", t)
        return OptionLine(t.line, name, value.strip() if eq else None)

    def event(self) -> Event:
        start = self.tok
        time = self.time()
        t = self.tok
        if t.kind is Tok.BACKTICK:
            self.next()
            return CommandEvent(start.line, time, t.text)
        if t.kind is Tok.CODE:
            self.next()
            return CodeEvent(start.line, time, t.text)
        if t.is_punct("<") or t.is_punct(">"):
            return self.packet(start.line, time)
        if t.kind is Tok.WORD and self.peek().is_punct("("):
            return self.syscall(start.line, time)
        raise self.error(
            "expected a packet ('<' or '>'), a syscall, a `command` or a %{ }% block "
            f"after the time, got {t.describe()}"
        )

    # --- times ---

    def time(self) -> Time:
        if self.accept_punct("*"):
            return Time(TimeKind.ANY, 0)
        start, rel = self.time_bound("a time ('0.1', '+0.1' or '*') to start an event")
        if self.accept_punct("~"):
            end, end_rel = self.time_bound("the end of the time range after '~'")
            return Time(TimeKind.RANGE, start, rel, end, end_rel)
        if self.accept_punct("..."):
            end, end_rel = self.time_bound("the end time of a blocking call after '...'")
            return Time(TimeKind.BLOCKING, start, rel, end, end_rel)
        return Time(TimeKind.RELATIVE if rel else TimeKind.ABSOLUTE, start, rel)

    def time_bound(self, context: str) -> tuple[int, bool]:
        rel = self.accept_punct("+")
        t = self.tok
        if t.kind is not Tok.NUMBER:
            raise self.error(f"expected {context}, got {t.describe()}")
        try:
            us = Decimal(t.text) * 1_000_000
        except InvalidOperation:
            raise self.error(f"malformed time {t.text!r}") from None
        if us != us.to_integral_value():
            raise self.error(f"time {t.text!r} is finer than a microsecond")
        self.next()
        return int(us), rel

    # --- packets ---

    def packet(self, line: int, time: Time) -> Event:
        direction = Direction(self.next().text)
        ecn: str | None = None
        ip_fields: list[IpField] = []
        while True:
            if self.tok.is_punct("["):
                mark_tok = self.next()
                word = self.expect_word("an ECN mark (noecn, ect0, ect1, ect01, ce)")
                if word.text not in _ECN_MARKS:
                    raise self.error(f"unknown ECN mark {word.text!r}", word)
                if ecn is not None:
                    raise self.error("second ECN mark", mark_tok)
                ecn = word.text
                self.expect_punct("]", "after the ECN mark")
            elif self.tok.is_punct("("):
                self.next()
                name = self.expect_word("an IP header field (tos, ttl, hlim, class)").text
                ip_fields.append(IpField(name, self.integer(f"the {name} value")))
                self.expect_punct(")", f"after the {name} value")
            else:
                break
        t = self.tok
        if t.kind is Tok.WORD and t.text == "icmp":
            self.next()
            return self.icmp(line, time, direction, ecn, tuple(ip_fields))
        if t.kind is Tok.WORD and t.text in ("udp", "udplite", "sctp", "gre", "mpls"):
            return self.other_packet(line, time, direction)
        return self.tcp(line, time, direction, ecn, tuple(ip_fields))

    def other_packet(self, line: int, time: Time, direction: Direction) -> OtherPacketEvent:
        first = self.next()
        last = first
        while self.tok.kind is not Tok.EOF and self.tok.line == first.line:
            last = self.next()
        return OtherPacketEvent(line, time, direction, first.text, self.src[first.start : last.end])

    def tcp_flags(self) -> str:
        # A word of flag letters, a '.' (ACK), or both; spaces between are allowed
        # (packetdrill's grammar is token based: `F  .` is `F.`).
        first = self.tok
        flags = ""
        if self.tok.kind is Tok.WORD:
            flags = self.next().text
        if self.tok.is_punct("."):
            flags += self.next().text
        if not flags:
            raise self.error(
                f"expected TCP flags (S, ., P., F., R, ...) or icmp, got {first.describe()}", first
            )
        bad = sorted(set(flags) - _TCP_FLAGS)
        if bad:
            raise self.error(f"unknown TCP flag(s) {''.join(bad)!r} in {flags!r}", first)
        return flags

    def seq_range(self, context: str) -> tuple[int | None, int | None, int]:
        if self.accept_punct("..."):
            # nplab packetdrill: `...(len)` accepts any sequence number.
            self.expect_punct("(", f"before the payload length of {context}")
            length = self.integer(f"the payload length of {context}", hi=0xFFFF)
            self.expect_punct(")", f"after the payload length of {context}")
            return None, None, length
        start = self.integer(f"the start sequence number of {context}")
        self.expect_punct(":", f"between the sequence numbers of {context}")
        end_tok = self.tok
        end = self.integer(f"the end sequence number of {context}")
        self.expect_punct("(", f"before the payload length of {context}")
        length_tok = self.tok
        length = self.integer(f"the payload length of {context}", hi=0xFFFF)
        self.expect_punct(")", f"after the payload length of {context}")
        if (end - start) & _MAX_U32 != length:
            raise self.error(
                f"sequence range {start}:{end} does not span the payload length {length}",
                length_tok if end_tok.line == length_tok.line else end_tok,
            )
        return start, end, length

    def udp_encap(self) -> UdpEncap | None:
        if not (self.tok.is_punct("/") and self.peek().kind is Tok.WORD):
            return None
        self.next()
        word = self.next()
        if word.text != "udp":
            raise self.error(f"expected 'udp' after '/', got {word.describe()}", word)
        self.expect_punct("(", "after /udp")
        src = self.integer("the UDP source port", hi=0xFFFF)
        self.expect_punct(">", "between the UDP ports")
        dst = self.integer("the UDP destination port", hi=0xFFFF)
        self.expect_punct(")", "after the UDP ports")
        return UdpEncap(src, dst)

    def tcp(
        self,
        line: int,
        time: Time,
        direction: Direction,
        ecn: str | None,
        ip_fields: tuple[IpField, ...],
    ) -> TcpPacketEvent:
        flags = self.tcp_flags()
        seq_start, seq_end, length = self.seq_range("the segment")
        absolute = False
        if self.tok.is_punct("!") and not self.tok.space_before:
            self.next()
            absolute = True
        fields: dict[str, int] = {}
        while self.tok.kind is Tok.WORD and self.tok.text in ("ack", "win", "urg"):
            word = self.next()
            if word.text in fields:
                raise self.error(f"second '{word.text}' in one segment", word)
            hi = _MAX_U32 if word.text == "ack" else 0xFFFF
            fields[word.text] = self.integer(f"the {word.text} value", hi=hi)
        options: tuple[TcpOption, ...] | None = None
        ignored = False
        if self.tok.is_punct("<"):
            self.next()
            if self.accept_punct("..."):
                ignored = True
                self.expect_punct(">", "after '<...'")
            else:
                options = self.tcp_options()
        udp = self.udp_encap()
        return TcpPacketEvent(
            line,
            time,
            direction,
            flags,
            seq_start,
            seq_end,
            length,
            ack=fields.get("ack"),
            win=fields.get("win"),
            urg=fields.get("urg"),
            options=options,
            options_ignored=ignored,
            ecn=ecn,
            ip_fields=ip_fields,
            absolute_seq=absolute,
            udp=udp,
        )

    def tcp_options(self) -> tuple[TcpOption, ...]:
        opts: list[TcpOption] = []
        while True:
            opts.append(self.tcp_option())
            if self.accept_punct(">"):
                return tuple(opts)
            self.expect_punct(",", "between TCP options (or '>' to end them)")

    def tcp_option(self) -> TcpOption:
        kind = self.expect_word("a TCP option (mss, nop, wscale, sackOK, TS, sack, eol, ...)")
        k = kind.text
        if k == "nop":
            return NopOption()
        if k == "eol":
            return EolOption()
        if k == "sackOK":
            return SackPermittedOption()
        if k == "mss":
            return MssOption(self.integer("the MSS", hi=0xFFFF))
        if k == "wscale":
            return WindowScaleOption(self.integer("the window scale shift", hi=0xFF))
        if k == "TS":
            self.keyword("val", "after TS")
            val = self.integer("the TS value")
            self.keyword("ecr", "after the TS value")
            return TimestampOption(val, self.integer("the TS echo reply"))
        if k == "sack":
            blocks: list[SackBlock] = []
            while self.tok.kind is Tok.NUMBER:
                left = self.integer("the SACK block's left edge")
                self.expect_punct(":", "inside a SACK block")
                blocks.append(SackBlock(left, self.integer("the SACK block's right edge")))
            return SackOption(tuple(blocks))
        if k == "FO":
            if self.tok.kind in (Tok.NUMBER, Tok.WORD) and not self.tok.is_punct(","):
                cookie = self.next()
                try:
                    if len(cookie.text) % 2:
                        raise ValueError
                    return FastOpenOption(bytes.fromhex(cookie.text))
                except ValueError:
                    raise self.error(
                        f"TCP Fast Open cookie {cookie.text!r} is not an even number of hex digits",
                        cookie,
                    ) from None
            return FastOpenOption(None)
        if k == "md5":
            return Md5Option(self.expect_word("the md5 option's argument (valid, ...)").text)
        # Unknown kinds: keep the text up to the next ',' or '>' for the runner to judge.
        last = kind
        while not (self.tok.is_punct(",") or self.tok.is_punct(">")):
            if self.tok.kind is Tok.EOF:
                raise self.error("unterminated TCP option list (missing '>')")
            last = self.next()
        return GenericOption(k, self.src[kind.start : last.end])

    def keyword(self, word: str, context: str) -> None:
        t = self.tok
        if not (t.kind is Tok.WORD and t.text == word):
            raise self.error(f"expected '{word}' {context}, got {t.describe()}")
        self.next()

    # --- ICMP ---

    def icmp(
        self,
        line: int,
        time: Time,
        direction: Direction,
        ecn: str | None,
        ip_fields: tuple[IpField, ...],
    ) -> IcmpEvent:
        icmp_type = self.expect_word("an ICMP type (unreachable, time_exceeded, ...)").text
        code: str | None = None
        if self.tok.kind is Tok.WORD and self.tok.text != "mtu":
            code = self.next().text
        mtu: int | None = None
        if self.tok.kind is Tok.WORD and self.tok.text == "mtu":
            self.next()
            mtu = self.integer("the ICMP MTU", hi=0xFFFFFFFF)
        self.expect_punct("[", "before the quoted segment of an ICMP message")
        quoted = self.tok
        seq_start, seq_end, length = self.seq_range("the quoted segment")
        if seq_start is None or seq_end is None:
            raise self.error("an ICMP message must quote an explicit sequence range", quoted)
        udp = self.udp_encap()
        self.expect_punct("]", "after the quoted segment of an ICMP message")
        return IcmpEvent(
            line,
            time,
            direction,
            icmp_type,
            code,
            mtu,
            seq_start,
            seq_end,
            length,
            udp=udp,
            ecn=ecn,
            ip_fields=ip_fields,
        )

    # --- syscalls ---

    def syscall(self, line: int, time: Time) -> SyscallEvent:
        name = self.next().text
        self.next()  # '('
        args = self.comma_list(self.expr, ")", f"to close the arguments of {name}()")
        eq = self.expect_punct("=", f"after {name}(...) for its return value")
        ret = self.expr()
        errno: str | None = None
        note: str | None = None
        if (
            self.tok.kind is Tok.WORD
            and self.tok.line == eq.line
            and _ERRNO_RE.fullmatch(self.tok.text)
        ):
            errno = self.next().text
        if self.tok.is_punct("(") and self.tok.line == eq.line:
            note = self.paren_text()
        return SyscallEvent(line, time, name, tuple(args), ret, errno, note)

    def paren_text(self) -> str:
        """The raw text between a '(' and its matching ')' (the errno's description)."""
        open_tok = self.next()
        depth = 1
        while True:
            t = self.tok
            if t.kind is Tok.EOF:
                raise self.error("unclosed '(' after the return value", open_tok)
            if t.is_punct("("):
                depth += 1
            elif t.is_punct(")"):
                depth -= 1
                if depth == 0:
                    self.next()
                    return self.src[open_tok.end : t.start].strip()
            self.next()

    def expr(self) -> Expr:
        terms = [self.primary()]
        while self.accept_punct("|"):
            terms.append(self.primary())
        return terms[0] if len(terms) == 1 else BitOr(tuple(terms))

    def primary(self) -> Expr:
        t = self.tok
        if t.is_punct("..."):
            self.next()
            return Ellipsis_()
        if t.kind is Tok.NUMBER or t.is_punct("-"):
            neg = self.accept_punct("-")
            num = self.tok
            value = _int_value(num.text) if num.kind is Tok.NUMBER else None
            if value is None:
                raise self.error(f"expected an integer, got {num.describe()}")
            self.next()
            return Int(-value if neg else value, hex=num.text.lower().startswith("0x"))
        if t.kind is Tok.STRING:
            self.next()
            return Str(t.text)
        if t.kind is Tok.WORD:
            self.next()
            if self.tok.is_punct("(") and not self.tok.space_before:
                self.next()
                return Call(
                    t.text, self.comma_list(self.expr, ")", f"to close the arguments of {t.text}()")
                )
            return Name(t.text)
        if t.is_punct("["):
            self.next()
            return List(self.comma_list(self.expr, "]", "to close the list"))
        if t.is_punct("{"):
            self.next()
            return Struct(self.comma_list(self.struct_field, "}", "to close the struct"))
        if t.is_punct("("):
            self.next()
            inner = self.expr()
            self.expect_punct(")", "to close the parenthesis")
            return inner
        raise self.error(f"expected an expression, got {t.describe()}")

    def comma_list(self, item: Callable[[], _T], close: str, context: str) -> tuple[_T, ...]:
        """Items separated by ',' up to the closing punctuation (consumed); may be empty."""
        items: list[_T] = []
        if not self.tok.is_punct(close):
            items.append(item())
            while self.accept_punct(","):
                items.append(item())
        self.expect_punct(close, context)
        return tuple(items)

    def struct_field(self) -> StructField:
        if self.tok.kind is Tok.WORD and self.peek().is_punct("="):
            name = self.next().text
            self.next()
            return StructField(name, self.expr())
        return StructField(None, self.expr())


def _int_value(text: str) -> int | None:
    try:
        if text[:2].lower() == "0x":
            return int(text[2:], 16)
        if text.isdigit():
            return int(text, 10)
    except ValueError:
        return None
    return None


def parse_text(
    text: str, name: str = "<string>", defines: Iterable[str] = DEFAULT_DEFINES
) -> Script:
    """Parse a script's text; name is used in errors and as Script.path."""
    names = frozenset(defines)
    tokens = tokenize(text, name, names)
    return _Parser(tokens, text, name).script(names)


def parse_file(path: str | Path, defines: Iterable[str] = DEFAULT_DEFINES) -> Script:
    """Parse the script at path; #ifdef sees the names in defines (default: FreeBSD)."""
    p = Path(path)
    return parse_text(p.read_text(encoding="utf-8"), str(p), defines)


# --- debugging dump -----------------------------------------------------------------------------


def _fmt_time(t: Time) -> str:
    def bound(us: int, rel: bool) -> str:
        return ("+" if rel else "") + f"{us / 1e6:.6f}".rstrip("0").rstrip(".")

    if t.kind is TimeKind.ANY:
        return "*"
    text = bound(t.start_us, t.relative)
    if t.end_us is not None:
        sep = "~" if t.kind is TimeKind.RANGE else "..."
        text += sep + bound(t.end_us, t.end_relative)
    return text


def format_expr(x: Expr) -> str:
    """An expression in packetdrill's own syntax."""
    if isinstance(x, Int):
        return hex(x.value) if x.hex else str(x.value)
    if isinstance(x, Str):
        return f'"{x.value}"'
    if isinstance(x, Name):
        return x.name
    if isinstance(x, Ellipsis_):
        return "..."
    if isinstance(x, List):
        return "[" + ", ".join(map(format_expr, x.items)) + "]"
    if isinstance(x, Struct):
        fields = (("" if f.name is None else f.name + "=") + format_expr(f.value) for f in x.fields)
        return "{" + ", ".join(fields) + "}"
    if isinstance(x, BitOr):
        return " | ".join(map(format_expr, x.terms))
    return f"{x.name}(" + ", ".join(map(format_expr, x.args)) + ")"


def format_event(e: Event) -> str:
    """One line per event: line number, time, kind and the parsed fields."""
    head = f"{e.line:5d} {_fmt_time(e.time):>12} {e.kind:<12}"
    if isinstance(e, TcpPacketEvent):
        seq = "..." if e.seq_start is None else f"{e.seq_start}:{e.seq_end}"
        parts = [e.direction.value, e.flags, f"{seq}({e.payload_len})"]
        parts += [f"{k}={v}" for k in ("ack", "win", "urg") if (v := getattr(e, k)) is not None]
        if e.options_ignored:
            parts.append("options=<...>")
        elif e.options is not None:
            parts.append(f"options={list(e.options)}")
        for extra in ("ecn", "udp"):
            if (v := getattr(e, extra)) is not None:
                parts.append(f"{extra}={v}")
        if e.ip_fields:
            parts.append(f"ip={list(e.ip_fields)}")
        if e.absolute_seq:
            parts.append("absolute_seq")
        return head + " ".join(parts)
    if isinstance(e, IcmpEvent):
        return head + (
            f"{e.direction.value} type={e.icmp_type} code={e.icmp_code} mtu={e.mtu} "
            f"quoted={e.seq_start}:{e.seq_end}({e.payload_len}) udp={e.udp}"
        )
    if isinstance(e, SyscallEvent):
        args = ", ".join(map(format_expr, e.args))
        text = head + f"{e.name}({args}) = {format_expr(e.ret)}"
        text += "" if e.errno is None else f" errno={e.errno}"
        return text + ("" if e.note is None else f" note={e.note!r}")
    if isinstance(e, CommandEvent):
        return head + repr(e.command)
    if isinstance(e, CodeEvent):
        return head + repr(e.code)
    return head + f"{e.direction.value} {e.raw!r}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m ustack.packetdrill.parser FILE...", file=sys.stderr)
        return 2
    status = 0
    for path in args:
        try:
            script = parse_file(path)
        except (ParseError, OSError) as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        print(f"== {path}")
        for opt in script.options:
            print(
                f"{opt.line:5d} option --{opt.name}"
                + ("" if opt.value is None else f"={opt.value}")
            )
        for event in script.events:
            print(format_event(event))
    return status


if __name__ == "__main__":
    sys.exit(main())
