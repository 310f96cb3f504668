"""The one strict JSON reader for everything that comes in over HTTP (the API, OFREP, alert
webhooks, Slack's signed bodies).

Python's `json.loads` accepts what no sender means and what later breaks us: it recurses once
per nesting level (RecursionError), keeps lone surrogates (`"\\ud800"`, which no UTF-8 encoder
takes back: the answer or the database write fails later) and NULs (`"\\u0000"`, which
PostgreSQL refuses in text), reads `NaN`, `Infinity` and `1e999` as floats that JSON cannot
carry out again, and refuses integers over 4,300 digits with a bare ValueError. `read_json`
refuses all of them up front, with a reason a sender can act on, so that nothing half-valid
is ever stored.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import NoReturn

from bot.domain.errors import UsageError

MAX_DEPTH = 32  # the deepest real payload (PagerDuty V3) nests 5 levels
MAX_INTEGER_DIGITS = 20  # 2**64 has 20 digits: anything longer is no count or id of ours

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


class JsonInputError(UsageError):
    """A body that is not the JSON we accept; the message says why (`not valid JSON (…)`,
    `JSON nested too deeply (…)`, …). The web layer answers it 400."""


def read_json(body: bytes | str, *, max_depth: int = MAX_DEPTH) -> JsonValue:
    text = _text(body)
    depth = nesting_depth(text)
    if depth > max_depth:
        _refuse(f"JSON nested too deeply ({depth} levels; at most {max_depth})")
    try:
        value: JsonValue = json.loads(
            text, parse_constant=_constant, parse_float=_float, parse_int=_integer
        )
    except JsonInputError:
        raise
    except ValueError as error:  # JSONDecodeError included
        _refuse(f"not valid JSON ({error})")
    if _MAY_HOLD_BAD_CHARACTER.search(text):
        _check_strings(value)
    return value


def _text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        _refuse(f"not valid JSON (not UTF-8 at byte {error.start})")


# A JSON string literal; what is left once they are removed holds the brackets that nest.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """How deep the text's arrays and objects nest, counted without recursion (and without
    judging whether it is valid JSON: json.loads does that next)."""
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


# Only an escape can put a lone surrogate or a NUL in a string: the text is valid UTF-8, and
# JSON forbids a raw NUL.
_MAY_HOLD_BAD_CHARACTER = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")


def _check_strings(value: JsonValue) -> None:
    pending: list[JsonValue] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _check_string(item)
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _check_string(key)
                pending.append(inner)


def _check_string(text: str) -> None:
    if "\x00" in text:
        _refuse("a string holds a NUL character (\\u0000), which no database stores")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(text[error.start])
        _refuse(f"a string holds a lone surrogate (\\u{code:04x}), which is not Unicode text")


def _constant(name: str) -> NoReturn:
    _refuse(f"not valid JSON ({name} is not a JSON number)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        _refuse(f"a number is out of range ({text[:40]})")
    return value


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        _refuse(f"a number is out of range (an integer of {len(text)} digits)")
    return int(text)


def _refuse(reason: str) -> NoReturn:
    raise JsonInputError(reason)
