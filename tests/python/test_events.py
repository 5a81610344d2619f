"""The event queue (ust_evq) and the selectors adapter."""

from __future__ import annotations

import errno
import selectors

import pytest

import ustack
from ustack import EV_ERR, EV_IN, EV_OUT, EventQueue, Socket
from ustack.selectors import UstackSelector
from ustack.sim import ADDR_B, PipeRig

SECOND = 1_000_000_000


def _server(net: PipeRig, port: int = 5000) -> Socket:
    s = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    s.bind(("", port))
    return s


def test_register_modify_unregister_errors_like_epoll(net: PipeRig) -> None:
    s = _server(net)
    with EventQueue(net.b) as q:
        q.register(s, EV_IN)
        assert s in q and len(q) == 1
        with pytest.raises(FileExistsError) as ei:
            q.register(s, EV_IN)
        assert ei.value.errno == errno.EEXIST
        q.modify(s, EV_IN | EV_OUT)
        assert q.registered() == {s: EV_IN | EV_OUT}
        q.unregister(s)
        assert s not in q
        with pytest.raises(FileNotFoundError):
            q.unregister(s)
        with pytest.raises(FileNotFoundError):
            q.modify(s, EV_IN)
    assert q.closed


def test_socket_of_another_stack_is_refused(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with EventQueue(net.b) as q, pytest.raises(ValueError):
        q.register(s, EV_IN)


def test_udp_socket_is_writable_at_once(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with EventQueue(net.a) as q:
        q.register(s, EV_OUT)
        assert q.poll(0) == [(s, EV_OUT)]


def test_readable_is_level_triggered(net: PipeRig) -> None:
    server = _server(net)
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with EventQueue(net.b) as q:
        q.register(server, EV_IN)
        assert q.poll(0) == []
        client.sendto(b"one", (ADDR_B, 5000))
        client.sendto(b"two", (ADDR_B, 5000))
        assert q.poll() == [(server, EV_IN)]  # runs the world until ready
        assert q.poll(0) == [(server, EV_IN)]  # still readable: reported again
        assert server.recv(10) == b"one"
        assert q.poll(0) == [(server, EV_IN)]
        assert server.recv(10) == b"two"
        assert q.poll(0) == []


def test_modify_changes_what_is_reported(net: PipeRig) -> None:
    server = _server(net)
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.sendto(b"x", (ADDR_B, 5000))
    net.run()
    with EventQueue(net.b) as q:
        q.register(server, EV_OUT)
        assert q.poll(0) == [(server, EV_OUT)]
        q.modify(server, EV_IN | EV_OUT)
        assert q.poll(0) == [(server, EV_IN | EV_OUT)]
        q.modify(server, EV_IN, data="server")
        assert q.poll(0) == [("server", EV_IN)]


def test_data_is_returned_instead_of_the_socket(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with EventQueue(net.a) as q:
        q.register(s, EV_OUT, data=("my", "handler"))
        assert q.poll(0) == [(("my", "handler"), EV_OUT)]


def test_close_removes_the_socket(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    t = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with EventQueue(net.a) as q:
        q.register(s, EV_OUT)
        q.register(t, EV_OUT)
        s.close()
        assert s not in q and len(q) == 1
        assert q.poll(0) == [(t, EV_OUT)]
        with pytest.raises(OSError):
            q.register(s, EV_OUT)


def test_timeout_returns_empty_after_that_much_stack_time(net: PipeRig) -> None:
    server = _server(net)
    with EventQueue(net.b) as q:
        q.register(server, EV_IN)
        t0 = net.b.now
        assert q.poll(timeout=0.25) == []
        assert net.b.now - t0 >= SECOND // 4


def test_wait_forever_with_nothing_pending_raises_deadlock(net: PipeRig) -> None:
    server = _server(net)
    with EventQueue(net.b) as q:
        q.register(server, EV_IN)
        with pytest.raises(ustack.Deadlock, match=r"EventQueue.poll\(\)"):
            q.poll()
        with pytest.raises(ustack.Deadlock):
            q.poll(-1)


def test_maxevents(net: PipeRig) -> None:
    socks = [net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM) for _ in range(3)]
    with EventQueue(net.a) as q:
        for s in socks:
            q.register(s, EV_OUT)
        assert len(q.poll(0, maxevents=2)) == 2
        assert {s for s, _ in q.poll(0)} == set(socks)
        with pytest.raises(OSError):
            q.poll(0, maxevents=0)


def test_error_event_on_refused_connected_socket(net: PipeRig) -> None:
    s = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    s.connect((ADDR_B, 9))
    with EventQueue(net.a) as q:
        q.register(s, EV_IN)
        s.send(b"x")
        events = q.poll(timeout=1.0)
        assert events and events[0][0] is s
        assert events[0][1] & EV_ERR  # always reported, even when not asked
        assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_ERROR) == errno.ECONNREFUSED
        assert s.getsockopt(ustack.SOL_SOCKET, ustack.SO_ERROR) == 0  # read clears it


def test_event_names() -> None:
    assert ustack.event_names(EV_IN | EV_OUT) == "IN|OUT"
    assert ustack.event_names(0) == "0"


def test_stack_close_closes_queues(net: PipeRig) -> None:
    q = EventQueue(net.a)
    net.a.close()
    assert q.closed


def test_selector_roundtrip(net: PipeRig) -> None:
    server = _server(net)
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    with UstackSelector(net.b) as sel:
        key = sel.register(server, selectors.EVENT_READ, data="srv")
        assert sel.get_key(server) is key
        assert key.fd == server.fileno()  # the fileno (issue 21), no longer the id
        assert sel.select(0) == []
        client.sendto(b"hi", (ADDR_B, 5000))
        ready = sel.select(timeout=1.0)
        assert [(k.data, m) for k, m in ready] == [("srv", selectors.EVENT_READ)]
        sel.modify(server, selectors.EVENT_READ | selectors.EVENT_WRITE, data="both")
        (k, m), *_ = sel.select(0)
        assert k.data == "both" and m == selectors.EVENT_READ | selectors.EVENT_WRITE
        with pytest.raises(KeyError):
            sel.register(server, selectors.EVENT_READ)
        with pytest.raises(ValueError):
            sel.register(client, 0)
        sel.unregister(server)
        with pytest.raises(KeyError):
            sel.unregister(server)
        assert len(sel.get_map()) == 0
