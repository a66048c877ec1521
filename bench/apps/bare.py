"""The framework's floor for bench/browser.py: one ``st.slider`` and one 800-point Plotly line.

Each page's load and control-to-chart times are read as ratios against this page, measured in the same run,
so that the machine's load hits both (/work/shared/STREAMLIT.md item 12). Run it as its own main script::

    streamlit run bench/apps/bare.py
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

x = np.linspace(-3.0, 3.0, 800, dtype=np.float32)
delta = st.slider("δ (delta)", 0.1, 3.0, 1.0, 0.1, key="bare_delta")
# The Huber loss, so that the line has a kink that moves with the slider like the pages' curves.
y = np.where(np.abs(x) <= delta, 0.5 * x**2, delta * (np.abs(x) - 0.5 * delta)).astype(np.float32)
figure = go.Figure(go.Scatter(x=x, y=y, mode="lines", name="Huber"))
figure.update_layout(height=360, margin={"l": 40, "r": 10, "t": 30, "b": 30}, title="Huber loss, δ from the slider")
st.plotly_chart(figure, key="bare_chart")
