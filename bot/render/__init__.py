"""Jinja2 rendering of documents people read outside Slack: the post-mortem."""
