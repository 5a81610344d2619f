"""Interface addresses, the routing table (longest-prefix match) and the ARP cache."""

from __future__ import annotations

import errno
import ipaddress

import pytest

import ustack
from ustack import Pipe, Stack, VirtualClock
from ustack.sim import ADDR_A, ADDR_B, PipeRig


def _net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


def test_add_and_list_addresses(clock: VirtualClock, pipe: Pipe) -> None:
    with Stack(clock=clock, seed=1) as st:
        iface = st.add_interface(pipe.a, "pa0", "198.18.0.1/24")
        assert iface.addresses == [ipaddress.IPv4Interface("198.18.0.1/24")]
        iface.add_address("198.19.5.1/16")
        assert [str(a) for a in iface.addresses] == ["198.18.0.1/24", "198.19.5.1/16"]
        with pytest.raises(FileExistsError) as ei:
            iface.add_address("198.18.0.1/24")
        assert ei.value.errno == errno.EEXIST and isinstance(ei.value, ustack.Error)
        iface.del_address("198.19.5.1")
        assert [str(a) for a in iface.addresses] == ["198.18.0.1/24"]
        with pytest.raises(OSError) as ei2:
            iface.del_address("198.19.5.1/16")
        assert ei2.value.errno == errno.EADDRNOTAVAIL


def test_add_interface_with_several_addresses(clock: VirtualClock, pipe: Pipe) -> None:
    with Stack(clock=clock, seed=1) as st:
        iface = st.add_interface(pipe.a, "pa0", ["198.18.0.1/24", "198.18.1.1/24"])
        assert len(iface.addresses) == 2


@pytest.mark.parametrize("bad", ["224.0.0.1/4", "0.0.0.0/8", "255.255.255.255/32"])
def test_refused_addresses(stack: Stack, pipe: Pipe, bad: str) -> None:
    iface = stack.add_interface(pipe.a, "pa0")
    with pytest.raises(OSError) as ei:
        iface.add_address(bad)
    assert ei.value.errno == errno.EINVAL


def test_malformed_address_text(stack: Stack, pipe: Pipe) -> None:
    iface = stack.add_interface(pipe.a, "pa0")
    with pytest.raises(ValueError):
        iface.add_address("198.18.0.1/33")
    with pytest.raises(ValueError):
        iface.add_address("not an address")


def test_connected_route_follows_the_address(stack: Stack, pipe: Pipe) -> None:
    iface = stack.add_interface(pipe.a, "pa0", "198.18.0.1/24")
    routes = stack.routes()
    assert len(routes) == 1
    r = routes[0]
    assert r.dst == _net("198.18.0.0/24")
    assert r.gateway is None and r.interface == "pa0" and r.ifindex == iface.index
    assert r.src == "198.18.0.1"
    assert not r.is_static and not r.is_gateway and "U" in r.flags_text
    iface.del_address("198.18.0.1")
    assert stack.routes() == []
    with pytest.raises(OSError) as ei:
        stack.route_lookup("198.18.0.9")
    assert ei.value.errno == errno.ENETUNREACH


def test_static_routes_and_longest_prefix_match(stack: Stack, pipe: Pipe) -> None:
    stack.add_interface(pipe.a, "pa0", "198.18.0.1/24")
    stack.add_route("10.0.0.0/8", gateway="198.18.0.254")
    stack.add_route("10.1.0.0/16", gateway="198.18.0.253")
    stack.add_route("10.1.2.0/24", interface="pa0")  # on-link
    stack.add_route("default", gateway="198.18.0.250")
    # One of our own addresses as the gateway makes an on-link route
    # (FreeBSD's `route add -interface`).
    stack.add_route("192.0.2.0/24", gateway="198.18.0.1")
    own = stack.route_lookup("192.0.2.9")
    assert own.gateway is None and own.interface == "pa0" and not own.is_gateway
    stack.del_route("192.0.2.0/24")
    assert stack.route_lookup("10.9.9.9").gateway == "198.18.0.254"
    assert stack.route_lookup("10.1.9.9").gateway == "198.18.0.253"
    on_link = stack.route_lookup("10.1.2.3")
    assert on_link.gateway is None and on_link.dst == _net("10.1.2.0/24")
    assert on_link.interface == "pa0"
    assert stack.route_lookup("198.18.0.77").dst == _net("198.18.0.0/24")
    default = stack.route_lookup("203.0.113.1")
    assert default.dst == _net("0.0.0.0/0") and default.is_static and default.is_gateway
    assert default.gateway == "198.18.0.250"
    assert default.flags_text == "UGS"
    dsts = {r.dst for r in stack.routes()}
    assert dsts == {
        _net(n) for n in ("198.18.0.0/24", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "0.0.0.0/0")
    }
    stack.del_route("10.1.0.0/16")
    assert stack.route_lookup("10.1.9.9").gateway == "198.18.0.254"
    with pytest.raises(ustack.Error):
        stack.del_route("10.1.0.0/16")


