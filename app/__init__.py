"""The composition root: the CLI and the wiring that builds the core with its adapters."""
