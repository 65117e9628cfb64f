"""The `aggregator` click group. Commands live in `cmd_*.py` modules beside this one, each
registering itself on `cli`, so a new command group never edits a shared file."""

from __future__ import annotations

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
    load_commands()()
