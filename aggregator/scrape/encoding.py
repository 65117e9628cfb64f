"""Bytes -> text for HTML pages.

Servers often send `text/html` without a charset and pages declare the wrong one (GBK bytes
labelled gb2312, cp1252 labelled iso-8859-1), so labels are widened to the superset browsers
really use, and a page that still decodes to garbage is refused rather than published.
"""

from __future__ import annotations

import codecs
import re

# WHATWG-style aliases: the label a page declares -> the codec that reads what servers really send.
_WIDER = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030", "gb_2312": "gb18030",
    "chinese": "gb18030", "csgb2312": "gb18030", "euc-cn": "gb18030", "cp936": "gb18030",
    "iso-8859-1": "windows-1252", "iso8859-1": "windows-1252", "latin1": "windows-1252",
    "latin-1": "windows-1252", "l1": "windows-1252", "ascii": "windows-1252", "us-ascii": "windows-1252",
    "big5": "big5hkscs", "shift_jis": "cp932", "sjis": "cp932", "euc-kr": "cp949",
    "utf8": "utf-8", "unicode": "utf-8",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
# UTF-8 read as cp1252/latin-1 and saved again: "Ã©", "â€™", "å…¬"...
_MOJIBAKE = re.compile("[ÂÃ][\u0080-\u00bf]|â€[\u0080-\u00bf™œžŸ\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a]"
                       "|[åæçèé][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")


class DecodeProblem(ValueError):
    """The page cannot be turned into trustworthy text (says which encoding was tried and why)."""


def codec_for(label: str | None) -> str | None:
    """The codec to use for a declared label, or None when Python does not know the label."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _WIDER.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return _WIDER.get(codec, codec)


def declared_charset(head: bytes) -> str | None:
    """`<meta charset>` or `<meta http-equiv=Content-Type content="...; charset=">` in the first 8 KB."""
    match = _META_CHARSET.search(head[:8192])
    return match.group(1).decode("ascii") if match else None


def decode_html(body: bytes, http_charset: str | None = None, override: str | None = None) -> tuple[str, str]:
    """Decode `body` -> (text, codec used). Precedence: source override, BOM, HTTP header, meta, sniffing.

    Raises DecodeProblem when the result is mojibake or full of U+FFFD.
    """
    for bom, name in _BOMS:
        if body.startswith(bom) and not override:
            return _checked(body[len(bom):].decode(name, errors="replace"), name)
    candidates = [codec_for(override), codec_for(http_charset), codec_for(declared_charset(body))]
    codec = next((c for c in candidates if c), None)
    if codec is None:
        codec = _sniff(body)
    elif codec == "windows-1252" and not override and _is_utf8(body):
        codec = "utf-8"  # a latin-1 label on UTF-8 bytes is far more common than the reverse
    return _checked(body.decode(codec, errors="replace"), codec)


def _is_utf8(body: bytes) -> bool:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not text.isascii()


def _sniff(body: bytes) -> str:
    """No declaration anywhere: UTF-8 if it is valid, else GB18030 if that is valid, else cp1252."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError:
        return "windows-1252"
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return "gb18030" if han >= 10 else "windows-1252"


def _checked(text: str, codec: str) -> tuple[str, str]:
    visible = max(1, sum(1 for ch in text if not ch.isspace()))
    bad = text.count("\ufffd")
    if bad > 20 or bad / visible > 0.005:
        raise DecodeProblem(f"the page does not decode as {codec} ({bad} undecodable bytes): set `encoding:` "
                            "on the source to the page's real encoding")
    marks = len(_MOJIBAKE.findall(text))
    if marks > 5 and marks / visible > 0.002:
        raise DecodeProblem(f"the page decodes as {codec} but reads as mojibake ({marks} sequences like 'Ã©' or "
                            "'â€™'): the site saved UTF-8 text as Latin-1; set `encoding:` or report it to the site")
    return text, codec
