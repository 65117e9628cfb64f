"""Reading sources.yaml as a composed node tree, so every problem can name its line and key path.

Values are converted by hand from nodes (not `yaml.safe_load`) because a loaded dict has forgotten
where each value came from, and silently keeps the last of two duplicate keys.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from aggregator.errors import ConfigProblem

NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"


class Invalid(Exception):
    """A value is wrong; `message` says what to write instead. The caller knows the node and path."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Reported(Exception):
    """A value was wrong and its problems (one per bad item) are already recorded."""


@dataclass
class Ctx:
    """Collects every problem of one file instead of stopping at the first."""

    file: str
    problems: list[ConfigProblem] = field(default_factory=list)
    constructor: SafeConstructor = field(default_factory=SafeConstructor)

    def add(self, node: Node | None, path: str, message: str, *, line: int = 0) -> None:
        if node is not None:
            line = node.start_mark.line + 1
        self.problems.append(ConfigProblem(self.file, line, path, message))

    def scalar(self, node: Node) -> Any:
        """The typed Python value of a scalar (int, float, bool, date, str, None)."""
        try:
            return self.constructor.construct_object(node, deep=True)
        except ConstructorError as exc:
            raise Invalid(f"unsupported YAML value ({exc.problem}): write a plain value") from exc


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def describe(node: Node) -> str:
    """What the user wrote, in words, for 'expected X, got Y' messages."""
    if isinstance(node, MappingNode):
        return "a mapping (key: value lines)"
    if isinstance(node, SequenceNode):
        return "a list"
    text = str(node.value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The nearest valid name, for 'did you mean' hints (case-insensitive)."""
    by_lower = {c.lower(): c for c in choices}
    if word.lower() in by_lower:
        return by_lower[word.lower()]
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    best = suggest(word, choices)
    return f" — did you mean '{best}'?" if best else ""


_SYNTAX_HINTS: tuple[tuple[str, str], ...] = (
    ("mapping values are not allowed",
     "a value containing ': ' must be quoted (title: \"CES: the show\"), "
     "or this line is indented deeper than the key above it"),
    ("that cannot start any token", "YAML does not allow tabs or this character at the start of a value: "
                                    "indent with spaces and quote values that start with @, ` or %"),
    ("could not find expected ':'", "a key is missing its ':' or a quote is not closed on an earlier line"),
    ("did not find expected key", "check the indentation: keys of one mapping and '- ' items of one list "
                                  "must line up"),
    ("expected <block end>",
     "check the indentation: keys of one mapping and '- ' items of one list must line up"),
    ("did not find expected '-' indicator", "check the indentation of the list items"),
    ("found unknown escape character",
     "inside double quotes a backslash starts an escape: put regexes in single quotes, e.g. '(\\d+)'"),
    ("found unexpected end of stream", "a quote or bracket opened here is never closed"),
    ("found undefined alias", "an *alias names an &anchor that is not defined above it"),
    ("expected a single document", "the file holds several documents: remove the extra '---'"),
    ("found character '\\t'", "YAML does not allow tabs for indentation: use spaces"),
    ("while parsing a flow", "a [list] or {mapping} written on one line is not closed or has a stray comma"),
)


def compose(ctx: Ctx, text: str) -> Node | None:
    """The node tree of `text`, or None after recording the syntax error with line, column and a hint."""
    fast = getattr(yaml, "CSafeLoader", None)  # libyaml: 10x faster on a file listing thousands of sources
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass  # parse again below for the pure-Python parser's messages, which the hints are written for
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "syntax error"
        hint = next((h for key, h in _SYNTAX_HINTS if key in what), "check the quoting and indentation here")
        line = mark.line + 1 if mark is not None else 0
        column = f" (column {mark.column + 1})" if mark is not None else ""
        start = exc.context_mark
        if start is not None and mark is not None and start.line != mark.line:
            hint += f" (it starts on line {start.line + 1})"
        ctx.add(None, "", f"invalid YAML{column}: {what}; {hint}", line=line)
    except yaml.YAMLError as exc:
        ctx.add(None, "", f"unreadable YAML: {exc}; save the file as plain UTF-8 text")
    return None


def mapping_items(
    ctx: Ctx,
    node: Node,
    path: str,
    allowed: Iterable[str],
    *,
    elsewhere: Mapping[str, str] | None = None,
) -> dict[str, tuple[Node, Node]] | None:
    """Key -> (key node, value node) of a mapping, recording unknown and duplicate keys.

    `elsewhere` maps keys that are valid in another block to where they belong, so a misplaced
    key gets 'it belongs under scrape:' rather than a useless spelling suggestion.
    """
    if not isinstance(node, MappingNode):
        ctx.add(node, path, f"expected a mapping (key: value lines), got {describe(node)}")
        return None
    allowed = list(allowed)
    seen: dict[str, Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == MERGE_TAG:
            continue
        if not isinstance(key_node, ScalarNode):
            ctx.add(key_node, path, f"a key must be a plain name, got {describe(key_node)}")
            continue
        key = str(key_node.value)
        if key in seen:
            ctx.add(key_node, join(path, key),
                    f"duplicate key '{key}' (first on line {line_of(seen[key])}): keep only one")
        else:
            seen[key] = key_node
    try:
        ctx.constructor.flatten_mapping(node)  # resolve `<<: *defaults` merges; explicit keys win
    except ConstructorError as exc:
        ctx.add(node, path, f"bad '<<' merge: {exc.problem}; merge only &anchored mappings")
        return None
    items: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode):
            continue
        key = str(key_node.value)
        if key in allowed:
            items[key] = (key_node, value_node)
        elif key in seen and seen[key] is key_node:  # report unknown keys once, at the key
            where = (elsewhere or {}).get(key)
            hint = f": it belongs {where}" if where else did_you_mean(key, allowed)
            ctx.add(key_node, join(path, key), f"unknown key '{key}'{hint}")
    return items
