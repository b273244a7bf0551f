"""Shared test set-up: offline data from ../shared when it is there, never a paid backend."""

from __future__ import annotations

import os

import pytest

from helpers.paths import use_shared_data

# The same defaults as the course's entry points, so that a bare `pytest` works too.
use_shared_data()
# Tests must never spend a learner's key.
os.environ["TUTORIAL_BACKEND"] = "simulator"


@pytest.fixture(scope="module")
def contract():
    """OpenAI's OpenAPI description, which the simulator's answers are checked against."""
    from tests.simulator_fixtures import contract_or_skip

    return contract_or_skip()


@pytest.fixture
def checked(contract):
    """Makes the tests' SDK clients; every response they get is checked at the end."""
    from tests.simulator_fixtures import CheckedClients

    clients = CheckedClients(contract)
    yield clients
    assert clients.check() > 0
