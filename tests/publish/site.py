"""A whole published folder built from the sample stories, including one RFC 5005 archive page."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.publish.samples import T0, FakeStore, article, make_config, publish_with, sample_states, sample_stories
from tests.publish.samples import story as make_story


def published_site(tmp_path: Path, **settings: Any) -> Path:
    """Publish twice: the second run pushes the multi-source story out of `chips` (cap 2) into its archive."""
    out = tmp_path / "output"
    config = make_config(output_dir=out, archive_size=2, **settings)
    stories = sample_stories()
    store = FakeStore(stories, states=sample_states())
    publish_with(config, store)
    body = "Tickets for the fab tour went fast. " * 30
    newer = article("f1", "chips", "https://chips.example/news/fab-tour", "Fab tour sells out", T0 + timedelta(hours=3),
                    author="Ada Chip", content_html=f"<p>{body}</p>", summary_html="", text=body.strip())
    store.stories = [*stories, make_story("urn:uuid:00000000-0000-4000-8000-000000000004", newer, topics=("chips",))]
    store.states = {**store.states, "chips": replace(store.states["messe"], source_id="chips")}
    store.mark_feeds_dirty(["chips", "all"])
    publish_with(config, store)
    return out
