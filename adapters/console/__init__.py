"""The console adapter: the embedded default when no Slack or Discord token is set.

Type a task and watch every model's answer stream side by side; then `run B`, `rate B +1`,
`leaderboard`, `models`, `help`, `quit`. :class:`ConsoleSurface` alone (with
:meth:`~ConsoleSurface.begin`/:meth:`~ConsoleSurface.end`) draws one task for `codegen-bot ask`.
"""

from adapters.console.session import CHANNEL, ConsoleSession
from adapters.console.surface import PLATFORM, ConsoleSurface
from adapters.console.view import render_message

__all__ = ["CHANNEL", "PLATFORM", "ConsoleSession", "ConsoleSurface", "render_message"]
