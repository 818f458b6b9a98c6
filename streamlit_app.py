"""Sextant's entry page. Until the executive overview lands, it opens Service health."""

import streamlit as st

st.switch_page("pages/1_Service_health.py")
