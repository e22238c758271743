"""What the HTTP adapters share: one client per provider instance, error translation, and
keeping the API key out of every text (exceptions, reprs, httpx's own log lines).

Why one client per instance with a small pool: a shared client with a large pool collapses
under concurrency (httpx issue #3215, see STACK-NOTES). Why one shared SSL context: building
one loads the CA store (≈16 ms), which would otherwise happen per client.
"""

from __future__ import annotations

import functools
import logging
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from chapar.providers.base import TransientError, UnknownOutcome

MASK = "***"


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One CA-store load per process, shared by every client."""
    return httpx.create_ssl_context()


class _SecretFilter(logging.Filter):
    """Masks registered secrets in httpx's records ("HTTP Request: POST https://…/KEY/…").

    Filters run only for records that pass the level check, so this costs nothing while
    httpx's INFO logging is off.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = mask_secrets(text, self.secrets)
        if masked != text:
            record.msg, record.args = masked, None
        return True


_FILTER = _SecretFilter()
logging.getLogger("httpx").addFilter(_FILTER)


def _forms(secret: str) -> tuple[str, ...]:
    return (secret, quote(secret, safe="")) if secret else ()


def mask_secrets(text: str, secrets: set[str] | frozenset[str]) -> str:
    for secret in secrets:
        for form in _forms(secret):
            text = text.replace(form, MASK)
    return text


def _at(exc: httpx.HTTPError) -> str:
    """``" at host:port"`` of the failed request: where it tried, never the path (Kavenegar's
    path holds the key)."""
    try:
        url = exc.request.url
    except RuntimeError:  # an error raised without its request
        return ""
    if not url.host:
        return ""
    return f" at {url.host}" if url.port is None else f" at {url.host}:{url.port}"


class HttpAdapter:
    """Base of the HTTP adapters: owns the client and turns transport failures into the
    provider errors whose meaning the pipeline relies on (accepted? maybe? surely not?)."""

    name: str

    def __init__(
        self,
        *,
        name: str,
        secret: str,
        timeout: float,
        concurrency: int,
        transport: httpx.AsyncBaseTransport | None,
        trust_env: bool,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._secret = secret
        self._secrets = frozenset({secret}) if secret else frozenset()
        if secret:
            _FILTER.secrets.add(secret)
        self._timeout = timeout
        self._client = httpx.AsyncClient(
            # pool=None: waiting for a free connection is the caller's over-subscription, not a
            # provider failure; every request still has its connect/read/write bound.
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0), pool=None),
            limits=httpx.Limits(
                max_connections=concurrency,
                max_keepalive_connections=concurrency,
                keepalive_expiry=30.0,
            ),
            verify=shared_ssl_context(),
            transport=transport,
            trust_env=trust_env,
            headers={"Accept": "application/json", "User-Agent": "chapar", **(headers or {})},
        )

    def _mask(self, text: str) -> str:
        return mask_secrets(text, self._secrets)

    async def _request(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        """Send one request. A transport failure is re-raised as a provider error *outside*
        the ``except`` block, so the httpx exception — whose request holds the URL, and for
        Kavenegar the URL holds the key — is neither chained nor kept as context."""
        try:
            return await self._client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            error = self._translate(exc, what)
        raise error

    def _translate(self, exc: httpx.HTTPError, what: str) -> Exception:
        detail = self._mask(f"{type(exc).__name__}: {exc}")
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            # No connection, so no byte of the request left: certainly not accepted.
            return TransientError(f"{self.name} {what}: provider unreachable{_at(exc)} ({detail})")
        if isinstance(exc, httpx.TimeoutException):
            return UnknownOutcome(
                f"{self.name} {what}: no answer within {self._timeout:g} s "
                f"({type(exc).__name__}); the request may have been accepted"
            )
        return UnknownOutcome(
            f"{self.name} {what}: connection failed ({detail}); the request may have been accepted"
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
