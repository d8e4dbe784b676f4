"""Resource names for generated programs.

One name serves as the Python variable and the Pulumi resource name: a kind prefix and a slug
of what identifies the object for a person (``bundle_com_example_app``,
``device_adas_iphone``, ``profile_app_store``). Only the object's own properties go into its
name, so a name does not change when other objects come and go. Where two objects would get
the same name, each gets ``_`` and six hex digits of a hash of its key (its kind and Apple id):
still the same on every run.
"""

from __future__ import annotations

import hashlib
import keyword
import re
import unicodedata
from collections import Counter
from typing import Mapping

MAX_SLUG = 60
_APOSTROPHES = re.compile(r"['\u2019`]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lowercase ASCII letters and digits joined by single underscores ("" when none remain):
    accents are dropped (é → e), apostrophes vanish (Ada's → adas), a wildcard is spelt out."""
    text = _APOSTROPHES.sub("", text).replace("*", " wildcard ")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_WORD.sub("_", ascii_text.lower()).strip("_")[:MAX_SLUG].rstrip("_")


def name(prefix: str, *parts: str) -> str:
    """``prefix_part_part``, skipping parts with nothing left; a valid identifier."""
    pieces = [prefix, *(s for s in map(slug, parts) if s)]
    result = "_".join(pieces)
    assert result.isidentifier() and not keyword.iskeyword(result), result
    return result


def _hash(key: str, length: int) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:length]


def unique(wanted: Mapping[str, str]) -> dict[str, str]:
    """key → final name: each name wanted by more than one key gets a hash of the key appended."""
    counts = Counter(wanted.values())
    final = {key: f"{n}_{_hash(key, 6)}" if counts[n] > 1 else n for key, n in wanted.items()}
    clashes = Counter(final.values())
    # A suffixed name equal to another object's plain name (or two hashes alike): longer hashes.
    for key, n in final.items():
        if clashes[n] > 1:
            final[key] = f"{wanted[key]}_{_hash(key, 16)}"
    if len(set(final.values())) != len(final):
        raise ValueError("cannot make unique resource names")  # two keys with one 64-bit hash prefix
    return final
