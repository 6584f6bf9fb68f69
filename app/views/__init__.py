"""The dashboard's pages, one folder each: ``view.py`` (the script) and ``data.py``."""
