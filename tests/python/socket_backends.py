"""Two backends for the socket-idiom tests: the standard library on loopback
and ustack on a pipe (virtual clock).  A test body takes a backend and
writes the idiom once, with the host's :mod:`socket` constants; the two runs
must end the same way."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

from ustack.sim import ADDR_A, ADDR_B, PipeRig


class Backend:
    """Sockets of a client and a server host, and the server's address."""

    name = ""
    server_host = ""
    client_host = ""

    def socket(
        self,
        family: int = socket.AF_INET,
        type: int = socket.SOCK_STREAM,  # noqa: A002
        proto: int = 0,
        *,
        server: bool = False,
    ) -> Any:
        raise NotImplementedError

    def listener(self, backlog: int = 8) -> tuple[Any, tuple[str, int]]:
        """A TCP socket listening on the server host, and its address."""
        lsock = self.socket(server=True)
        lsock.bind((self.server_host, 0))
        lsock.listen(backlog)
        return lsock, lsock.getsockname()

    def connected(self) -> tuple[Any, Any]:
        """A connected TCP pair ``(client, server)``; the listener is closed."""
        lsock, addr = self.listener()
        with lsock:
            client = self.socket()
            client.connect(addr)
            conn, _ = lsock.accept()
        return client, conn

    def create_connection(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def create_server(self, address: tuple[str, int], **kwargs: Any) -> Any:
        raise NotImplementedError

    def socketpair(self, *args: Any) -> tuple[Any, Any]:
        raise NotImplementedError

    def getaddrinfo(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass


class StdlibBackend(Backend):
    """The host's sockets on 127.0.0.1."""

    name = "stdlib"
    server_host = "127.0.0.1"
    client_host = "127.0.0.1"

    def __init__(self) -> None:
        self._socks: list[socket.socket] = []

    def socket(
        self,
        family: int = socket.AF_INET,
        type: int = socket.SOCK_STREAM,  # noqa: A002
        proto: int = 0,
        *,
        server: bool = False,
    ) -> Any:
        s = socket.socket(family, type, proto)
        self._socks.append(s)
        return s

    def create_connection(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        return socket.create_connection(address, *args, **kwargs)

    def create_server(self, address: tuple[str, int], **kwargs: Any) -> Any:
        return socket.create_server(address, **kwargs)

    def socketpair(self, *args: Any) -> tuple[Any, Any]:
        return socket.socketpair(*args)

    def getaddrinfo(self, *args: Any, **kwargs: Any) -> Any:
        return socket.getaddrinfo(*args, **kwargs)

    def close(self) -> None:
        for s in self._socks:
            s.close()


class UstackBackend(Backend):
    """Stack A (client, 198.18.0.1) and stack B (server, 198.18.0.2) on a pipe."""

    name = "ustack"
    server_host = ADDR_B
    client_host = ADDR_A

    def __init__(self) -> None:
        self.rig = PipeRig(seed=1, addresses=True)
        # Any: the helpers under test need not type-check against the stdlib's.
        self.a: Any = self.rig.a
        self.b: Any = self.rig.b

    def socket(
        self,
        family: int = socket.AF_INET,
        type: int = socket.SOCK_STREAM,  # noqa: A002
        proto: int = 0,
        *,
        server: bool = False,
    ) -> Any:
        return (self.rig.b if server else self.rig.a).socket(family, type, proto)

    def create_connection(self, address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        return self.a.create_connection(address, *args, **kwargs)

    def create_server(self, address: tuple[str, int], **kwargs: Any) -> Any:
        return self.b.create_server(address, **kwargs)

    def socketpair(self, *args: Any) -> tuple[Any, Any]:
        return self.a.socketpair(*args)

    def getaddrinfo(self, *args: Any, **kwargs: Any) -> Any:
        return self.a.getaddrinfo(*args, **kwargs)

    def close(self) -> None:
        self.rig.close()


def backends(name: str) -> Iterator[Backend]:
    """The backend called ``name``, closed afterwards (a fixture body)."""
    b: Backend = StdlibBackend() if name == "stdlib" else UstackBackend()
    try:
        yield b
    finally:
        b.close()
