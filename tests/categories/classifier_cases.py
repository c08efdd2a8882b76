"""Task texts as practitioners type them, each with the kind of work and language we expect.

(text, kind, language); language None means the task names none and pastes no code.
"""

from __future__ import annotations

CASES: list[tuple[str, str, str | None]] = [
    # web / backend
    ("write a FastAPI CRUD app with JWT auth", "web", "python"),
    ("Create a REST API in Express with MongoDB for a todo list", "web", "javascript"),
    ("Django view that paginates blog posts and returns JSON", "web", "python"),
    ("Implement a Go HTTP server with graceful shutdown", "web", "go"),
    ("Spring Boot endpoint that validates a request body and returns 400 on errors", "web", "java"),
    ("Add rate limiting middleware to my Flask app (per IP, 100 req/min)", "web", "python"),
    ("Write a GraphQL resolver in TypeScript for paginated users", "web", "javascript"),
    ("actix-web handler in Rust that streams a file download", "web", "rust"),
    ("Laravel controller to upload an avatar and resize it", "web", "php"),
    ("Rails migration adding an index on users.email", "web", "ruby"),
    ("ASP.NET Core minimal API with an /health endpoint", "web", "csharp"),
    # frontend
    ("React component for a searchable dropdown with keyboard navigation", "frontend", "javascript"),
    ("Make this CSS grid layout responsive on mobile:\n```css\n.grid { display: grid; "
     "grid-template-columns: repeat(4, 1fr); }\n```", "frontend", "html"),
    ("Vue 3 composable that debounces an input and fetches suggestions", "frontend", "javascript"),
    ("Build a dark mode toggle with Tailwind that remembers the choice in localStorage", "frontend", "javascript"),
    ("Write an HTML form with client-side validation for email and password", "frontend", "html"),
    ("SwiftUI view with a list of items and pull to refresh", "frontend", "swift"),
    ("Jetpack Compose screen in Kotlin that shows a list of contacts", "frontend", "kotlin"),
    ("Make the navbar sticky and collapse into a hamburger menu on small screens", "frontend", None),
    # data & ML
    ("pandas: group sales by month and plot a rolling average", "data", "python"),
    ("Train a scikit-learn random forest on the iris dataset and print the confusion matrix", "data", "python"),
    ("Write a SQL query that finds the top 5 customers by total order value in the last 90 days", "data", "sql"),
    ("PyTorch training loop with early stopping and a learning-rate scheduler", "data", "python"),
    ("Build an ETL pipeline that loads CSV files from S3 into Postgres", "data", None),
    ("Clean this dataframe: drop duplicate rows and fill missing ages with the median", "data", "python"),
    ("Compute a 7-day moving average per user with a window function in PostgreSQL", "data", "sql"),
    ("Write a dbt model that deduplicates events by id", "data", "sql"),
    ("Plot a histogram of response times with matplotlib", "data", "python"),
    ("Fix this query: SELECT name, COUNT(*) FROM users GROUP BY name HAVING COUNT(*) > 1 ORDER BY 2 DESC",
     "data", "sql"),
    ("ggplot2 bar chart of counts by category with dplyr", "data", "r"),
    ("Speed up this pandas apply with vectorised numpy", "data", "python"),
    # scripting & automation
    ("Write a bash script that renames all .jpeg files in a folder to .jpg", "scripting", "shell"),
    ("Python script to watch a directory and copy new files to a backup folder", "scripting", "python"),
    ("Automate sending a weekly summary email from a Google Sheet with Apps Script", "scripting", "javascript"),
    ("CLI tool with argparse that converts JSON to CSV", "scripting", "python"),
    ("Scrape the titles from the first 5 pages of Hacker News with BeautifulSoup", "scripting", "python"),
    ("PowerShell script that lists services that are stopped and starts them", "scripting", "shell"),
    ("One-liner with awk to sum the third column of a log file", "scripting", "shell"),
    ("Write a cron job that deletes files older than 30 days in /tmp", "scripting", "shell"),
    ("Node script that resizes every PNG in a folder with sharp", "scripting", "javascript"),
    ("Write a Go CLI that tails a file and prints new lines", "scripting", "go"),
    # algorithms
    ("Implement binary search on a sorted array and return the insertion point", "algorithms", None),
    ("Find the longest palindromic substring in O(n^2) in Java", "algorithms", "java"),
    ("Dijkstra's shortest path in C++ using a priority queue", "algorithms", "cpp"),
    ("Write fizzbuzz in Rust", "algorithms", "rust"),
    ("Detect a cycle in a linked list", "algorithms", None),
    ("LRU cache with O(1) get and put in Python", "algorithms", "python"),
    ("Solve the 0/1 knapsack problem with dynamic programming", "algorithms", None),
    ("Generate all permutations of a string without duplicates in Go", "algorithms", "go"),
    ("C function that reverses a linked list in place", "algorithms", "cpp"),
    # devops & infrastructure
    ("Write a Dockerfile for a Node.js app with a multi-stage build", "devops", "config"),
    ("Kubernetes deployment YAML with a readiness probe and resource limits", "devops", "config"),
    ("Terraform module for an S3 bucket with versioning and encryption", "devops", "config"),
    ("GitHub Actions workflow that runs pytest on every push", "devops", "config"),
    ("nginx reverse proxy config with TLS for two upstream services", "devops", "config"),
    ("Ansible playbook that installs Docker on Ubuntu hosts", "devops", "config"),
    ("Write a systemd unit that restarts my app on failure", "devops", "config"),
    ("Prometheus alert rule for a high 5xx rate", "devops", None),
    # other
    ("Explain the difference between a process and a thread", "other", None),
    ("What does this regex do? ^(?=.*\\d)(?=.*[a-z]).{8,}$", "other", None),
    ("Write unit tests for this function:\n```python\ndef slugify(s):\n    return s.lower().replace(' ', '-')\n```",
     "other", "python"),
    ("Refactor this class to use dependency injection:\n```java\npublic class OrderService {\n"
     "    private final Db db = new Db();\n}\n```", "other", "java"),
    ("Why does this crash?\n```\nfn main() {\n    let v = vec![1, 2, 3];\n    println!(\"{}\", v[5]);\n}\n```",
     "other", "rust"),
    ("TypeScript type that makes every nested property optional", "other", "javascript"),
    ("A Python function that validates an IBAN", "other", "python"),
    ("Write a Java class for a bank account with deposit and withdraw that is thread-safe", "other", "java"),
]
