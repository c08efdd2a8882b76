"""Discord's published OpenAPI 3.1 spec (``discord-openapi.json`` beside this file) as a request check.

:func:`check` takes one REST request as the fake Discord received it and returns what the real
Discord would refuse: an unknown route or method, a path or query parameter that does not fit,
an unknown query parameter, a missing or malformed body (JSON, or multipart ``payload_json`` plus
``files[n]`` parts), a field the spec does not list, and the documented limits the spec lacks
(:func:`message_limits`). Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect), checked with
``jsonschema``; the spec is loaded and the validators built once per process.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_FILE = Path(__file__).with_name("discord-openapi.json")
_URI = "urn:discord-openapi"

# Fields discord.py 2.7 sends that the spec does not list (tests/specs/README.md): the library's own.
LIBRARY_FIELDS: dict[str, dict[str, Any]] = {
    "RichEmbed": {"flags": {"type": ["integer", "null"]}},
    "MessageEditRequestPartial": {"tts": {"type": ["boolean", "null"]}},
    # documented for application commands (age-restricted), missing from the spec's request schema
    "ApplicationCommandUpdateRequest": {"nsfw": {"type": ["boolean", "null"]}},
}
LIBRARY_QUERY = {"with_response"}
# The spec types snowflakes as decimal strings; Discord also takes them as JSON integers, which is
# how discord.py sends some (a reply's message_reference.message_id, for one).
SNOWFLAKE_AS_INTEGER = {"type": "integer", "minimum": 0}

# Documented limits the spec lacks (discord.com/developers/docs: Message, Embed limits, Button).
BOT_CONTENT_LIMIT = 2000  # the spec's 4,000 is a premium user's limit
MAX_ACTION_ROWS = 5
EMBEDS_TOTAL_LIMIT = 6000
LINK_STYLE, PREMIUM_STYLE = 5, 6
IS_COMPONENTS_V2 = 1 << 15
# Operations whose body is a message (interaction callbacks carry one in ``data``).
_MESSAGE_OPERATIONS = {"create_message", "update_message", "execute_webhook", "update_webhook_message",
                       "update_original_webhook_message"}
_CALLBACK_WITH_MESSAGE = {4, 7}  # CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE
_ERROR_CODES = {"maxLength": "BASE_TYPE_MAX_LENGTH", "minLength": "BASE_TYPE_MIN_LENGTH",
                "maxItems": "BASE_TYPE_MAX_LENGTH", "minItems": "BASE_TYPE_MIN_LENGTH",
                "required": "BASE_TYPE_REQUIRED", "type": "BASE_TYPE_BAD_TYPE",
                "additionalProperties": "UNKNOWN_FIELD", "maximum": "NUMBER_TYPE_MAX",
                "minimum": "NUMBER_TYPE_MIN", "pattern": "NUMBER_TYPE_COERCE", "oneOf": "BASE_TYPE_CHOICES"}


@dataclass(frozen=True)
class Problem:
    """One thing the real Discord would refuse; ``where`` is the location in the body (or
    ``("<query>", name)`` / ``("<path>", name)``), ``code`` Discord's error code."""

    where: tuple[str | int, ...]
    code: str
    message: str

    def __str__(self) -> str:
        place = ".".join(str(p) for p in self.where) or "<request>"
        return f"{place}: {self.message} ({self.code})"


@dataclass
class Operation:
    """One method on one path template of the spec."""

    method: str
    template: str
    operation_id: str
    regex: re.Pattern[str]
    literals: int  # path segments without a parameter (the most specific template wins)
    path_params: dict[str, str]  # name -> JSON pointer of its schema in the spec
    query_params: dict[str, str]
    bodies: dict[str, str]  # content type -> JSON pointer of its schema in the spec
    body_required: bool


