"""The packetdrill script parser (ustack.packetdrill): every construct with its values, errors
with their line, and FreeBSD's TCP test suite parsed end to end."""

from __future__ import annotations

import collections
import os
from pathlib import Path

import pytest

from ustack.packetdrill import ParseError, parse_file, parse_text
from ustack.packetdrill.ast import (
    BitOr,
    Call,
    CodeEvent,
    CommandEvent,
    Direction,
    Ellipsis_,
    EolOption,
    Event,
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
    OtherPacketEvent,
    SackBlock,
    SackOption,
    SackPermittedOption,
    Script,
    Str,
    Struct,
    StructField,
    SyscallEvent,
    TcpPacketEvent,
    Time,
    TimeKind,
    TimestampOption,
    UdpEncap,
    WindowScaleOption,
)
from ustack.packetdrill.parser import format_event, format_expr, main
from ustack.packetdrill.suite import default_suite_dir

REPO = Path(__file__).resolve().parents[2]
CORPUS = default_suite_dir()
# Scripts of the suite that are malformed as published, with the line their error is on.
# packetdrill rejects them too; the test notices when upstream fixes them.
KNOWN_MALFORMED = {"fast-open/client/client-handle-cookie-update-of-length-17.pkt": 1}


def one(text: str) -> Event:
    script = parse_text(text)
    assert len(script.events) == 1
    return script.events[0]


def tcp(text: str) -> TcpPacketEvent:
    e = one(text)
    assert isinstance(e, TcpPacketEvent)
    return e


def syscall(text: str) -> SyscallEvent:
    e = one(text)
    assert isinstance(e, SyscallEvent)
    return e


def error_of(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse_text(text, "t.pkt")
    return info.value


# --- options, preprocessor, comments ------------------------------------------------------------


def test_option_lines_before_events() -> None:
    script = parse_text(
        "--ip_version=ipv4\n--tolerance_usecs=75000 // slack\n--verbose\n0 close(3) = 0\n"
    )
    assert [(o.line, o.name, o.value) for o in script.options] == [
        (1, "ip_version", "ipv4"),
        (2, "tolerance_usecs", "75000"),
        (3, "verbose", None),
    ]
    assert script.option("tolerance_usecs") == "75000"
    assert script.option("missing") is None
    assert script.events[0].line == 4


def test_option_after_event_is_an_error() -> None:
    err = error_of("0 close(3) = 0\n--mtu=1500\n")
    assert (err.line, err.column) == (2, 1)
    assert "option line after the first event" in err.message


def test_ifdef_else_nested_against_defines() -> None:
    text = (
        "#ifdef FreeBSD\n"  # 1
        "0 close(1) = 0\n"  # 2
        "#ifndef Linux\n"  # 3
        "+0 close(2) = 0\n"  # 4
        "#else\n"  # 5
        "+0 close(3) = 0\n"  # 6
        "#endif\n"  # 7
        "#else\n"  # 8
        "0 close(4) = 0\n"  # 9
        "#ifdef FreeBSD\n"  # 10
        "+0 close(5) = 0\n"  # 11
        "#endif\n"  # 12
        "#endif\n"  # 13
    )

    def fds(defines: set[str]) -> list[tuple[int, int]]:
        out = []
        for e in parse_text(text, defines=defines).events:
            assert isinstance(e, SyscallEvent) and isinstance(e.args[0], Int)
            out.append((e.line, e.args[0].value))
        return out

    assert fds({"FreeBSD"}) == [(2, 1), (4, 2)]
    assert fds({"FreeBSD", "Linux"}) == [(2, 1), (6, 3)]
    # Without FreeBSD, the nested #ifdef FreeBSD inside the #else stays off.
    assert fds(set()) == [(9, 4)]
    assert parse_text(text).defines == frozenset({"FreeBSD"})


def test_preprocessor_errors() -> None:
    assert error_of("0 close(3) = 0\n#ifdef X\n").line == 2
    err = error_of("\n#endif\n")
    assert (err.line, "without #ifdef") == (2, "without #ifdef") and "#endif" in err.message
    assert "unsupported preprocessor directive '#define'" in error_of("#define X 1\n").message
    assert "second #else" in error_of("#ifdef A\n#else\n#else\n#endif\n").message


def test_comments_line_and_block_spanning_lines() -> None:
    script = parse_text(
        "// header\n/* a\n b\n c */ 0 close(3) = 0 // trailing\n+1 /* x */ close(4) = 0\n"
    )
    assert [e.line for e in script.events] == [4, 5]
    assert error_of("0 close(3) = 0\n/* never closed\n").line == 2


# --- times --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.100", Time(TimeKind.ABSOLUTE, 100_000)),
        ("+0.1", Time(TimeKind.RELATIVE, 100_000, relative=True)),
        ("+ 0.25", Time(TimeKind.RELATIVE, 250_000, relative=True)),
        ("3", Time(TimeKind.ABSOLUTE, 3_000_000)),
        ("*", Time(TimeKind.ANY, 0)),
        ("0.1~0.2", Time(TimeKind.RANGE, 100_000, False, 200_000, False)),
        ("+0~+0.5", Time(TimeKind.RANGE, 0, True, 500_000, True)),
        ("1.00...6.00", Time(TimeKind.BLOCKING, 1_000_000, False, 6_000_000, False)),
        ("+0...0.2", Time(TimeKind.BLOCKING, 0, True, 200_000, False)),
        ("+0.000001", Time(TimeKind.RELATIVE, 1, relative=True)),
    ],
)
def test_times(text: str, expected: Time) -> None:
    assert one(f"{text} accept(3, ..., ...) = 4\n").time == expected


