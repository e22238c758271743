"""The demo `make run` seeds on a first run: sample lists in mixed number forms, a
blacklist, credit and a draft campaign. Seeds only an empty database, so it runs once."""

from __future__ import annotations

from pathlib import Path

from chapar.store import repo

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
DEMO_CREDIT = 50_000_000


def seed_if_empty() -> str | None:
    """Seed the demo into an empty database; returns what was done, or None."""
    if repo.lists() or repo.list_campaigns(archived=None) or not SAMPLES.is_dir():
        return None
    customers = repo.import_list("customers", SAMPLES / "customers.csv")
    vip = repo.import_list("vip", SAMPLES / "vip.txt")
    blacklist = repo.import_blacklist(SAMPLES / "blacklist.txt")
    repo.topup(DEMO_CREDIT, "demo credit")
    campaign = repo.create_campaign(
        "یلدا — نمونه",
        "شب یلدا مبارک! ۲۰٪ تخفیف ویژه تا پایان هفته. لغو۱۱",
        "30001234",
        ["customers", "vip"],
        actor="demo",
    )
    return (
        f"seeded the demo: lists customers ({customers.valid}) and vip ({vip.valid}), "
        f"{blacklist.added} blacklisted, {DEMO_CREDIT:,} Rial credit, campaign {campaign}"
    )
