"""Time spent in chosen functions, for the benchmarks that report where their time goes."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from typing import Any


class Stopwatch:
    """Wraps attributes of modules or classes so each call adds its time to a named total."""

    def __init__(self) -> None:
        self.seconds: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()

    def wrap(self, owner: Any, name: str, label: str | None = None) -> None:
        original: Callable[..., Any] = getattr(owner, name)
        key = label or name

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - start
                self.calls[key] += 1

        setattr(owner, name, timed)
