"""The ranking tests' seeder, for the category boards."""

from __future__ import annotations

import pytest

from storage.db import Store
from tests.ranking.conftest import Seeder


@pytest.fixture
def seed(store: Store) -> Seeder:
    return Seeder(store)
