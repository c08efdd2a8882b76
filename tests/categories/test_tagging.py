"""Categories through the core: a new task is classified and shows it; the asker or an admin corrects it."""

from __future__ import annotations

from adapters.memory import MemorySurface
from bot.events import TagRequested, TaskRequested, User
from bot.messages import Message
from bot.tagging import classify_stored
from storage import tasks as db
from storage.models import Answer, AnswerStatus, Task
from tests.conftest import contestant

ASKER = User("U1", "ada")
OTHER = User("U2", "bob")
ADMIN = User("U9", "")


def collect(notes: list[Message]):  # type: ignore[no-untyped-def]
    async def notify(message: Message) -> None:
        notes.append(message)

    return notify


async def ask(arena, surface: MemorySurface, text: str):  # type: ignore[no-untyped-def]
    return await arena.ask(
        TaskRequested(platform="memory", user=ASKER, channel="C1", text=text, notify=collect([])), surface)


async def tag(arena, surface: MemorySurface, user: User, task_id: int | None, *tags: str) -> list[Message]:  # type: ignore[no-untyped-def]
    notes: list[Message] = []
    await arena.handle(TagRequested(platform="memory", user=user, task_id=task_id, tags=tags, notify=collect(notes)),
                       surface)
    return notes


async def test_new_task_is_classified_and_its_header_says_so(sqlite_store, fake_openai, make_arena):
    fake_openai.script("alpha", text="```python\nprint(1)\n```")
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    surface = MemorySurface()
    outcome = await ask(arena, surface, "write a FastAPI CRUD app with JWT auth")
    stored = db.get_task(sqlite_store, outcome.task.id)
    assert (stored.kind, stored.language, stored.tagged_by) == ("web", "python", None)
    header = surface.posts()[0].message
    assert ("Category", "Web/backend · Python") in [(f.name, f.value) for f in header.fields]


async def test_language_comes_from_the_answers_when_the_task_names_none(sqlite_store, fake_openai, make_arena):
    fake_openai.script("alpha", text="Here:\n```go\npackage main\n```\n")
    fake_openai.script("beta", text="```go\nfunc main() {}\n```")
    fake_openai.script("gamma", text="```python\nprint(1)\n```")
    arena = make_arena(sqlite_store, [contestant(fake_openai, m) for m in ("alpha", "beta", "gamma")])
    outcome = await ask(arena, MemorySurface(), "detect a cycle in a linked list")
    stored = db.get_task(sqlite_store, outcome.task.id)
    assert (stored.kind, stored.language) == ("algorithms", "go")  # two of three answers wrote Go
    named = await ask(arena, MemorySurface(), "detect a cycle in a linked list in Rust")
    assert db.get_task(sqlite_store, named.task.id).language == "rust"  # the task's own word wins


