"""The local provider: a real HTTP server on 127.0.0.1 speaking Kavenegar's protocol, with
its own credit, outbox and injectable faults (DESIGN.md §5). Run it with
``python -m chapar.simulator --port 8765``."""

from __future__ import annotations

from chapar.simulator.engine import Simulator, SimulatorConfig, normalise, outcome_for
from chapar.simulator.server import SimulatorServer, run_simulator, serve

__all__ = [
    "Simulator",
    "SimulatorConfig",
    "SimulatorServer",
    "normalise",
    "outcome_for",
    "run_simulator",
    "serve",
]
