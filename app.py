"""lossviz — the entry point: page config and navigation over the pages in ``pages/``."""

from pathlib import Path

import streamlit as st
import torch

import lossviz
from lossviz.ui.session import session_losses

HERE = Path(__file__).parent

SECTIONS: dict[str, list[tuple[str, str, str]]] = {
    "": [("pages/home.py", "Home", "🏠")],
    "Explore": [
        ("pages/curves.py", "Curves", "📈"),
        ("pages/landscape.py", "Landscape", "🗺️"),
        ("pages/outliers.py", "Outlier sensitivity", "🎯"),
        ("pages/focal.py", "Focal γ", "🔍"),
        ("pages/custom.py", "Custom loss", "✍️"),
    ],
    "Families": [
        ("pages/margins.py", "Margins & embeddings", "📐"),
        ("pages/segmentation.py", "Segmentation", "🧩"),
        ("pages/generative.py", "Generative", "🎨"),
        ("pages/perceptual.py", "Perceptual loss", ":material/image:"),
        ("pages/sequence.py", "Sequence & count", "🔤"),
    ],
    "Training": [
        ("pages/training_lab.py", "Training lab", "🏋️"),
        ("pages/neural_landscape.py", "Neural landscape", "⛰️"),
    ],
}

# One intra-op thread per evaluation: the grids here are small, sessions run in parallel threads, and
# on a busy 2-core box torch's thread pool made a 2,304-point log take 20–40 ms instead of 10 µs.
torch.set_num_threads(1)

st.set_page_config(page_title="lossviz", page_icon="📉", layout="wide")
pages = {
    section: [
        st.Page(path, title=title, icon=icon, default=path == "pages/home.py")
        for path, title, icon in entries
        if (HERE / path).exists()
    ]
    for section, entries in SECTIONS.items()
}
page = st.navigation({s: p for s, p in pages.items() if p})
st.sidebar.caption(f"lossviz · {len(lossviz.names())} losses")
with session_losses():
    page.run()
