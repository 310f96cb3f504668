"""What the registry knows that answers questions 2 and 3 of the five, for one incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.domain.registry import Change, FlagKind, FlagState, KnownGood, format_duration

MAX_CHANGES_LISTED = 10


@dataclass(frozen=True)
class TriageContext:
    service: str
    window: timedelta  # how far back `recent_changes` reaches
    recent_changes: tuple[Change, ...]  # newest first
    flags: tuple[FlagState, ...]
    rollback_targets: tuple[KnownGood, ...]  # the last known-good version per component

    def changes_text(self) -> str:
        """For question 2: one line a change, newest first."""
        if not self.recent_changes:
            return f"No recorded changes to {self.service} in the last {self._window}."
        lines = [describe_change(c) for c in self.recent_changes[:MAX_CHANGES_LISTED]]
        more = len(self.recent_changes) - MAX_CHANGES_LISTED
        if more > 0:
            lines.append(f"… and {more} more (`/incident changes {self.service}`)")
        return "\n".join(lines)

    def rollback_text(self) -> str:
        """For question 3: the flags and the rollback targets that exist."""
        flags = ", ".join(f"{f.name} ({describe_flag(f)})" for f in self.flags) or "none"
        targets = (
            ", ".join(f"{k.component.value} → {k.version}" for k in self.rollback_targets)
            or "none marked known-good yet"
        )
        return f"Flags: {flags}.\nRollback targets (last known-good): {targets}."

    @property
    def _window(self) -> str:
        return format_duration(self.window)


def describe_change(change: Change) -> str:
    line = (
        f"{change.at:%Y-%m-%d %H:%M} UTC · {change.service} {change.component.value} "
        f"{change.from_version or '(none)'} → {change.to_version} by {change.actor}"
    )
    if change.eval_score is not None:
        line += f" · eval {change.eval_score:.2f}"
    return line


def describe_flag(flag: FlagState) -> str:
    if flag.kind is FlagKind.PERCENTAGE:
        return f"{int(flag.value)}%"
    return "on" if flag.value else "off"
