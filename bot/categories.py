"""Task categories: a language and a kind of work, from a transparent, deterministic classifier.

Every rule is a row in the two tables below, so anyone can read why a task landed where it did
(``classify(text).evidence`` lists the terms that counted). No model is called.

- A **language** scores ``WEIGHT_TAG`` for every fenced block tagged with it, ``WEIGHT_NAME`` when it
  is named ("in Python", "TypeScript"), ``WEIGHT_LIBRARY`` for each library or tool of it named
  (FastAPI → Python, React → JavaScript) and for each distinctive piece of its syntax in pasted
  code, ``WEIGHT_HINT`` for a weak hint (a database's name for SQL). The best score of at least
  ``MIN_LANGUAGE_SCORE`` wins; below that the language is unknown (None).
- A **kind of work** scores ``WEIGHT_STRONG`` per distinctive term (libraries, phrases such as
  "binary search" or "data pipeline") and ``WEIGHT_WEAK`` per common word ("api", "script"); the
  best wins, and "other" when nothing matched.

Each distinct term counts once, however often it appears; ties go to the row listed first. Terms
match runs of whole words, case-insensitively (a word keeps ``+ # . / -`` inside it: c++, c#,
node.js, ci/cd), the last word optionally plural.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.sandbox.extract import fence_tags

WEIGHT_TAG = 4
WEIGHT_NAME = 3
WEIGHT_LIBRARY = 2
WEIGHT_HINT = 1
MIN_LANGUAGE_SCORE = 2
WEIGHT_STRONG = 3
WEIGHT_WEAK = 1
OTHER = "other"


@dataclass(frozen=True)
class Language:
    """One language: fence tags, names, libraries/tools, syntax regexes (case-sensitive), hints."""

    slug: str
    label: str
    tags: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    syntax: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # other spellings accepted by `tag` and `leaderboard`

    def weighted_terms(self) -> list[tuple[str, int]]:
        return ([(t, WEIGHT_NAME) for t in self.names] + [(t, WEIGHT_LIBRARY) for t in self.libraries]
                + [(t, WEIGHT_HINT) for t in self.hints])

    def weighted_patterns(self) -> list[tuple[str, int, int]]:
        return [(p, re.M, WEIGHT_LIBRARY) for p in self.syntax]


@dataclass(frozen=True)
class Kind:
    """One kind of work: distinctive terms (strong), common words (weak), regexes (strong)."""

    slug: str
    label: str
    strong: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def weighted_terms(self) -> list[tuple[str, int]]:
        return [(t, WEIGHT_STRONG) for t in self.strong] + [(t, WEIGHT_WEAK) for t in self.weak]

    def weighted_patterns(self) -> list[tuple[str, int, int]]:
        return [(p, re.I | re.M, WEIGHT_STRONG) for p in self.patterns]


# A word: letters, digits, _, + and # (c++, c#), joined by . / - (node.js, ci/cd, scikit-learn);
# a leading dot is kept (.net). Terms are matched as runs of whole words of the lowercased text.
_WORD = re.compile(r"\.?[\w+#]+(?:[./-][\w+#]+)*")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


# --- the tables ----------------------------------------------------------------------------------

LANGUAGES: tuple[Language, ...] = (
    Language(
        "python", "Python",
        tags=("python", "py", "python3", "py3", "pycon", "ipython"),
        names=("python", "python3", "jupyter notebook"),
        libraries=("fastapi", "django", "flask", "pandas", "numpy", "scipy", "dataframe", "scikit-learn",
                   "sklearn", "pytorch", "tensorflow", "keras", "matplotlib", "seaborn", "pydantic",
                   "sqlalchemy", "argparse", "beautifulsoup", "requests library", "asyncio", "pytest",
                   "celery", "polars", "pyspark", "openpyxl", "boto3", "xgboost", "streamlit"),
        syntax=(r"^\s*def \w+\(.*\)\s*(->\s*[\w\[\], ]+)?:\s*$", r"^\s*from [\w.]+ import \w",
                r"^\s*import [\w.]+(\s+as\s+\w+)?\s*$", r"^\s*if __name__ == ['\"]__main__['\"]"),
        aliases=("py",),
    ),
    Language(
        "javascript", "JavaScript/TypeScript",
        tags=("javascript", "js", "jsx", "typescript", "ts", "tsx", "mjs", "cjs", "node", "nodejs"),
        names=("javascript", "typescript", "node script"),
        libraries=("node.js", "nodejs", "deno", "react", "vue", "angular", "svelte", "next.js", "nuxt", "express", "express.js", "nestjs",
                   "jquery", "redux", "usestate", "useeffect", "localstorage", "npm", "jest", "apps script",
                   "puppeteer", "prisma", "vite", "webpack", "sharp", "mongoose"),
        syntax=(r"\bconsole\.log\(", r"\b(const|let) \w+ = ", r"\)\s*=>\s*[{(]", r"^\s*import .+ from ['\"]",
                r"\brequire\(['\"]", r"\bdocument\.(getElementById|querySelector)"),
        aliases=("js", "ts", "typescript", "node"),
    ),
    Language(
        "sql", "SQL",
        tags=("sql", "postgresql", "pgsql", "plpgsql", "mysql", "sqlite", "tsql"),
        names=("sql", "t-sql", "pl/pgsql", "plpgsql", "in postgres", "in postgresql", "in mysql",
               "in sqlite", "sql query"),
        libraries=("dbt", "bigquery", "snowflake", "duckdb"),
        syntax=(r"\bSELECT\b[^;]{1,300}?\bFROM\b", r"\b(INSERT INTO|CREATE TABLE|DELETE FROM|ALTER TABLE)\b",
                r"\bUPDATE \w+ SET\b"),
        hints=("postgres", "postgresql", "mysql", "sqlite", "query"),
    ),
    Language(
        "shell", "Shell",
        tags=("bash", "sh", "shell", "zsh", "powershell", "ps1", "pwsh", "fish"),
        names=("bash", "shell script", "zsh", "powershell", "sh script", "bash script"),
        libraries=("awk", "sed", "grep", "cron", "crontab", "xargs", "jq"),
        syntax=(r"^#!/(usr/)?bin/(env )?(ba|z)?sh\b", r"\bfor \w+ in [^\n]*; do\b", r"^\s*fi\s*$",
                r"\becho \"?\$"),
        aliases=("bash", "sh", "powershell"),
    ),
    Language(
        "go", "Go",
        tags=("go", "golang"),
        names=("golang", "in go", "using go", "go program", "go http", "go server", "go service", "go code",
               "go function", "go struct", "go module", "go cli", "go api", "goroutine"),
        libraries=("gin", "gorilla/mux", "cobra"),
        syntax=(r"^package \w+\s*$", r"\bfunc (\(\w+ \*?\w+\) )?\w+\(", r"\bfmt\.Print", r"\bgo func\("),
        aliases=("golang",),
    ),
    Language(
        "java", "Java",
        tags=("java",),
        names=("java",),
        libraries=("spring boot", "spring", "hibernate", "junit", "maven", "gradle"),
        syntax=(r"^\s*import java\.", r"\bpublic (static )?(void|class)\b", r"\bSystem\.out\.print"),
    ),
    Language(
        "rust", "Rust",
        tags=("rust", "rs"),
        names=("rust",),
        libraries=("tokio", "actix", "actix-web", "axum", "serde", "cargo"),
        syntax=(r"\bfn \w+\(", r"\blet mut\b", r"\bprintln!\(", r"^\s*impl\b", r"^\s*use \w+::"),
    ),
    Language(
        "cpp", "C/C++",
        tags=("c", "cpp", "c++", "cc", "h", "hpp", "cxx"),
        names=("c++", "cpp", "in c", "c program", "c function", "c code"),
        libraries=("stl", "cmake", "qt"),
        syntax=(r"^\s*#include\s*[<\"]", r"\bstd::", r"\bint main\s*\("),
        aliases=("c", "c++"),
    ),
    Language(
        "csharp", "C#",
        tags=("csharp", "cs", "c#"),
        names=("c#", "csharp", ".net"),
        libraries=("asp.net", "asp.net core", "linq", "entity framework", "blazor", "unity"),
        syntax=(r"^\s*using System", r"\bConsole\.WriteLine\(", r"\bpublic async Task\b"),
        aliases=("c#", "dotnet"),
    ),
    Language(
        "ruby", "Ruby",
        tags=("ruby", "rb"),
        names=("ruby",),
        libraries=("rails", "ruby on rails", "sinatra", "rspec", "rake"),
        syntax=(r"\.each do \|", r"^\s*puts\b", r"^\s*require ['\"]\w+['\"]\s*$"),
    ),
    Language(
        "php", "PHP",
        tags=("php",),
        names=("php",),
        libraries=("laravel", "symfony", "wordpress", "composer"),
        syntax=(r"<\?php", r"\$this->"),
    ),
    Language(
        "kotlin", "Kotlin",
        tags=("kotlin", "kt", "kts"),
        names=("kotlin",),
        libraries=("jetpack compose", "ktor", "coroutine"),
        syntax=(r"\bfun \w+\(", r"^\s*val \w+ = "),
    ),
    Language(
        "swift", "Swift",
        tags=("swift",),
        names=("swift",),
        libraries=("swiftui", "uikit", "xcode"),
        syntax=(r"^\s*import (SwiftUI|UIKit|Foundation)\s*$", r"\bvar body: some View\b"),
    ),
    Language(
        "r", "R",
        tags=("r",),
        names=("in r", "r script", "r code", "r function", "rstats"),
        libraries=("ggplot2", "dplyr", "tidyverse", "tidyr", "shiny"),
        syntax=(r"<-\s*(function|c|data\.frame|read\.csv)\(", r"^\s*library\(\w+\)"),
    ),
    Language(
        "html", "HTML/CSS",
        tags=("html", "css", "scss", "sass", "less"),
        names=("html", "css", "scss", "sass"),
        libraries=("tailwind", "bootstrap css"),
        syntax=(r"<(div|span|form|input|button|section|nav|ul|body)\b[^>]*>", r"\{\s*[\w-]+\s*:\s*[^;{}]+;"),
        aliases=("css",),
    ),
    Language(
        "config", "Config (YAML, Docker, Terraform)",
        tags=("yaml", "yml", "dockerfile", "docker", "hcl", "terraform", "tf", "toml", "nginx", "ini"),
        names=("yaml", "yml", "dockerfile", "docker-compose", "docker compose", "terraform", "hcl",
               "helm chart", "github actions", "gitlab ci", "kubernetes manifest"),
        libraries=("kubernetes", "k8s", "ansible", "playbook", "nginx", "systemd", "cloudformation", "helm"),
        syntax=(r"^apiVersion:", r"^\s*FROM [\w./:-]+(\s+AS \w+)?\s*$", r"^resource \"\w+\"", r"^\s*runs-on:"),
        aliases=("yaml", "docker", "terraform"),
    ),
)

KINDS: tuple[Kind, ...] = (
    Kind(
        "web", "Web/backend",
        strong=("fastapi", "django", "flask", "express", "express.js", "koa", "nestjs", "spring boot", "rails",
                "ruby on rails", "laravel", "symfony", "asp.net", "gin", "actix-web", "actix", "axum", "sinatra",
                "graphql", "grpc", "rest api", "restful", "crud", "jwt", "oauth", "endpoint", "webhook",
                "middleware", "http server", "web server", "backend", "back-end", "microservice", "websocket",
                "orm", "sqlalchemy", "prisma", "openapi", "swagger", "rate limiting", "controller",
                "rails migration", "resolver", "ktor"),
        weak=("api", "server", "http", "request", "response", "route", "auth", "authentication", "login",
              "session", "mongodb", "redis", "pagination", "paginate", "upload", "json"),
        aliases=("backend", "api", "web/backend"),
    ),
    Kind(
        "frontend", "Frontend",
        strong=("react", "vue", "angular", "svelte", "sveltekit", "next.js", "nuxt", "jsx", "tsx", "css", "scss",
                "sass", "tailwind", "html", "dom", "frontend", "front-end", "usestate", "useeffect", "redux",
                "swiftui", "jetpack compose", "flutter", "responsive", "dark mode", "localstorage", "web page",
                "webpage", "landing page", "dropdown", "modal", "navbar", "hamburger menu", "svg",
                "accessibility", "aria", "composable", "css grid", "flexbox", "ui component"),
        weak=("ui", "layout", "component", "button", "form", "page", "click", "screen", "browser", "animation",
              "style", "view"),
        aliases=("ui", "front-end"),
    ),
    Kind(
        "data", "Data & ML",
        strong=("pandas", "numpy", "scipy", "dataframe", "scikit-learn", "sklearn", "pytorch", "torch",
                "tensorflow", "keras", "xgboost", "lightgbm", "hugging face", "machine learning",
                "deep learning", "neural network", "training loop", "train a model", "random forest",
                "confusion matrix", "cross-validation", "early stopping", "feature engineering", "embedding",
                "etl", "data pipeline", "spark", "pyspark", "airflow", "dbt", "snowflake", "bigquery",
                "sql query", "window function", "group by", "jupyter", "matplotlib", "seaborn", "plotly",
                "ggplot2", "dplyr", "tidyverse", "histogram", "statistics", "moving average", "rolling average",
                "time series", "dataset", "data analysis", "data cleaning", "missing values", "fill missing",
                "polars", "duckdb", "regression", "classifier", "vectorised", "vectorized", "pivot table"),
        weak=("data", "csv", "sql", "query", "join", "aggregate", "average", "median", "plot", "chart",
              "report", "analytics", "model"),
        aliases=("ml", "data-ml", "data&ml", "analytics"),
    ),
    Kind(
        "scripting", "Scripting & automation",
        strong=("bash script", "shell script", "python script", "node script", "powershell", "automate",
                "automation", "cron", "cron job", "crontab", "argparse", "cli", "cli tool", "command-line",
                "command line", "one-liner", "awk", "sed", "rename files", "batch rename", "scrape", "scraper",
                "scraping", "beautifulsoup", "selenium", "puppeteer", "apps script", "watch a directory",
                "watchdog", "backup", "openpyxl", "send email", "smtp", "file watcher"),
        weak=("script", "file", "folder", "directory", "log file", "convert", "rename", "copy", "download",
              "schedule", "tool", "tail", "excel"),
        aliases=("script", "scripts", "automation"),
    ),
    Kind(
        "algorithms", "Algorithms",
        strong=("algorithm", "binary search", "linked list", "binary tree", "bst", "graph traversal", "bfs",
                "dfs", "breadth-first", "depth-first", "dijkstra", "shortest path", "dynamic programming",
                "memoization", "recursion", "recursive", "big-o", "time complexity", "quicksort", "merge sort",
                "heap", "priority queue", "trie", "lru cache", "knapsack", "permutation", "combinations",
                "palindrome", "palindromic", "anagram", "fibonacci", "prime numbers", "sieve", "fizzbuzz",
                "leetcode", "two sum", "sliding window", "backtracking", "n-queens", "sudoku", "union-find",
                "topological sort", "insertion point"),
        weak=("sort", "sorted", "array", "matrix", "tree", "graph", "search", "substring", "in place", "cycle"),
        patterns=(r"\bO\(\s*(1|n|log n|n log n|n\^?2|n²)\s*\)",),
        aliases=("algo", "algorithm"),
    ),
    Kind(
        "devops", "DevOps & infrastructure",
        strong=("docker", "dockerfile", "docker-compose", "docker compose", "kubernetes", "k8s", "helm",
                "terraform", "ansible", "playbook", "ci/cd", "ci pipeline", "github actions", "gitlab ci",
                "jenkins", "circleci", "deploy", "deployment", "nginx", "systemd", "prometheus", "grafana",
                "alert rule", "load balancer", "reverse proxy", "tls", "ssl certificate", "aws", "s3 bucket",
                "ec2", "aws lambda", "iam", "cloudformation", "gcp", "azure", "infrastructure", "monitoring",
                "vpc", "autoscaling", "readiness probe", "liveness probe", "multi-stage build"),
        weak=("container", "yaml", "config", "pipeline", "build", "release", "cluster", "s3", "ubuntu", "linux", "host",
              "ssh", "restart", "uptime", "5xx"),
        aliases=("infra", "infrastructure", "ops"),
    ),
    Kind("other", "Other"),
)

_LANGUAGE_BY_TAG = {tag: lang.slug for lang in LANGUAGES for tag in lang.tags}
_CANDIDATES: tuple[Language | Kind, ...] = (*LANGUAGES, *KINDS)


def _build_index() -> tuple[dict[str, list[tuple[str, int]]], int]:
    """term (as its words joined by one space) → [(candidate slug, weight)], and the longest term's words."""
    index: dict[str, list[tuple[str, int]]] = {}
    longest = 1
    for candidate in _CANDIDATES:
        for term, weight in candidate.weighted_terms():
            words = _words(term)
            if " ".join(words) != " ".join(term.lower().split()):
                raise ValueError(f"category term {term!r} of {candidate.slug!r} does not read as whole words")
            index.setdefault(" ".join(words), []).append((candidate.slug, weight))
            longest = max(longest, len(words))
    return index, longest


