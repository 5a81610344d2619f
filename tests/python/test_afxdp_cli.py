"""The CLI's AF_XDP options without AF_XDP: which runs use it, which skip
the namespace, the options that do not go together, --help (no root); and,
as root in a namespace, the veth pair the link makes (names, queues, MTU,
the kernel end's transmit checksumming off) and removes."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from ustack import netns
from ustack.afxdplink import make_veth, ustack_end
from ustack.commands import fetch, ping, serve
from ustack.commands._live import check_link_options, enter_namespace, use_afxdp, use_dpdk

ROOT = Path(__file__).resolve().parents[2]


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    return parser.parse_args(["--http", "80", *argv])


def test_which_runs_use_afxdp() -> None:
    assert not use_afxdp(_args())
    assert not use_afxdp(_args("--driver", "dpdk"))
    plain = _args("--driver", "afxdp")
    assert use_afxdp(plain) and not use_dpdk(plain)
    assert plain.afxdp_mode == "auto" and plain.afxdp_queues == 1 and plain.afxdp_ifname is None
    # The user's interface implies the driver, as --dpdk-port implies dpdk.
    assert use_afxdp(_args("--afxdp-ifname", "eth1"))
    two = _args("--driver", "afxdp", "--afxdp-mode", "generic", "--afxdp-queues", "2")
    assert two.afxdp_mode == "generic" and two.afxdp_queues == 2
    check_link_options(two, "serve")


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (("--afxdp-mode", "native"), "need --driver afxdp"),
        (("--afxdp-no-offload",), "need --driver afxdp"),
        (("--driver", "tap", "--afxdp-queues", "2"), "need --driver afxdp"),
        (("--driver", "dpdk", "--afxdp-ifname", "eth1"), "need --driver afxdp"),
        (("--driver", "afxdp", "--tap", "tap0"), "--tap and the DPDK options"),
        (("--driver", "afxdp", "--dpdk-port", "0"), "--tap and the DPDK options"),
        (("--driver", "afxdp", "--afxdp-queues", "0"), "at least 1"),
    ],
)
def test_options_that_do_not_go_together(argv: tuple[str, ...], match: str) -> None:
    with pytest.raises(SystemExit, match=match):
        check_link_options(_args(*argv), "serve")


def test_bad_mode_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _args("--driver", "afxdp", "--afxdp-mode", "zerocopy")
    assert "invalid choice: 'zerocopy'" in capsys.readouterr().err


def test_the_users_interface_runs_without_a_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(netns.INSIDE_ENV, raising=False)

    def fail(*a: object) -> int:
        raise AssertionError("no namespace for the user's own interface")

    monkeypatch.setattr(netns, "reexec_inside", fail)
    assert enter_namespace(_args("--afxdp-ifname", "eth1"), "serve", "serve") is None
    # A veth made for the run needs the namespace.
    monkeypatch.setattr(netns, "reexec_inside", lambda purpose, existing: 7)
    assert enter_namespace(_args("--driver", "afxdp"), "serve", "serve") == 7


@pytest.mark.parametrize("module", [serve, ping, fetch])
def test_help_describes_every_afxdp_option(module: object) -> None:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)  # type: ignore[attr-defined]
    text = parser.format_help()
    assert "afxdp" in text.split("--driver {", 1)[1].split("}", 1)[0], text
    for opt in (
        "--afxdp-mode {auto,native,generic}",
        "--afxdp-queues N",
        "--afxdp-ifname NAME",
        "--afxdp-no-offload",
    ):
        assert opt in text, text
    assert "--driver afxdp" in text
    desc = str(module.DESCRIPTION)  # type: ignore[attr-defined]
    assert "ethtool -K IFNAME tx off" in desc  # the kernel's end, and why
    assert "--driver afxdp" in desc.split("examples:", 1)[1], desc  # an example of each
    assert "AF_XDP" in str(module.HELP)  # type: ignore[attr-defined]


def test_ustack_end_name_fits_ifnamsiz() -> None:
    assert ustack_end("ust0") == "ust0x"
    assert len(ustack_end("a" * 15)) == 15


_INSIDE = r"""
import json, subprocess, sys
from ustack.afxdplink import make_veth
make_veth("ust0", "ust0x", queues=2, mtu=3000)
def link(name):
    out = subprocess.run(["ip", "-j", "-d", "link", "show", name], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)[0]
feats = subprocess.run(["ethtool", "-k", "ust0"], capture_output=True, text=True).stdout
print(json.dumps({"k": link("ust0"), "u": link("ust0x"), "feats": feats}))
"""


@pytest.mark.skipif(netns.unavailable_reason() is not None, reason=f"{netns.unavailable_reason()}")
def test_make_veth_in_a_namespace() -> None:
    import json

    if subprocess.run(["which", "ethtool"], capture_output=True).returncode != 0:
        pytest.skip("ethtool is not installed")
    with netns.NetNs("afxdp-cli") as ns:
        env = {"PYTHONPATH": str(ROOT / "python_bindings"), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        proc = subprocess.run(
            ns.exec_argv(sys.executable, "-c", _INSIDE),
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        got = json.loads(proc.stdout)
        k, u = got["k"], got["u"]
        assert k["mtu"] == 3000 and u["mtu"] == 3000
        assert k["num_tx_queues"] == 2 and u["num_rx_queues"] == 2
        assert "UP" in u["flags"] and "UP" not in k["flags"]  # the kernel's end: later
        assert "tx-checksumming: off" in got["feats"], got["feats"]
        assert "tx-tcp-segmentation: off" in got["feats"]  # so no TSO either
        # Made inside the namespace only.
        host = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        assert "ust0x" not in host


def test_make_veth_needs_ip() -> None:
    # Outside a namespace nothing is made: a name the kernel refuses fails
    # before any device exists (and so cannot touch the host).
    with pytest.raises(OSError):
        make_veth("bad name/", "x", queues=1)
