"""The Fetcher: the only code that talks HTTP.

Keep-alive connections are pooled per origin by `transport.Transport` (urllib3 when a proxy is
configured), so a pass where every feed answers 304 costs little more than a round trip each.
Redirects are followed by hand so we can tell permanent moves from temporary ones, check robots.txt
at every hop and respect the per-host limit at every hop.
`get` never raises for network or HTTP trouble: it returns a FetchResult with `error_kind`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import time
import urllib.request
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import urllib3
import urllib3.exceptions
from urllib3.response import BaseHTTPResponse

from aggregator.fetch import headers as hdr
from aggregator.fetch.body import DeadlineExceeded, Decoder, TooLarge, UnsupportedEncoding, read_capped
from aggregator.fetch.hostlimit import HostLimiter
from aggregator.fetch.robots import MAX_BYTES as ROBOTS_MAX_BYTES
from aggregator.fetch.robots import RobotsCache
from aggregator.fetch.transport import ConnectTimeout, ProtocolError, Response, Transport
from aggregator.records import FetchResult, Settings, Validators

log = logging.getLogger("aggregator.fetch")

FEED_ACCEPT = ("application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, "
               "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5")
ROBOTS_ACCEPT = "text/plain, */*;q=0.5"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
DRAIN_BYTES = 64 * 1024  # read this much of an error/redirect body so the connection can be reused
DRAIN_SECONDS = 1.0


class _Failure(Exception):
    """One failed exchange, already phrased for the user."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    reason: str
    headers: Mapping[str, str]  # looked up case-insensitively
    body: bytes | None


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _root_cause(exc: BaseException) -> BaseException:
    """Dig through requests/urllib3 wrappers (MaxRetryError.reason, args, __context__)."""
    seen: set[int] = set()
    current: BaseException = exc
    while id(current) not in seen:
        seen.add(id(current))
        nxt = getattr(current, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = next((a for a in current.args if isinstance(a, BaseException)), None)
        if nxt is None:
            nxt = current.__cause__ or current.__context__
        if nxt is None:
            break
        current = nxt
    return current


def _check_url(url: str) -> None:
    problem = _url_problem(url)
    if problem is not None:
        raise _Failure("url", problem)


@lru_cache(maxsize=8192)
def _url_problem(url: str) -> str | None:
    """What is wrong with `url` for fetching, if anything (cached: a poll checks the same URLs each time)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        return f"{url!r} is not a valid URL ({exc}): check the source url"
    if parts.scheme.lower() not in ("http", "https"):
        return f"{url!r} is not an http(s) URL: only http:// and https:// sources can be fetched"
    if not parts.hostname:
        return f"{url!r} has no host name: check the source url"
    return None


class Fetcher:
    """Polite, bounded HTTP GETs; safe to share between threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._transport = Transport(settings.user_agent, settings.connect_timeout)
        # http_proxy / https_proxy from the environment, each for its own scheme (as requests does)
        self._proxies = {
            scheme: urllib3.ProxyManager(
                proxy, num_pools=256, maxsize=max(settings.per_host, settings.workers, 4), retries=False,
                headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"})
            for scheme, proxy in urllib.request.getproxies().items() if scheme in ("http", "https")
        }
        self._limiter = HostLimiter(settings.per_host)
        self._robots = RobotsCache(self._fetch_robots, settings.user_agent)

    # ------------------------------------------------------------------ public API

    def get(self, url: str, validators: Validators | None = None, *, robots: bool = False,
            accept: str | None = None, max_bytes: int | None = None) -> FetchResult:
        """GET `url` (conditionally when `validators` are given); never raises for network/HTTP problems."""
        started = time.monotonic()
        try:
            return self._get(url, validators, robots=robots, accept=accept or FEED_ACCEPT,
                             cap=max_bytes if max_bytes is not None else self.settings.max_bytes, started=started)
        except _Failure as failure:
            elapsed = time.monotonic() - started
            log.debug("GET %s failed after %.3fs: %s", url, elapsed, failure.message)
            return FetchResult(url=url, final_url=url, error=failure.message, error_kind=failure.kind,
                               elapsed=elapsed)

    def allowed(self, url: str) -> bool:
        """Whether robots.txt of `url`'s origin lets our user agent fetch it."""
        return self._robots.allowed(url)

    def crawl_delay(self, url: str) -> float | None:
        """The Crawl-delay robots.txt asks of our user agent, in seconds, if any."""
        return self._robots.crawl_delay(url)

    def close(self) -> None:
        self._transport.close()
        for manager in self._proxies.values():
            manager.clear()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ redirects and results

    def _fetch_robots(self, url: str) -> FetchResult:
        return self.get(url, accept=ROBOTS_ACCEPT, max_bytes=min(ROBOTS_MAX_BYTES, self.settings.max_bytes))

    def _get(self, url: str, validators: Validators | None, *, robots: bool, accept: str, cap: int,
             started: float) -> FetchResult:
        request_headers = {"Accept": accept}
        if validators and validators.etag:
            request_headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            request_headers["If-Modified-Since"] = validators.last_modified
        chain = [url]
        all_permanent = True
        current = url
        while True:
            _check_url(current)
            if robots and not self.allowed(current):
                parts = urlsplit(current)
                path = parts.path or "/"
                raise _Failure("robots", f"robots.txt of {parts.netloc} disallows {path} for our user agent "
                                         f"({self.settings.user_agent}); remove the source or ask the site to allow it")
            with self._limiter.slot(current):
                reply = self._exchange(current, request_headers, cap)
            location = reply.headers.get("Location")
            if reply.status not in REDIRECTS:
                break
            if not location:
                raise _Failure("redirect", f"HTTP {reply.status} from {current} without a Location header")
            target = urljoin(current, location.strip())
            if target in chain:
                raise _Failure("redirect", f"redirect loop: {' -> '.join([*chain, target])}; fix the source url")
            chain.append(target)
            all_permanent = all_permanent and reply.status in PERMANENT
            if len(chain) - 1 > self.settings.max_redirects:
                raise _Failure("redirect", f"{url} redirected {len(chain) - 1} times, more than the "
                                           f"{self.settings.max_redirects} allowed (settings.max_redirects): "
                                           f"{' -> '.join(chain)}; point the source at the final url")
            current = target
        return self._result(url, current, reply, validators,
                            permanent=current if all_permanent and len(chain) > 1 else None, started=started)

    def _result(self, url: str, final: str, reply: _Reply, sent: Validators | None,
                permanent: str | None, started: float) -> FetchResult:
        """The FetchResult of the last hop, built once (this runs for every source of every poll)."""
        now = datetime.now(UTC)
        status = reply.status
        max_age = hdr.max_age(reply.headers, now)
        if status == 304:
            return FetchResult(url, final, status, not_modified=True, permanent_redirect=permanent, max_age=max_age,
                               validators=hdr.validators(reply.headers, sent), elapsed=time.monotonic() - started)
        if status >= 300:
            elapsed = time.monotonic() - started
            message = hdr.error_message(status, reply.reason, final)
            log.debug("GET %s failed after %.3fs: %s", url, elapsed, message)
            return FetchResult(url, final, status, permanent_redirect=permanent, max_age=max_age, error=message,
                               error_kind="http", elapsed=elapsed,
                               retry_after=hdr.retry_after(reply.headers, now) if status in (429, 503) else None)
        kind, charset = hdr.media_type(reply.headers.get("Content-Type"))
        return FetchResult(url, final, status, body=reply.body, content_type=kind, charset=charset,
                           validators=hdr.validators(reply.headers), permanent_redirect=permanent,
                           max_age=max_age, elapsed=time.monotonic() - started)

    # ------------------------------------------------------------------ one exchange

    def _exchange(self, url: str, request_headers: dict[str, str], cap: int) -> _Reply:
        """One request/response, body read under the cap and deadline; raises _Failure."""
        s = self.settings
        deadline = time.monotonic() + s.deadline
        try:
            resp = self._send(url, request_headers, min(s.read_timeout, s.deadline))
        except (urllib3.exceptions.LocationParseError, ValueError, UnicodeError) as exc:
            raise _Failure("url", f"{url!r} is not a valid URL ({exc}): check the source url") from exc
        except (urllib3.exceptions.HTTPError, OSError, ProtocolError) as exc:
            raise self._network_failure(url, exc) from exc
        complete = False
        try:
            reply = self._read_reply(url, resp, cap, deadline)
            complete = True
            return reply
        finally:
            self._finish(resp, complete)

    def _send(self, url: str, request_headers: dict[str, str], read_timeout: float) -> Response | BaseHTTPResponse:
        if not self._proxies:
            return self._transport.get(url, request_headers, read_timeout)
        parts = urlsplit(url)
        manager = self._proxies.get(parts.scheme.lower())
        if manager is None or urllib.request.proxy_bypass(parts.hostname or ""):  # no_proxy
            return self._transport.get(url, request_headers, read_timeout)
        return manager.request("GET", url, headers={**manager.headers, **request_headers},
                               preload_content=False, decode_content=False, redirect=False,
                               timeout=urllib3.Timeout(connect=self.settings.connect_timeout, read=read_timeout))

    def _finish(self, resp: Response | BaseHTTPResponse, complete: bool) -> None:
        """Keep the connection for the next request when the reply was read whole, else close it."""
        if isinstance(resp, Response):
            self._transport.release(resp) if complete else resp.connection.close()
            return
        if not complete:
            resp.close()  # a half-read connection cannot serve another request
        resp.release_conn()

    def _read_reply(self, url: str, resp: Response | BaseHTTPResponse, cap: int, deadline: float) -> _Reply:
        try:
            status = resp.status
            if status >= 300 or status == 204:
                if not getattr(resp, "complete", False):  # a 304 has no body: nothing to drain
                    self._drain(resp)
                return _Reply(status, resp.reason or "", resp.headers, None)
            length = resp.headers.get("Content-Length") or ""
            if length.isascii() and length.isdigit() and int(length) > cap:
                raise _Failure("too-large", self._too_large(url, cap, f"Content-Length says {int(length)} bytes"))
            body = read_capped(resp, Decoder(resp.headers.get("Content-Encoding")), cap, deadline,
                               self._timeout_setter(resp))
            return _Reply(status, resp.reason or "", resp.headers, body)
        except TooLarge as exc:
            raise _Failure("too-large", self._too_large(url, cap, "the body is bigger")) from exc
        except DeadlineExceeded as exc:
            raise self._past_deadline(url) from exc
        except UnsupportedEncoding as exc:
            raise _Failure("decode", f"{url} sent Content-Encoding {exc} which we did not ask for") from exc
        except zlib.error as exc:
            raise _Failure("decode", f"{url} sent a corrupt compressed body ({exc})") from exc
        except (urllib3.exceptions.HTTPError, OSError, ProtocolError) as exc:
            failure = self._network_failure(url, exc)
            if failure.kind == "timeout" and time.monotonic() >= deadline - 0.05:
                failure = self._past_deadline(url)  # the socket timeout was shortened to meet the deadline
            raise failure from exc

    def _past_deadline(self, url: str) -> _Failure:
        return _Failure("timeout", f"{url} took more than {self.settings.deadline:g}s to send its response "
                                   f"(settings.deadline); the server is too slow")

    def _drain(self, resp: Response | BaseHTTPResponse) -> None:
        """Read a short body we do not need, so the keep-alive connection can serve the next request."""
        # On failure resp.close() drops the connection instead of reusing it.
        with contextlib.suppress(TooLarge, DeadlineExceeded, urllib3.exceptions.HTTPError, OSError, ProtocolError):
            read_capped(resp, Decoder(None), DRAIN_BYTES, time.monotonic() + DRAIN_SECONDS,
                        self._timeout_setter(resp))

    def _timeout_setter(self, resp: Response | BaseHTTPResponse) -> Callable[[float], None] | None:
        """Shrink the socket timeout as the deadline nears, so one read cannot overrun it."""
        sock = getattr(getattr(resp, "connection", None), "sock", None)
        if not isinstance(sock, socket.socket):
            return None
        read_timeout = self.settings.read_timeout

        def set_timeout(left: float) -> None:
            sock.settimeout(max(0.01, min(read_timeout, left)))

        return set_timeout

    @staticmethod
    def _too_large(url: str, cap: int, why: str) -> str:
        return (f"{url} is larger than the {cap} byte cap ({why}); raise settings.max_bytes "
                f"in sources.yaml if this source is really that big")

    def _network_failure(self, url: str, exc: BaseException) -> _Failure:
        s = self.settings
        host = _host(url)
        cause = _root_cause(exc)
        if isinstance(exc, urllib3.exceptions.SSLError) or isinstance(
                cause, (urllib3.exceptions.SSLError, ssl.SSLError)):
            return _Failure("tls", f"TLS error talking to {host}: {cause}; the site's certificate may be "
                                   f"invalid or expired")
        refused = urllib3.exceptions.NewConnectionError  # a subclass of ConnectTimeoutError, but not a timeout
        if any(isinstance(e, urllib3.exceptions.ConnectTimeoutError | ConnectTimeout) and not isinstance(e, refused)
               for e in (exc, cause)):
            return _Failure("timeout", f"could not connect to {host} within {s.connect_timeout:g}s "
                                       f"(settings.connect_timeout)")
        if isinstance(exc, urllib3.exceptions.ReadTimeoutError | TimeoutError) \
                or isinstance(cause, TimeoutError | urllib3.exceptions.ReadTimeoutError):
            return _Failure("timeout", f"{url} sent nothing for {min(s.read_timeout, s.deadline):g}s "
                                       f"(settings.read_timeout); the server is too slow")
        if isinstance(exc, urllib3.exceptions.LocationValueError):
            return _Failure("url", f"{url!r} is not a valid URL ({exc}): check the source url")
        if isinstance(cause, urllib3.exceptions.NameResolutionError | socket.gaierror):
            return _Failure("connection", f"cannot resolve host name {urlsplit(url).hostname}: "
                                          f"check the source url (or the machine's DNS)")
        if isinstance(cause, ConnectionRefusedError):
            return _Failure("connection", f"connection refused by {host}: the site is down or the url's "
                                          f"port is wrong")
        if isinstance(exc, urllib3.exceptions.DecodeError):
            return _Failure("decode", f"{url} sent a body we cannot decode ({cause})")
        return _Failure("connection", f"connection to {host} failed: {cause or exc}")
