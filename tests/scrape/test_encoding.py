from __future__ import annotations

import pytest

from aggregator.scrape.encoding import DecodeProblem, codec_for, decode_html

GBK_PAGE = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312" /></head>'
            "<body><p>技术支持：深圳市燊达网络科技有限公司，王堃、李喆、张祎。</p></body></html>")


def test_gbk_bytes_declared_gb2312_decode_with_gbk_only_characters() -> None:
    raw = GBK_PAGE.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb2312")  # the trap: a strict gb2312 decoder fails on 燊/堃
    text, codec = decode_html(raw, http_charset=None)
    assert codec == "gb18030"
    assert "燊达" in text and "王堃" in text and "李喆" in text


def test_http_charset_wins_over_meta_and_override_wins_over_both() -> None:
    raw = "<meta charset='utf-8'><p>Grüße</p>".encode("cp1252")
    assert "Grüße" in decode_html(raw, http_charset="iso-8859-1")[0]
    assert decode_html(raw, http_charset="utf-8", override="cp1252")[1] == "cp1252"


def test_bom_beats_a_wrong_declaration() -> None:
    raw = b"\xef\xbb\xbf" + '<meta charset="gb2312"><p>café – 展会</p>'.encode()
    text, codec = decode_html(raw)
    assert codec == "utf-8" and "café – 展会" in text and not text.startswith("\ufeff")


def test_latin1_label_means_windows_1252() -> None:
    assert codec_for("ISO-8859-1") == "cp1252" or codec_for("ISO-8859-1") == "windows-1252"
    text, _ = decode_html('<meta charset="iso-8859-1"><p>“quoted” – dash</p>'.encode("cp1252"))
    assert "“quoted” – dash" in text


def test_undeclared_gbk_is_sniffed() -> None:
    raw = "<p>第十九届中国国际高新技术成果交易会在深圳会展中心开幕，展览总面积约12万平方米。</p>".encode("gbk")
    assert decode_html(raw)[1] == "gb18030"


def test_mojibake_is_an_error_not_text() -> None:
    garbled = "Messe München: Grüße aus Köln – “Zukunft” für Aussteller, Besucher und Partner. " * 3
    raw = garbled.encode("utf-8").decode("latin-1").encode("utf-8")  # UTF-8 saved again as if it were Latin-1
    with pytest.raises(DecodeProblem, match="mojibake"):
        decode_html(raw, http_charset="utf-8")


def test_utf8_page_declared_gbk_is_an_error() -> None:
    raw = ('<meta charset="utf-8">' + "<p>Grüße aus München — Überblick über die Messe</p>" * 20).encode("utf-8")
    with pytest.raises(DecodeProblem, match="does not decode"):
        decode_html(raw, override="shift_jis")
