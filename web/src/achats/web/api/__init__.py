"""No JSON API: the pages are Flask routes (pages.py)."""
