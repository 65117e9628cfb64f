"""py3langid's model, loaded once per process: from an uncompressed copy in the user's cache directory when
there is one (~0.1 s), otherwise from the package's xz file (~0.7 s), which then leaves that copy.

Why: a run that reads many feeds starts its worker processes afresh, and each one that meets an entry
with no declared language loaded the model again: 1.4 s of CPU a run on two cores, more than the detection
itself. The copy is plain numpy arrays (no pickle), named after py3langid's version and the model file's
size and time, written atomically; anything wrong with it falls back to the package's file. It takes
~70 MB under `$XDG_CACHE_HOME/aggregator` (or `~/.cache/aggregator`), replaces the copy of an older model, and
may be deleted at any time.
"""

from __future__ import annotations

import contextlib
import logging
import os
from array import array
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def load_identifier() -> Any:
    """A `py3langid.langid.LanguageIdentifier` with the package's model, as `from_model_file` makes it."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    copy = _copy_path(Path(MODEL_DIR) / MODEL_FILE)
    if copy is not None and copy.exists():
        try:
            return _read_copy(LanguageIdentifier, copy)
        except Exception as exc:  # a truncated or foreign file: the package's model is always there
            log.debug("language model copy %s unusable (%s): loading the package's model", copy, exc)
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    if copy is not None:
        try:
            _write_copy(identifier, copy)
        except OSError as exc:  # a read-only home: every process loads the xz file, as before
            log.debug("cannot keep the language model at %s: %s", copy, exc)
    return identifier


def _copy_path(model: Path) -> Path | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        stat = model.stat()
        release = version("py3langid")
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except (OSError, RuntimeError, PackageNotFoundError):  # no model file, no home directory
        return None
    return base / "aggregator" / f"py3langid-{release}-{stat.st_size}-{int(stat.st_mtime)}.npz"


def _write_copy(identifier: Any, path: Path) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(partial, "wb") as out:
            np.savez(out, ptc=identifier.nb_ptc, pc=identifier.nb_pc, classes=np.array(identifier.nb_classes),
                     output=np.array(identifier.tk_output, dtype=np.int64),
                     **_packed("nextmove", identifier.tk_nextmove), **_packed("row", identifier.tk_row))
        os.replace(partial, path)  # whole or not at all, whichever process writes it last
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    for stale in path.parent.glob("py3langid-*.npz"):  # copies of a model since upgraded or reinstalled
        if stale != path:
            with contextlib.suppress(OSError):
                stale.unlink()


def _packed(name: str, values: array[int]) -> dict[str, Any]:
    import numpy as np

    return {name: np.frombuffer(values.tobytes(), dtype=np.uint8), f"{name}_type": np.array(values.typecode)}


def _unpacked(data: Any, name: str) -> array[int]:
    values = array(str(data[f"{name}_type"]))
    values.frombytes(memoryview(data[name]))
    return values


def _read_copy(identifier_class: Any, path: Path) -> Any:
    import numpy as np

    with np.load(path, allow_pickle=False) as data:
        return identifier_class(data["ptc"], data["pc"], data["classes"].tolist(), _unpacked(data, "nextmove"),
                                data["output"].tolist(), tk_row=_unpacked(data, "row"))
