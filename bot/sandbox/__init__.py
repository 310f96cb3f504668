"""A local Slack: a Web API emulator over real HTTP with Socket Mode, and drivers that play
Slack's part towards the bot (signed HTTP requests, or Socket Mode envelopes).

Tests, `steadyhand demo` and the benchmarks run the real bot against it, so the bot's Slack
traffic is exercised end to end without a Slack workspace.
"""

from bot.sandbox.driver import SlackDriver
from bot.sandbox.errors import SlackError
from bot.sandbox.sandbox import SlackSandbox
from bot.sandbox.serve import serve_app
from bot.sandbox.socket_driver import SocketModeDriver
from bot.sandbox.socket_mode import SocketAck
from bot.sandbox.transcript import transcript

__all__ = [
    "SlackDriver",
    "SlackError",
    "SlackSandbox",
    "SocketAck",
    "SocketModeDriver",
    "serve_app",
    "transcript",
]
