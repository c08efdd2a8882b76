"""Adapters: one per chat platform (Slack, Discord, console) plus an in-memory test surface."""
