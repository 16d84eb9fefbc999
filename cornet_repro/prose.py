"""Numbers as the book's prose prints them: ordinals, ranges, counts of things.

Pages glue these strings instead of typing numbers; keeping the wording here means every page
says "13th", "from 129 to 148 ms" and "1 model" / "2 models" the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["count", "join_words", "ordinal", "value_range"]


def ordinal(n: int) -> str:
    """``1`` → ``'1st'``, ``2`` → ``'2nd'``, ``13`` → ``'13th'``, ``22`` → ``'22nd'``, ``111`` → ``'111th'``."""
    if isinstance(n, bool) or int(n) != n:
        raise ValueError(f"ordinal needs a whole number, got {n!r}")
    n = int(n)
    # 11, 12 and 13 (and 111, 212, ...) take "th" although they end in 1, 2, 3
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def value_range(low: float, high: float, unit: str = "", decimals: int = 0) -> str:
    """``(129.03, 148.2, 'ms')`` → ``'from 129 to 148 ms'``; equal ends give ``'129 ms'``.

    A range in running prose reads "from A to B", never "from A–B" (an en dash replaces "to",
    so "from" and a dash together say "to" twice).
    """
    a, b = f"{low:.{decimals}f}", f"{high:.{decimals}f}"
    tail = f" {unit}" if unit else ""
    return f"{a}{tail}" if a == b else f"from {a} to {b}{tail}"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``(1, 'model')`` → ``'1 model'``; ``(243, 'model')`` → ``'243 models'`` (thousands separated)."""
    word = singular if n == 1 else plural or f"{singular}s"
    return f"{n:,} {word}"


def join_words(items: Sequence[str], conjunction: str = "and") -> str:
    """``['a']`` → ``'a'``; ``['a', 'b']`` → ``'a and b'``; ``['a', 'b', 'c']`` → ``'a, b and c'``."""
    items = [str(i) for i in items]
    if len(items) <= 2:
        return f" {conjunction} ".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
