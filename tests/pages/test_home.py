"""Home-page presets open their page in the promised state, with no warning; every loss has a page."""

from pathlib import Path

import pytest
from helpers import live_values
from streamlit.testing.v1 import AppTest

import lossviz
from lossviz.studies.home import PRESETS, page_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("preset", PRESETS, ids=[p.title for p in PRESETS])
def test_preset_link_restores_its_controls(preset):
    at = AppTest.from_file(str(ROOT / preset.page), default_timeout=120)
    for key, value in preset.query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.warning, [w.value for w in at.warning]
    for key, value in preset.query.items():
        live = live_values(at)  # a live control's value is its shown frame, not its state
        shown = live[key] if key in live else at.session_state[key]
        if isinstance(value, list):
            assert list(shown) == value
        else:
            assert str(shown) == value or float(shown) == float(value)


def test_every_loss_has_a_page_that_exists():
    for name in lossviz.names():
        assert (ROOT / page_for(lossviz.spec(name))).exists(), name
    assert page_for(lossviz.spec("perceptual")) == "pages/perceptual.py"  # not its family's Generative page
