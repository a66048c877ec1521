"""lossviz — the entry point: page config and navigation."""

import streamlit as st

st.set_page_config(page_title="lossviz", page_icon="📉", layout="wide")
st.title("lossviz")
st.write("An interactive explorer of loss functions and loss landscapes.")
