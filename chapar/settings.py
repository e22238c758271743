"""Chapar's settings: one class, read from the environment (prefix ``CHAPAR_``).

Read them through :func:`get_settings`; nothing builds settings at import time, so a test
(or a flow run) can set the environment first and call ``get_settings.cache_clear()``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Price of one page in Rials, by encoding and operator ("default" covers any other operator).
#: Persian (UCS-2) pages are cheaper than Latin ones on Iranian lines, as on real price lists.
DEFAULT_PAGE_PRICES: dict[str, dict[str, int]] = {
    "ucs2": {"MCI": 1_180, "Irancell": 1_180, "Rightel": 1_180, "default": 1_180},
    "gsm7": {"MCI": 2_560, "Irancell": 2_560, "Rightel": 2_560, "default": 2_560},
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAPAR_", extra="ignore")

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Path("data")
    database: Path | None = Field(
        default=None, description="DuckDB file; defaults to <data_dir>/chapar.duckdb"
    )
    store: str | None = Field(
        default=None,
        description="unset: the DuckDB file; postgresql://user:password@host:port/db: that "
        "PostgreSQL database, shared by every machine (docs/scale-out.md)",
    )
    lock_retry_seconds: float = Field(
        default=10.0, description="how long to retry when another process holds the DuckDB file"
    )

    # --- messages and money --------------------------------------------------------------
    max_pages: int = Field(default=4, ge=1, description="most pages one message may take")
    page_prices: dict[str, dict[str, int]] = Field(default_factory=lambda: DEFAULT_PAGE_PRICES)
    currency: str = "Rial"
    max_topup: int = Field(
        default=10**13, ge=1, description="the largest single top-up, in the currency"
    )

    # --- sending -------------------------------------------------------------------------
    batch_size: int = Field(
        default=100_000, ge=1, description="numbers per checkpointed batch (less on slow lines)"
    )
    batches_per_task: int = Field(default=2, ge=1, description="batches one Prefect task sends")
    request_size: int = Field(default=200, ge=1, le=200, description="numbers per provider call")
    provider_concurrency: int = Field(
        default=4, ge=1, description="concurrent provider calls (httpx slows past ~4-8)"
    )
    provider_timeout_s: float = 10.0
    provider_retries: int = Field(default=6, ge=0, description="retries of a failed call")
    reconcile_patience_s: float = Field(
        default=60.0,
        ge=0,
        description="how long a rebuild keeps retrying the status lookups of a batch whose "
        "fate is unknown before it stops (what it learnt is kept)",
    )
    lease_ttl_s: float = Field(
        default=300.0,
        description="a sending run's lease lapses after this unless renewed (a heartbeat "
        "renews it every third of it while requests are out); on the same host a dead process "
        "lapses it at once",
    )
    send_window: str = Field(default="08:00-21:00", description="daily window for advertising")
    timezone: str = "Asia/Tehran"
    rate_per_minute: int | None = Field(default=None, description="messages a minute per line")
    cap_messages: int | None = Field(
        default=None,
        ge=1,
        description="frequency cap: at most this many messages per number in cap_days Tehran "
        "calendar days, across campaigns (None: no cap; a line may set its own)",
    )
    cap_days: int = Field(default=1, ge=1, description="the frequency cap's days")

    # --- provider ------------------------------------------------------------------------
    provider: Literal["simulator", "kavenegar", "smsir"] = "simulator"
    api_key: SecretStr | None = None
    kavenegar_url: str = "https://api.kavenegar.com/v1"
    smsir_url: str = "https://api.sms.ir/v1"
    simulator_host: str = "127.0.0.1"
    simulator_port: int = 8765
    simulator_credit: int = 10_000_000_000
    simulator_delivery_delay_s: float = 2.0

    # --- orchestration -------------------------------------------------------------------
    scheduler: Literal["prefect", "inprocess"] = Field(
        default="prefect",
        description="who starts and schedules sends: Prefect's deployments, or this process",
    )

    # --- services ------------------------------------------------------------------------
    prefect_port: int = 4200
    dashboard_port: int = 8501

    @property
    def database_path(self) -> Path:
        return self.database if self.database is not None else self.data_dir / "chapar.duckdb"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
