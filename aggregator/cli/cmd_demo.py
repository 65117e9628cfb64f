"""`aggregator demo`: the product working end to end with no internet."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aggregator.cli.app import cli
from aggregator.cli.common import EXIT_OK, EXIT_SOURCES_FAILED, load, setup_logging, store_for


@cli.command()
@click.option("--dir", "workdir", type=click.Path(path_type=Path), default=Path("demo"), show_default=True,
              help="Where the demo's sources.yaml, database and output/ go.")
def demo(workdir: Path) -> None:
    """Serve bundled sample feeds and pages on 127.0.0.1 and run the whole pipeline over them."""
    from aggregator.demo import demo_config_text, serve_directory, site_root
    from aggregator.pipeline import run_once

    setup_logging(0, "kv")
    workdir.mkdir(parents=True, exist_ok=True)
    with serve_directory(site_root()) as base:
        config_path = workdir / "sources.yaml"
        config_path.write_text(demo_config_text(base), encoding="utf-8")
        config = load(config_path)
        store = store_for(config)
        try:
            report = run_once(config, store, force=True)
            click.echo(f"demo sources served at {base}")
            for o in report.outcomes:
                line = f"  {o.source_id:<12} {o.status:<12} new={o.new} seen={o.seen}"
                click.echo(line + (f"  {o.error}" if o.error else ""))
            out = config.settings.output_dir
            click.echo(f"feeds in {out}/:")
            for topic in (*config.topics, None):
                feed_id = topic.id if topic else "all"
                stories = store.stories_for_feed(None if topic is None else topic.id, config.settings.max_entries)
                click.echo(f"  {feed_id}.atom  ({len(stories)} entries)")
                for s in stories[:3]:
                    also = f"  [+{len(s.members) - 1} more source(s)]" if len(s.members) > 1 else ""
                    click.echo(f"      {s.published:%Y-%m-%d}  {s.primary.title}{also}")
        finally:
            store.close()
    sys.exit(EXIT_SOURCES_FAILED if report.failed else EXIT_OK)