class DiscordSpec:
    """The spec's operations, with strict schemas: a field the spec does not list is refused."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = _strict(spec)
        self.registry: Registry[Any] = Registry().with_resource(
            _URI, Resource(contents=self.spec, specification=DRAFT202012))
        self.operations = [op for template, item in self.spec["paths"].items()
                           for op in _operations(template, item)]
        self._validators: dict[str, Draft202012Validator] = {}

    def find(self, method: str, path: str) -> tuple[Operation | None, bool]:
        """The operation for ``method path`` and whether the path exists with any method."""
        matches = [op for op in self.operations if op.regex.fullmatch(path)]
        if not matches:
            return None, False
        best = max(op.literals for op in matches)
        for op in matches:
            if op.method == method and op.literals == best:
                return op, True
        return None, True

    def validator(self, pointer: str) -> Draft202012Validator:
        """A validator for the schema at ``pointer`` in the spec (built once)."""
        found = self._validators.get(pointer)
        if found is None:
            found = Draft202012Validator({"$ref": f"{_URI}#{quote(pointer)}"}, registry=self.registry)
            self._validators[pointer] = found
        return found

    def check(self, method: str, path: str, query: dict[str, str], content_type: str, body: Any,
              part_names: list[str]) -> list[Problem]:
        """Everything the real Discord would refuse in this request (empty: it is valid)."""
        op, path_exists = self.find(method, path)
        if op is None:
            what = "405: Method Not Allowed" if path_exists else "404: Not Found"
            return [Problem((), "UNKNOWN_ROUTE", f"{what} ({method} {path} is not in the spec)")]
        problems: list[Problem] = []
        match = op.regex.fullmatch(path)
        assert match is not None
        for name, pointer in op.path_params.items():
            problems += self._errors(pointer, match[name], ("<path>", name))
        for name, value in query.items():
            if name not in op.query_params:
                if name not in LIBRARY_QUERY:
                    problems.append(Problem(("<query>", name), "UNKNOWN_FIELD",
                                            f"{op.operation_id} takes no query parameter {name!r}"))
                continue
            problems += self._query_errors(op.query_params[name], value, ("<query>", name))
        problems += self._check_body(op, content_type, body, part_names)
        return problems

    def _check_body(self, op: Operation, content_type: str, body: Any, part_names: list[str]) -> list[Problem]:
        if content_type.startswith("multipart/"):
            if "multipart/form-data" not in op.bodies:
                return [Problem((), "CONTENT_TYPE_INVALID", f"{op.operation_id} takes no multipart body")]
            problems = [Problem((name,), "UNKNOWN_FIELD", f"unexpected form part {name!r} (files[0]..files[9])")
                        for name in part_names if name != "payload_json" and not re.fullmatch(r"files\[\d\]", name)]
            if body is None:
                return problems
            return problems + self._body_errors(op, "application/json", body)
        if body is None:
            if op.body_required:
                return [Problem((), "BASE_TYPE_REQUIRED", f"{op.operation_id} needs a request body")]
            return []
        if not op.bodies:
            return [Problem((), "UNKNOWN_FIELD", f"{op.operation_id} takes no request body")]
        if not content_type.startswith("application/json"):
            return [Problem((), "CONTENT_TYPE_INVALID", f"unexpected Content-Type {content_type!r}")]
        return self._body_errors(op, "application/json", body)

    def _body_errors(self, op: Operation, content_type: str, body: Any) -> list[Problem]:
        pointer = op.bodies.get(content_type)
        if pointer is None:
            return [Problem((), "CONTENT_TYPE_INVALID", f"{op.operation_id} takes no {content_type} body")]
        problems = self._errors(pointer, body, ())
        if op.operation_id in _MESSAGE_OPERATIONS:
            problems += message_limits(body, ())
        elif (op.operation_id == "create_interaction_response" and isinstance(body, dict)
              and body.get("type") in _CALLBACK_WITH_MESSAGE and isinstance(body.get("data"), dict)):
            problems += message_limits(body["data"], ("data",))
        return problems

    def _query_errors(self, pointer: str, value: str, where: tuple[str | int, ...]) -> list[Problem]:
        """A query value fits when any reading of it does (Discord reads booleans as true/True/1,
        false/False/0, and numbers from digits)."""
        readings: list[Any] = []
        if value in ("true", "True", "1", "false", "False", "0"):
            readings.append(value in ("true", "True", "1"))
        if re.fullmatch(r"-?\d{1,15}", value):
            readings.append(int(value))
        readings.append(value)
        errors = [self._errors(pointer, reading, where) for reading in readings]
        return [] if any(not e for e in errors) else errors[-1]

    def _errors(self, pointer: str, instance: Any, where: tuple[str | int, ...]) -> list[Problem]:
        out = []
        for error in self.validator(pointer).iter_errors(instance):
            deepest = _deepest(error)
            out.append(Problem(where + tuple(deepest.absolute_path),
                               _ERROR_CODES.get(str(deepest.validator), "BASE_TYPE_INVALID"),
                               _describe(deepest)))
        return out


def message_limits(body: Any, where: tuple[str | int, ...]) -> list[Problem]:
    """Discord's documented message limits that the spec does not state."""
    if not isinstance(body, dict):
        return []
    problems: list[Problem] = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > BOT_CONTENT_LIMIT:
        problems.append(Problem(where + ("content",), "BASE_TYPE_MAX_LENGTH",
                                f"Must be {BOT_CONTENT_LIMIT} or fewer in length (a bot's limit; got {len(content)})."))
    embeds = body.get("embeds") or []
    if isinstance(embeds, list):
        total = sum(_embed_chars(e) for e in embeds if isinstance(e, dict))
        if total > EMBEDS_TOTAL_LIMIT:
            problems.append(Problem(where + ("embeds",), "MAX_EMBED_SIZE_EXCEEDED",
                                    f"Embed size exceeds maximum size of {EMBEDS_TOTAL_LIMIT} (got {total})."))
    components = body.get("components") or []
    flags = body.get("flags") or 0
    if isinstance(components, list):
        rows = [c for c in components if isinstance(c, dict) and c.get("type") == 1]
        if not (isinstance(flags, int) and flags & IS_COMPONENTS_V2) and len(rows) > MAX_ACTION_ROWS:
            problems.append(Problem(where + ("components",), "BASE_TYPE_MAX_LENGTH",
                                    f"Must be {MAX_ACTION_ROWS} or fewer in length (action rows; got {len(rows)})."))
        for path, button in _buttons(components, where + ("components",)):
            problems += _button_problems(button, path)
    return problems