_INDEX, _LONGEST = _build_index()
_PATTERNS = [(c.slug, f"pattern {p!r}", re.compile(p, flags), w) for c in _CANDIDATES
             for p, flags, w in c.weighted_patterns()]


def language(slug: str | None) -> Language | None:
    """The language with this slug (None for None or an unknown slug)."""
    return next((lang for lang in LANGUAGES if lang.slug == slug), None)


def kind(slug: str | None) -> Kind | None:
    """The kind of work with this slug (None for None or an unknown slug)."""
    return next((k for k in KINDS if k.slug == slug), None)


# --- classifying ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Classification:
    """A task's kind of work and language (None when unknown), and the terms that decided them."""

    kind: str
    language: str | None
    evidence: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)


def _singular(word: str) -> list[str]:
    """The word and the forms without a plural ending (dataframes → dataframe, classes → class)."""
    forms = [word]
    if len(word) > 3 and word.endswith("s"):
        forms.append(word[:-1])
        if word.endswith("es"):
            forms.append(word[:-2])
    return forms


def _terms_in(text: str) -> set[str]:
    """Every table term found in the text as a run of whole words (the last word may be plural)."""
    words = _words(text)
    found = set()
    for n in range(1, _LONGEST + 1):
        for i in range(len(words) - n + 1):
            head = " ".join(words[i : i + n - 1])
            for last in _singular(words[i + n - 1]):
                gram = f"{head} {last}" if head else last
                if gram in _INDEX:
                    found.add(gram)
    return found


