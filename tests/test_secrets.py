"""The provider key comes from the environment or a Prefect Secret block, never the repo."""

from __future__ import annotations

import pytest

from chapar.settings import get_settings

pytestmark = pytest.mark.integration


def test_a_flow_run_takes_the_key_from_the_secret_block_when_the_env_has_none(
    use_prefect_server, monkeypatch
):
    from prefect.blocks.system import Secret

    from flows.secrets import SECRET_BLOCK, load_api_key

    monkeypatch.setenv("CHAPAR_PROVIDER", "kavenegar")
    monkeypatch.delenv("CHAPAR_API_KEY", raising=False)
    get_settings.cache_clear()
    Secret(value="k-0123456789").save(SECRET_BLOCK, overwrite=True)
    load_api_key()
    key = get_settings().api_key
    assert key is not None and key.get_secret_value() == "k-0123456789"
    assert "k-0123456789" not in repr(get_settings())


def test_the_environment_wins_over_the_block(use_prefect_server, monkeypatch):
    from flows.secrets import load_api_key

    monkeypatch.setenv("CHAPAR_PROVIDER", "kavenegar")
    monkeypatch.setenv("CHAPAR_API_KEY", "from-env")
    get_settings.cache_clear()
    load_api_key()
    key = get_settings().api_key
    assert key is not None and key.get_secret_value() == "from-env"
