"""Shared Streamlit helpers: controls from declarations, URL state, session scoping, chart display, and the
cards, failure guard and kept figures every page uses.

Only this package (and ``app.py``/``pages/``) imports Streamlit; the rest of lossviz is pure maths
and pure figure builders. It builds on lossviz's core and toolkit only, never on a study or a figure module.
"""