def test_time_finer_than_a_microsecond_is_an_error() -> None:
    err = error_of("\n+0.0000001 close(3) = 0\n")
    assert (err.line, err.column) == (2, 2)
    assert "finer than a microsecond" in err.message


# --- TCP packets --------------------------------------------------------------------------------


def test_tcp_syn_with_every_option_kind() -> None:
    e = tcp(
        "+0 > S 0:0(0) win 65535 <mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0,"
        "sack 1:2 3:4,eol,FO,FO 0102a0ff,md5 valid,exp 0xf989 12>\n"
    )
    assert (e.direction, e.flags, e.seq_start, e.seq_end, e.payload_len) == (
        Direction.OUTBOUND,
        "S",
        0,
        0,
        0,
    )
    assert (e.ack, e.win, e.urg, e.ecn, e.udp, e.options_ignored) == (
        None,
        65535,
        None,
        None,
        None,
        False,
    )
    assert e.options == (
        MssOption(1460),
        NopOption(),
        WindowScaleOption(6),
        SackPermittedOption(),
        TimestampOption(100, 0),
        SackOption((SackBlock(1, 2), SackBlock(3, 4))),
        EolOption(),
        FastOpenOption(None),
        FastOpenOption(bytes([1, 2, 0xA0, 0xFF])),
        Md5Option("valid"),
        GenericOption("exp", "exp 0xf989 12"),
    )


@pytest.mark.parametrize(
    ("flags_text", "flags"),
    [
        ("S.", "S."),
        ("P.", "P."),
        ("F.", "F."),
        ("R.", "R."),
        ("SEW", "SEW"),
        ("SE.", "SE."),
        (".", "."),
        ("R", "R"),
        ("F  .", "F."),
        ("U.", "U."),
    ],
)
def test_tcp_flags(flags_text: str, flags: str) -> None:
    assert tcp(f"+0 < {flags_text} 1:1(0) ack 1 win 100\n").flags == flags


def test_tcp_data_ack_win_urg_and_no_options() -> None:
    e = tcp("+0.1 < P. 1:1001(1000) ack 4294967295 win 32767 urg 5\n")
    assert (e.direction, e.seq_start, e.seq_end, e.payload_len) == (
        Direction.INBOUND,
        1,
        1001,
        1000,
    )
    assert (e.ack, e.win, e.urg, e.options, e.options_ignored) == (
        4294967295,
        32767,
        5,
        None,
        False,
    )


