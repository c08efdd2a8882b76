"""Task texts written after the classifier's tables were fixed (not used to tune them).

Same shape as ``classifier_cases.CASES``. The test asks for a high hit rate here rather than
every case, so the figure says how the tables do on texts they were not written for.
"""

from __future__ import annotations

HELD_OUT: list[tuple[str, str, str | None]] = [
    ("Write a Flask endpoint that accepts a file upload and stores it in S3", "web", "python"),
    ("Implement quicksort in JavaScript", "algorithms", "javascript"),
    ("Create a Kubernetes CronJob that runs a database backup every night", "devops", "config"),
    ("Write a Python function to merge two sorted lists", "algorithms", "python"),
    ("Next.js page that server-renders a product list from an API", "frontend", "javascript"),
    ("Train a logistic regression model on this CSV and report accuracy", "data", None),
    ("A shell script to check disk usage and alert when above 90%", "scripting", "shell"),
    ("Write a Rust CLI that counts words in a file", "scripting", "rust"),
    ("SQL to find duplicate emails in the users table", "data", "sql"),
    ("Set up GitHub Actions to build and push a Docker image", "devops", "config"),
    ("Angular service that caches HTTP responses", "frontend", "javascript"),
    ("Build a websocket chat server in Node.js", "web", "javascript"),
    ("Explain how garbage collection works in Java", "other", "java"),
    ("Find the k most frequent elements in an array using a heap", "algorithms", None),
    ("Write a pandas script that merges two Excel files on a customer id", "data", "python"),
    ("Terraform for a VPC with two private subnets", "devops", "config"),
    ("Create a login page with HTML and CSS", "frontend", "html"),
    ("Python decorator that retries a function with exponential backoff", "other", "python"),
    ("Generate a bar chart of monthly revenue with matplotlib", "data", "python"),
    ("Scrape product prices with Selenium and save them to a CSV", "scripting", None),
    ("Django REST framework serializer for nested orders", "web", "python"),
    ("Vue component that shows a paginated table", "frontend", "javascript"),
    ("Write a regex in Python that validates UK postcodes", "other", "python"),
    ("Detect anomalies in a time series of server metrics", "data", None),
    ("Create a Helm chart for a Redis deployment", "devops", "config"),
    ("Implement a trie with insert and prefix search in Java", "algorithms", "java"),
    ("Write a script that sends a Slack message when a website is down", "scripting", None),
]
