"""Hostile connections against ``socialscore serve`` on loopback (fast versions; benchmarks/bench_connections.py
runs the big ones): half-sent requests are timed out, and a worker's connections (and so its file
descriptors) are capped."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import LiveServer
from sockets import HALF_HEAD, open_fds, trickle

pytestmark = pytest.mark.slow

READ_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def guarded_server(tiny_bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module (each case leaves it as it found it): a 1 s read timeout, 60 connections."""
    env = {"SOCIALSCORE_READ_TIMEOUT": str(READ_TIMEOUT), "SOCIALSCORE_MAX_CONNECTIONS": "60"}
    server = LiveServer(tiny_bundle_dir, tmp_path_factory.mktemp("guarded") / "server.log", env=env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_slowloris_half_sent_requests_are_closed(guarded_server):
    """200 requests whose headers trickle in one line at a time are all closed within the read timeout."""
    socks = [socket.create_connection(("127.0.0.1", guarded_server.port), timeout=5) for _ in range(200)]
    # over the 60-connection cap some are refused at once; the rest must be timed out, not held
    try:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.sendall(HALF_HEAD)
        deadline = time.monotonic() + READ_TIMEOUT + 5
        open_ = list(socks)
        while open_ and time.monotonic() < deadline:
            time.sleep(0.25)
            open_ = trickle(open_)
        assert not open_, f"{len(open_)} of 200 half-sent requests still open after {READ_TIMEOUT + 5:g} s"
    finally:
        for sock in socks:
            sock.close()
    assert httpx.get(guarded_server.url + "/health", timeout=5).status_code == 200


def test_a_trickled_body_is_answered_408(guarded_server):
    with socket.create_connection(("127.0.0.1", guarded_server.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{")
        started = time.monotonic()
        answer = b""
        while time.monotonic() - started < READ_TIMEOUT + 5 and not answer:
            time.sleep(0.2)
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                answer = sock.recv(4096)
            sock.setblocking(True)
            if not answer:
                with contextlib.suppress(OSError):
                    sock.sendall(b" ")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"request_timeout" in answer


def test_an_idle_connection_flood_keeps_descriptors_bounded(guarded_server):
    """600 idle connections: the worker holds at most its cap (60), the rest are closed at once."""
    pid = guarded_server.process.pid
    before = open_fds(pid)
    socks = []
    try:
        for _ in range(600):
            socks.append(socket.create_connection(("127.0.0.1", guarded_server.port), timeout=5))
        time.sleep(0.5)  # let the server accept the last ones
        during = open_fds(pid)
        assert during <= before + 60 + 10, (before, during)
    finally:
        for sock in socks:
            sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(guarded_server.url + "/health", timeout=2).status_code == 200:
                break
        time.sleep(0.2)
    else:
        pytest.fail("the server did not answer after the flood")


def test_idle_connections_are_closed_after_the_read_timeout(guarded_server):
    """A connection that sends nothing is not held for ever (it would keep its slot under the cap)."""
    with socket.create_connection(("127.0.0.1", guarded_server.port), timeout=READ_TIMEOUT + 5) as sock:
        started = time.monotonic()
        first = sock.recv(4096)  # raises TimeoutError if the server holds the connection
        waited = time.monotonic() - started
    assert first == b"" or first.startswith(b"HTTP/1.1 408"), first[:100]
    assert waited < READ_TIMEOUT + 4, waited