def test_tcp_sequence_wraps_and_ignored_options() -> None:
    e = tcp("+0 < . 4294967295:99(100) ack 1 win 1 <...>\n")
    assert (e.seq_start, e.seq_end, e.payload_len) == (4294967295, 99, 100)
    assert e.options is None and e.options_ignored


def test_tcp_ecn_marks_ip_fields_absolute_seq_and_udp_encapsulation() -> None:
    e = tcp("+0 >[ect0] (tos 0x20) R. 0:0(0)! ack 2 win 0 <nop,nop,md5 valid>/udp(9811 > 1)\n")
    assert e.ecn == "ect0"
    assert e.ip_fields == (IpField("tos", 0x20),)
    assert e.absolute_seq and e.flags == "R."
    assert e.options == (NopOption(), NopOption(), Md5Option("valid"))
    assert e.udp == UdpEncap(9811, 1)
    for mark in ("ce", "noecn", "ect1", "ect01"):
        assert tcp(f"+0 < [{mark}] . 1:1(0) ack 1 win 5\n").ecn == mark
    assert tcp("+0 > (hlim 64) (class 0x28) S 0:0(0) win 1\n").ip_fields == (
        IpField("hlim", 64),
        IpField("class", 0x28),
    )


def test_tcp_elided_sequence_number() -> None:
    e = tcp("+0 > S. ...(0) ack 4 win 65535 <mss 1452>/udp(9811 > 2)\n")
    assert (e.seq_start, e.seq_end, e.payload_len, e.ack) == (None, None, 0, 4)
    assert e.udp == UdpEncap(9811, 2)


def test_tcp_errors_point_at_the_token() -> None:
    err = error_of("0 close(3) = 0\n+0 < S 0:10(5) win 1\n")
    assert (err.line, err.column) == (2, 13)
    assert "does not span the payload length 5" in err.message
    err = error_of("+0 < X 0:0(0) win 1\n")
    assert (err.line, err.column, "unknown TCP flag") == (1, 6, "unknown TCP flag")
    err = error_of("\n\n+0 < S 0:0(0) win 1 <mss 1460,TS val x ecr 0>\n")
    assert (err.line, err.column) == (3, 38)
    assert "TS value" in err.message
    err = error_of("+0 < S 0:0(0) win 70000\n")
    assert "out of range" in err.message
    assert "[ect7]" not in error_of("+0 <[ect7] S 0:0(0)\n").message
    assert "unknown ECN mark 'ect7'" in error_of("+0 <[ect7] S 0:0(0)\n").message
    assert "hex digits" in error_of("+0 < S 0:0(0) <FO 123>\n").message


# --- ICMP and other protocols -------------------------------------------------------------------


def test_icmp_unreachable_with_mtu_and_quoted_segment() -> None:
    e = one("+0.1 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n")
    assert isinstance(e, IcmpEvent)
    assert (e.direction, e.icmp_type, e.icmp_code, e.mtu) == (
        Direction.INBOUND,
        "unreachable",
        "frag_needed",
        1200,
    )
    assert (e.seq_start, e.seq_end, e.payload_len, e.udp) == (1, 1461, 1460, None)


def test_icmp_without_code_and_quoting_udp_encapsulated_segment() -> None:
    e = one("+0 <icmp packet_too_big mtu 1300 [1433:2865(1432)/udp(9811 > 1)]\n")
    assert isinstance(e, IcmpEvent)
    assert (e.icmp_type, e.icmp_code, e.mtu) == ("packet_too_big", None, 1300)
    assert (e.seq_start, e.seq_end, e.payload_len) == (1433, 2865, 1432)
    assert e.udp == UdpEncap(9811, 1)
    e = one("+0 < icmp source_quench [0:0(0)]\n")
    assert isinstance(e, IcmpEvent) and (e.icmp_type, e.icmp_code, e.mtu) == (
        "source_quench",
        None,
        None,
    )


def test_icmp_errors() -> None:
    err = error_of("\n+0 < icmp unreachable port_unreachable 0:0(0)\n")
    assert (err.line, err.column) == (2, 40)
    assert "before the quoted segment" in err.message
    assert "explicit sequence range" in error_of("+0 < icmp redirect [...(0)]\n").message


