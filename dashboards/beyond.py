"""The Features menu's issue-12 entries: resend to the undelivered, and a test send.
Kept apart from ui.py so that file only calls :func:`features_block`."""

from __future__ import annotations

import streamlit as st

from chapar.campaigns import Campaign
from chapar.errors import ChaparError
from dashboards import data, i18n
from dashboards.i18n import t


def features_block(c: Campaign) -> None:
    """Resend to the undelivered (where allowed), and the test send form."""
    from dashboards import ui

    k = f"c{c.id}"
    if ui.feature_button(t("bx.resend"), data.can_resend(c.id), f"resend_{k}"):
        resend(c)
    numbers = st.text_input(t("bx.test_numbers"), key=f"test_numbers_{k}",
                            placeholder="09121234567, 09351234567")  # fmt: skip
    if st.button(t("bx.test_send"), key=f"test_send_{k}", width="stretch"):
        test_send(c, numbers)


def resend(c: Campaign) -> None:
    from dashboards import ui

    ui.close_menu(c)
    try:
        url = data.start_send(c.id, "resend")
    except ChaparError as exc:
        ui.flash("error", exc.text(i18n.lang()))
    else:
        text = t("done.started", title=c.title, mode=i18n.mode_name("resend"))
        if url:
            text += f" [{t('prefect.link')}]({url})"
        ui.flash("success", text)
    finally:
        data.changed()
    st.rerun()


def test_send(c: Campaign, numbers: str) -> None:
    from chapar import testsend
    from dashboards import ui

    wanted = [n for n in numbers.replace("،", ",").replace(" ", ",").split(",") if n.strip()]
    try:
        result = testsend.test_send(c.id, wanted, actor=data.actor())
    except ChaparError as exc:
        ui.flash("error", exc.text(i18n.lang()))
    else:
        sent = sum(1 for s in result.sent.values() if s == "sent")
        ui.flash("success", t("bx.test_done", n=i18n.num(sent),
                              cost=i18n.num(result.cost), text=result.text))  # fmt: skip
    finally:
        data.changed()
    ui.close_menu(c)
    st.rerun()
