"""APScheduler wiring: one short periodic job claims due rows from our own tables."""
