"""Validations shared by several resources (each returns the reason it failed, or None)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlparse

from pydantic import BeforeValidator


def non_blank(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must not be empty"
    return None


def max_length(limit: int):  # type: ignore[no-untyped-def]
    """A check that a string is at most ``limit`` characters (Apple truncates nothing: it refuses)."""

    def check(value: object) -> str | None:
        if isinstance(value, str) and len(value) > limit:
            return f"is {len(value)} characters long; Apple allows at most {limit}"
        return None

    check.__name__ = f"max_length_{limit}"
    check.__qualname__ = check.__name__
    return check


def _not_a_bool(value: object) -> object:
    # pydantic's lax mode reads True/False as 1/0; a day count of False is a mistake.
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    return value


WholeNumber = Annotated[int, BeforeValidator(_not_a_bool)]


# An address with one @, no spaces, and a dot in the domain: what Apple's spec types as format
# "email" in practice (its validator is not published). Stricter checks would refuse addresses
# Apple takes.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.][^@\s]*")


def email_address(value: object) -> str | None:
    if not isinstance(value, str) or not _EMAIL.fullmatch(value):
        return f"{value!r} is not an e-mail address (expected name@example.com)"
    return None


def same_email(at_apple: Any, declared: Any) -> bool:
    """E-mail addresses compare ignoring case (what mail providers do; Apple lists a tester's
    address as it was first entered), so ``Ada@Example.com`` in the program is the same as
    ``ada@example.com`` at Apple: no diff, and the state keeps Apple's spelling."""
    return isinstance(at_apple, str) and isinstance(declared, str) and at_apple.casefold() == declared.casefold()


def web_url(value: object) -> str | None:
    """An http(s) URL with a host (marketing and privacy-policy pages)."""
    parsed = urlparse(value) if isinstance(value, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in str(value)):
        return f"{value!r} is not a web address (expected https://example.com/page)"
    return None
