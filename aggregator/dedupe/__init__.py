"""Near-duplicate detection for story clustering: pure functions the store calls for every new record.

    sig = make_signature(title, text, language)      # None: too short, exact dedupe only
    sigs = make_signatures([(title, text, language), ...])  # the same, for a whole feed at once
    keys = band_keys(sig)                             # stored in the `bands` table, looked up by index
    band_of_keys(keys)                                # and back: the band each key was made for
    is_same_story(sig, candidate_sig, threshold=..., containment=...)
"""

from aggregator.dedupe.near import (
    BANDS,
    DEFAULT_CONTAINMENT,
    DEFAULT_THRESHOLD,
    Signature,
    band_keys,
    band_of_keys,
    best_match,
    best_matches,
    is_same_story,
    key_array,
    make_signature,
    make_signatures,
    similarity,
)

__all__ = [
    "BANDS",
    "DEFAULT_CONTAINMENT",
    "DEFAULT_THRESHOLD",
    "Signature",
    "band_keys",
    "band_of_keys",
    "best_match",
    "best_matches",
    "is_same_story",
    "key_array",
    "make_signature",
    "make_signatures",
    "similarity",
]
