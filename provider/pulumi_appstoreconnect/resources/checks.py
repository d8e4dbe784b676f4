"""Validations shared by several resources (each returns the reason it failed, or None)."""

from __future__ import annotations

from typing import Annotated

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
