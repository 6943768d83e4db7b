"""Loopback socket helpers shared by the API tests and benchmarks/bench_hostile_clients.py."""

from __future__ import annotations

import contextlib
import os
import socket

# the start of a request head that never ends (a slowloris client)
HALF_HEAD = b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def open_fds(pid: int) -> int:
    """How many file descriptors process ``pid`` holds (Linux /proc)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (EOF, reset, or a 408 followed by EOF)."""
    sock.setblocking(False)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def trickle(socks: list[socket.socket]) -> list[socket.socket]:
    """One more header line (never the end of the head) to each socket the server has not closed; those."""
    still = []
    for sock in socks:
        if closed_by_server(sock):
            continue
        with contextlib.suppress(OSError):
            sock.sendall(b"X-Slow: 1\r\n")
        still.append(sock)
    return still
