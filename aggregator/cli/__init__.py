"""Command line: thin commands over library functions, one module per group of commands.

Exit codes: 0 success; 1 the run finished but some sources failed; 2 invalid configuration or usage;
3 another run holds the lock; 4 the store could not be opened.
"""

from __future__ import annotations

from aggregator.cli.app import cli, load_commands, main

__all__ = ["cli", "load_commands", "main"]

