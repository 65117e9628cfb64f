"""Every Atom document we publish is valid RFC 4287: schema (appendix B) and the rules outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.publish.atom_rules import atom_problems
from tests.publish.site import published_site

GOLDEN = Path(__file__).parent / "golden"


def _atom_documents(root: Path) -> list[Path]:
    return sorted(root.rglob("*.atom"))


def test_every_published_atom_document_is_valid(tmp_path: Path) -> None:
    out = published_site(tmp_path)
    docs = _atom_documents(out)
    names = [p.relative_to(out).as_posix() for p in docs]
    assert {"all.atom", "robotics.atom", "chips.atom", "archive/chips/1.atom"} <= set(names)
    for doc in docs:
        assert atom_problems(doc.read_bytes()) == [], doc


def test_golden_atom_files_are_valid() -> None:
    docs = _atom_documents(GOLDEN)
    assert len(docs) >= 3
    for doc in docs:
        assert atom_problems(doc.read_bytes()) == [], doc


GOOD = (GOLDEN / "robotics.atom").read_bytes()


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda d: d.replace(b"<id>https://feeds.example/robotics.atom</id>", b"", 1), "schema"),
    (lambda d: d.replace(b"<updated>2024-05-06T11:30:00Z</updated>", b"<updated>6 May 2024</updated>", 1),
     "schema"),
    (lambda d: d.replace(b"<updated>2024-05-06T11:30:00Z</updated>", b"<updated>2024-05-06T11:30:00</updated>", 1),
     "RFC 3339"),
    (lambda d: d.replace(b"urn:uuid:00000000-0000-4000-8000-000000000002",
                         b"urn:uuid:00000000-0000-4000-8000-000000000001"), "appears 2 times"),
    (lambda d: d.replace(b'href="https://messe.example/2024/robots"', b'href="/2024/robots"'), "absolute IRI"),
    (lambda d: d.replace(b'rel="hub"', b'rel="self"'), "rel=self"),
    (lambda d: d.replace(b"<author>\n    <name>Fair News</name>\n  </author>\n", b"")
     .replace(b"<author>\n      <name>Jane Doe</name>\n    </author>\n", b""), "no author"),
    (lambda d: d.replace(b"<title type=\"text\">Fair News: Robotics</title>", b"<atom:bogus xmlns:atom="
                         b"\"http://www.w3.org/2005/Atom\"/>"), "schema"),
])
def test_checker_catches_broken_documents(change, complaint) -> None:  # type: ignore[no-untyped-def]
    broken = change(GOOD)
    assert broken != GOOD
    problems = atom_problems(broken)
    assert any(complaint in p for p in problems), problems
