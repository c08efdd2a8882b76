"""The web dashboard (issue 14): read-only pages over the store, opened with a signed link."""