async def test_the_asker_corrects_the_category_and_the_thread_hears_of_it(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    surface = MemorySurface()
    outcome = await ask(arena, surface, "write a FastAPI CRUD app with JWT auth")
    thread = surface.posts()[0].ref.message_id

    notes = await tag(arena, surface, ASKER, outcome.task.id, "data", "SQL")

    stored = db.get_task(sqlite_store, outcome.task.id)
    assert (stored.kind, stored.language, stored.tagged_by) == ("data", "sql", "U1") and stored.tagged_at
    assert [n.text for n in notes] == [f"✅ Task #{stored.id} is tagged Data & ML · SQL; leaderboards count it there "
                                       "from now on."]
    note = surface.posts(thread=thread)[-1].message.text
    assert note == f"🏷️ Task #{stored.id} is now tagged **Data & ML · SQL** (was Web/backend · Python), by ada."
    # Only the kind given: the language stays.
    await tag(arena, surface, ASKER, outcome.task.id, "devops")
    assert (db.get_task(sqlite_store, outcome.task.id).kind, db.get_task(sqlite_store, outcome.task.id).language) == (
        "devops", "sql")


async def test_only_the_asker_or_an_admin_may_tag(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")], admins=frozenset({"U9"}))
    surface = MemorySurface()
    outcome = await ask(arena, surface, "write fizzbuzz in Rust")
    posts_before = len(surface.posts())

    [refused] = await tag(arena, surface, OTHER, outcome.task.id, "data")
    assert refused.text == (f"⚠️ Only the person who asked task #{outcome.task.id} or an admin can change its "
                            "category.")
    assert db.get_task(sqlite_store, outcome.task.id).kind == "algorithms" and len(surface.posts()) == posts_before

    [done] = await tag(arena, surface, ADMIN, outcome.task.id, "ml")
    assert done.text.startswith("✅") and db.get_task(sqlite_store, outcome.task.id).kind == "data"
    assert surface.posts()[-1].message.text.endswith("(was Algorithms · Rust), by an admin.")


async def test_bad_tags_get_specific_messages(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    surface = MemorySurface()
    outcome = await ask(arena, surface, "write fizzbuzz in Rust")
    [usage] = await tag(arena, surface, ASKER, None, "data")
    assert "Usage: `/codegen tag <task number> <category>`" in usage.text and "devops" in usage.text
    [empty] = await tag(arena, surface, ASKER, outcome.task.id)
    assert "Usage:" in empty.text
    [missing] = await tag(arena, surface, ASKER, 9999, "data")
    assert missing.text == "⚠️ There is no task #9999."
    [unknown] = await tag(arena, surface, ASKER, outcome.task.id, "dta")
    assert unknown.text.startswith("⚠️ Unknown category 'dta': use a kind of work (web, frontend, data,")
    [two] = await tag(arena, surface, ASKER, outcome.task.id, "web", "data")
    assert two.text == "⚠️ Name one kind of work, not both 'web' and 'data'."
    assert db.get_task(sqlite_store, outcome.task.id).tagged_by is None  # nothing changed


async def test_a_task_of_another_platform_is_not_found(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    outcome = await ask(arena, MemorySurface(), "write fizzbuzz in Rust")
    notes: list[Message] = []
    await arena.handle(TagRequested(platform="slack", user=ASKER, task_id=outcome.task.id, tags=("data",),
                                    notify=collect(notes)), MemorySurface(platform="slack"))
    assert [n.text for n in notes] == [f"⚠️ There is no task #{outcome.task.id}."]


async def test_the_tag_is_kept_when_the_thread_note_cannot_be_posted(sqlite_store, fake_openai, make_arena):
    arena = make_arena(sqlite_store, [contestant(fake_openai, "alpha")])
    outcome = await ask(arena, MemorySurface(), "write fizzbuzz in Rust")
    broken = MemorySurface(fail_posts_with="the thread is archived")
    [note] = await tag(arena, broken, ASKER, outcome.task.id, "data")
    assert note.text.startswith("✅") and db.get_task(sqlite_store, outcome.task.id).kind == "data"


def test_stored_tasks_are_classified_but_a_persons_tag_is_never_overwritten(sqlite_store):
    def stored(text: str, **values: object) -> int:
        task, _ = db.create_task(sqlite_store, Task(platform="slack", channel="C1", requester_id="U0", text=text,
                                                    **values),
                                 [Answer(task_id=0, contestant_id="a", status=AnswerStatus.DONE,
                                         text="```sql\nselect 1\n```")])
        return task.id  # type: ignore[return-value]

    old = stored("top customers by revenue")  # before categories existed: no kind
    tagged = stored("write fizzbuzz in Rust", kind="data", language="sql", tagged_by="U1")
    auto = stored("write fizzbuzz in Rust", kind="other")
    assert classify_stored(sqlite_store) == 1
    assert (db.get_task(sqlite_store, old).kind, db.get_task(sqlite_store, old).language) == ("other", "sql")
    assert classify_stored(sqlite_store, everything=True) == 2  # old and auto; never the tagged one
    assert (db.get_task(sqlite_store, auto).kind, db.get_task(sqlite_store, auto).language) == ("algorithms", "rust")
    assert (db.get_task(sqlite_store, tagged).kind, db.get_task(sqlite_store, tagged).language) == ("data", "sql")
