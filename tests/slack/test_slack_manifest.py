"""`codegen-bot slack-manifest`: the manifest a user pastes into Slack's "create app from manifest"."""

from __future__ import annotations

import json

import pytest

from adapters.slack.manifest import ManifestError, build_manifest
from app.cli import main


def test_socket_mode_manifest_matches_what_the_adapter_handles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-manifest"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert "request_url" not in settings["event_subscriptions"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention", "reaction_added", "reaction_removed", "app_home_opened"}
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/codegen"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "reactions:read", "files:write", "files:read"} <= scopes
    assert {"channels:history", "groups:history"} <= scopes  # the weekly post finds its own message
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_http_mode_points_everything_at_slack_events(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-manifest", "--http", "--url", "https://arena.example.com/", "--name", "Arena"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    url = "https://arena.example.com/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["features"]["slash_commands"][0]["url"] == url
    assert manifest["display_information"]["name"] == "Arena"


def test_http_mode_without_https_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slack-manifest", "--http"]) == 2
    assert "needs --url" in capsys.readouterr().err
    with pytest.raises(ManifestError, match="https"):
        build_manifest(socket_mode=False, request_url="http://insecure.example.com")
    with pytest.raises(ManifestError, match="1–35"):
        build_manifest(name="x" * 40)


def test_usage_hint_lists_blind_mode() -> None:
    from adapters.slack.manifest import build_manifest

    [command] = build_manifest()["features"]["slash_commands"]
    assert "blind on|off" in command["usage_hint"]
