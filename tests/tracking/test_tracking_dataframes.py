from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from mizzen.tracking.dataframes import dataframe_bytes


def test_pandas_frame_to_csv_round_trips() -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    data, summary = dataframe_bytes(df, "csv")
    assert summary == {"rows": 3, "columns": ["a", "b"]}
    assert pd.read_csv(io.BytesIO(data)).equals(df)


def test_pandas_frame_keeps_a_meaningful_index() -> None:
    df = pd.DataFrame({"v": [1.5, 2.5]}, index=pd.Index(["r1", "r2"], name="row"))
    data, _ = dataframe_bytes(df, "csv")
    assert pd.read_csv(io.BytesIO(data), index_col="row").equals(df)


def test_plain_columns_and_rows_without_pandas() -> None:
    data, summary = dataframe_bytes({"epoch": [1, 2], "loss": [0.5, 0.25]}, "csv")
    assert list(csv.reader(io.StringIO(data.decode()))) == [["epoch", "loss"], ["1", "0.5"], ["2", "0.25"]]
    assert summary == {"rows": 2, "columns": ["epoch", "loss"]}
    data, _ = dataframe_bytes([{"a": 1}, {"a": 2, "b": 3}], "csv")
    assert data.decode().splitlines() == ["a,b", "1,", "2,3"]


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="content_type must be one of csv, parquet"):
        dataframe_bytes({"a": [1]}, "xlsx")
    with pytest.raises(ValueError, match="parquet needs a pandas or polars"):
        dataframe_bytes({"a": [1]}, "parquet")
    with pytest.raises(ValueError, match="same length"):
        dataframe_bytes({"a": [1], "b": [1, 2]}, "csv")
    with pytest.raises(TypeError, match="log_dataframe takes"):
        dataframe_bytes(42, "csv")
