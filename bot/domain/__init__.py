"""The pure core: no Slack, no SQL, no HTTP, no clock. Standard library only."""
