"""The Slack edge: the Bolt app, its listeners, Block Kit rendering, and the Chat adapter."""