def _best(scores: dict[str, int], slugs: Iterable[str], minimum: int) -> str | None:
    ordered = [(scores.get(slug, 0), slug) for slug in slugs]
    top = max((score for score, _ in ordered), default=0)
    if top < minimum:
        return None
    return next(slug for score, slug in ordered if score == top)  # first listed wins a tie


def classify(text: str) -> Classification:
    """Classify a task from its text (prose, pasted code and fence tags)."""
    scores: Counter[str] = Counter()
    evidence: dict[str, list[str]] = {}
    for slug, count in Counter(_LANGUAGE_BY_TAG[t] for t in fence_tags(text) if t in _LANGUAGE_BY_TAG).items():
        scores[slug] += WEIGHT_TAG * count
        evidence.setdefault(slug, []).append(f"fence tag x{count}")
    for term in sorted(_terms_in(text)):
        for slug, weight in _INDEX[term]:
            scores[slug] += weight
            evidence.setdefault(slug, []).append(term)
    for slug, name, pattern, weight in _PATTERNS:
        if pattern.search(text):
            scores[slug] += weight
            evidence.setdefault(slug, []).append(name)
    return Classification(
        kind=_best(scores, (k.slug for k in KINDS), WEIGHT_WEAK) or OTHER,
        language=_best(scores, (lang.slug for lang in LANGUAGES), MIN_LANGUAGE_SCORE),
        evidence={slug: tuple(found) for slug, found in evidence.items()},
    )


