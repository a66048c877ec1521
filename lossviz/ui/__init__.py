"""Shared Streamlit helpers: controls from declarations, URL state, session scoping, chart display.

Only this package (and ``app.py``/``pages/``) imports Streamlit; the rest of lossviz is pure maths
and pure figure builders.
"""
