"""`aggregator daemon | serve`: running unattended, and previewing output/ over HTTP."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from aggregator.cli.app import cli
from aggregator.cli.common import (
    EXIT_LOCKED,
    EXIT_OK,
    config_option,
    fail,
    load,
    setup_logging,
    store_for,
    with_log_options,
)
from aggregator.errors import LockedError

bind_option = click.option("--bind", default="127.0.0.1", show_default=True,
                           help="Address to listen on (0.0.0.0 exposes it to the network).")
port_option = click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
                           help="TCP port (0 picks a free one).")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM ends `serve` like Ctrl-C: exit 0


def _ops_logging(verbose: int, log_format: str) -> None:
    setup_logging(verbose, log_format)
    level = logging.INFO if verbose >= 0 else logging.WARNING
    for name in ("aggregator.daemon", "aggregator.serve"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 1 else level)


@cli.command()
@config_option
@click.option("--tick", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds between checks of what is due (and of edits to sources.yaml).")
@click.option("--serve", "serve_too", is_flag=True, help="Also serve output/ over HTTP (see `serve`).")
@port_option
@bind_option
@with_log_options
def daemon(config_path: Path, tick: float, serve_too: bool, port: int, bind: str, verbose: int,
           log_format: str) -> None:
    """Poll sources as they fall due until SIGTERM/SIGINT, picking up edits to sources.yaml.

    Holds the same lock as `aggregator run` for its whole life, so a cron run at the same time exits 3.
    Exit codes: 0 stopped by a signal, 2 invalid sources.yaml at start, 3 another run or daemon holds
    the lock, 4 the database cannot be opened.
    """
    from aggregator.daemon import run_daemon
    from aggregator.lock import lock_path_for, run_lock

    config = load(config_path)
    _ops_logging(verbose, log_format)
    try:
        with run_lock(lock_path_for(config.settings.output_dir)):
            store = store_for(config)
            code = run_daemon(config_path, config, store, tick_seconds=tick,
                              serve=(bind, port) if serve_too else None)
    except LockedError as exc:
        fail(str(exc), EXIT_LOCKED)
    sys.exit(code)


@cli.command()
@config_option
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Serve this folder instead of settings.output_dir from sources.yaml.")
@port_option
@bind_option
@with_log_options
def serve(config_path: Path, root: Path | None, port: int, bind: str, verbose: int, log_format: str) -> None:
    """Serve output/ for previews and small installs: feed content types, ETag/304, gzip.

    For production put nginx (or any web server) in front of output/: see docs/operations.md.
    """
    from aggregator.serve import make_server

    folder = root if root is not None else load(config_path).settings.output_dir
    _ops_logging(verbose, log_format)
    if not folder.is_dir():
        fail(f"{folder} does not exist yet: run `aggregator run` first, or pass --root", 2)
    try:
        server = make_server(folder, bind=bind, port=port)
    except OSError as exc:
        fail(f"cannot listen on {bind}:{port}: {exc.strerror or exc}; pick another --port", 1)
    real_port = server.server_address[1]
    click.echo(f"serving {folder} on http://{bind}:{real_port}/ (Ctrl-C to stop)", err=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(EXIT_OK)
