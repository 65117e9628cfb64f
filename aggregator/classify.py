"""Classify stage: Article -> topic ids, by keyword rules from sources.yaml.

Matching is case-, accent- and width-insensitive. Latin-script keywords match whole words
("AI" never matches "said"); keywords in scripts written without spaces (Chinese, Japanese,
Thai...) match as substrings, since there are no word boundaries to look for.

For speed the article is folded and tokenised ONCE and every distinct keyword of every topic
is tested once: single words by one set intersection, phrases by checking their words before
any substring search, keywords in unspaced scripts only when the text holds their characters.
Only odd keywords such as "C++" or ".NET" need a regex.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aggregator import speedups
from aggregator.normalise.words import alnum_runs, folded_runs, non_ascii
from aggregator.normalise.words import fold as fold_words
from aggregator.records import Article, Source, Topic

_SIMPLE = re.compile(r"[^\W_]+(?:[\s\-‐-―/.'’&·_]+[^\W_]+)*")
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Scripts written without spaces between words: keywords in them match as substrings.
_UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff"
                       "\uf900-\ufaff\uff66-\uff9f]")


def fold(value: str) -> str:
    """NFKC + casefold + no accents: "ＡＩ" -> "ai", "Messe Düsseldorf" -> "messe dusseldorf"."""
    return _without_marks(fold_words(value))


def _without_marks(folded: str) -> str:
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFD", folded)
    if _MARKS.search(decomposed):
        return unicodedata.normalize("NFC", _MARKS.sub("", decomposed))
    return folded


def words(folded: str) -> list[str]:
    """Letter/digit runs of folded text ("_" separates like punctuation)."""
    return alnum_runs(folded)


class _Article:
    """An article's title and text as keyword matching reads them: runs, and the folded text when needed.

    Built from the folding the normaliser already did for the text hash (cached in `folded_runs`):
    folding is per character, so title and text fold apart; the folded text itself is only built for
    the few tests that read it (keywords in unspaced scripts, odd keywords, texts with accents).
    """

    def __init__(self, title: str, text: str) -> None:
        self._parts = (title, text)
        folded_title, folded_text = folded_runs(title), folded_runs(text)
        self.chars = folded_title.chars | folded_text.chars  # the non-ASCII characters of the folded text
        self._folded: str | None = None
        self.joined: tuple[bytes, ...] = (folded_title.joined, folded_text.joined)  # runs, single-spaced
        self._padded: bytes | None = None
        if self.chars and _has_marks(self.chars):  # rare: the folded text must be built to drop them
            stripped = self.folded
            self.chars = frozenset(non_ascii(stripped))
            self.joined = (b" ".join(_utf8(words(stripped))),)

    @property
    def folded(self) -> str:
        """fold(f"{title}\n{text}")."""
        if self._folded is None:
            title, text = self._parts
            self._folded = _without_marks(f"{fold_words(title)}\n{fold_words(text)}")
        return self._folded

    def has_run_part(self, needle: bytes) -> bool:
        """Whether `needle` (letters and digits only) occurs within one of the runs."""
        return any(needle in joined for joined in self.joined)

    def has_phrase(self, needle: bytes) -> bool:
        """Whether b" w1 w2 " occurs in the runs joined by single spaces."""
        if self._padded is None:
            self._padded = b" " + b" ".join(j for j in self.joined if j) + b" "
        return needle in self._padded


_CHECKED: set[str] = set()  # characters seen so far (of every script news is written in: thousands at most)
_MARKED: set[str] = set()  # those of them whose NFD holds a combining mark


def _has_marks(chars: frozenset[str]) -> bool:
    """Whether the NFD form of a text made of `chars` holds combining marks (decomposition is per character).

    By two sets rather than a cache of char sets: a Chinese text's hundreds of characters make a set no
    other text has, and a cache keyed by it missed nearly every time.
    """
    new = chars - _CHECKED
    if new:
        _MARKED.update(ch for ch in new if _MARKS.search(unicodedata.normalize("NFD", ch)))
        _CHECKED.update(new)
    return not _MARKED.isdisjoint(chars)


@dataclass(frozen=True, slots=True)
class _Phrase:
    key: str
    tokens: tuple[bytes, ...]  # UTF-8, like the article's runs
    needle: bytes  # b" w1 w2 " searched in the article's runs joined by single spaces


@dataclass(frozen=True, slots=True)
class _Pattern:
    key: str
    guards: tuple[bytes, ...]  # words (UTF-8) the text must contain before the regex is worth running
    pattern: re.Pattern[str]


class _Keywords:
    """Every distinct keyword of every topic, sorted by the cheapest correct test."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.words: dict[bytes, str] = {}  # a one-word keyword's run (UTF-8) -> its key
        self.phrases: list[_Phrase] = []
        # with its non-ASCII characters, and its UTF-8 when it is one run of letters and digits (then it is in
        # the folded text exactly when it is in one of its runs, which need not be joined into that text)
        self.unspaced: list[tuple[str, frozenset[str], bytes | None]] = []
        self.patterns: list[_Pattern] = []
        for key in dict.fromkeys(keys):
            self._add(key)
        self._unspaced_chars = frozenset(c for _, chars, _ in self.unspaced for c in chars)
        self._tokens = frozenset((*self.words, *(t for p in self.phrases for t in p.tokens),
                                  *(g for p in self.patterns for g in p.guards)))
        self._token_tuple = tuple(self._tokens)
        self._token_table = speedups.native.token_table(self._token_tuple) if speedups.native else b""

    def _present(self, article: _Article) -> set[bytes]:
        """The runs of the article that some keyword is made of (in C without a bytes object per run)."""
        native = speedups.native
        if native is None:
            return set(self._tokens.intersection(b" ".join(article.joined).split()))
        present: set[bytes] = set()
        for joined in article.joined:
            present |= native.present_tokens(joined, self._token_table, self._token_tuple)
        return present

    def _add(self, key: str) -> None:
        if _UNSPACED.search(key):
            self.unspaced.append((key, frozenset(non_ascii(key)), _utf8([key])[0] if words(key) == [key] else None))
        elif _SIMPLE.fullmatch(key):
            tokens = _utf8(words(key))
            if len(tokens) == 1:
                self.words[tokens[0]] = key
            else:
                self.phrases.append(_Phrase(key, tokens, b" " + b" ".join(tokens) + b" "))
        else:
            body = r"\s+".join(re.escape(part) for part in key.split())
            self.patterns.append(_Pattern(key, _utf8(words(key)), re.compile(rf"(?<![^\W_]){body}(?![^\W_])")))

    def found(self, title: str, text: str) -> set[str]:
        """The keys (folded keywords) present in `title` and `text`."""
        article = _Article(title, text)
        present = self._present(article)  # the few runs any keyword is made of
        hits = {self.words[w] for w in present if w in self.words}
        for phrase in self.phrases:
            if present.issuperset(phrase.tokens) and article.has_phrase(phrase.needle):
                hits.add(phrase.key)
        if not self._unspaced_chars.isdisjoint(article.chars):
            for key, chars, run in self.unspaced:
                if chars <= article.chars and (article.has_run_part(run) if run else key in article.folded):
                    hits.add(key)
        for pat in self.patterns:
            if present.issuperset(pat.guards) and pat.pattern.search(article.folded):
                hits.add(pat.key)
        return hits


