"""The language model comes from the user's cache after the first load, giving the same answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.normalise import langid_model

SAMPLES = [
    "The exhibition opens its doors to buyers from forty countries next week.",
    "Die Messe öffnet nächste Woche ihre Tore für Einkäufer aus vierzig Ländern.",
    "Le salon ouvre ses portes aux acheteurs de quarante pays la semaine prochaine.",
    "展会下周向来自四十个国家的买家开放。",
]


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


def _answers(identifier: object) -> list[object]:
    return [identifier.classify(text) for text in SAMPLES]  # type: ignore[attr-defined]


def test_the_second_load_reads_the_cached_copy_and_answers_the_same(cache_home: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from py3langid.langid import LanguageIdentifier

    (cache_home / "aggregator").mkdir()
    (cache_home / "aggregator" / "py3langid-0.3.0-1-2.npz").write_bytes(b"an older model's copy")
    first = langid_model.load_identifier()
    (copy,) = (cache_home / "aggregator").iterdir()  # the older copy is gone
    assert copy.name.startswith("py3langid-") and copy.suffix == ".npz"

    def no_package_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the package's xz model was loaded again")

    monkeypatch.setattr(LanguageIdentifier, "from_model_file", classmethod(no_package_model))
    second = langid_model.load_identifier()
    assert _answers(second) == _answers(first)
    assert [a[0] for a in _answers(second)] == ["en", "de", "fr", "zh"]
    assert second.tk_nextmove == first.tk_nextmove and second.tk_row == first.tk_row
    assert second.tk_output == first.tk_output and second.nb_classes == first.nb_classes


def test_a_broken_copy_falls_back_to_the_package_model_and_is_replaced(cache_home: Path) -> None:
    good = langid_model.load_identifier()
    (copy,) = (cache_home / "aggregator").iterdir()
    copy.write_bytes(b"not a zip file")
    assert _answers(langid_model.load_identifier()) == _answers(good)
    assert copy.stat().st_size > 10_000_000  # written again, whole


def test_no_writable_cache_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # "aggregator" cannot be made under a file
    assert [a[0] for a in _answers(langid_model.load_identifier())] == ["en", "de", "fr", "zh"]
    assert list(tmp_path.iterdir()) == [blocked]