def test_route_errors(stack: Stack, pipe: Pipe) -> None:
    stack.add_interface(pipe.a, "pa0", "198.18.0.1/24")
    with pytest.raises(OSError) as ei:
        stack.add_route("10.0.0.0/8", gateway="192.0.2.1")  # gateway not on-link
    assert ei.value.errno == errno.ENETUNREACH
    stack.add_route("10.0.0.0/8", gateway="198.18.0.254")
    with pytest.raises(FileExistsError):
        stack.add_route("10.0.0.0/8", gateway="198.18.0.253")
    with pytest.raises(ValueError):
        stack.add_route("10.0.0.0/8")
    # Host bits are masked off as route(8) does.
    stack.add_route("172.16.5.5/12", gateway="198.18.0.254")
    assert _net("172.16.0.0/12") in {r.dst for r in stack.routes()}


def test_routed_traffic_uses_the_gateways_mac(net: PipeRig) -> None:
    # B answers for 192.0.2.1 only by being the gateway of A's route to it.
    net.a.add_route("192.0.2.0/24", gateway=ADDR_B)
    net.ib.add_address("192.0.2.1/32")
    server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("192.0.2.1", 5000))
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.sendto(b"via gw", ("192.0.2.1", 5000))
    assert server.recvfrom(100)[0] == b"via gw"
    entry = net.a.arp_lookup(ADDR_B)
    assert entry is not None and entry.mac == net.ib.mac


def test_static_arp_entries(net: PipeRig) -> None:
    net.a.arp_add(net.ia, "198.18.0.50", "02:00:00:00:00:50")
    e = net.a.arp_lookup("198.18.0.50")
    assert e is not None
    assert e.mac == "02:00:00:00:00:50" and e.is_static and e.is_resolved
    assert e.expire_ns is None and e.interface == "pa0"
    assert "198.18.0.50" in {x.ip for x in net.a.arp_table()}
    net.a.arp_del("pa0", "198.18.0.50")
    assert net.a.arp_lookup("198.18.0.50") is None
    with pytest.raises(ustack.Error):
        net.a.arp_del(net.ia, "198.18.0.50")
    with pytest.raises(ValueError):
        net.a.arp_add(net.ia, "198.18.0.51", "02:00:00")


def test_dynamic_arp_after_traffic(net: PipeRig) -> None:
    server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", 5000))
    assert net.a.arp_lookup(ADDR_B) is None
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.sendto(b"resolve me", (ADDR_B, 5000))
    assert server.recv(100) == b"resolve me"
    e = net.a.arp_lookup(ADDR_B)
    assert e is not None and e.is_resolved and not e.is_static
    assert e.mac == net.ib.mac
    assert e.expire_ns is not None and e.expire_ns > net.a.now
    back = net.b.arp_lookup(ADDR_A)  # learnt from A's request
    assert back is not None and back.mac == net.ia.mac
    arp = net.a.netstat("arp")["arp"]
    assert arp["txrequests"] == 1 and arp["rxreplies"] == 1


def test_static_arp_entry_is_not_replaced_from_the_wire(net: PipeRig) -> None:
    wrong = "02:00:00:00:00:99"
    net.a.arp_add(net.ia, ADDR_B, wrong)
    server = net.b.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    server.bind(("", 5000))
    server.settimeout(0.5)
    client = net.a.socket(ustack.AF_INET, ustack.SOCK_DGRAM)
    client.sendto(b"lost", (ADDR_B, 5000))
    with pytest.raises(TimeoutError):
        server.recv(100)
    assert net.b.netstat("ether")["ether"]["ether_notours"] >= 1
    # B's gratuitous ARP or replies must not overwrite the static entry.
    net.ib.del_address(ADDR_B)
    net.ib.add_address(ADDR_B + "/24")
    net.run()
    e = net.a.arp_lookup(ADDR_B)
    assert e is not None and e.mac == wrong and e.is_static


def test_gratuitous_arp_on_add_address(net: PipeRig) -> None:
    net.run()
    assert net.a.netstat("arp")["arp"]["txannounces"] == 1
    assert net.a.sysctl("net.link.ether.inet.garp_rexmit_count") == 1
