"""Tests on a task: finding them in the request, running an answer against them, reading the result.

- :mod:`bot.testing.suite`: a task's tests from its text (```` ```python test ```` blocks, blocks
  whose first line is ``# test``, ``--test "…"`` flags) and attached test files; what the models see.
- :mod:`bot.testing.harness`: one sandbox program that runs the answer's code with the tests
  (drivers ``driver_py.py`` and ``driver.js`` run inside the sandbox, standard library only).
- :mod:`bot.testing.outcome`: the driver's report → passed / failed / errors and a status.
- :mod:`bot.testing.render`: the header's tests section, the footer line, the failures report.
"""