def language_of_answers(texts: Iterable[str]) -> str | None:
    """The language most answers wrote their code in (by fence tags), if more than half agree.

    Each answer votes once, for the language of most of its tagged blocks; answers without a
    tagged block do not vote.
    """
    votes: Counter[str] = Counter()
    for text in texts:
        langs = Counter(_LANGUAGE_BY_TAG[t] for t in fence_tags(text) if t in _LANGUAGE_BY_TAG)
        if langs:
            votes[langs.most_common(1)[0][0]] += 1
    if not votes:
        return None
    winner, count = votes.most_common(1)[0]
    return winner if count * 2 > sum(votes.values()) else None


# --- names people type ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryFilter:
    """A leaderboard restricted to one kind of work or one language, or to follow-up turns."""

    kind: str | None = None
    language: str | None = None
    followups: bool = False  # only the turns after a task's first (bot/followups.py)

    @property
    def slug(self) -> str:
        return FOLLOWUPS if self.followups else self.kind or self.language or ""

    @property
    def label(self) -> str:
        if self.followups:
            return "Follow-ups"
        found = kind(self.kind) or language(self.language)
        return found.label if found else ""


FOLLOWUPS = "follow-ups"


def _lookup() -> dict[str, CategoryFilter]:
    table: dict[str, CategoryFilter] = {}
    for lang in LANGUAGES:
        for name in (lang.slug, *lang.aliases):
            table.setdefault(name, CategoryFilter(language=lang.slug))
    for k in KINDS:  # a kind's own names win over a language alias
        for name in (k.slug, *k.aliases):
            table[name] = CategoryFilter(kind=k.slug)
    for name in (FOLLOWUPS, "followups", "multi-turn", "multiturn"):
        table[name] = CategoryFilter(followups=True)
    return table


