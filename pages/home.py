"""Home: what lossviz is, the catalogue by family, and one-click presets."""

from pathlib import Path

import streamlit as st

import lossviz
from lossviz.lessons import all_lessons
from lossviz.lessons import link as lesson_link
from lossviz.registry import FAMILIES
from lossviz.studies.home import PRESETS, page_for
from lossviz.ui.classroom import explain
from lossviz.ui.navigation import ensure_app

ensure_app()

ROOT = Path(__file__).resolve().parent.parent

st.title("lossviz — see how loss functions behave")
explain(
    "Pick a loss, move its parameters and watch its **value, gradient and curvature** change live; compare "
    "robust losses on data with outliers; tune focal γ on imbalanced data; type your own loss. Every number "
    "comes from one computation core checked against PyTorch's reference implementations, and every view "
    "can be shared as a link."
)

if PRESETS:
    st.subheader("Start here")
    columns = st.columns(len(PRESETS))
    for column, preset in zip(columns, PRESETS, strict=True):
        with column.container(border=True):
            st.markdown(f"**{preset.title}**")
            st.caption(preset.description)
            st.page_link(preset.page, label="Open", icon="▶️", query_params=preset.query)

st.subheader("Start a lesson")
lesson_columns = st.columns(2)
for i, lesson in enumerate(all_lessons()):
    lesson_columns[i % 2].page_link(
        "pages/lessons.py",
        label=f"{lesson.title} · {len(lesson.steps)} steps",
        icon=":material/school:",
        query_params=lesson_link(lesson.id),
        help=lesson.summary,
    )

st.subheader(f"The catalogue — {len(lossviz.names())} losses")
for family, specs in lossviz.by_family().items():
    with st.expander(f"{FAMILIES[family]} ({len(specs)})", expanded=family == "regression"):
        for spec in specs:
            left, middle, right = st.columns([2, 3, 4], vertical_alignment="center")
            left.markdown(f"**{spec.title}**  \n`{spec.name}`")
            middle.latex(spec.latex)
            right.markdown(spec.use_when)
            page = page_for(spec)
            if (ROOT / page).exists():
                right.page_link(page, label="Show", icon="↗️")
