"""The `aggregator` click group. Commands live in `cmd_*.py` modules beside this one, each
registering itself on `cli`, so a new command group never edits a shared file."""

from __future__ import annotations

import gc
import importlib
import pkgutil

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aggregator")
def cli() -> None:
    """Exhibition and trade-fair news, republished as clean Atom feeds per topic."""


def load_commands() -> click.Group:
    import aggregator.cli as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"aggregator.cli.{info.name}")
    return cli


def main() -> None:
    tune_garbage_collector()
    load_commands()()


GC_YOUNG_THRESHOLD = 50_000  # new objects between collections of the youngest generation (Python: 700)


def tune_garbage_collector() -> None:
    """Look for reference cycles less often than Python does by default.

    A poll makes millions of short-lived objects (rows, tokens, records) and almost no cycles, and with
    the default thresholds the collector took 3.6% of the storing thread, the slowest part of a first poll.
    What is alive at start (modules, the language model) is frozen out of collections; worker processes,
    forked later, inherit both settings.
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
