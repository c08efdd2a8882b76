"""Codegen Arena core: compares code-generation models on a team's real tasks.

The core knows nothing of Slack or Discord. Adapters turn platform payloads into the events in
:mod:`bot.events`, and the core answers through the :class:`bot.surface.Surface` they provide.
"""
