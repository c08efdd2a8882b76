"""Slack's published Web API spec (``slack-web-openapi-v2.json``, Swagger 2.0) as a request check.

:func:`check_call` takes one Web API call as the fake Slack received it and returns what the real
Slack would refuse: an unknown method, a body type the method does not take, a missing required
argument, an argument the method does not take (``unfurl_links`` on ``chat.update``), a value of
the wrong type, and Block Kit that breaks Slack's documented limits. The spec's arguments are
plain form fields, so they are checked here directly; Block Kit (which the spec does not describe)
is checked with slack_sdk's own Block Kit models (their validators carry Slack's limits, and a
block that does not survive parse → serialise unchanged has a field Slack does not know), plus
the limits those models lack. The spec is loaded once per process.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

SPEC_FILE = Path(__file__).with_name("slack-web-openapi-v2.json")

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class Param:
    """One argument of a Web API method."""

    name: str
    type: str  # the spec's: string, boolean, integer, number, array
    required: bool = False


@dataclass(frozen=True)
class Method:
    """One Web API method: the body types it takes and its arguments."""

    name: str
    consumes: tuple[str, ...]
    params: dict[str, Param] = field(default_factory=dict)


# Methods newer than the 2020 spec, as their documentation pages describe them:
# docs.slack.dev/reference/methods/files.getUploadURLExternal, .../files.completeUploadExternal,
# .../apps.connections.open (Socket Mode; takes an app-level token and nothing else).
LATER_METHODS = (
    Method("files.getUploadURLExternal", (FORM, JSON), {p.name: p for p in (
        Param("token", "string"), Param("filename", "string", True), Param("length", "integer", True),
        Param("snippet_type", "string"), Param("alt_txt", "string"))}),
    Method("files.completeUploadExternal", (FORM, JSON), {p.name: p for p in (
        Param("token", "string"), Param("files", "array", True), Param("channel_id", "string"),
        Param("channels", "string"), Param("thread_ts", "string"), Param("initial_comment", "string"),
        Param("blocks", "string"))}),
    Method("apps.connections.open", (FORM, JSON), {"token": Param("token", "string")}),
)
ALT_TXT_LIMIT = 1000  # files.getUploadURLExternal: alt_txt_too_large

# Arguments newer than the 2020 spec, as the methods' documentation pages give them:
# docs.slack.dev/reference/methods/chat.postMessage (``metadata``: {event_type, event_payload}) and
# .../conversations.history (``include_all_metadata``: return every message's metadata).
LATER_PARAMS = {
    "chat.postMessage": (Param("metadata", "string"),),
    "conversations.history": (Param("include_all_metadata", "boolean"),),
}

# Arguments slack_sdk sends that the spec does not list (tests/specs/README.md): the library's own.
LIBRARY_PARAMS = {"auth.test": {"team_id"}}

# Arguments carrying JSON (the spec types them as strings: JSON-encoded in a form body).
JSON_PARAMS = {"blocks", "attachments", "view", "files", "metadata"}

# Block Kit limits (docs.slack.dev/reference/block-kit/blocks and .../block-elements).
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MESSAGE_TEXT_LIMIT = 40_000
TEXT_OBJECT_LIMIT = 3000  # any text object (docs.slack.dev/reference/block-kit/composition-objects/text-object)
FIELD_TEXT_LIMIT = 2000  # each of a section's fields

# A response_url takes a message (docs.slack.dev/interactivity/handling-user-interaction, and
# slack_sdk's WebhookClient.send).
RESPONSE_URL_FIELDS = {"text", "blocks", "attachments", "response_type", "replace_original", "delete_original",
                       "unfurl_links", "unfurl_media", "metadata", "thread_ts", "mrkdwn"}


@dataclass(frozen=True)
class Refusal:
    """How the real Slack answers a bad call: ``{"ok": false, "error": error}`` plus messages."""

    error: str
    messages: tuple[str, ...]

    def body(self) -> dict[str, Any]:
        """The JSON Slack answers with."""
        out: dict[str, Any] = {"ok": False, "error": self.error,
                               "response_metadata": {"messages": [f"[ERROR] {m}" for m in self.messages]}}
        if self.error == "invalid_blocks":
            out["errors"] = list(self.messages)
        return out


def _load_methods(spec: dict[str, Any]) -> dict[str, Method]:
    methods: dict[str, Method] = {}
    for path, item in spec["paths"].items():
        for op in item.values():
            params = {p["name"]: Param(p["name"], p.get("type", "string"), bool(p.get("required")))
                      for p in op.get("parameters", [])}
            # The token travels in the Authorization header (or as an argument).
            if "token" in params:
                params["token"] = Param("token", "string")
            methods[path.lstrip("/")] = Method(path.lstrip("/"), tuple(op.get("consumes", [FORM])), params)
    for method in LATER_METHODS:
        methods[method.name] = method
    for name, later in LATER_PARAMS.items():
        methods[name].params.update({param.name: param for param in later})
    return methods


@functools.cache
def methods() -> dict[str, Method]:
    """Every Web API method the spec (and :data:`LATER_METHODS`) knows, by name."""
    return _load_methods(json.loads(SPEC_FILE.read_text()))


def check_call(name: str, http_method: str, content_type: str, params: dict[str, Any]) -> Refusal | None:
    """What the real Slack would refuse in one Web API call (None: it is valid). ``params`` are the
    merged query and body arguments, JSON arguments already decoded."""
    method = methods().get(name)
    if method is None:
        return Refusal("unknown_method", (f"{name} is not a Web API method",))
    if http_method not in ("GET", "POST"):
        return Refusal("invalid_arguments", (f"HTTP {http_method} is not how Web API methods are called",))
    if content_type == JSON and JSON not in method.consumes:
        return Refusal("invalid_arguments", (f"{name} does not take a JSON body (send it form-encoded)",))
    problems: list[str] = []
    for key, value in params.items():
        param = method.params.get(key)
        if param is None:
            if key not in LIBRARY_PARAMS.get(name, set()):
                problems.append(f"{name} takes no argument {key!r}")
            continue
        problem = _type_problem(param, value)
        if problem:
            problems.append(problem)
    problems += [f"missing required field: {p.name}" for p in method.params.values()
                 if p.required and p.name != "token" and params.get(p.name) in (None, "")]
    problems += _method_rules(name, params)
    if problems:
        return Refusal("invalid_arguments", tuple(problems))
    return check_message(name, params)


def _type_problem(param: Param, value: Any) -> str | None:
    ok: bool
    if param.name in JSON_PARAMS:
        ok = isinstance(value, (list, dict)) or (param.name == "metadata" and isinstance(value, str))
        return None if ok else f"{param.name} must be JSON ({type(value).__name__} given)"
    if param.type == "boolean":
        ok = isinstance(value, bool) or value in ("true", "false", "1", "0")
    elif param.type == "integer":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None)
    elif param.type == "number":
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value) is not None)
    elif param.type == "array":
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
    return None if ok else f"{param.name} must be {param.type} ({value!r} given)"


def _method_rules(name: str, params: dict[str, Any]) -> list[str]:
    """What the documentation pages of the later methods require beyond argument types."""
    if name == "files.getUploadURLExternal":
        out = []
        if str(params.get("length", "")).isdigit() and int(params["length"]) <= 0:
            out.append("length must be more than 0 (missing_argument)")
        if len(str(params.get("alt_txt") or "")) > ALT_TXT_LIMIT:
            out.append(f"alt_txt must be at most {ALT_TXT_LIMIT} characters (alt_txt_too_large)")
        return out
    if name == "files.completeUploadExternal":
        files = params.get("files")
        out = []
        if isinstance(files, list):
            if not files:
                out.append("files must name at least one file")
            for i, item in enumerate(files):
                if not isinstance(item, dict) or not item.get("id"):
                    out.append(f"files[{i}] needs an id")
                elif set(item) - {"id", "title"}:
                    out.append(f"files[{i}] has fields other than id and title: {sorted(set(item) - {'id', 'title'})}")
        if params.get("thread_ts") and not (params.get("channel_id") or params.get("channels")):
            out.append("thread_ts needs the channel to share the file in")
        if params.get("thread_ts") and "," in str(params.get("channels") or ""):
            out.append("thread_ts takes exactly one channel")
        return out
    return []


def check_message(name: str, params: dict[str, Any]) -> Refusal | None:
    """Block Kit and message text limits for a method that takes a message (or a view)."""
    text = params.get("text")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_LIMIT:
        return Refusal("msg_too_long", (f"text must be at most {MESSAGE_TEXT_LIMIT} characters ({len(text)} given)",))
    if name == "views.publish" and isinstance(params.get("view"), dict):
        view = params["view"]
        problems = _model_problems("view", lambda: View(**view).to_dict(),
                                   {k: v for k, v in view.items() if k != "blocks"}, ignore={"blocks"})
        if problems:
            return Refusal("invalid_arguments", tuple(problems))
        problems = check_blocks(view.get("blocks", []), max_blocks=MAX_VIEW_BLOCKS, where="view.blocks")
    elif "blocks" in params:
        problems = check_blocks(params["blocks"])
    else:
        return None
    return Refusal("invalid_blocks", tuple(problems)) if problems else None


def check_response_url(body: Any) -> Refusal | None:
    """A message posted to a ``response_url``."""
    if not isinstance(body, dict):
        return Refusal("invalid_payload", ("the body must be a JSON object",))
    unknown = sorted(set(body) - RESPONSE_URL_FIELDS)
    if unknown:
        return Refusal("invalid_payload", (f"a response_url message takes no {unknown}",))
    if body.get("response_type") not in (None, "in_channel", "ephemeral"):
        return Refusal("invalid_payload", (f"response_type {body['response_type']!r} is not in_channel or ephemeral",))
    return check_message("response_url", body)


def check_blocks(blocks: Any, *, max_blocks: int = MAX_BLOCKS, where: str = "blocks") -> list[str]:
    """Everything Slack would refuse in a list of blocks (empty: valid)."""
    if not isinstance(blocks, list):
        return [f"{where} must be a JSON array"]
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{where}: no more than {max_blocks} items allowed ({len(blocks)} given)")
    block_ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        problems.append(f"{where}: block_id values must be unique in a message")
    for i, block in enumerate(blocks):
        here = f"{where}[{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"{here}: a block is an object with a type")
            continue
        problems += _model_problems(here, lambda block=block: _parse_block(block), block)
        problems += _extra_block_rules(here, block)
    return problems


def _parse_block(block: dict[str, Any]) -> dict[str, Any]:
    parsed = Block.parse(block)
    if parsed is None or type(parsed) is Block:
        raise SlackObjectFormationError(f"unknown block type {block.get('type')!r}")
    return parsed.to_dict()


def _model_problems(where: str, serialise: Any, original: dict[str, Any], ignore: set[str] | None = None) -> list[str]:
    """Parse + serialise with slack_sdk's models (which validate Slack's limits); a difference
    from the original is a field Slack does not know (or an empty one it drops)."""
    try:
        again = serialise()
    except (SlackObjectFormationError, TypeError, AttributeError, KeyError, ValueError) as exc:
        return [f"{where}: {exc}"]
    for key in ignore or set():
        again.pop(key, None)
    if again != original:
        return [f"{where}: {d}" for d in _differences(original, again)]
    return []


def _differences(original: Any, again: Any, path: str = "") -> list[str]:
    if isinstance(original, dict) and isinstance(again, dict):
        out = []
        for key in sorted(set(original) | set(again)):
            here = f"{path}.{key}" if path else key
            if key not in again:
                out.append(f"{here}: not a field Slack knows here, or empty ({original[key]!r:.60})")
            elif key not in original:
                continue  # a default the model adds
            else:
                out += _differences(original[key], again[key], here)
        return out
    if isinstance(original, list) and isinstance(again, list) and len(original) == len(again):
        return [d for i, (a, b) in enumerate(zip(original, again, strict=True)) for d in _differences(a, b, f"{path}[{i}]")]
    return [] if original == again else [f"{path or 'value'}: {original!r:.60} is not valid here"]


def _text_objects(node: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every text object (``{"type": "plain_text"|"mrkdwn", "text": ...}``) in a block."""
    found = []
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
            found.append((where, node))
        for key, value in node.items():
            found += _text_objects(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _text_objects(value, f"{where}[{i}]")
    return found


def _extra_block_rules(where: str, block: dict[str, Any]) -> list[str]:
    """Limits slack_sdk's models do not enforce."""
    kind = block["type"]
    out = [f"{here}.text: a text object's text is 1 to {TEXT_OBJECT_LIMIT} characters ({len(text['text'])} given)"
           for here, text in _text_objects(block, where)
           if isinstance(text["text"], str) and not 0 < len(text["text"]) <= TEXT_OBJECT_LIMIT]
    if kind == "section":
        out += [f"{where}.fields[{i}].text: at most {FIELD_TEXT_LIMIT} characters ({len(f['text'])} given)"
                for i, f in enumerate(block.get("fields") or [])
                if isinstance(f, dict) and isinstance(f.get("text"), str) and len(f["text"]) > FIELD_TEXT_LIMIT]
    if kind == "header" and (block.get("text") or {}).get("type") != "plain_text":
        out.append(f"{where}.text: a header's text must be plain_text")
    if kind == "actions":
        ids = [e.get("action_id") for e in block.get("elements", []) if isinstance(e, dict) and e.get("action_id")]
        if len(ids) != len(set(ids)):
            out.append(f"{where}.elements: action_id values must be unique in a block")
    if kind == "context" and not block.get("elements"):
        out.append(f"{where}.elements: a context block needs at least one element")
    return out


_JSON_TYPES: dict[str, type | tuple[type, ...]] = {"string": str, "integer": int, "boolean": bool, "array": list,
                                                   "object": dict, "number": (int, float)}


@functools.cache
def _definitions() -> dict[str, Any]:
    return dict(json.loads(SPEC_FILE.read_text())["definitions"])


def check_file_object(obj: dict[str, Any]) -> list[str]:
    """What is wrong with a file object (as events and ``files.info`` carry it) by the spec's
    ``objs_file``: a field it does not list, or a value of the wrong type or pattern."""
    definitions = _definitions()
    schema = definitions["objs_file"]
    problems = []
    for key, value in obj.items():
        prop = schema["properties"].get(key)
        if prop is None:
            problems.append(f"file object: field {key!r} is not in the spec")
            continue
        if "$ref" in prop:
            prop = definitions[prop["$ref"].rsplit("/", 1)[-1]]
        kind = _JSON_TYPES.get(prop.get("type", ""))
        if kind is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            problems.append(f"file object: {key} should be {prop['type']}, got {value!r:.60}")
        elif "pattern" in prop and isinstance(value, str) and not re.match(prop["pattern"], value):
            problems.append(f"file object: {key} {value!r} does not match {prop['pattern']}")
    return problems