_NAMES = _lookup()


def category_names() -> str:
    """The accepted category names, for help and error messages."""
    kinds = ", ".join(k.slug for k in KINDS)
    languages = ", ".join(lang.slug for lang in LANGUAGES)
    return f"a kind of work ({kinds}), a language ({languages}) or {FOLLOWUPS} (turns after the first)"


def parse_category(word: str) -> CategoryFilter:
    """'data', 'ML', 'python', 'ts' → a filter. Raises ValueError naming the accepted names."""
    found = _NAMES.get(word.strip().lower())
    if found is None:
        raise ValueError(f"unknown category {word.strip()!r}: use {category_names()}")
    return found


def parse_tags(words: Iterable[str]) -> CategoryFilter:
    """The words of `tag 12 data sql` (after the task number) → the kind and/or language to set.

    Raises ValueError for an unknown word, two kinds, two languages, or no word at all.
    """
    chosen_kind: str | None = None
    chosen_language: str | None = None
    for word in words:
        found = parse_category(word)
        if found.followups:
            raise ValueError(f"{word.strip()!r} is not a category a task can be tagged with")
        if found.kind:
            if chosen_kind and chosen_kind != found.kind:
                raise ValueError(f"name one kind of work, not both {chosen_kind!r} and {found.kind!r}")
            chosen_kind = found.kind
        else:
            if chosen_language and chosen_language != found.language:
                raise ValueError(f"name one language, not both {chosen_language!r} and {found.language!r}")
            chosen_language = found.language
    if not chosen_kind and not chosen_language:
        raise ValueError(f"name a category: {category_names()}")
    return CategoryFilter(chosen_kind, chosen_language)


def describe(kind_slug: str | None, language_slug: str | None) -> str:
    """'Data & ML · SQL', 'Algorithms', or 'Other' for a task's stored category."""
    parts = [found.label for found in (kind(kind_slug), language(language_slug)) if found]
    return " · ".join(parts) or "Other"
