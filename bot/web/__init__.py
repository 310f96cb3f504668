"""The HTTP edge: one Starlette app for Slack, webhooks, flags, health and metrics."""
