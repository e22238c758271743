"""The provider contract: statuses, and the factory that picks an adapter from settings."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from chapar.errors import ChaparError
from chapar.providers import (
    AuthError,
    InsufficientCredit,
    KavenegarProvider,
    MessageStatus,
    Provider,
    ProviderError,
    ReconcileUnsupported,
    RejectedInput,
    SmsIrProvider,
    TransientError,
    UnknownOutcome,
    make_provider,
)
from chapar.settings import Settings


def test_final_statuses_are_the_ones_no_poll_can_change():
    final = {s for s in MessageStatus if s.is_final}
    assert final == {"delivered", "undelivered", "failed", "blacklisted", "cancelled"}


def test_only_cancelled_and_blacklisted_messages_are_refunded():
    assert {s for s in MessageStatus if s.is_refunded} == {"cancelled", "blacklisted"}


def test_every_provider_error_is_a_chapar_error():
    for error in (
        InsufficientCredit,
        TransientError,
        RejectedInput,
        AuthError,
        UnknownOutcome,
        ReconcileUnsupported,
    ):
        assert issubclass(error, ProviderError) and issubclass(error, ChaparError)


def _close(provider: Provider) -> None:
    asyncio.run(provider.aclose())


def test_the_simulator_is_reached_through_the_kavenegar_adapter_on_loopback():
    provider = make_provider(Settings(provider="simulator", simulator_port=9999))
    try:
        assert isinstance(provider, KavenegarProvider) and isinstance(provider, Provider)
        assert provider.name == "simulator"
        assert provider._prefix == "http://127.0.0.1:9999/v1/simulator/"
    finally:
        _close(provider)


def test_kavenegar_and_smsir_are_built_from_their_url_and_key():
    key = SecretStr("the-key")
    kavenegar = make_provider(Settings(provider="kavenegar", api_key=key))
    smsir = make_provider(Settings(provider="smsir", api_key=key))
    try:
        assert isinstance(kavenegar, KavenegarProvider) and kavenegar.max_per_send == 200
        assert isinstance(smsir, SmsIrProvider) and smsir.max_per_send == 100
        assert "the-key" not in repr(kavenegar) + repr(smsir)
    finally:
        _close(kavenegar)
        _close(smsir)


def test_a_real_provider_without_a_key_is_an_auth_error():
    for name in ("kavenegar", "smsir"):
        with pytest.raises(AuthError, match="CHAPAR_API_KEY"):
            make_provider(Settings(provider=name, api_key=None))  # type: ignore[arg-type]
