import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.actions import ActionKind
from bot.domain.errors import UsageError
from bot.domain.kinds import IncidentKind
from bot.domain.triage import ExampleSet
from bot.slack import commands as c


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("open quality answers degraded", c.OpenNow(IncidentKind.QUALITY, "answers degraded")),
        ("OPEN Retrieval  wrong  source ", c.OpenNow(IncidentKind.RETRIEVAL, "wrong  source")),
        ("open", c.OpenForm()),
        ("status", c.Status()),
        ("update rolled back prompt", c.Update("rolled back prompt")),
        ("commander <@U123ABC|alice>", c.HandOver("U123ABC")),
        ("commander <@W0BOB>", c.HandOver("W0BOB")),
        ("resolve", c.Resolve("")),
        ("resolve prompt v12 restored", c.Resolve("prompt v12 restored")),
        ("postmortem", c.PostPostmortem()),
        ("help", c.ShowHelp()),
        ("", c.ShowHelp()),
        ("running", c.ShowRunning(None)),
        ("running support-bot", c.ShowRunning("support-bot")),
        ("changes", c.ShowChanges(None, timedelta(hours=24))),
        ("changes 90m", c.ShowChanges(None, timedelta(minutes=90))),
        ("changes search 7D", c.ShowChanges("search", timedelta(days=7))),
        ("known-good support-bot prompt v12", c.MarkKnownGood("support-bot", "prompt", "v12")),
    ],
)
def test_parses_every_subcommand(text: str, expected: c.Command) -> None:
    assert c.parse(text) == expected


def test_unknown_subcommand_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError) as caught:
        c.parse("reopen now")
    message = str(caught.value)
    assert "`reopen`" in message
    for sub in c.SUBCOMMANDS:
        assert f"`{sub}`" in message


def test_unknown_kind_lists_the_valid_kinds() -> None:
    with pytest.raises(UsageError) as caught:
        c.parse("open vibes everything is off")
    assert "vibes" in str(caught.value)
    for kind in IncidentKind.classified():
        assert kind.value in str(caught.value)


def test_people_cannot_open_an_unknown_incident() -> None:
    # Only alerts open incidents of no known kind; people choose one of the six.
    with pytest.raises(UsageError) as caught:
        c.parse("open unknown something is off")
    assert str(caught.value) == (
        "Unknown incident kind `unknown`. "
        "Valid kinds: quality, retrieval, tool, policy, cost, latency."
    )
    with pytest.raises(UsageError):
        IncidentKind.parse("unknown")
    assert IncidentKind.parse(" Cost ") is IncidentKind.COST
    assert len(IncidentKind.classified()) == 6
    assert IncidentKind.UNKNOWN.label == "Needs classification"


@pytest.mark.parametrize(
    "text",
    [
        "open quality",
        "update",
        "commander alice",
        "commander",
        "running a b",
        "changes a b c",
        "known-good support-bot prompt",
    ],
)
def test_incomplete_subcommands_say_what_is_missing(text: str) -> None:
    with pytest.raises(UsageError, match="`/incident"):
        c.parse(text)


def test_every_example_in_help_parses() -> None:
    from bot.slack.help import HELP_LINES

    assert set(c.SUBCOMMANDS) == {
        *("open", "status", "update", "commander", "resolve", "postmortem", "help"),
        *("running", "changes", "known-good"),
        *("rollback", "flag", "kill", "dry-run"),
        *("note", "example", "examples", "followup", "followups"),
    }
    for line in HELP_LINES:
        text = line.example.removeprefix("/incident ")
        c.parse(text.replace("@alice", "<@U0ALICE|alice>").replace("@bob", "<@U0BOB|bob>"))


def test_postmortem_takes_no_arguments() -> None:
    with pytest.raises(UsageError, match="takes nothing after it"):
        c.parse("postmortem now")


@pytest.mark.parametrize("text", ["changes search soon", "changes 0h", "changes search 24x"])
def test_a_bad_window_says_how_to_write_one(text: str) -> None:
    with pytest.raises(UsageError, match="`24h`"):
        c.parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rollback prompt", c.AskRollback(None, "prompt", None, "")),
        ("rollback prompt v12", c.AskRollback(None, "prompt", "v12", "")),
        (
            "rollback support-bot prompt v12 because refusals stopped",
            c.AskRollback("support-bot", "prompt", "v12", "refusals stopped"),
        ),
        ("rollback support-bot model", c.AskRollback("support-bot", "model", None, "")),
        ("rollback to 2h", c.AskRestore(None, timedelta(hours=2), None, "")),
        (
            "rollback search to 2026-11-22T08:00Z because bad index",
            c.AskRestore("search", None, datetime(2026, 11, 22, 8, tzinfo=UTC), "bad index"),
        ),
        ("flag new-retriever off", c.AskFlag(None, "new-retriever", "off", "")),
        ("flag search new-retriever 25%", c.AskFlag("search", "new-retriever", "25%", "")),
        ("kill", c.AskSwitch(ActionKind.KILL_SWITCH, None, True, "")),
        ("kill search off", c.AskSwitch(ActionKind.KILL_SWITCH, "search", False, "")),
        ("kill because leaking", c.AskSwitch(ActionKind.KILL_SWITCH, None, True, "leaking")),
        ("dry-run on", c.AskSwitch(ActionKind.DRY_RUN, None, True, "")),
        ("dry-run search off", c.AskSwitch(ActionKind.DRY_RUN, "search", False, "")),
    ],
)
def test_action_subcommands_parse(text: str, expected: c.Command) -> None:
    assert c.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rollback", "Usage: `/incident rollback"),
        ("rollback a b c d", "Usage: `/incident rollback"),
        ("rollback search", "Usage: `/incident rollback"),
        ("rollback to", "Usage: `/incident rollback"),
        ("rollback to yesterday", "neither a time ago"),
        ("rollback to 2026-11-22T08:00", "UTC offset"),
        ("flag off", "Usage: `/incident flag"),
        ("kill a b", "Usage: `/incident kill"),
        ("dry-run", "Usage: `/incident dry-run"),
        ("dry-run search", "Usage: `/incident dry-run"),
    ],
)
def test_malformed_action_subcommands_say_how(text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=re.escape(problem)):
        c.parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("note EU refunds fail", c.AddNote("EU refunds fail")),
        ("example what is the refund window?", c.AddExample(None, "what is the refund window?")),
        ("example Blocking window → 30d", c.AddExample(ExampleSet.BLOCKING, "window → 30d")),
        ("example backlog", c.AddExample(None, "backlog")),  # a set alone is the text
        ("example #12 monitoring", c.SortExample(12, ExampleSet.MONITORING)),
        ("examples", c.ListExamples()),
        ("followup <@U0CAROL|carol> gate prompts", c.AddFollowUp("U0CAROL", "gate prompts")),
        ("followup gate prompts", c.AddFollowUp(None, "gate prompts")),
        ("followups", c.ListFollowUps()),
    ],
)
def test_findings_subcommands_parse(text: str, expected: c.Command) -> None:
    assert c.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("note", "Say what to note"),
        ("example", "Give the input that failed"),
        ("example #2", "Sort it into one of `blocking`, `monitoring`, `backlog`"),
        ("example #2 urgent", "Sort it into one of"),
        ("followup", "Say what to do, and who owns it"),
        ("followup <@U0BOB>", "Say what to do, and who owns it"),
    ],
)
def test_malformed_findings_subcommands_say_how(text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=re.escape(problem)):
        c.parse(text)
