"""Credit, campaigns, Edit program, archive and the audit trail."""

from __future__ import annotations

import pytest

from chapar.campaigns import CampaignStatus
from chapar.errors import InputError, NotAllowed, NotFound
from chapar.store import repo


@pytest.fixture
def customers(write) -> str:
    repo.import_list("customers", write("c.txt", "09121234567\n09351234567\n09201234567\n"))
    return "customers"


def test_credit_is_the_sum_of_the_ledger_and_topups_must_be_positive():
    assert repo.balance() == 0
    assert repo.topup(50_000) == 50_000
    assert repo.topup(25_000, "second") == 75_000
    with pytest.raises(InputError, match="positive"):
        repo.topup(-5)
    assert [e.amount for e in repo.ledger()] == [25_000, 50_000]


def test_a_new_campaign_is_a_draft_or_scheduled(customers):
    draft = repo.create_campaign("Yalda", "شب یلدا مبارک", "30001234", [customers])
    assert repo.get_campaign(draft).status is CampaignStatus.DRAFT
    from datetime import UTC, datetime, timedelta

    later = repo.create_campaign(
        "Nowruz", "نوروز", "30001234", [customers], start_at=datetime.now(UTC) + timedelta(days=1)
    )
    assert repo.get_campaign(later).status is CampaignStatus.SCHEDULED


def test_bad_campaign_input_is_refused_with_the_field(customers):
    with pytest.raises(InputError, match="message: the message text is empty"):
        repo.create_campaign("t", "  ", "30001234", [customers])
    with pytest.raises(InputError, match="message: the message needs 5 pages"):
        repo.create_campaign("t", "س" * 300, "30001234", [customers])
    with pytest.raises(InputError, match="sender"):
        repo.create_campaign("t", "hi", "not-a-line", [customers])
    with pytest.raises(NotFound, match="'nope'"):
        repo.create_campaign("t", "hi", "30001234", ["nope"])
    assert repo.list_campaigns(archived=None) == []


def test_edit_program_changes_only_its_fields_and_keeps_an_audit_trail(customers, write):
    cid = repo.create_campaign("Old", "hello", "30001234", [customers], actor="ali")
    repo.import_list("vip", write("v.txt", "09121111111\n"))
    changes = repo.edit_campaign(
        cid, {"title": "New", "send_count": 2, "source": ("vip",)}, actor="sara"
    )
    assert {c.field for c in changes} == {"title", "send_count", "source"}
    c = repo.get_campaign(cid)
    assert (c.title, c.send_count, c.source) == ("New", 2, ("vip",))
    trail = [(a.actor, a.action, a.field, a.old_value, a.new_value) for a in repo.audit_trail(cid)]
    assert ("sara", "edit", "title", "Old", "New") in trail
    assert ("sara", "edit", "source", "customers", "vip") in trail
    assert ("ali", "create", None, None, "Old") in trail


def test_editing_anything_else_is_refused_and_changes_nothing(customers):
    cid = repo.create_campaign("T", "hello", "30001234", [customers])
    with pytest.raises(NotAllowed, match=r"cannot edit sender: Edit program changes only title"):
        repo.edit_campaign(cid, {"title": "X", "sender": "30009999"})
    assert repo.get_campaign(cid).title == "T"


def test_a_failed_edit_leaves_the_campaign_as_it_was(customers):
    cid = repo.create_campaign("T", "hello", "30001234", [customers])
    with pytest.raises(InputError):
        repo.edit_campaign(cid, {"title": "Changed", "message": ""})
    assert repo.get_campaign(cid).title == "T"
    assert [a.action for a in repo.audit_trail(cid)] == ["create"]


def test_archive_hides_a_campaign_and_unarchive_brings_it_back_twice_is_harmless(customers):
    cid = repo.create_campaign("T", "hello", "30001234", [customers])
    assert repo.set_archived(cid, True) is True
    assert repo.set_archived(cid, True) is False
    assert repo.list_campaigns() == []
    assert [c.id for c in repo.list_campaigns(archived=True)] == [cid]
    assert repo.set_archived(cid, False) is True
    assert [c.id for c in repo.list_campaigns()] == [cid]


def test_nothing_can_delete_a_campaign():
    import chapar.store.queries as queries
    from chapar.cli import campaign_app

    assert not any("DELETE FROM campaigns" in sql for sql in queries._all().values())
    assert "delete" not in {c.name for c in campaign_app.registered_commands}


def test_price_counts_recipients_after_invalid_duplicates_and_blacklist(write):
    repo.import_list("a", write("a.txt", "09121234567\n09351234567\nbad\n09121234567\n"))
    repo.import_list("b", write("b.txt", "09351234567\n09201234567\n"))
    repo.import_blacklist(write("bl.txt", "09201234567\n"))
    quote = repo.price("سلام دوست من", ["a", "b"])
    assert (quote.encoding, quote.pages) == ("ucs2", 1)
    assert (quote.recipients, quote.invalid, quote.duplicates, quote.blacklisted) == (2, 1, 2, 1)
    assert quote.cost == 2 * 1_180
