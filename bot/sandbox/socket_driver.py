"""SocketModeDriver: plays Slack's part towards an app connected over Socket Mode.

The same commands, clicks, submissions and events as SlackDriver (both are SlackActivity),
carried as Socket Mode envelopes over the app's WebSocket instead of signed HTTP requests; each
call waits for the app's ack and returns it as a SocketAck.

    sandbox = SlackSandbox(app_token="xapp-sandbox")
    async with sandbox.serve():
        handler = AsyncSocketModeHandler(bolt_app, sandbox.app_token)
        await handler.connect_async()
        ack = await SocketModeDriver(sandbox).slash_command("alice", "#general", "help")
"""

from __future__ import annotations

from bot.sandbox.activity import Delivery, SlackActivity
from bot.sandbox.entities import JSON
from bot.sandbox.sandbox import SlackSandbox
from bot.sandbox.socket_mode import NotConnected, SocketAck

# The interactions whose ack may carry an answer (errors or a new view; options); Slack tells
# the app so in `accepts_response_payload`.
ANSWERABLE_INTERACTIONS = {"view_submission", "block_suggestion"}


class SocketModeDriver(SlackActivity[SocketAck]):
    def __init__(
        self, sandbox: SlackSandbox, *, ack_timeout: float = 3.0, connect_timeout: float = 5.0
    ) -> None:
        """`ack_timeout`: how long to wait for each ack (Slack waits 3 s); `connect_timeout`:
        how long to wait for an app to be connected before each delivery."""
        super().__init__(sandbox)
        self.ack_timeout = ack_timeout
        self.connect_timeout = connect_timeout

    async def redeliver(
        self, ack: SocketAck, *, retry_num: int = 1, retry_reason: str = "timeout"
    ) -> SocketAck:
        """Send the same payload again in a new envelope, as Slack retries an event."""
        sent = self.sandbox.socket_mode.envelope(ack.envelope_id)
        retry: Delivery = {"retry_num": retry_num, "retry_reason": retry_reason}
        return await self._deliver(
            sent["type"], sent["payload"], sent["accepts_response_payload"], retry
        )

    async def _deliver_command(self, form: dict[str, str], delivery: Delivery) -> SocketAck:
        # Socket Mode carries a command's form fields as a JSON object.
        return await self._deliver("slash_commands", dict(form), True, delivery)

    async def _deliver_interaction(self, payload: JSON, delivery: Delivery) -> SocketAck:
        answerable = payload["type"] in ANSWERABLE_INTERACTIONS
        return await self._deliver("interactive", payload, answerable, delivery)

    async def _deliver_event(self, envelope: JSON, delivery: Delivery) -> SocketAck:
        if "retry_num" not in delivery:
            # Slack numbers every Events API delivery, the first one 0.
            delivery = {"retry_num": 0, "retry_reason": "", **delivery}
        return await self._deliver("events_api", envelope, False, delivery)

    def _ack_of(self, answer: SocketAck) -> JSON | None:
        return answer.payload if answer.acked else None

    async def _deliver(
        self, kind: str, payload: JSON, answerable: bool, delivery: Delivery
    ) -> SocketAck:
        if "timestamp" in delivery or "forge" in delivery:
            raise ValueError("Socket Mode requests are not signed: no timestamp or forge here")
        envelope: JSON = {"type": kind, "payload": payload, "accepts_response_payload": answerable}
        if "retry_num" in delivery:
            envelope["retry_attempt"] = delivery["retry_num"]
            envelope["retry_reason"] = delivery.get("retry_reason", "timeout")
        server = self.sandbox.socket_mode
        try:
            await self.sandbox.wait_until(lambda: server.connections, self.connect_timeout)
        except TimeoutError:
            raise NotConnected(
                f"no app connected over Socket Mode within {self.connect_timeout} s"
            ) from None
        return await server.deliver(envelope, ack_timeout=self.ack_timeout)