def _button_problems(button: dict[str, Any], where: tuple[str | int, ...]) -> list[Problem]:
    style = button.get("style")
    out = []
    if style == LINK_STYLE:
        if not button.get("url"):
            out.append(Problem(where, "BUTTON_COMPONENT_URL_REQUIRED", "A link button needs a url."))
        if button.get("custom_id"):
            out.append(Problem(where, "BUTTON_COMPONENT_INVALID", "A link button cannot have a custom_id."))
    elif style == PREMIUM_STYLE:
        if not button.get("sku_id"):
            out.append(Problem(where, "BUTTON_COMPONENT_SKU_ID_REQUIRED", "A premium button needs a sku_id."))
    else:
        if not button.get("label") and not button.get("emoji"):
            out.append(Problem(where, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED",
                               "A button needs a label or an emoji."))
        if not button.get("custom_id"):
            out.append(Problem(where, "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A non-link button needs a custom_id."))
    return out


def _buttons(components: list[Any], where: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    for i, component in enumerate(components):
        if not isinstance(component, dict):
            continue
        here = (*where, i)
        if component.get("type") == 2:
            yield here, component
        for key in ("components", "accessory"):
            child = component.get(key)
            if isinstance(child, list):
                yield from _buttons(child, (*here, key))
            elif isinstance(child, dict):
                yield from _buttons([child], (*here, key))


def _embed_chars(embed: dict[str, Any]) -> int:
    """Characters that count towards the 6,000 per message: title, description, field names and
    values, footer text, author name."""
    def text(value: Any) -> int:
        return len(value) if isinstance(value, str) else 0

    fields = embed.get("fields") or []
    return (text(embed.get("title")) + text(embed.get("description"))
            + sum(text(f.get("name")) + text(f.get("value")) for f in fields if isinstance(f, dict))
            + text((embed.get("footer") or {}).get("text")) + text((embed.get("author") or {}).get("name")))


def _deepest(error: ValidationError) -> ValidationError:
    """The most specific cause of a oneOf/anyOf failure: the cause within the branch whose type
    (and ``type`` discriminator field) the instance has, when there is one."""
    while error.context and not _all_const(error):
        branches: dict[Any, list[ValidationError]] = defaultdict(list)
        for cause in error.context:
            branches[cause.schema_path[0]].append(cause)
        fitting = [causes for causes in branches.values() if not any(_wrong_kind(c) for c in causes)]
        error = best_match([c for causes in (fitting or branches.values()) for c in causes])
    return error


def _wrong_kind(error: ValidationError) -> bool:
    return (error.validator == "type" and not error.relative_path) or list(error.relative_path) == ["type"]


def _all_const(error: ValidationError) -> bool:
    return bool(error.context) and all(c.validator == "const" for c in error.context)


def _describe(error: ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"not a field Discord knows: {error.message}"
    if error.validator in ("maxLength", "maxItems"):
        return f"Must be {error.validator_value} or fewer in length (got {len(error.instance)})."
    if error.validator in ("minLength", "minItems"):
        return f"Must be {error.validator_value} or more in length (got {len(error.instance)})."
    if _all_const(error):
        return f"{error.instance!r} is not one of {sorted(c.validator_value for c in error.context)}"
    return error.message if len(error.message) < 300 else error.message[:297] + "..."


def _operations(template: str, item: dict[str, Any]) -> Iterator[Operation]:
    shared = item.get("parameters", [])
    names = re.findall(r"\{(\w+)\}", template)
    regex = re.compile("".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p)
                               for p in re.split(r"(\{\w+\})", template)))
    literals = sum(1 for seg in template.strip("/").split("/") if not seg.startswith("{"))
    base = "/paths/" + _escape(template)
    for method, op in item.items():
        if method == "parameters":
            continue
        params = {p["name"]: p for p in shared}
        params.update({p["name"]: p for p in op.get("parameters", [])})
        where: dict[str, str] = {}  # parameter name -> JSON pointer of its schema
        for i, p in enumerate(shared):
            where[p["name"]] = f"{base}/parameters/{i}/schema"
        for i, p in enumerate(op.get("parameters", [])):
            where[p["name"]] = f"{base}/{method}/parameters/{i}/schema"
        content = (op.get("requestBody") or {}).get("content", {})
        yield Operation(
            method=method.upper(), template=template, operation_id=op.get("operationId", method), regex=regex,
            literals=literals,
            path_params={n: where[n] for n in names},
            query_params={n: where[n] for n, p in params.items() if p["in"] == "query"},
            bodies={ct: f"{base}/{method}/requestBody/content/{_escape(ct)}/schema" for ct in content},
            body_required=bool((op.get("requestBody") or {}).get("required")),
        )


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _strict(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of the spec where an object schema refuses properties it does not list, plus the
    fields discord.py adds (:data:`LIBRARY_FIELDS`)."""
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    for name, extra in LIBRARY_FIELDS.items():
        schemas[name]["properties"].update(extra)
    schemas["SnowflakeType"] = {"anyOf": [schemas["SnowflakeType"], SNOWFLAKE_AS_INTEGER]}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and "patternProperties" not in node and "unevaluatedProperties" not in node):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schemas)
    for item in spec["paths"].values():
        for method, op in item.items():
            if method != "parameters":
                for ct, media in (op.get("requestBody") or {}).get("content", {}).items():
                    if ct == "application/json":  # multipart schemas combine objects with allOf
                        walk(media)
    return spec


@functools.cache
def discord_spec() -> DiscordSpec:
    """The spec, loaded and made strict once per process."""
    return DiscordSpec(json.loads(SPEC_FILE.read_text()))


def check(method: str, path: str, query: dict[str, str], content_type: str, body: Any,
          part_names: list[str] | None = None) -> list[Problem]:
    """What the real Discord would refuse in one REST request (``path`` without ``/api/v10``)."""
    return discord_spec().check(method, path, query, content_type, body, part_names or [])


def check_schema(name: str, instance: Any) -> list[Problem]:
    """What is wrong with ``instance`` as the spec's ``components/schemas/<name>`` (e.g. an
    attachment in a gateway message: ``MessageAttachmentResponse``)."""
    return discord_spec()._errors(f"/components/schemas/{name}", instance, ())


def error_body(problems: list[Problem]) -> dict[str, Any]:
    """Discord's answer to an invalid request: HTTP 400, code 50035 "Invalid Form Body", with the
    errors nested by field as Discord nests them."""
    errors: dict[str, Any] = {}
    for problem in problems:
        node = errors
        for key in problem.where:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": problem.code, "message": problem.message})
    return {"message": "Invalid Form Body", "code": 50035, "errors": errors}