def test_other_protocol_kept_as_raw_text() -> None:
    script = parse_text("+0 < udp (1472) // data\n+0 close(3) = 0\n")
    e = script.events[0]
    assert isinstance(e, OtherPacketEvent)
    assert (e.protocol, e.raw, e.direction) == ("udp", "udp (1472)", Direction.INBOUND)
    assert script.events[1].line == 2


# --- syscalls -----------------------------------------------------------------------------------


def test_syscall_args_of_every_expression_form() -> None:
    e = syscall("+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0\n")
    assert e.name == "setsockopt" and e.ret == Int(0) and e.errno is None and e.note is None
    assert e.args == (
        Int(3),
        Name("SOL_SOCKET"),
        Name("SO_LINGER"),
        Struct((StructField("l_onoff", Int(1)), StructField("l_linger", Int(0)))),
        Int(8),
    )
    e = syscall(
        "+0 setsockopt(3, IPPROTO_TCP, TCP_FUNCTION_BLK,"
        ' {function_set_name="rack", pcbcnt=0}, 36) = 0\n'
    )
    s = e.args[3]
    assert (
        isinstance(s, Struct) and s.get("function_set_name") == Str("rack") and s.get("x") is None
    )
    e = syscall("+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK|0x4) = 0\n")
    assert e.args[2] == BitOr((Name("O_RDWR"), Name("O_NONBLOCK"), Int(4, hex=True)))
    e = syscall("+0 setsockopt(3, IPPROTO_TCP, TCP_REMOTE_UDP_ENCAPS_PORT, [-1], 4) = -1\n")
    assert e.args[3] == List((Int(-1),)) and e.ret == Int(-1)
    e = syscall("+0 connect(3, {sa_family=AF_INET, sin_port=htons(8080), ...}, ...) = 0\n")
    assert e.args[1] == Struct(
        (
            StructField("sa_family", Name("AF_INET")),
            StructField("sin_port", Call("htons", (Int(8080),))),
            StructField(None, Ellipsis_()),
        )
    )
    assert e.args[2] == Ellipsis_()
    assert syscall("+0 getpid() = 7\n").args == ()
    # The dump prints expressions back in packetdrill's syntax.
    assert format_expr(e.args[1]) == "{sa_family=AF_INET, sin_port=htons(8080), ...}"
    text = '+0 f([-1], 0x4 | O_RDWR, "s") = -1 EINVAL (Invalid argument)\n'
    assert format_event(one(text)).endswith(
        "f([-1], 0x4 | O_RDWR, \"s\") = -1 errno=EINVAL note='Invalid argument'"
    )


def test_syscall_errno_and_note() -> None:
    e = syscall("+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n")
    assert (e.ret, e.errno, e.note) == (Int(-1), "EINPROGRESS", "Operation now in progress")
    e = syscall("+0 fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)\n")
    assert (e.ret, e.errno, e.note) == (Int(2, hex=True), None, "flags O_RDWR")
    e = syscall("+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0\n")
    assert e.args[3] == List((Name("ECONNRESET"),)) and e.args[4] == List((Int(4),))


def test_syscall_errors() -> None:
    err = error_of("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3 = 0\n")
    assert (err.line, err.column) == (2, 12)
    assert "to close the arguments of close()" in err.message
    err = error_of("+0 close(3)\n+0 close(4) = 0\n")
    assert (err.line, err.column) == (2, 1) and "return value" in err.message
    assert error_of("+0 read(3, 1.5, 4) = 0\n").line == 1


# --- commands, code blocks, init and cleanup ----------------------------------------------------


