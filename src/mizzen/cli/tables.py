"""Tables that fit the terminal with one line per row: at a narrow width (``COLUMNS=80``) the
flexible columns (names, params) are cut with "…", and the identifying ones (uuid, status, times,
numbers) keep their width, never folded across lines. A pipe or a file gets the same layout at the
width rich sees there (``COLUMNS``, else 80)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from rich.table import Table
from rich.text import Text

MIN_FLEXIBLE = 6  # a name or a param cut to fewer characters says nothing


class FittedTable:
    def __init__(
        self, columns: Sequence[str], *, flexible: Collection[str], title: str | None = None
    ) -> None:
        self.table = Table(title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
        self._flexible = [name in flexible for name in columns]
        for name, shrinks in zip(columns, self._flexible, strict=True):
            # A column rich may narrow is one that "wraps"; its cells themselves never wrap (below).
            self.table.add_column(
                name, no_wrap=not shrinks, overflow="ellipsis", min_width=MIN_FLEXIBLE if shrinks else None
            )

    def add_row(self, *cells: str | Text) -> None:
        self.table.add_row(
            *(
                _one_line(cell) if shrinks else cell
                for cell, shrinks in zip(cells, self._flexible, strict=True)
            )
        )


def _one_line(cell: str | Text) -> Text:
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text
