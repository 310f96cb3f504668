"""Runbooks as Markdown files: parse them, lint them, load a folder of them."""

from bot.runbooks.loader import lint_directory, load_library
from bot.runbooks.parser import lint_runbook, parse_runbook

__all__ = ["lint_directory", "lint_runbook", "load_library", "parse_runbook"]
