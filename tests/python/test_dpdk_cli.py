"""The CLI's DPDK options without DPDK: the EAL command line it builds, the
folder it removes, which runs skip the namespace, and --help (no root)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from ustack import dpdklink
from ustack.commands import fetch, ping, serve
from ustack.commands._live import check_link_options, dpdk_user_port, use_dpdk
from ustack.dpdklink import DEFAULT_EAL_ARGS, eal_arguments, names_pci_device, names_port


def _opt(argv: list[str], name: str) -> list[str]:
    return [a for a in argv if a == name or a.startswith(name + "=")]


def test_default_eal_line_needs_no_hugepages_and_names_its_runtime_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(dpdklink.BASE_ENV, raising=False)
    argv = eal_arguments("", None, "ustack-serve-42")
    base = DEFAULT_EAL_ARGS.split()
    assert argv[: len(base)] == base
    assert "--file-prefix=ustack-serve-42" in argv
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    assert f"--lcores=0@({cpus})" in argv  # not pinned to the first CPU


def test_user_arguments_come_last_and_a_pci_device_drops_no_pci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(dpdklink.BASE_ENV, raising=False)
    argv = eal_arguments("-a 0000:03:00.0 --log-level=pmd.net.tap:debug", None, "p")
    assert "--no-pci" not in argv and "--no-huge" in argv
    assert argv[-3:] == ["-a", "0000:03:00.0", "--log-level=pmd.net.tap:debug"]
    # A vdev keeps --no-pci: no PCI bus scan is wanted for it.
    assert "--no-pci" in eal_arguments("--vdev=net_memif0,role=server", None, "p")


def test_base_replaced_by_option_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = eal_arguments("-a 0000:03:00.0", "", "p")  # hugepages: no base at all
    assert "--no-huge" not in argv and "-m" not in argv
    monkeypatch.setenv(dpdklink.BASE_ENV, "--no-huge -m 512 --no-shconf")
    argv = eal_arguments("", None, "p")
    assert argv[:4] == ["--no-huge", "-m", "512", "--no-shconf"] and "--no-pci" not in argv


def test_users_own_prefix_and_lcores_are_kept() -> None:
    argv = eal_arguments("--file-prefix=mine -l 1", "", "ustack-ping-1")
    assert _opt(argv, "--file-prefix") == ["--file-prefix=mine"]
    assert not _opt(argv, "--lcores")


def test_device_detection() -> None:
    assert names_pci_device(["-a", "0000:03:00.0"]) and names_pci_device(["-a0000:03:00.0"])
    assert names_pci_device(["--allow=0000:03:00.0"])
    assert not names_pci_device(["--vdev=net_tap0"]) and names_port(["--vdev", "net_tap0"])
    assert not names_port(["--log-level=eal:debug", "--no-huge"])


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    return parser.parse_args(["--http", "80", *argv])


def test_which_runs_use_dpdk_and_which_port() -> None:
    assert not use_dpdk(_args())
    plain = _args("--driver", "dpdk")
    assert use_dpdk(plain) and dpdk_user_port(plain) is None  # net_tap in the namespace
    # A value that starts with -- and has no space needs --dpdk-args=... (argparse).
    memif = _args("--dpdk-args=--vdev=net_memif0,role=client")
    assert use_dpdk(memif) and dpdk_user_port(memif) == "net_memif0"  # no namespace
    nic = _args("--dpdk-args", "-a 0000:03:00.0,rxq_cqe_comp_en=0 -l 2")
    assert dpdk_user_port(nic) == "0000:03:00.0"
    assert dpdk_user_port(_args("--dpdk-args", "-b 0000:03:00.1 -l 2")) == "0"
    assert dpdk_user_port(_args("--driver", "dpdk", "--dpdk-port", "0000:03:00.0")) == (
        "0000:03:00.0"
    )
    with pytest.raises(SystemExit, match="--tap"):
        check_link_options(_args("--driver", "dpdk", "--tap", "tap0"), "serve")
    with pytest.raises(SystemExit, match="need --driver dpdk"):
        check_link_options(_args("--driver", "tap", "--dpdk-port", "1"), "serve")


@pytest.mark.parametrize("module", [serve, ping, fetch])
def test_help_describes_every_dpdk_option(module: object) -> None:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)  # type: ignore[attr-defined]
    text = parser.format_help()
    for opt in ("--driver {tap,dpdk", "--dpdk-args ARGS", "--dpdk-base-args ARGS"):
        assert opt in text, text
    assert "--dpdk-port NAME" in text and "hugepages" in text


def test_runtime_folder_removed_only_when_the_run_made_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(dpdklink, "runtime_dir", lambda prefix: tmp_path / "dpdk" / prefix)
    monkeypatch.setattr(dpdklink.atexit, "register", lambda fn: fn)
    made = dpdklink._RuntimeCleanup("ustack-serve-1")
    (tmp_path / "dpdk" / "ustack-serve-1").mkdir(parents=True)
    (tmp_path / "dpdk" / "ustack-serve-1" / "mp_socket").touch()
    made.run()
    assert not (tmp_path / "dpdk").exists()  # the folder and the dpdk/ it made
    (tmp_path / "dpdk" / "theirs").mkdir(parents=True)
    again = dpdklink._RuntimeCleanup("theirs")  # there before: not this run's
    again.run()
    assert (tmp_path / "dpdk" / "theirs").is_dir()
