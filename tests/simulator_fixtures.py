"""Fixtures that run the provider simulator as a real child process on a free port.

Import them into ``tests/conftest.py``::

    from simulator_fixtures import simulator, simulator_process  # noqa: F401

``simulator_process`` (session): one ``python -m chapar.simulator --port 0`` for the whole
run, killed at teardown. ``simulator`` (per test): the same process, reset first — empty
outbox, no faults, starting credit (10**12 Rials), delivery delay 0 (statuses are final at
once; set ``delivery_delay_s`` to see them pass through "sent") — so tests do not see each
other's messages. It is a :class:`chapar.simulator.process.SimulatorProcess`:
``base_url``, ``port``, ``set_faults(**f)``, ``clear_faults()``, ``set_credit(n)``,
``outbox(receptor=None)``, ``receptor(number)``, ``state()``, ``reset()``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chapar.simulator.process import SimulatorProcess


@pytest.fixture(scope="session")
def simulator_process() -> Iterator[SimulatorProcess]:
    with SimulatorProcess(credit=10**12, delivery_delay_s=0.0) as process:
        yield process


@pytest.fixture
def simulator(simulator_process: SimulatorProcess) -> SimulatorProcess:
    simulator_process.reset()
    return simulator_process
