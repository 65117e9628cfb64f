"""What every command shares: loading the config, opening the store, logging, exit codes."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from aggregator.errors import ConfigError, StoreError
from aggregator.records import Config
from aggregator.store import SqlStore, open_store

EXIT_OK = 0
EXIT_SOURCES_FAILED = 1
EXIT_CONFIG = 2
EXIT_LOCKED = 3
EXIT_STORE = 4

config_option = click.option(
    "-c", "--config", "config_path", type=click.Path(path_type=Path), default=Path("sources.yaml"),
    show_default=True, help="The sources.yaml to use.",
)


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def load(config_path: Path) -> Config:
    """Load and validate, or print every problem and exit 2 (touching nothing)."""
    from aggregator.config import load_config

    if not config_path.exists():
        fail(f"{config_path} not found: pass -c PATH or create it (see README, 'sources.yaml')", EXIT_CONFIG)
    try:
        return load_config(config_path)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s) in {config_path}; nothing was run.", err=True)
        sys.exit(EXIT_CONFIG)


def store_for(config: Config) -> SqlStore:
    try:
        return open_store(config.settings.database, config.settings)
    except StoreError as exc:
        fail(str(exc), EXIT_STORE)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        message = record.getMessage()
        fields = _key_values(message)
        data.update(fields or {"message": message})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def _key_values(message: str) -> dict[str, str]:
    """Split our `key=value key="quoted value"` log lines into fields for JSON logs."""
    import shlex

    try:
        parts = shlex.split(message)
    except ValueError:
        return {}
    if not parts or not all("=" in p for p in parts):
        return {}
    out: dict[str, str] = {}
    for p in parts:
        key, value = p.split("=", 1)
        if key in out:
            out[key] = f"{out[key]}; {value}"
        else:
            out[key] = value
    return out


def setup_logging(verbose: int, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING)
    logging.getLogger("aggregator.run").setLevel(logging.INFO if verbose >= 0 else logging.WARNING)
    for noisy in ("urllib3", "trafilatura", "htmldate", "charset_normalizer", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


log_options = [
    click.option("-v", "--verbose", count=True, help="More log detail (-vv for debug)."),
    click.option("--log-format", type=click.Choice(["kv", "json"]), default="kv", show_default=True,
                 help="key=value lines, or one JSON object per line."),
]


def with_log_options(func: Any) -> Any:
    for option in reversed(log_options):
        func = option(func)
    return func
