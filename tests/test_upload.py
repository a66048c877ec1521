"""Parsing and validation of uploaded CSV files: each bad input gets its message."""

import numpy as np
import pandas as pd
import pytest

from lossviz.toolkit.tables import (
    UploadError,
    UploadLimits,
    infer_task,
    plot_subsample,
    read_csv,
    select_dataset,
    select_numeric,
    tail_share,
)


def test_reads_comma_semicolon_and_bom():
    for text in ("x,y\n1,2\n3,4\n", "x;y\n1;2\n3;4\n", "\ufeffx,y\n1,2\n3,4\n"):
        frame = read_csv(text.encode("utf-8"))
        assert list(frame.columns) == ["x", "y"]
        assert frame.shape == (2, 2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"x,y\n", "no data rows"),
        (b"x,y\n\xff\xfe1,2\n", "not UTF-8"),
        (b"x,y\n1\x002\n", "NUL"),
        (b"x,x\n1,2\n", "same name"),
    ],
)
def test_bad_files_are_rejected_with_a_message(data, message):
    with pytest.raises(UploadError, match=message):
        read_csv(data)


def test_size_and_row_limits():
    with pytest.raises(UploadError, match="limit is"):
        read_csv(b"x,y\n" + b"1,2\n" * 100, UploadLimits(max_bytes=50))
    with pytest.raises(UploadError, match="more than 10 rows"):
        read_csv(b"x,y\n" + b"1,2\n" * 11, UploadLimits(max_rows=10))
    assert len(read_csv(b"x,y\n" + b"1,2\n" * 10, UploadLimits(max_rows=10))) == 10


def test_nan_inf_and_text_rows_are_dropped_and_counted():
    frame = read_csv(b"x,y\n1,2\n2,nan\n3,inf\nfoo,4\n5,6\n,7\n8,9\n")
    cleaned = select_numeric(frame, ["x", "y"])
    np.testing.assert_array_equal(cleaned.columns["x"], [1, 5, 8])
    np.testing.assert_array_equal(cleaned.columns["y"], [2, 6, 9])
    assert cleaned.rows_dropped == 4
    assert "Dropped 4 of 7 rows" in cleaned.notes[0]


@pytest.mark.parametrize(
    ("text", "columns", "message"),
    [
        ("x,y\n1,2\n3,4\n", ["x", "z"], "not in the file"),
        ("x,y\na,2\nb,4\n", ["x", "y"], "no numeric values"),
        ("x,y\n1,2\n", ["x", "y"], "at least 2"),
        ("x,y\n1,2\n1,4\n1,5\n", ["x", "y"], "constant"),
        ("x,y\n1,2\n3,4\n", ["x", "x"], "picked twice"),
    ],
)
def test_bad_column_choices(text, columns, message):
    with pytest.raises(UploadError, match=message):
        select_numeric(read_csv(text.encode()), columns)


def test_task_inference():
    assert infer_task(pd.Series(["cat", "dog", "cat"])) == "classification"
    assert infer_task(pd.Series([0, 1, 1, 0])) == "classification"
    assert infer_task(pd.Series([0.5, 1.25, 3.0])) == "regression"
    assert infer_task(pd.Series(range(100))) == "regression"


def test_dataset_classification_and_too_many_classes():
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [0.0, 1, 0, 1], "label": ["x", "y", "x", "z"]})
    data = select_dataset(frame, ["a", "b"], "label")
    assert data.task == "classification"
    assert data.class_names == ("x", "y", "z")
    np.testing.assert_array_equal(data.y, [0, 1, 0, 2])
    assert data.x.shape == (4, 2)
    many = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0) % 7, "label": [f"c{i}" for i in range(50)]})
    with pytest.raises(UploadError, match="50 distinct values"):
        select_dataset(many, ["a", "b"], "label", limits=UploadLimits(max_classes=20))
    with pytest.raises(UploadError, match="cannot also be a feature"):
        select_dataset(frame, ["a", "label"], "label")
    with pytest.raises(UploadError, match="single class"):
        select_dataset(frame.assign(label="x"), ["a"], "label")


def test_dataset_regression_override():
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4], "t": [0, 1, 1, 0]})
    assert select_dataset(frame, ["a"], "t").task == "classification"
    data = select_dataset(frame, ["a"], "t", task="regression")
    assert data.task == "regression"
    np.testing.assert_array_equal(data.y, [0, 1, 1, 0])


def test_plot_subsample_and_tail_share():
    index, note = plot_subsample(100, limit=200)
    assert len(index) == 100 and note is None
    index, note = plot_subsample(10_000, limit=500, seed=1)
    assert len(index) == 500 and len(np.unique(index)) == 500 and "500 of 10,000" in note
    values = np.array([100.0] + [1.0] * 99)
    shares = tail_share(values)
    assert shares[0.01] == pytest.approx(100 / 199)
    assert shares[0.10] == pytest.approx(109 / 199)
