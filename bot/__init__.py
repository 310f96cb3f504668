"""Steadyhand: incident response for production AI systems, in Slack."""

__version__ = "0.1.0"
