"""Files attached to an app mention reach the models as fenced blocks; what does not is named in the
task's header; the bot token goes to Slack's file host (here: SLACK_API_URL's origin) and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.slack.files import SlackFiles
from bot.arena import Arena
from storage.db import Store
from tests.conftest import contestant
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.recording_host import RecordingHost
from tests.slack.conftest import Harness, running_harness
from tests.slack.fake_slack import BOT_USER_ID

CHANNEL = "C0GENERAL"
TOKEN = "xoxb-test-token"


def mention(text: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    """An app_mention whose message carries files, as Slack delivers it."""
    return {"type": "app_mention", "user": "U0ALICE", "text": f"<@{BOT_USER_ID}> {text}", "ts": "1700000600.000100",
            "channel": CHANNEL, "event_ts": "1700000600.000100", "team": "T0FAKE", "files": files, "upload": False}


def header_text(h: Harness) -> str:
    [parent] = [m for m in h.slack.channel_messages(CHANNEL) if m.thread_ts is None]
    return parent.all_text()


def prompts(h: Harness) -> list[str]:
    return [r.json["messages"][-1]["content"] for r in h.models.requests]


async def test_text_files_reach_every_model_with_their_names(harness: Harness) -> None:
    h = harness
    code = h.slack.share_file("app.py", b"def add(a, b):\n    return a - b\n", "text/x-python", filetype="python")
    notes = h.slack.share_file("NOTES.md", b"Keep the ```API``` stable.\n", "text/markdown", filetype="markdown")
    await h.event(mention("fix the bug in add", [code, notes]))
    await h.settle()

    expected = ("fix the bug in add\n\nAttached files:\n\n"
                "`app.py`:\n```python\ndef add(a, b):\n    return a - b\n```\n\n"
                "`NOTES.md`:\n````markdown\nKeep the ```API``` stable.\n````")
    assert prompts(h) == [expected, expected], "each model gets the task, then every file in a fence with its name"
    assert "Files sent to the models" in header_text(h) and "app.py" in header_text(h)
    assert [d.token for d in h.slack.downloads] == [TOKEN, TOKEN]


async def test_image_binary_oversized_and_failed_files_are_named_in_the_header(harness: Harness) -> None:
    h = harness
    files = [
        h.slack.share_file("diagram.png", b"\x89PNG\r\n\x1a\n", "image/png", filetype="png"),
        h.slack.share_file("dump.log", b"x" * (350 * 1024), "text/plain"),
        h.slack.share_file("blob.dat", b"\x00\x01\x02binary", "text/plain"),
        h.slack.share_file("gone.txt", b"soon deleted"),
        h.slack.share_file("ok.txt", b"fine\n"),
    ]
    del h.slack.hosted[files[3]["id"]]  # deleted between the message and the fetch: the host says 404
    await h.event(mention("summarise these", files))
    await h.settle()

    header = header_text(h)
    assert "skipped diagram.png: images are not sent to models" in header
    assert "skipped dump.log: 350 KB, over the 200 KB a file may have" in header
    assert "skipped blob.dat: not a text file" in header
    assert "could not fetch gone.txt: Slack's file host answered HTTP 404" in header
    assert "ok.txt" in header
    for prompt in prompts(h):
        assert "`ok.txt`:\n```\nfine\n```" in prompt
        assert "diagram.png" not in prompt and "xxxxxxxx" not in prompt and "blob.dat" not in prompt
    fetched = {d.file_id for d in h.slack.downloads}
    assert files[0]["id"] not in fetched and files[1]["id"] not in fetched, "images and oversized files are not downloaded"


async def test_the_bot_token_never_reaches_another_host(harness: Harness) -> None:
    h = harness
    async with RecordingHost() as stranger:
        named = h.slack.share_file("evil.py", b"", url_private=stranger.url("/steal/evil.py"),
                                   url_private_download=stranger.url("/steal/evil.py"))
        redirected = h.slack.share_file("moved.py", b"print(1)\n", redirect=stranger.url("/moved.py"))
        await h.event(mention("review these", [named, redirected]))
        await h.settle()

        assert stranger.authorizations == [], "no Authorization header ever reached the stranger"
        assert stranger.seen == [], "nor any request at all"
    header = header_text(h)
    assert "could not fetch evil.py: it is on 127.0.0.1, not Slack's file host" in header
    assert "could not fetch moved.py: it is on 127.0.0.1, not Slack's file host" in header
    assert all("from a stranger" not in p for p in prompts(h))


async def test_a_partial_file_object_is_completed_with_files_info(harness: Harness) -> None:
    h = harness
    shared = h.slack.share_file("schema.sql", b"create table t (id int);\n", "text/plain", filetype="sql")
    partial = {"id": shared["id"], "mode": "file_access", "file_access": "check_file_info", "created": 0}
    unknown = {"id": "F0UNKNOWN1", "mode": "file_access", "file_access": "check_file_info", "created": 0}
    await h.event(mention("add an index", [partial, unknown]))
    await h.settle()
    assert [c.body["file"] for c in h.slack.calls_to("files.info")] == [shared["id"], "F0UNKNOWN1"]
    assert all("`schema.sql`:\n```sql\ncreate table t (id int);\n```" in p for p in prompts(h))
    assert "could not fetch F0UNKNOWN1: files.info said file_not_found" in header_text(h)


def test_the_token_goes_only_to_slacks_file_host_and_the_api_urls_origin() -> None:
    files = SlackFiles(client=None, token=TOKEN, api_url="https://slack-proxy.example.com:8443/api/")  # type: ignore[arg-type]
    assert files.may_receive_token("https://files.slack.com/files-pri/T1-F1/a.py")
    assert files.may_receive_token("https://slack-proxy.example.com:8443/files-pri/T1-F1/a.py")
    for url in ("http://files.slack.com/files-pri/T1-F1/a.py",  # not over TLS
                "https://files.slack.com.evil.example/a.py", "https://evil.example/files.slack.com/a.py",
                "https://slack-proxy.example.com/a.py",  # another port of the proxy's host
                "https://user@evil.example/a.py", "ftp://files.slack.com/a.py", "not a url"):
        assert not files.may_receive_token(url), url
    assert not SlackFiles(None, TOKEN, None).may_receive_token("https://slack-proxy.example.com:8443/a")  # type: ignore[arg-type]


async def test_files_fit_the_smallest_models_context_and_at_most_ten_are_read(
        sqlite_store: Store, fake_openai: FakeOpenAI, make_arena: Callable[..., Arena]) -> None:
    def build(store: Store, contestants: list[Any], **options: Any) -> Arena:
        small = contestant(fake_openai, "alpha", context_tokens=1536)  # room for ~1,480 tokens of files
        return make_arena(store, [small, contestant(fake_openai, "beta")], **options)

    async with running_harness(sqlite_store, fake_openai, build) as h:
        files = [h.slack.share_file("big.txt", b"word " * 1200),  # 6,000 chars: ~1,500 tokens, too many
                 *(h.slack.share_file(f"f{i}.txt", f"file {i}\n".encode()) for i in range(11))]
        await h.event(mention("use these", files))
        await h.settle()

        header = header_text(h)
        assert "skipped big.txt: the files would not fit ALPHA's context" in header
        for late in ("f9.txt", "f10.txt"):  # the 11th and 12th file
            assert f"skipped {late}: only the first 10 files of a message are read" in header
        assert sorted(d.file_id for d in h.slack.downloads) == sorted(f["id"] for f in files[:10])
        for prompt in prompts(h):
            assert [f"`f{i}.txt`" in prompt for i in range(11)] == [True] * 9 + [False] * 2
            assert "big.txt" not in prompt


async def test_files_of_a_task_and_of_a_follow_up_stay_in_each_models_conversation(harness: Harness) -> None:
    h = harness
    h.models.script("alpha", text="alpha: fixed")
    h.models.script("beta", text="beta: fixed")
    first = h.slack.share_file("app.py", b"x = 1\n", "text/x-python", filetype="python")
    await h.event(mention("fix app.py", [first]))
    await h.settle()
    [parent] = [m for m in h.slack.channel_messages(CHANNEL) if m.thread_ts is None]

    later = h.slack.share_file("log.txt", b"boom\n")
    follow = mention("it still fails with this log", [later]) | {"thread_ts": parent.ts, "ts": "1700000900.000100",
                                                                 "event_ts": "1700000900.000100"}
    await h.event(follow)
    await h.settle()

    [*_, turn2] = h.models.requests_for("alpha")
    assert [(m["role"], m["content"]) for m in turn2.json["messages"][1:]] == [
        ("user", "fix app.py\n\nAttached files:\n\n`app.py`:\n```python\nx = 1\n```"),
        ("assistant", "alpha: fixed"),
        ("user", "it still fails with this log\n\nAttached files:\n\n`log.txt`:\n```\nboom\n```"),
    ]
    follow_header = [m for m in h.slack.thread(CHANNEL, parent.ts) if "Follow-up #2" in m.all_text()]
    assert follow_header and "log.txt" in follow_header[0].all_text()
