"""Data frames to CSV or Parquet bytes: pandas or polars frames, or plain rows / columns (CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

CONTENT_TYPES = ("csv", "parquet")


def dataframe_bytes(df: Any, content_type: str) -> tuple[bytes, dict[str, Any]]:
    """(encoded bytes, summary with rows and columns)."""
    if content_type not in CONTENT_TYPES:
        raise ValueError(f"content_type must be one of {', '.join(CONTENT_TYPES)}, not '{content_type}'")
    if hasattr(df, "to_csv") and hasattr(df, "columns"):  # pandas
        summary = {"rows": len(df), "columns": [str(c) for c in df.columns]}
        if content_type == "parquet":
            buffer = io.BytesIO()
            df.to_parquet(buffer)
            return buffer.getvalue(), summary
        keep_index = type(df.index).__name__ != "RangeIndex"
        return df.to_csv(index=keep_index).encode(), summary
    if hasattr(df, "write_csv") and hasattr(df, "columns"):  # polars
        summary = {"rows": int(df.height), "columns": [str(c) for c in df.columns]}
        buffer = io.BytesIO()
        (df.write_parquet if content_type == "parquet" else df.write_csv)(buffer)
        return buffer.getvalue(), summary
    if content_type == "parquet":
        raise ValueError("parquet needs a pandas or polars data frame")
    columns, rows = _plain_table(df)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return text.getvalue().encode(), {"rows": len(rows), "columns": columns}


def _plain_table(data: Any) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows from a dict of columns or a list of dict rows."""
    if isinstance(data, Mapping):
        columns = [str(c) for c in data]
        values = [list(v) for v in data.values()]
        if len({len(v) for v in values}) > 1:
            raise ValueError("every column of the data frame must have the same length")
        return columns, [list(row) for row in zip(*values, strict=False)]
    if isinstance(data, list) and all(isinstance(row, Mapping) for row in data):
        columns = list(dict.fromkeys(str(k) for row in data for k in row))
        return columns, [[row.get(c, "") for c in columns] for row in data]
    raise TypeError(
        f"log_dataframe takes a pandas/polars data frame, a dict of columns or a list of dict rows, "
        f"not {type(data).__name__}"
    )
