"""Canonical article URLs: the same article reached through different links gets one key.

Tracking parameters are removed only from a fixed list of well-known trackers. `ref`, `from`
and `source` are KEPT on their own: sites use them as real parameters (`?from=2024`,
`?ref=main`), and merging two distinct pages is worse than failing to merge two copies of one
page. They are dropped only beside utm_* parameters, where they are part of campaign tagging.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "yclid",
    "igshid", "spm", "_ga", "_gl", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid",
    "__s", "ncid", "twclid", "ttclid", "li_fat_id",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
CAMPAIGN_COMPANIONS = frozenset({"ref", "from", "source"})  # trackers only next to utm_* parameters

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Cheap pre-check so parse_qsl/urlencode only run on queries that may hold a tracker.
_MAYBE_TRACKER = re.compile(
    "(?i)(?:^|[&;])(?:" + "|".join(re.escape(p) for p in (*TRACKING_PARAMS, *TRACKING_PREFIXES)) + ")"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")  # browsers drop tabs/newlines inside URLs


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str, base: str | None = None) -> str:
    """Absolute, tracker-free, fragment-free URL with sorted query and lowercase host.

    The result is used as a dedupe key, so every spelling of one address must map to one string.
    """
    return _canonical(url, base)


@lru_cache(maxsize=4096)
def _canonical(url: str, base: str | None) -> str:
    url = url.strip()
    if not url.isprintable():
        url = _CONTROL.sub("", url)
    if base and not url.startswith(("http://", "https://")):
        url = urljoin(base, url)
    return _canonical_simple(url) or _canonical_full(url)


def _canonical_full(url: str) -> str:
    """The general path: urlsplit, port and dot-segment clean-up, trackers, then w3lib."""
    try:
        parts = urlsplit(url)
        netloc = _netloc(parts) if ":" in parts.netloc or "@" in parts.netloc else parts.netloc
    except ValueError:  # e.g. an invalid port or IPv6 literal: keep what we have, minus the fragment
        return url.split("#", 1)[0]
    path = _remove_dot_segments(parts.path) if "/." in parts.path else parts.path
    query = parts.query
    if query and _MAYBE_TRACKER.search(query):
        pairs = parse_qsl(query, keep_blank_values=True)
        campaign = any(k.lower().startswith("utm_") for k, _ in pairs)
        kept = [(k, v) for k, v in pairs
                if not is_tracking_param(k) and not (campaign and k.lower() in CAMPAIGN_COMPANIONS)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    rebuilt = urlunsplit((parts.scheme, netloc, path or ("/" if netloc else ""), query, ""))
    return str(canonicalize_url(rebuilt))  # lowercases scheme and host, sorts and percent-encodes the query


# An http(s) URL whose every part w3lib would leave as it is: an ASCII host, a decimal port, a path of
# characters safe in a path (no "%" to re-encode, no ";" params) and a query of unreserved characters.
_SIMPLE_URL = re.compile(
    r"(https?)://([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?"
    r"(/[-A-Za-z0-9._~!$&'()*+,=:@/]*)?"
    r"(?:\?([-A-Za-z0-9._~=&]*))?"
    r"(?:#.*)?",
    re.DOTALL,
)


def _canonical_simple(url: str) -> str | None:
    """_canonical_full's result for the common, already clean URL, without urllib or w3lib; None otherwise.

    Every step of the full path is the identity on such a URL except: the host is lowercased, a default
    port dropped, an empty path becomes "/", empty query fields go, a field without "=" gains one,
    trackers are removed and the fields are sorted (by code point, which for ASCII is w3lib's byte order).
    """
    m = _SIMPLE_URL.fullmatch(url)
    if m is None:
        return None
    scheme, host, port, path, query = m.groups()
    if path is None:
        path = "/"
    elif "/." in path:
        return None  # dot segments: leave them to the full path
    netloc = host.lower()
    if port is not None:
        number = int(port)
        if number > 65535:
            return None  # urlsplit refuses it; the full path knows what to do
        if number != _DEFAULT_PORTS[scheme]:
            netloc = f"{netloc}:{number}"
    if not query:
        return f"{scheme}://{netloc}{path}"
    pairs = [field.partition("=") for field in query.split("&") if field]
    if any("=" in value for _, _, value in pairs):
        return None  # w3lib would percent-encode the second "="
    campaign = any(key.lower().startswith("utm_") for key, _, _ in pairs)
    kept = sorted((key, value) for key, _, value in pairs
                  if not is_tracking_param(key) and not (campaign and key.lower() in CAMPAIGN_COMPANIONS))
    if not kept:
        return f"{scheme}://{netloc}{path}"
    return f"{scheme}://{netloc}{path}?" + "&".join(f"{key}={value}" for key, value in kept)


def _netloc(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    return f"{userinfo}@{host}" if userinfo else host


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: urljoin leaves `/a/../b` alone when the URL is already absolute."""
    segments = path.split("/")
    if not any(s in (".", "..") for s in segments):
        return path
    out: list[str] = []
    for seg in segments:
        if seg == "..":
            if len(out) > 1:
                out.pop()
        elif seg != ".":
            out.append(seg)
    if segments[-1] in (".", ".."):
        out.append("")
    result = "/".join(out)
    return result if result.startswith("/") or not path.startswith("/") else "/" + result


def is_web_url(url: str) -> bool:
    """True for http(s) URLs and relative references; False for javascript:, mailto:, data: and co."""
    head = url.strip()[:12].lower()
    if head.startswith(("http://", "https://", "//", "/", "?", "#", ".")):
        return True
    colon = head.find(":")
    return colon < 0 or not head[:colon].isalpha()
