"""How the formatter's time grows with the answer: it should grow in proportion.

Formats answers of 5,000 to 80,000 characters built to be hard (`**a ` repeated: thousands of
emphasis spans a split must not cut) and plain prose, and prints each time with its ratio to
the 5,000-character one: linear work gives ratios near the length ratios (4, 16).
Usage: `python -m bench.formatter`.
"""

from __future__ import annotations

import time

from app.services.formatter import format_text

SIZES = (5_000, 20_000, 80_000)
TEXTS = {"emphasis spans": "**a ", "prose": "Plain words in a sentence. "}


def seconds(text: str, repeat: int = 3) -> float:
    """The best of `repeat` runs of `format_text` at the Cloud API limit."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        format_text(text, 4096)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    """Print the table."""
    for name, unit in TEXTS.items():
        base = seconds(unit * (SIZES[0] // len(unit)))
        for size in SIZES:
            took = seconds(unit * (size // len(unit)))
            print(f"{name:15} {size:>7} chars {took * 1000:8.1f} ms  x{took / base:5.1f} "
                  f"(length x{size / SIZES[0]:.0f})")


if __name__ == "__main__":
    main()
