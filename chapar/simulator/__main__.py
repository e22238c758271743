"""``python -m chapar.simulator [--port 8765] [--host 127.0.0.1] [--credit N] [faults…]``.

Flags left out take their value from Chapar's settings (``CHAPAR_SIMULATOR_*``), so the
simulator and the product agree on the port, credit and page prices without repeating them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from chapar.simulator.server import run_simulator


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m chapar.simulator",
        description="A local SMS provider speaking Kavenegar's protocol, with injectable faults.",
    )
    p.add_argument("--host", help="address to listen on (default: settings, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (0 = any free port; default: settings)")
    p.add_argument("--credit", type=int, help="starting credit in Rials (default: settings)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="delay before each API answer")
    p.add_argument(
        "--error-rate",
        type=float,
        default=0.0,
        help="share of requests answered --error-status without accepting",
    )
    p.add_argument("--error-status", type=int, default=503, help="409, 500, 503, …")
    p.add_argument(
        "--timeout-rate",
        type=float,
        default=0.0,
        help="share of requests accepted, then never answered",
    )
    p.add_argument(
        "--drop-rate",
        type=float,
        default=0.0,
        help="share of requests accepted, then the connection closed unanswered",
    )
    p.add_argument(
        "--credit-stop-after",
        type=int,
        default=None,
        help="accept this many more messages, then answer 418",
    )
    p.add_argument(
        "--delivery-delay-s",
        type=float,
        help="seconds until a message's final status (default: settings)",
    )
    p.add_argument(
        "--fault-scope",
        choices=("send", "all"),
        default="send",
        help="which calls faults hit: the send methods only, or every call",
    )
    p.add_argument(
        "--reply-rate",
        type=float,
        default=0.01,
        help="share of numbers that reply to each message delivered to them (default 0.01)",
    )
    p.add_argument(
        "--reply-delay-s",
        type=float,
        default=3.0,
        help="seconds from a message's acceptance to its generated reply (default 3)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the fault dice")
    p.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    return p


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for :func:`run_simulator`, gaps filled from the settings."""
    from chapar.settings import get_settings

    s = get_settings()
    prices = s.page_prices
    return {
        "host": args.host if args.host is not None else s.simulator_host,
        "port": args.port if args.port is not None else s.simulator_port,
        "credit": args.credit if args.credit is not None else s.simulator_credit,
        "latency_ms": args.latency_ms,
        "error_rate": args.error_rate,
        "error_status": args.error_status,
        "timeout_rate": args.timeout_rate,
        "drop_rate": args.drop_rate,
        "credit_stop_after": args.credit_stop_after,
        "delivery_delay_s": (
            args.delivery_delay_s
            if args.delivery_delay_s is not None
            else s.simulator_delivery_delay_s
        ),
        "fault_scope": args.fault_scope,
        "seed": args.seed,
        "reply_rate": args.reply_rate,
        "reply_delay_s": args.reply_delay_s,
        "api_key": args.api_key,
        "price_ucs2": prices.get("ucs2", {}).get("default", 1_180),
        "price_gsm7": prices.get("gsm7", {}).get("default", 2_560),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        run_simulator(**config_from_args(args))
    except ValueError as exc:  # a bad fault value from SimulatorConfig.check
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
