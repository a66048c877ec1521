"""A one-section app for testing the predictions-vs-targets section on its own."""

from lossviz.ui.pairs_section import render_pairs_section

render_pairs_section("t")
