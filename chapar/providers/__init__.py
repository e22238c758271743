"""SMS providers behind one Protocol (see :mod:`chapar.providers.base`), and the factory that
picks one from the settings."""

from __future__ import annotations

from chapar.providers._http import shared_ssl_context
from chapar.providers.base import (
    AuthError,
    InboundMessage,
    InsufficientCredit,
    MessageStatus,
    OutgoingMessage,
    Provider,
    ProviderError,
    ReconcileUnsupported,
    RejectedInput,
    RepliesUnsupported,
    SendResult,
    StatusReport,
    TransientError,
    UnknownOutcome,
)
from chapar.providers.kavenegar import KavenegarProvider
from chapar.providers.smsir import SmsIrProvider
from chapar.settings import Settings, get_settings

__all__ = [
    "AuthError",
    "InboundMessage",
    "InsufficientCredit",
    "KavenegarProvider",
    "MessageStatus",
    "OutgoingMessage",
    "Provider",
    "ProviderError",
    "ReconcileUnsupported",
    "RejectedInput",
    "RepliesUnsupported",
    "SendResult",
    "SmsIrProvider",
    "StatusReport",
    "TransientError",
    "UnknownOutcome",
    "make_provider",
    "warm_up",
]


def warm_up() -> None:
    """Load what the first request of a process would otherwise wait for (the CA store of
    the HTTP clients, ≈0.3 s): call it in a thread while a run is planned."""
    shared_ssl_context()


def make_provider(settings: Settings | None = None) -> Provider:
    """The provider the settings name. The simulator is reached through the real Kavenegar
    adapter (it speaks Kavenegar's protocol), without proxies since it is on loopback."""
    s = settings if settings is not None else get_settings()
    timeout, concurrency = s.provider_timeout_s, s.provider_concurrency
    key = s.api_key.get_secret_value() if s.api_key is not None else ""
    if s.provider == "simulator":
        return KavenegarProvider(
            base_url=f"http://{s.simulator_host}:{s.simulator_port}/v1",
            api_key="simulator",
            name="simulator",
            timeout=timeout,
            concurrency=concurrency,
            trust_env=False,
        )
    if s.provider == "kavenegar":
        return KavenegarProvider(s.kavenegar_url, key, timeout=timeout, concurrency=concurrency)
    if s.provider == "smsir":
        return SmsIrProvider(s.smsir_url, key, timeout=timeout, concurrency=concurrency)
    raise ProviderError(f"unknown provider {s.provider!r}")
