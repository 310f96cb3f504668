"""The sandbox's Web API as slack_sdk sees it: auth, channels, people, failures."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import SlackSandbox
from bot.sandbox.seed import ALICE, BOB, BOT_USER_ID, CAROL, GENERAL_CHANNEL, ONCALL_GROUP
from tests.support.slack_specs import ConformanceRecorder


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call  # type: ignore[misc]
    return str(raised.value.response["error"])


async def test_auth_test_names_the_bot(
    client: AsyncWebClient, conformance: ConformanceRecorder
) -> None:
    identity = await client.auth_test()

    assert identity["user_id"] == BOT_USER_ID
    assert identity["bot_id"] == "B_BOT"
    assert identity["team_id"] == "T_SANDBOX"


async def test_calls_without_a_valid_token_are_refused(sandbox: SlackSandbox) -> None:
    anonymous = AsyncWebClient(base_url=sandbox.api_url)
    impostor = AsyncWebClient(token="xoxb-wrong", base_url=sandbox.api_url)

    assert await error_of(anonymous.auth_test()) == "not_authed"
    assert await error_of(impostor.auth_test()) == "invalid_auth"
    assert (await anonymous.api_test())["ok"]


async def test_unknown_method(client: AsyncWebClient) -> None:
    assert await error_of(client.api_call("chat.postMesage")) == "unknown_method"


async def test_form_encoded_body_with_token_argument(sandbox: SlackSandbox) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{sandbox.api_url}conversations.create",
            data={"token": sandbox.bot_token, "name": "from-a-form"},
        )

    assert response.json()["channel"]["name"] == "from-a-form"
    assert sandbox.calls[-1].args == {"name": "from-a-form"}  # the token is not logged


async def test_get_method_with_query_arguments(sandbox: SlackSandbox) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{sandbox.api_url}users.info",
            params={"user": ALICE},
            headers={"Authorization": f"Bearer {sandbox.bot_token}"},
        )

    assert response.json()["user"]["name"] == "alice"


async def test_create_channel_makes_the_bot_a_member(
    client: AsyncWebClient, sandbox: SlackSandbox, conformance: ConformanceRecorder
) -> None:
    created = await client.conversations_create(name="inc-20261122-answers-degraded")

    channel = sandbox.channel_by_name("inc-20261122-answers-degraded")
    assert channel is not None
    assert created["channel"]["id"] == channel.id
    assert created["channel"]["is_member"] is True
    assert channel.members == [BOT_USER_ID]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("Inc-Upper", "invalid_name_specials"),
        ("inc with spaces", "invalid_name_specials"),
        ("inc.dots", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("--", "invalid_name_punctuation"),
        ("general", "name_taken"),
    ],
)
async def test_channel_name_rules(client: AsyncWebClient, name: str, error: str) -> None:
    assert await error_of(client.conversations_create(name=name)) == error


async def test_eighty_characters_is_a_valid_name(client: AsyncWebClient) -> None:
    created = await client.conversations_create(name="a" * 80)

    assert created["channel"]["name"] == "a" * 80


async def test_a_name_stays_taken_after_archiving(client: AsyncWebClient) -> None:
    created = await client.conversations_create(name="inc-old")
    await client.conversations_archive(channel=created["channel"]["id"])

    assert await error_of(client.conversations_create(name="inc-old")) == "name_taken"
    assert (
        await error_of(client.chat_postMessage(channel=created["channel"]["id"], text="hi"))
        == "is_archived"
    )


async def test_invite_set_topic_and_info(
    client: AsyncWebClient, sandbox: SlackSandbox, conformance: ConformanceRecorder
) -> None:
    channel_id = (await client.conversations_create(name="inc-topic"))["channel"]["id"]

    await client.conversations_invite(channel=channel_id, users=[ALICE, BOB])
    await client.conversations_setTopic(channel=channel_id, topic="quality drift")
    await client.conversations_setPurpose(channel=channel_id, purpose="answers degraded")
    info = await client.conversations_info(channel=channel_id, include_num_members=True)
    members = await client.conversations_members(channel=channel_id)

    assert info["channel"]["topic"]["value"] == "quality drift"
    assert info["channel"]["purpose"]["value"] == "answers degraded"
    assert info["channel"]["num_members"] == 3
    assert members["members"] == [BOT_USER_ID, ALICE, BOB]
    assert (
        await error_of(client.conversations_invite(channel=channel_id, users=ALICE))
        == "already_in_channel"
    )
    assert (
        await error_of(client.conversations_invite(channel=channel_id, users="U_NOBODY"))
        == "user_not_found"
    )


async def test_join_then_post(client: AsyncWebClient) -> None:
    refused = await error_of(client.chat_postMessage(channel=GENERAL_CHANNEL, text="hello"))
    joined = await client.conversations_join(channel=GENERAL_CHANNEL)
    posted = await client.chat_postMessage(channel=GENERAL_CHANNEL, text="hello")

    assert refused == "not_in_channel"
    assert joined["channel"]["is_member"] is True
    assert posted["ok"]


async def test_people_and_groups(client: AsyncWebClient, conformance: ConformanceRecorder) -> None:
    alice = await client.users_info(user=ALICE)
    carol = await client.users_lookupByEmail(email="carol@example.com")
    groups = await client.usergroups_list(include_users=True)
    oncall = await client.usergroups_users_list(usergroup=ONCALL_GROUP)
    team = await client.team_info()

    assert alice["user"]["tz"] == "Europe/Paris"
    assert carol["user"]["id"] == CAROL
    assert {group["handle"]: group["users"] for group in groups["usergroups"]} == {
        "oncall": [ALICE, BOB],
        "managers": [CAROL],
    }
    assert oncall["users"] == [ALICE, BOB]
    assert team["team"]["id"] == "T_SANDBOX"
    assert await error_of(client.users_info(user="U_NOBODY")) == "user_not_found"
    assert await error_of(client.users_lookupByEmail(email="x@example.com")) == "users_not_found"
    assert await error_of(client.usergroups_users_list(usergroup="S_NO")) == "no_such_subteam"


async def test_ratelimited_is_a_429_with_retry_after(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    sandbox.fail_next("chat.postMessage", "ratelimited", retry_after=7)
    channel_id = (await client.conversations_create(name="inc-rate"))["channel"]["id"]

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=channel_id, text="hi")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"


async def test_slack_sdk_retries_after_a_rate_limit(sandbox: SlackSandbox) -> None:
    client = AsyncWebClient(
        token=sandbox.bot_token,
        base_url=sandbox.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    channel_id = (await client.conversations_create(name="inc-retry"))["channel"]["id"]
    sandbox.fail_next("chat.postMessage", retry_after=0)

    posted = await client.chat_postMessage(channel=channel_id, text="hi")

    assert posted["ok"]
    outcomes = [call.error for call in sandbox.calls if call.method == "chat.postMessage"]
    assert outcomes == ["ratelimited", None]


async def test_injected_errors_run_out(client: AsyncWebClient, sandbox: SlackSandbox) -> None:
    sandbox.fail_next("conversations.create", "restricted_action", times=2)
    sandbox.fail_next("*", "internal_error")

    first = await error_of(client.conversations_create(name="inc-a"))
    second = await error_of(client.conversations_create(name="inc-a"))
    any_method = await error_of(client.auth_test())
    created = await client.conversations_create(name="inc-a")

    assert (first, second, any_method) == (
        "restricted_action",
        "restricted_action",
        "internal_error",
    )
    assert created["ok"]


async def test_injected_server_error_status(client: AsyncWebClient, sandbox: SlackSandbox) -> None:
    sandbox.fail_next("auth.test", "fatal_error", status=500)

    with pytest.raises(SlackApiError) as raised:
        await client.auth_test()

    assert raised.value.response.status_code == 500


async def test_observers_and_call_log_see_every_call(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    seen: list[tuple[str, dict[str, object]]] = []
    sandbox.observers.append(lambda method, args: seen.append((method, args)))

    await client.conversations_create(name="inc-seen")
    await error_of(client.conversations_create(name="inc-seen"))

    assert seen == [("conversations.create", {"name": "inc-seen"})] * 2
    assert [call.error for call in sandbox.calls] == [None, "name_taken"]
    assert sandbox.calls_to("conversations.create") == [{"name": "inc-seen"}] * 2
