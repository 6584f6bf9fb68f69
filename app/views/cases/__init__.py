"""The Disputes page: the case queue and the case page."""
