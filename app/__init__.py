"""The revenue officer's dashboard (Streamlit): ``streamlit run app/dashboard.py``."""
