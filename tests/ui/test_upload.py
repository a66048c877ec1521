"""Upload UI, on the Curves page's predictions-vs-targets section: files parse into the session only, bad
files give messages, sessions never mix."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).parents[2] / "pages" / "curves.py")
PAGE_CHARTS = 0
"""Plotly charts of the Curves page before any upload: its default losses share one live chart (a component)."""


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["curves_pairs_open"] = "true"  # the section runs only while open
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == PAGE_CHARTS and len(at.get("bidi_component")) == 1
    return at


def _pair_charts(at: AppTest) -> int:
    return len(at.get("plotly_chart")) - PAGE_CHARTS


def _table_means(at: AppTest) -> list[float]:
    frame = at.dataframe[0].value
    return list(frame["mean loss"])


@pytest.mark.slow
def test_upload_changes_the_charts_and_two_sessions_stay_apart():
    first, second = _app(), _app()
    first.file_uploader[0].set_value(("a.csv", b"prediction,target\n1,0\n2,0\n3,0\n10,0\n", "text/csv"))
    first.run()
    second.file_uploader[0].set_value(("b.csv", b"prediction,target\n0.5,0\n-0.5,0\n0.25,0\n", "text/csv"))
    second.run()
    assert not first.exception and not second.exception
    assert _pair_charts(first) == 2
    # mean MSE of each session's own file, and never the other's
    assert _table_means(first)[0] == pytest.approx((1 + 4 + 9 + 100) / 4)
    assert _table_means(second)[0] == pytest.approx((0.25 + 0.25 + 0.0625) / 3)
    first.run()
    assert _table_means(first)[0] == pytest.approx(28.5)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"prediction,target\n\xff\xfe,1\n", "not UTF-8"),
        (b"prediction,target\na,b\nc,d\n", "two numeric columns"),
        (b"prediction,target\n1,nan\n2,3\n", "usable row"),
    ],
)
def test_bad_files_show_a_message_not_a_traceback(content, message):
    at = _app()
    at.file_uploader[0].set_value(("bad.csv", content, "text/csv"))
    at.run()
    assert not at.exception
    texts = [e.value for e in at.error]
    assert any(message in t for t in texts), texts
    assert _pair_charts(at) == 0


@pytest.mark.slow
def test_example_file_loads_in_one_click_and_drops_are_counted():
    at = _app()
    at.selectbox(key="curves_pairs_example").set_value("validation_predictions.csv").run()
    assert not at.exception
    assert _pair_charts(at) == 2
    assert at.selectbox(key="curves_pairs_prediction").value == "prediction"
    at.file_uploader[0].set_value(("d.csv", b"prediction,target\n1,0\n2,inf\n3,0\n4,0\n", "text/csv"))
    at.run()
    assert any("Dropped 1 of 4 rows" in i.value for i in at.info)
