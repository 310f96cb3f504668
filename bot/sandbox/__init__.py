"""A local Slack: a Web API emulator over real HTTP, and a driver that sends signed requests.

Tests, `steadyhand demo` and the benchmarks run the real bot against it, so the bot's Slack
traffic is exercised end to end without a Slack workspace.
"""

from bot.sandbox.driver import SlackDriver
from bot.sandbox.errors import SlackError
from bot.sandbox.sandbox import SlackSandbox
from bot.sandbox.serve import serve_app
from bot.sandbox.transcript import transcript

__all__ = ["SlackDriver", "SlackError", "SlackSandbox", "serve_app", "transcript"]
