"""The classifier on real-looking task texts, and the names people type for categories."""

from __future__ import annotations

import pytest

from bot import categories
from bot.categories import CategoryFilter, classify, describe, language_of_answers, parse_category, parse_tags
from tests.categories.classifier_cases import CASES
from tests.categories.held_out_cases import HELD_OUT


@pytest.mark.parametrize(("text", "kind", "language"), CASES, ids=[c[0][:48] for c in CASES])
def test_case_table(text: str, kind: str, language: str | None) -> None:
    found = classify(text)
    assert (found.kind, found.language) == (kind, language), found.evidence


def test_the_table_covers_every_kind_and_most_languages() -> None:
    assert len(CASES) >= 40
    assert {k for _, k, _ in CASES} == {k.slug for k in categories.KINDS}
    assert len({lang for _, _, lang in CASES if lang}) >= 14


def test_held_out_texts_are_mostly_right() -> None:
    """Texts written after the tables were fixed: the figure is how the tables generalise."""
    wrong = [(text, classify(text).kind, classify(text).language, kind, language)
             for text, kind, language in HELD_OUT if (classify(text).kind, classify(text).language) != (kind, language)]
    assert len(wrong) <= len(HELD_OUT) // 10, wrong


def test_evidence_names_the_terms_that_decided() -> None:
    found = classify("write a FastAPI CRUD app with JWT auth")
    assert {"fastapi", "crud", "jwt"} <= set(found.evidence["web"])
    assert "fastapi" in found.evidence["python"]
    assert classify("```sql\nselect 1\n```\n```sql\nselect 2\n```").evidence["sql"][0] == "fence tag x2"


def test_words_inside_other_words_do_not_count() -> None:
    assert classify("let's go over the javascript closures").language == "javascript"  # not Go, not Java
    assert classify("in case the button is disabled").language is None  # "in c" needs a word boundary
    assert classify("write it in C#").language == "csharp" and classify("write it in C++").language == "cpp"


def test_language_of_answers_needs_a_majority() -> None:
    go, py = "```go\npackage main\n```", "```python\nprint(1)\n```"
    assert language_of_answers([go, go, py]) == "go"
    assert language_of_answers([go, py]) is None  # a tie is no majority
    assert language_of_answers([go, "no code at all", "```\nuntagged\n```"]) == "go"  # only tagged blocks vote
    assert language_of_answers(["```go\na\n```\n```go\nb\n```\n```python\nc\n```"]) == "go"  # one vote per answer
    assert language_of_answers(["```go\ncut off by max tokens"]) == "go"  # an unclosed fence still counts
    assert language_of_answers([]) is None


def test_names_and_aliases() -> None:
    assert parse_category("data") == CategoryFilter(kind="data")
    assert parse_category("ML") == CategoryFilter(kind="data")
    assert parse_category(" Python ") == CategoryFilter(language="python")
    assert parse_category("ts") == CategoryFilter(language="javascript")
    assert parse_category("infra").label == "DevOps & infrastructure"
    with pytest.raises(ValueError, match=r"unknown category 'dta': use a kind of work \(web, frontend, data"):
        parse_category("dta")
    assert parse_tags(["sql", "data"]) == CategoryFilter(kind="data", language="sql")
    with pytest.raises(ValueError, match="name one language, not both 'python' and 'go'"):
        parse_tags(["python", "golang"])
    with pytest.raises(ValueError, match="name a category"):
        parse_tags([])


def test_every_name_is_unique_and_labels_describe_tasks() -> None:
    slugs = [k.slug for k in categories.KINDS] + [lang.slug for lang in categories.LANGUAGES]
    assert len(slugs) == len(set(slugs)) and len(slugs) <= 25  # Discord allows 25 choices per option
    assert describe("data", "sql") == "Data & ML · SQL"
    assert describe("algorithms", None) == "Algorithms"
    assert describe(None, None) == "Other"


def test_every_term_in_the_tables_can_match() -> None:
    """No dead rows: each listed term, written in a sentence, counts for its language or kind."""
    for candidate in (*categories.LANGUAGES, *categories.KINDS):
        for term, _ in candidate.weighted_terms():
            found = classify(f"Please help: {term.upper()}, thanks").evidence.get(candidate.slug, ())
            assert term.lower() in found, (candidate.slug, term)
