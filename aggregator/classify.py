"""Classify stage: Article -> topic ids, by keyword rules from sources.yaml.

Matching is case-, accent- and width-insensitive. Latin-script keywords match whole words
("AI" never matches "said"); keywords in scripts written without spaces (Chinese, Japanese,
Thai...) match as substrings, since there are no word boundaries to look for.

For speed the article is folded and tokenised ONCE and every distinct keyword of every topic
is tested once: single words by one set intersection, phrases by checking their words before
any substring search. Only odd keywords such as "C++" or ".NET" need a regex.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aggregator.normalise.words import alnum_runs, folded_runs
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


def _folded_tokens(title: str, text: str) -> tuple[str, tuple[bytes, ...]]:
    """fold(f"{title}\n{text}") and its runs as UTF-8, from the folding the normaliser already did for the
    text hash (cached in `folded_runs`): folding is per character, so the two parts fold apart."""
    folded_title, title_runs = folded_runs(title)
    folded_text, text_runs = folded_runs(text)
    folded = f"{folded_title}\n{folded_text}"
    stripped = _without_marks(folded)
    if stripped is folded:
        return folded, title_runs + text_runs
    return stripped, tuple(w.encode("utf-8", "surrogatepass") for w in words(stripped))


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
        self.unspaced: list[str] = []
        self.patterns: list[_Pattern] = []
        for key in dict.fromkeys(keys):
            self._add(key)

    def _add(self, key: str) -> None:
        if _UNSPACED.search(key):
            self.unspaced.append(key)
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
        folded, tokens = _folded_tokens(title, text)
        present = set(tokens)
        hits = {self.words[w] for w in self.words.keys() & present}
        joined: bytes | None = None
        for phrase in self.phrases:
            if all(t in present for t in phrase.tokens):
                joined = joined or b" " + b" ".join(tokens) + b" "
                if phrase.needle in joined:
                    hits.add(phrase.key)
        if self.unspaced and not folded.isascii():
            hits.update(k for k in self.unspaced if k in folded)
        for pat in self.patterns:
            if all(g in present for g in pat.guards) and pat.pattern.search(folded):
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
