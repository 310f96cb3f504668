"""`steadyhand demo` plays the whole incident loop and prints it."""

from __future__ import annotations

import pytest

from bot.cli import main
from tests.e2e.conftest import RUNBOOKS


def test_demo_prints_the_conversation(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNBOOKS_DIR", str(RUNBOOKS))
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for expected in (
        "Opened #inc-",  # the opener's confirmation
        "== Answers cite the retired refund policy ==",  # the header
        "*How to recognize*",
        "[x] Done",  # a ticked step
        "still unanswered after 15 minutes",  # the reminder
        "*The five questions* · answered",
        "support-bot prompt v12 → v13 by github-actions",  # question 2, pre-filled
        "[Roll back to v12]",  # the button next to the change
        ":raised_hand: *Approval needed* · high risk",
        "+ Applied by @carol",
        ":white_check_mark: *Verified* roll back support-bot prompt v13 → v12",
        "eval score 0.91 ≥ 0.85",
        "*Status update* from @alice",
        "handed the incident commander role to @bob",
        "*Status report*",
        "*Resolved* by @bob",
        "📝 Draft post-mortem. Time to acknowledge 2m 00s",  # the file's message
        "[file: Post-mortem: Answers cite the retired refund policy]",
        "# Post-mortem: Answers cite the retired refund policy",
        "| Time to mitigate | 21m 00s |",
        "alice reacted :pushpin: to “7 of 20 refund answers",
        "@U_BOB: 7 of 20 refund answers cite the 2023 policy (pinned by @U_ALICE)",
        ":test_tube: *Failed example #1*",
        "### Blocking set\n\n- #1 “Can I return shoes after 30 days?”",
        "- [ ] #1 gate prompt releases on the refund eval set: owner @U_CAROL",
    ):
        assert expected in out, expected
    assert out.index("*Status update*") < out.index("*Resolved*")
    heading = out.index("== postmortem-")
    assert out.index("*Resolved*") < heading < out.index("# Post-mortem:")


def test_demo_without_runbooks_says_which_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNBOOKS_DIR", "/nonexistent/runbooks")
    assert main(["demo"]) == 2
    assert "RUNBOOKS_DIR" in capsys.readouterr().err
