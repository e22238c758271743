"""The dashboard's issue-12 parts kept apart from ui.py: the Features menu's entries (resend
to the undelivered, a test send; ui.py only calls :func:`features_block`), and on the
new-campaign and edit pages the text as the sender line sends it, its cap, "defer capped"
and the line's footer and cap."""

from __future__ import annotations

import streamlit as st

from chapar.campaigns import Campaign
from chapar.errors import ChaparError
from chapar.pricing import Quote
from chapar.reasons import Code
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
    reason = c.status_reason
    if reason is not None and reason.code is Code.OUTCOME_UNKNOWN and not c.lease_live:
        batch = int(reason.params.get("batch", 0))
        report = st.text_area(t("bx.settle_numbers", batch=i18n.num(batch)),
                              key=f"settle_numbers_{k}", help=t("bx.settle_help"))  # fmt: skip
        if st.button(t("bx.settle", batch=i18n.num(batch)), key=f"settle_{k}", width="stretch"):
            settle(c, batch, report)


def settle(c: Campaign, batch: int, report: str) -> None:
    """The numbers of a batch of unknown fate that the provider's pack report shows as sent
    (``chapar settle``): recorded and charged; the batch's other messages go with a rebuild."""
    from chapar.sending.settle import settle_batch
    from dashboards import ui

    numbers = [n for n in report.replace("،", ",").replace(",", " ").split() if n.strip()]
    try:
        done = settle_batch(c.id, batch, numbers, actor=data.actor())
    except ChaparError as exc:
        ui.flash("error", exc.text(i18n.lang()))
    else:
        figures = {"sent": done.sent, "back": done.given_back, "cost": done.cost}
        ui.flash("success", t("bx.settled", **{k: i18n.num(v) for k, v in figures.items()}))
    finally:
        data.changed()
    ui.close_menu(c)
    st.rerun()


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


# --- the new-campaign and edit pages: the sender line's footer and cap, defer capped ----------


def as_sent(message: str, quote: Quote, sender: str | None) -> None:
    """The text as the line sends it (with its opt-out footer); for a personalised text the
    fewest and most pages a recipient and a few rendered samples."""
    from chapar.footer import with_footer

    with st.container(key="bq_as_sent"):
        if quote.footer:
            st.caption(t("bq.footer", footer=quote.footer))
        if quote.max_pages is not None:
            st.caption(t("bq.pages_range", min=i18n.num(quote.min_pages),
                         max=i18n.num(quote.max_pages)))  # fmt: skip
            if quote.samples:
                st.markdown(f"**{t('bq.samples')}**")
                for n, sample in enumerate(quote.samples, start=1):
                    st.caption(t("bq.sample", n=i18n.num(n)))
                    st.text(sample)
        elif quote.footer:
            st.markdown(f"**{t('bq.as_sent')}**")
            st.text(with_footer(message, quote.footer))
        if not (sender and sender.strip()):
            st.caption(t("bq.no_sender"))


def cap_rule(sender: str | None) -> tuple[int, int] | None:
    """The frequency cap on the line (messages, Tehran days), or None."""
    from chapar.sending.run import cap_for
    from chapar.settings import get_settings
    from chapar.store.repo import Line

    if not (sender and sender.strip()):
        return None
    line = data.line_of(sender) or Line(sender.strip(), None, None)
    return cap_for(line, get_settings())


def cap_note(quote: Quote, sender: str | None, defer_capped: bool) -> None:
    """The line's cap and how many numbers it would skip (or defer) now."""
    rule = cap_rule(sender)
    if rule is None:
        return
    parts = [t("bq.cap_rule", n=i18n.num(rule[0]), days=i18n.num(rule[1]))]
    if quote.capped:
        key = "bq.cap_defers" if defer_capped else "bq.cap_skips"
        parts.append(t(key, n=i18n.num(quote.capped)))
    st.caption(" ".join(parts))


def defer_checkbox(key: str, value: bool = False, disabled: bool = False) -> bool:
    """The "defer capped" option: what ``chapar send --defer-capped`` sets on a campaign."""
    return st.checkbox(t("bq.defer"), value=value, key=key, disabled=disabled,
                       help=t("bq.defer_help"))  # fmt: skip


def line_settings(sender: str) -> None:
    """The sender line's opt-out footer and frequency cap (what ``chapar line set --footer
    --cap`` sets), read and changed beside the campaign that uses the line."""
    from chapar.footer import DEFAULT_FOOTER
    from chapar.store import repo
    from dashboards import ui

    wanted = sender.strip()
    if not wanted:
        return
    line = data.line_of(wanted)
    footer = line.footer if line else None
    own_cap = line.cap_messages if line else None
    rule = cap_rule(wanted)
    with st.expander(t("bq.line"), icon=":material/tune:", key=f"bq_line_{wanted}"):
        cap_text = (t("bq.line_cap.none") if rule is None
                    else t("bq.cap_rule", n=i18n.num(rule[0]), days=i18n.num(rule[1])))  # fmt: skip
        st.caption(t("bq.line_now", footer=footer or t("bq.line_no_footer"), cap=cap_text))
        k = f"{wanted}"
        on = st.checkbox(t("bq.line_footer_on"), value=footer is not None, key=f"bq_footer_on_{k}")
        text = st.text_input(t("bq.line_footer_text"), value=footer or DEFAULT_FOOTER,
                             key=f"bq_footer_{k}", disabled=not on)  # fmt: skip
        modes = ["default", "none", "own"]
        current = "default" if own_cap is None else "none" if own_cap == 0 else "own"
        mode = st.radio(t("bq.line_cap"), modes, index=modes.index(current), horizontal=True,
                        key=f"bq_cap_mode_{k}",
                        format_func=ui.labels(modes, lambda m: t(f"bq.line_cap.{m}")))  # fmt: skip
        n, days, ok = 1, 1, True
        if mode == "own":
            left, right = st.columns(2)
            with left:
                got_n, ok_n = ui.int_input(t("bq.line_cap_n"), f"bq_cap_n_{k}",
                                           own_cap or 1, minimum=1)  # fmt: skip
            with right:
                got_d, ok_d = ui.int_input(t("bq.line_cap_days"), f"bq_cap_d_{k}",
                                           (line.cap_days if line else None) or 1,
                                           minimum=1)  # fmt: skip
            n, days, ok = got_n or 1, got_d or 1, ok_n and ok_d
        if st.button(t("bq.line_save"), key=f"bq_line_save_{k}", disabled=not ok):
            cap = None if mode == "default" else (0, 1) if mode == "none" else (n, days)
            try:
                repo.set_line(
                    wanted,
                    line.send_window if line else None,
                    line.rate_per_minute if line else None,
                    footer=(text.strip() or DEFAULT_FOOTER) if on else None,
                    cap=cap,
                )
            except ChaparError as exc:
                st.error(i18n.error(exc))
            else:
                data.changed()
                ui.flash("success", t("bq.line_saved", sender=i18n.digits(wanted)))
                st.rerun()
