"""Checks what the bot sends Slack against Slack's published specifications.

The specifications live outside the repository, in `../shared/slack-specs/` (see its
SOURCES.md for where each file comes from and its caveats), or wherever SLACK_SPECS_DIR says.
They are read on first use and cached; nothing is fetched from the network.

    recorder = ConformanceRecorder().attach(sandbox)   # every Web API call and payload
    ...
    recorder.assert_clean()

or one at a time: `check_call(method, args)`, `check_blocks(blocks)`, `check_view(view)`,
`check_message_payload(payload)`, `check_manifest(manifest)`; each returns a list of problems,
empty when all is well.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

SPECS_DIR_ENV = "SLACK_SPECS_DIR"

MAX_MESSAGE_BLOCKS = 50  # the schema allows 100, the limit for modals and the Home tab
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000

# Arguments the SDKs supply on every call, not the bot: slack_sdk sends the token in the
# Authorization header, and Bolt's per-request client adds `team_id` to every call (Slack needs
# it for org-wide installs and ignores it elsewhere).
SDK_ARGUMENTS = {"token", "team_id"}

# Either-or requirements that Slack states only in prose (SOURCES.md): one of these groups of
# arguments must be fully present.
ONE_OF_GROUPS: dict[str, list[tuple[str, ...]]] = {
    "chat.postMessage": [("text",), ("blocks",), ("attachments",), ("markdown_text",)],
    "chat.postEphemeral": [("text",), ("blocks",), ("attachments",), ("markdown_text",)],
    "views.open": [("trigger_id",), ("interactivity_pointer",)],
    "views.push": [("trigger_id",), ("interactivity_pointer",)],
    "views.update": [("view_id",), ("external_id",)],
    "reactions.get": [("channel", "timestamp"), ("file",), ("file_comment",)],
}
# Arguments that carry JSON, sent as a JSON-encoded string in forms and as-is in JSON bodies.
JSON_ARGUMENTS = {"blocks", "attachments", "view", "metadata", "files"}
MESSAGE_METHODS = {
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "chat.scheduleMessage",
    "files.completeUploadExternal",
}
RESPONSE_URL_FIELDS = {
    "text",
    "blocks",
    "attachments",
    "response_type",
    "replace_original",
    "delete_original",
    "thread_ts",
    "mrkdwn",
    "unfurl_links",
    "unfurl_media",
    "metadata",
    "link_names",
    "parse",
}
VIEW_ACTIONS = {"errors", "update", "push", "clear"}


def specs_dir() -> Path:
    configured = os.environ.get(SPECS_DIR_ENV)
    if configured:
        return Path(configured)
    # `shared/` sits beside the repository (/work/shared next to /work/main); look upwards so a
    # checkout or worktree placed deeper still finds it.
    here = Path(__file__).resolve()
    for ancestor in here.parents:
        candidate = ancestor / "shared" / "slack-specs"
        if candidate.is_dir():
            return candidate
    return here.parents[3] / "shared" / "slack-specs"


class SlackSpecs:
    """The specification files of one directory, loaded and compiled once."""

    def __init__(self, root: Path) -> None:
        if not (root / "methods").is_dir():
            raise FileNotFoundError(
                f"Slack specifications not found at {root}; set {SPECS_DIR_ENV} to the "
                "slack-specs directory (see shared/slack-specs/SOURCES.md)"
            )
        self.root = root
        self.methods = {
            path.name.removesuffix(".json"): _read_json(path)
            for path in sorted((root / "methods").glob("*.json"))
        }
        blockkit = _read_json(root / "blockkit" / "slack-block-kit.schema.json")
        self._blockkit_id = str(blockkit["$id"])
        self._registry: Registry[Any] = Registry().with_resource(
            self._blockkit_id, Resource.from_contents(blockkit)
        )
        self.block_defs = {
            definition["properties"]["type"]["const"]: name
            for name, definition in blockkit["$defs"].items()
            if name.endswith("_block")
            and "const" in definition.get("properties", {}).get("type", {})
        }

    @functools.cache  # noqa: B019 - one SlackSpecs per directory lives for the whole run
    def blockkit_validator(self, definition: str) -> Draft202012Validator:
        schema = {"$ref": f"{self._blockkit_id}#/$defs/{definition}"}
        return Draft202012Validator(schema, registry=self._registry)

    @functools.cache  # noqa: B019
    def manifest_validator(self, major_version: int) -> Draft7Validator | None:
        path = self.root / "manifest" / "schemas" / f"manifest.schema.{major_version}.0.0.json"
        if not path.is_file():
            return None
        # The versioned schemas are self-contained; the router beside them $refs GitHub URLs,
        # which is why it is not used here.
        return Draft7Validator(_read_json(path))


@functools.cache
def load_specs(root: Path | None = None) -> SlackSpecs:
    return SlackSpecs(root or specs_dir())


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# Web API calls


def check_call(method: str, args: Mapping[str, Any]) -> list[str]:
    specs = load_specs()
    spec = specs.methods.get(method)
    if spec is None:
        return [f"unknown Web API method {method!r}"]
    declared = spec.get("args") or {}
    known = set(declared.get("properties", {})) | SDK_ARGUMENTS
    sent = {name for name, value in args.items() if value is not None}
    # Slack reads an empty value as no value.
    present = {name for name in sent if args[name] != ""}
    problems = [f"unknown argument {name!r}" for name in sorted(sent - known)]
    problems += [
        f"missing required argument {name!r}"
        for name in declared.get("required", [])
        if name not in SDK_ARGUMENTS and name not in present
    ]
    groups = ONE_OF_GROUPS.get(method)
    if groups and not any(all(name in present for name in group) for group in groups):
        choices = " or ".join("+".join(group) for group in groups)
        problems.append(f"needs {choices}")
    decoded: dict[str, Any] = {}
    for name in sorted(present & JSON_ARGUMENTS):
        try:
            decoded[name] = _decoded(args[name])
        except json.JSONDecodeError:
            problems.append(f"argument {name!r} is not valid JSON")
    problems += _check_content(method, args, decoded)
    return problems


def _decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _check_content(method: str, args: Mapping[str, Any], decoded: Mapping[str, Any]) -> list[str]:
    problems = []
    if method in MESSAGE_METHODS:
        problems += _check_text(args.get("text"))
        if "blocks" in decoded:
            problems += check_blocks(decoded["blocks"])
        if "attachments" in decoded:
            problems += _check_attachments(decoded["attachments"])
    if method.startswith("views.") and "view" in decoded:
        surface = "home" if method == "views.publish" else None
        problems += check_view(decoded["view"], surface=surface)
    return problems


def _check_text(text: Any) -> list[str]:
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return [f"text: {len(text)} characters, more than {MAX_MESSAGE_TEXT}"]
    return []


def _check_attachments(attachments: Any) -> list[str]:
    if not isinstance(attachments, list):
        return ["attachments: not a list"]
    problems = []
    for index, attachment in enumerate(attachments):
        if isinstance(attachment, dict) and "blocks" in attachment:
            problems += check_blocks(attachment["blocks"], where=f"attachments[{index}].blocks")
    return problems


# Block Kit


def check_blocks(
    blocks: Any, *, where: str = "blocks", limit: int = MAX_MESSAGE_BLOCKS
) -> list[str]:
    """A message's blocks (limit 50), or a view's (limit 100)."""
    if not isinstance(blocks, list):
        return [f"{where}: not a list"]
    problems = []
    if len(blocks) > limit:
        problems.append(f"{where}: {len(blocks)} blocks, more than {limit}")
    specs = load_specs()
    for index, block in enumerate(blocks):
        here = f"{where}[{index}]"
        kind = block.get("type") if isinstance(block, dict) else None
        definition = specs.block_defs.get(kind) if isinstance(kind, str) else None
        if definition is None:
            problems.append(f"{here}: unknown block type {kind!r}")
            continue
        validator = specs.blockkit_validator(definition)
        problems += [_describe(error, here) for error in validator.iter_errors(block)]
    problems += _duplicate_ids(blocks, where)
    return problems


def check_view(view: Any, *, surface: str | None = None) -> list[str]:
    """A modal (or, for views.publish, a Home tab) view."""
    if not isinstance(view, dict):
        return ["view: not an object"]
    kind = surface or ("home" if view.get("type") == "home" else "modal")
    validator = load_specs().blockkit_validator(f"{kind}_view")
    # Block errors are reported block by block below, more precisely than through the union.
    problems = [
        _describe(error, "view")
        for error in validator.iter_errors(view)
        if not (
            error.absolute_path
            and error.absolute_path[0] == "blocks"
            and len(error.absolute_path) > 1
        )
    ]
    if isinstance(view.get("blocks"), list):
        problems += check_blocks(view["blocks"], where="view.blocks", limit=MAX_VIEW_BLOCKS)
    return problems


def _duplicate_ids(blocks: Sequence[Any], where: str) -> list[str]:
    problems = []
    for key in ("block_id", "action_id"):
        seen: set[str] = set()
        for value in _values_of(blocks, key):
            if value in seen:
                problems.append(f"{where}: duplicate {key} {value!r}")
            seen.add(value)
    return problems


def _values_of(node: Any, key: str) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get(key), str):
            yield node[key]
        for value in node.values():
            yield from _values_of(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from _values_of(item, key)


def _describe(error: ValidationError, where: str) -> str:
    # A union (oneOf/anyOf) fails as a whole; the branch for the instance's `type` says why.
    while error.context:
        branches = _branches(error)
        matching = [errors for errors in branches if not _wrong_type(errors)]
        error = best_match(matching[0] if len(matching) == 1 else error.context)
    path = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    )
    return f"{where}{path}: {_reason(error)}"


def _branches(union: ValidationError) -> list[list[ValidationError]]:
    grouped: dict[Any, list[ValidationError]] = {}
    for error in union.context:
        grouped.setdefault(error.relative_schema_path[0], []).append(error)
    return list(grouped.values())


def _wrong_type(errors: Sequence[ValidationError]) -> bool:
    """Whether a union branch failed because it describes another `type` of block or element
    (Block Kit's unions are discriminated by `type`)."""
    for error in errors:
        if error.validator == "const" and list(error.relative_path) == ["type"]:
            return True
        nested_union = bool(error.context) and not error.relative_path
        if nested_union and all(_wrong_type(branch) for branch in _branches(error)):
            return True
    return False


def _reason(error: ValidationError) -> str:
    instance, limit = error.instance, error.validator_value
    if error.validator == "maxLength" and isinstance(instance, str):
        return f"{len(instance)} characters, more than {limit}"
    if error.validator == "minLength" and isinstance(instance, str):
        return f"{len(instance)} characters, fewer than {limit}"
    if error.validator == "maxItems" and isinstance(instance, list):
        return f"{len(instance)} items, more than {limit}"
    message = str(error.message)
    return message if len(message) <= 200 else message[:199] + "…"


# Payloads outside the Web API


def check_message_payload(payload: Mapping[str, Any], *, where: str = "response_url") -> list[str]:
    """A message sent to a response_url, or in the ack of a slash command."""
    problems = [
        f"{where}: unknown field {name!r}" for name in sorted(set(payload) - RESPONSE_URL_FIELDS)
    ]
    if payload.get("response_type") not in (None, "ephemeral", "in_channel"):
        problems.append(f"{where}: response_type {payload['response_type']!r}")
    has_content = any(payload.get(name) for name in ("text", "blocks", "attachments"))
    if not has_content and not payload.get("delete_original"):
        problems.append(f"{where}: needs text, blocks or attachments")
    problems += _check_text(payload.get("text"))
    if payload.get("blocks") is not None:
        problems += check_blocks(payload["blocks"], where=f"{where}.blocks")
    if payload.get("attachments") is not None:
        problems += _check_attachments(payload["attachments"])
    return problems


def check_view_submission_ack(payload: Mapping[str, Any]) -> list[str]:
    """The bot's HTTP answer to a view submission: empty, or a response_action."""
    if not payload:
        return []
    action = payload.get("response_action")
    if action not in VIEW_ACTIONS:
        return [
            f"view_submission ack: response_action {action!r} is not one of {sorted(VIEW_ACTIONS)}"
        ]
    if action in ("update", "push"):
        return check_view(payload.get("view"))
    if action == "errors":
        errors = payload.get("errors")
        if not isinstance(errors, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in errors.items()
        ):
            return ["view_submission ack: errors must map block_id to a message"]
    return []


# The app manifest


def check_manifest(manifest: Mapping[str, Any]) -> list[str]:
    metadata = manifest.get("_metadata")
    major = metadata.get("major_version", 1) if isinstance(metadata, dict) else 1
    validator = load_specs().manifest_validator(major) if isinstance(major, int) else None
    if validator is None:
        return [f"manifest: no schema for _metadata.major_version {major!r}"]
    errors = sorted(
        validator.iter_errors(dict(manifest)), key=lambda error: list(error.absolute_path)
    )
    return [_describe(error, "manifest") for error in errors]


# Recording during a test


class _Observable(Protocol):
    observers: list[Any]
    payload_observers: list[Any]


class ConformanceRecorder:
    """Collects spec problems from everything a sandbox sees; attach it, then assert_clean()."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked = 0

    def attach(self, sandbox: _Observable) -> ConformanceRecorder:
        sandbox.observers.append(self)
        sandbox.payload_observers.append(self.observe_payload)
        return self

    def __call__(self, method: str, args: dict[str, Any]) -> None:
        self.checked += 1
        self.problems += [f"{method}: {problem}" for problem in check_call(method, args)]

    def observe_payload(self, source: str, payload: dict[str, Any]) -> None:
        self.checked += 1
        if source == "view_submission_ack":
            found = check_view_submission_ack(payload)
        else:
            found = check_message_payload(payload, where=source)
        self.problems += found

    def assert_clean(self) -> None:
        if self.problems:
            listed = "\n".join(f"  - {problem}" for problem in self.problems)
            raise AssertionError(f"the bot sent Slack what Slack's specs reject:\n{listed}")


@contextmanager
def conforming(sandbox: _Observable) -> Iterator[ConformanceRecorder]:
    """`with conforming(sandbox):` fails the test if anything sent inside broke the specs;
    as a fixture: `with conforming(sandbox) as recorder: yield recorder`."""
    recorder = ConformanceRecorder().attach(sandbox)
    yield recorder
    recorder.assert_clean()
