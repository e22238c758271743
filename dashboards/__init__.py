"""Chapar's Streamlit dashboard (پیشخوان): ``streamlit run dashboards/app.py``."""
