"""SYN cookies that carry window scale, SACK-permitted and timestamps (FreeBSD's
layout, netinet/tcp_syncache.c): a connection completed from a cookie
(net.inet.tcp.syncookies_only=1, nothing cached) agrees on all three, and a
large-window transfer over the pipe uses a window far above 64 KB."""

from __future__ import annotations

import random

import pytest

import ustack
from ustack.sim import ADDR_B, PipeRig

PORT = 7200


@pytest.mark.parametrize("seed", [3, 11])
def test_cookie_connection_scales_sacks_and_timestamps(seed: int) -> None:
    with PipeRig(seed=seed, addresses=True, a_to_b=ustack.Faults(loss=0.005)) as net:
        net.b.sysctl("net.inet.tcp.syncookies_only", 1)
        for st in (net.a, net.b):
            st.sysctl("kern.ipc.maxsockbuf", 8 << 20)
        srv = net.b.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        srv.setsockopt(ustack.SOL_SOCKET, ustack.SO_RCVBUF, 4 << 20)
        srv.bind(("", PORT))
        srv.listen(4)
        cli = net.a.socket(ustack.AF_INET, ustack.SOCK_STREAM)
        cli.setsockopt(ustack.SOL_SOCKET, ustack.SO_SNDBUF, 4 << 20)
        cli.settimeout(10)
        srv.settimeout(10)
        cli.connect((ADDR_B, PORT))
        conn, _ = srv.accept()
        tcp = net.b.netstat("tcp")["tcp"]
        assert (tcp["tcps_sc_sendcookie"], tcp["tcps_sc_recvcookie"]) == (1, 1), seed
        assert tcp["tcps_sc_added"] == 0, seed
        want = ustack.TCPI_OPT_WSCALE | ustack.TCPI_OPT_SACK | ustack.TCPI_OPT_TIMESTAMPS
        for s in (conn, cli):
            info = s.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
            assert info.tcpi_options & want == want, (seed, info)
        srv_info = conn.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
        cli_info = cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO)
        assert srv_info.tcpi_rcv_wscale > 0 and srv_info.tcpi_snd_wscale > 0, seed
        assert cli_info.tcpi_snd_wscale == srv_info.tcpi_rcv_wscale, seed
        data = random.Random(seed).randbytes(6 << 20)
        assert net.stream(cli, conn, data) == data, f"seed {seed}"
        # The window the cookie connection grants is the 4 MB buffer's,
        # not the 64 KB an unscaled one would be stuck with.
        assert cli.getsockopt(ustack.IPPROTO_TCP, ustack.TCP_INFO).tcpi_snd_wnd > 1 << 20, seed
        # Losses were repaired with SACK (the option came back from the cookie).
        assert net.a.netstat("tcp")["tcp"]["tcps_sack_rexmits"] > 0, seed