def _utf8(tokens: Iterable[str]) -> tuple[bytes, ...]:
    return tuple(t.encode("utf-8", "surrogatepass") for t in tokens)


def _key(keyword: str) -> str:
    """A keyword's identity: folded, with runs of whitespace made one space."""
    return " ".join(fold(keyword).split())


@dataclass(frozen=True, slots=True)
class _Rule:
    topic_id: str
    include: tuple[tuple[str, str], ...]  # (key, keyword as written)
    include_keys: frozenset[str]
    exclude_keys: frozenset[str]
    sources: frozenset[str]


def _pairs(keywords: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple((k, w) for w in keywords if (k := _key(w)))


class Classifier:
    """Assigns topic ids (in config order) to articles; build once per run, reuse for every article."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        self._rules: list[_Rule] = []
        for t in topics:
            include = _pairs(t.include)
            self._rules.append(_Rule(t.id, include, frozenset(k for k, _ in include),
                                     frozenset(k for k, _ in _pairs(t.exclude)), frozenset(t.sources)))
        self._keywords = _Keywords(k for r in self._rules for k in (*r.include_keys, *r.exclude_keys))
        self._ids = frozenset(t.id for t in topics)

    def classify(self, article: Article, source: Source) -> tuple[str, ...]:
        return tuple(self._match(article, source))

    def explain(self, article: Article, source: Source) -> dict[str, list[str]]:
        """Topic id -> include keywords that matched (as written); "source:<id>" marks a forced topic."""
        return self._match(article, source)

    def _match(self, article: Article, source: Source) -> dict[str, list[str]]:
        forced = self._ids.intersection(source.topics)
        hits: set[str] | None = None
        found: dict[str, list[str]] = {}
        for rule in self._rules:
            matched: list[str] = []
            if rule.include_keys and (not rule.sources or source.id in rule.sources):
                if hits is None:
                    hits = self._keywords.found(article.title, article.text)
                if not rule.include_keys.isdisjoint(hits) and rule.exclude_keys.isdisjoint(hits):
                    matched = [written for key, written in rule.include if key in hits]
            if rule.topic_id in forced:
                matched.append(f"source:{source.id}")
            if matched:
                found[rule.topic_id] = matched
        return found
