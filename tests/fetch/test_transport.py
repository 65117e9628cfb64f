"""transport: the small HTTP/1.1 client, against a raw socket server that answers exactly what each test scripts."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from aggregator.fetch.transport import ProtocolError, Response, Transport

Script = Callable[[socket.socket, bytes], bool]  # (connection, request head) -> keep the connection open?


@contextmanager
def raw_server(script: Script) -> Iterator[tuple[str, list[bytes], list[int]]]:
    """Each accepted connection serves requests with `script` until it says close; yields (base, heads, conns)."""
    heads: list[bytes] = []
    connections: list[int] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve(conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                heads.append(head)
                if not script(conn, head):
                    return

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            connections.append(1)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", heads, connections
    finally:
        listener.close()


def answer(reply: bytes, *, keep_open: bool = True) -> Script:
    """A script that sends `reply` to every request, then keeps the connection or closes it."""

    def script(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(reply)
        return keep_open

    return script


def read_all(resp: Response) -> bytes:
    parts = []
    while chunk := resp.read1(7):  # small reads cross chunk boundaries
        parts.append(chunk)
    return b"".join(parts)


def test_keep_alive_reuses_one_connection_and_sends_what_was_asked() -> None:
    ok = answer(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
    with raw_server(ok) as (base, heads, connections):
        transport = Transport("test-agent/1", connect_timeout=2)
        for _ in range(3):
            resp = transport.get(f"{base}/feed.xml?a=1", {"If-None-Match": '"v1"'}, read_timeout=2)
            assert (resp.status, resp.reason, resp.headers.get("content-type")) == (200, "OK", "text/plain")
            assert read_all(resp) == b"hello"
            transport.release(resp)
        transport.close()
    assert len(connections) == 1
    first = heads[0].decode()
    assert first.startswith("GET /feed.xml?a=1 HTTP/1.1\r\n")
    assert "User-Agent: test-agent/1" in first and 'If-None-Match: "v1"' in first
    assert f"Host: {base.split('//')[1]}" in first


def test_chunked_body_with_extensions_and_trailers() -> None:
    chunked = answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5;name=x\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n")
    with raw_server(chunked) as (base, _, connections):
        transport = Transport("t", connect_timeout=2)
        for _ in range(2):
            resp = transport.get(f"{base}/", {}, read_timeout=2)
            assert read_all(resp) == b"hello, world"
            assert resp.complete
            transport.release(resp)
    assert len(connections) == 1  # the connection was clean after the trailers, so it was reused


def test_a_body_that_ends_with_the_connection_is_read_and_not_reused() -> None:
    with raw_server(answer(b"HTTP/1.0 200 OK\r\n\r\nall of it", keep_open=False)) as (base, _, connections):
        transport = Transport("t", connect_timeout=2)
        for _ in range(2):
            resp = transport.get(f"{base}/", {}, read_timeout=2)
            assert read_all(resp) == b"all of it"
            transport.release(resp)
    assert len(connections) == 2


def test_a_kept_alive_connection_the_server_closed_is_retried_once_on_a_new_one() -> None:
    once = answer(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n', keep_open=False)  # closes without saying so
    with raw_server(once) as (base, _, connections):
        transport = Transport("t", connect_timeout=2)
        for _ in range(3):
            resp = transport.get(f"{base}/", {}, read_timeout=2)
            assert resp.status == 304 and resp.headers.get("ETag") == '"v1"' and resp.complete
            transport.release(resp)
    assert len(connections) == 3


def test_repeated_headers_join_and_names_are_case_insensitive() -> None:
    many = answer(b"HTTP/1.1 200 OK\r\ncache-control: public\r\nCACHE-CONTROL: max-age=60\r\n"
                  b"Content-Length: 0\r\n\r\n")
    with raw_server(many) as (base, _, _):
        resp = Transport("t", connect_timeout=2).get(f"{base}/", {}, read_timeout=2)
    assert resp.headers.get("Cache-Control") == "public, max-age=60"
    assert "cache-control" in resp.headers and resp.headers["CACHE-control"] == "public, max-age=60"


def test_non_ascii_paths_are_percent_encoded() -> None:
    with raw_server(answer(b"HTTP/1.1 204 No Content\r\n\r\n")) as (base, heads, _):
        resp = Transport("t", connect_timeout=2).get(f"{base}/新闻/列表.html?q=展会", {}, read_timeout=2)
    assert resp.status == 204
    assert heads[0].startswith(b"GET /%E6%96%B0%E9%97%BB/%E5%88%97%E8%A1%A8.html?q=%E5%B1%95%E4%BC%9A HTTP/1.1")


@pytest.mark.parametrize("reply", [b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 20 OK\r\n\r\n",
                                   b"HTTP/1.1 \xb2\xb2\xb2 OK\r\n\r\n",  # "\xb2" is "²": isdigit() says yes
                                   b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"])
def test_replies_that_are_not_http_are_protocol_errors(reply: bytes) -> None:
    with raw_server(answer(reply, keep_open=False)) as (base, _, _), pytest.raises(ProtocolError):
        Transport("t", connect_timeout=2).get(f"{base}/", {}, read_timeout=2)


def test_a_body_cut_short_is_an_error_not_a_short_feed() -> None:
    short = answer(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", keep_open=False)
    with raw_server(short) as (base, _, _):
        resp = Transport("t", connect_timeout=2).get(f"{base}/", {}, read_timeout=2)
        with pytest.raises(ProtocolError, match="91 bytes before the end"):
            read_all(resp)


def test_with_a_proxy_in_the_environment_feeds_go_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from aggregator.fetch import Fetcher
    from aggregator.records import Settings

    proxy = answer(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 7\r\n\r\n<rss/>\n")
    with raw_server(proxy) as (base, heads, _):
        monkeypatch.setenv("http_proxy", base)
        monkeypatch.setenv("no_proxy", "")
        with Fetcher(Settings()) as fetcher:
            result = fetcher.get("http://feeds.example/fair.rss")
    assert result.ok and result.body == b"<rss/>\n"
    assert heads[0].startswith(b"GET http://feeds.example/fair.rss HTTP/1.1")  # absolute form: a proxy request


def test_an_http_proxy_is_not_used_for_https_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    from aggregator.fetch import Fetcher
    from aggregator.records import Settings

    with raw_server(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) as (base, heads, _):
        monkeypatch.setenv("http_proxy", base)
        for name in ("https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]  # bound, not listening: nobody answers there
            with Fetcher(Settings()) as fetcher:
                result = fetcher.get(f"https://127.0.0.1:{port}/feed.xml")
    assert result.error_kind == "connection"  # went straight to the site, which refused
    assert heads == []  # the http proxy never saw it