def test_backtick_and_code_blocks_keep_raw_text() -> None:
    script = parse_text(
        "`kldload x; echo 'a' |\n  setkey -c`\n"  # 1-2: init command
        "0 `sysctl -w net.inet.tcp.sack.enable=1`//c\n"  # 3
        "+0 %{\nassert tcpi_state == 4 // 2\n}%\n"  # 4-6
        "+0 %{ assert tcpi_options == (TCPI_OPT_SACK | TCPI_OPT_WSCALE) }%\n"  # 7
        "`setkey -F`\n"  # 8: cleanup command
    )
    assert script.init_command is not None and script.init_command.line == 1
    assert script.init_command.command == "kldload x; echo 'a' |\n  setkey -c"
    cmd, code, code2 = script.events
    assert isinstance(cmd, CommandEvent) and cmd.command == "sysctl -w net.inet.tcp.sack.enable=1"
    assert cmd.line == 3 and cmd.time == Time(TimeKind.ABSOLUTE, 0)
    assert isinstance(code, CodeEvent) and code.line == 4
    assert code.code == "\nassert tcpi_state == 4 // 2\n"
    assert isinstance(code2, CodeEvent) and code2.line == 7 and "TCPI_OPT_WSCALE" in code2.code
    assert script.cleanup_command is not None and script.cleanup_command.line == 8
    assert script.cleanup_command.command == "setkey -F"


def test_command_errors() -> None:
    err = error_of("0 close(3) = 0\n`a`\n+0 close(4) = 0\n")
    assert err.line == 3 and "cleanup command" in err.message
    err = error_of("0 close(3) = 0\n+0 `never closed\n")
    assert (err.line, err.column) == (2, 4) and "unterminated backtick" in err.message
    err = error_of("\n\n0 %{ x = 1\n")
    assert err.line == 3 and "unterminated %{" in err.message


def test_garbage_reports_its_line_and_column() -> None:
    err = error_of("0 close(3) = 0\n+0 close(4) = 0 junk here\n")
    assert (err.line, err.column) == (2, 17)
    assert str(err) == f"t.pkt:2:17: {err.message}"
    err = error_of("s//\n")
    assert (err.line, err.column) == (1, 1) and "expected a time" in err.message
    assert error_of("0 close(3) = 0\n+0 $\n").column == 4


def test_dump_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "a.pkt"
    good.write_text(
        "--ip_version=ipv4\n0 > S 0:0(0) win 1 <mss 1460>\n+0...0.2 accept(3, ..., ...) = 4\n"
    )
    bad = tmp_path / "b.pkt"
    bad.write_text("0 close(\n")
    assert main([str(good)]) == 0
    out = capsys.readouterr().out
    assert "option --ip_version=ipv4" in out
    assert "packet" in out and "MssOption(mss=1460)" in out
    assert "+0...0.2" in out and "accept" in out
    assert main([str(good), str(bad)]) == 1
    assert "b.pkt:2:1" in capsys.readouterr().err


# --- the corpus ---------------------------------------------------------------------------------


def test_corpus_parses(capsys: pytest.CaptureFixture[str]) -> None:
    if not CORPUS.is_dir():
        if os.environ.get("USTACK_REQUIRE_ALL") == "1":
            pytest.fail(f"conformance suite not found at {CORPUS} (USTACK_REQUIRE_ALL=1)")
        pytest.skip(f"conformance suite not found at {CORPUS} (set USTACK_CONFORMANCE_DIR)")
    scripts: list[Script] = []
    failures: list[str] = []
    malformed: dict[str, int] = {}
    for path in sorted(CORPUS.rglob("*.pkt")):
        rel = path.relative_to(CORPUS).as_posix()
        try:
            scripts.append(parse_file(path))
        except ParseError as exc:
            if rel in KNOWN_MALFORMED:
                malformed[rel] = exc.line
            else:
                failures.append(str(exc))
    assert failures == []
    assert malformed == KNOWN_MALFORMED
    kinds = collections.Counter(e.kind for s in scripts for e in s.events)
    assert len(scripts) > 1000 and kinds["packet"] > 10000 and kinds["icmp"] > 50
    # Every event dumps without error (the CLI's formatter covers every node type).
    assert all(format_event(e) for s in scripts for e in s.events)
    with capsys.disabled():
        print(
            f"\npacketdrill corpus: {len(scripts)} scripts parsed, {len(malformed)} known "
            f"malformed; events by kind: {dict(kinds.most_common())}"
        )
