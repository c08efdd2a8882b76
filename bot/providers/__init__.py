"""Talking to models: one OpenAI-compatible streaming client for every contestant."""

from bot.providers.client import ChatClient, ChatRequest, Completion, Timeouts, compute_cost

__all__ = ["ChatClient", "ChatRequest", "Completion", "Timeouts", "compute_cost"]
