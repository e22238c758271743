"""The provider key for flow runs: CHAPAR_API_KEY from the environment, or else the Prefect
Secret block ``chapar-api-key``. Never printed or logged."""

from __future__ import annotations

import os

from chapar.settings import get_settings

SECRET_BLOCK = "chapar-api-key"


def load_api_key() -> None:
    settings = get_settings()
    if settings.provider == "simulator" or settings.api_key is not None:
        return
    from prefect.blocks.system import Secret

    try:
        secret = Secret.load(SECRET_BLOCK)
    except ValueError:  # no such block: the adapter says no key is configured
        return
    os.environ["CHAPAR_API_KEY"] = str(secret.get())  # type: ignore[union-attr]
    get_settings.cache_clear()
