"""Pieces every page shares: language and layout, messages that survive a rerun, the
error edge, the campaign picker, the message composer and the Features menu."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
import streamlit as st

from chapar import campaigns as rules
from chapar.campaigns import Campaign, CampaignStatus
from chapar.errors import ChaparError, InputError
from chapar.pages import PageCount, count_pages
from chapar.pricing import check_message
from chapar.reasons import Code, Reason
from chapar.settings import get_settings
from chapar.store import repo
from dashboards import data, i18n
from dashboards.i18n import LANG_NAMES, LANGS, is_rtl, t

#: Page files, relative to app.py (st.navigation registers them; st.switch_page takes them).
PAGES = {
    "home": "views/home.py",
    "new": "views/new_campaign.py",
    "edit": "views/edit.py",
    "reports": "views/reports.py",
    "blacklist": "views/program_blacklist.py",
    "archived": "views/archived.py",
    "lists": "views/lists.py",
    "credit": "views/credit.py",
    "optout": "views/optout.py",
}

RTL_CSS = """
<style>
.stApp { direction: rtl; }
.stApp [data-testid="stMarkdownContainer"], .stApp label, .stApp h1, .stApp h2, .stApp h3,
.stApp [data-testid="stMetric"], .stApp [data-testid="stCaptionContainer"] { text-align: right; }
.stApp textarea, .stApp input { direction: rtl; unicode-bidi: plaintext; text-align: right; }
.stApp [data-testid="stDataFrame"], .stApp [data-testid="stVegaLiteChart"],
.stApp [data-testid="stArrowVegaLiteChart"], .stApp .vega-embed, .stApp code,
.stApp [data-testid="stCode"] { direction: ltr; }
.stApp [data-testid="stMetricValue"] { direction: rtl; unicode-bidi: plaintext; }
</style>
"""

#: Commits a "live" text area (a key starting with ``live_``) after a pause in typing, the
#: way Ctrl+Enter does, so the page count and price follow the text as it is typed while
#: the rule itself stays in Python (chapar.pages).
LIVE_TYPING_JS = """
<script>
(() => {
  if (window.__chaparLiveTyping) return;
  window.__chaparLiveTyping = true;
  let timer = null;
  document.addEventListener("input", (event) => {
    const el = event.target;
    if (!(el instanceof HTMLTextAreaElement)) return;
    if (!el.closest('[class*="st-key-live_"]')) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      el.dispatchEvent(new KeyboardEvent("keydown", {
        key: "Enter", code: "Enter", keyCode: 13, which: 13, ctrlKey: true, bubbles: true,
      }));
    }, 350);
  }, true);
})();
</script>
"""


# --- language and layout -----------------------------------------------------------------------


def language_switch() -> None:
    """The فارسی/English switch in the sidebar; Persian by default."""
    if st.session_state.get("lang") not in LANGS:
        st.session_state["lang"] = i18n.DEFAULT_LANG
    st.sidebar.radio(
        t("app.language"), LANGS, key="lang", horizontal=True,
        format_func=lambda code: LANG_NAMES[code],
    )  # fmt: skip


def apply_direction() -> None:
    if is_rtl():
        st.html(RTL_CSS)


def live_typing() -> None:
    st.html(LIVE_TYPING_JS, unsafe_allow_javascript=True, width="content")


# --- messages and errors -----------------------------------------------------------------------


def flash(kind: str, text: str) -> None:
    """A message shown once at the top of the next run (after st.rerun / switch_page)."""
    st.session_state.setdefault("flash", []).append((kind, text))


def show_flashes() -> None:
    for kind, text in st.session_state.pop("flash", []):
        {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[kind](
            text
        )


@contextmanager
def edge() -> Iterator[None]:
    """The page edge: a domain error becomes a clear message, never a traceback."""
    try:
        yield
    except ChaparError as exc:
        st.error(str(exc))


def labels(options: Sequence[Any], label: Callable[[Any], str]) -> Callable[[Any], str]:
    """A ``format_func`` whose labels are computed now, in this run's language: Streamlit
    may call a format function outside the run (AppTest does), where the session's
    language cannot be read."""
    fixed = {option: label(option) for option in options}
    return lambda option: fixed.get(option, str(option))


# --- navigation and the campaign picker --------------------------------------------------------


def go(page: str, campaign_id: int | None = None) -> None:
    if campaign_id is not None:
        st.session_state["campaign"] = campaign_id
        st.switch_page(PAGES[page], query_params={"campaign": str(campaign_id)})
    st.switch_page(PAGES[page])


def campaign_label(c: Campaign) -> str:
    label = t("campaign.label", id=i18n.digits(str(c.id)), title=c.title)
    return label + (t("campaign.archived_suffix") if c.archived else "")


def wanted_campaign() -> int | None:
    raw = st.query_params.get("campaign") or st.session_state.get("campaign")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def pick_campaign(campaigns: Sequence[Campaign], key: str) -> Campaign | None:
    """A campaign picker that starts on the campaign the Features menu (or the URL's
    ``?campaign=``) chose, and keeps the URL in step."""
    if not campaigns:
        st.info(t("no_campaigns"))
        return None
    by_id = {c.id: c for c in campaigns}
    ids = list(by_id)
    wanted = wanted_campaign()
    index = ids.index(wanted) if wanted in by_id else 0
    chosen = st.selectbox(t("campaign"), ids, index=index, key=key,
                          format_func=labels(ids, lambda i: campaign_label(by_id[i])))  # fmt: skip
    if chosen is None:
        return None
    st.session_state["campaign"] = chosen
    if st.query_params.get("campaign") != str(chosen):
        st.query_params["campaign"] = str(chosen)
    return by_id[chosen]


def status_text(c: Campaign) -> str:
    text = i18n.campaign_status(c.status.value)
    if c.status_reason:
        text += f" — {i18n.reason(c.status_reason)}"
    return text


STATUS_COLORS = {
    CampaignStatus.DRAFT: "gray",
    CampaignStatus.SCHEDULED: "blue",
    CampaignStatus.SENDING: "orange",
    CampaignStatus.COMPLETED: "green",
    CampaignStatus.UNFINISHED: "red",
    CampaignStatus.CANCELLED: "gray",
}


def status_badge(c: Campaign) -> None:
    st.badge(status_text(c), color=STATUS_COLORS.get(c.status, "gray"))  # type: ignore[arg-type]


# --- the message composer ----------------------------------------------------------------------


def composer(key: str, value: str = "", disabled: bool = False) -> str:
    """The message text area with its page count, updated as the text is typed."""
    live_typing()
    text = st.text_area(t("message"), value=value, key=f"live_{key}", height=140,
                        disabled=disabled, help=t("composer.help"))  # fmt: skip
    text = text or ""
    count = count_pages(text)
    limit = get_settings().max_pages
    st.caption(page_count_text(count) + " · " + t("composer.limit", n=i18n.num(limit)))
    if text:
        try:
            check_message(text)
        except InputError as exc:
            st.error(str(exc))
    return text


def page_count_text(count: PageCount) -> str:
    return t(
        "composer.count", characters=i18n.num(count.characters), pages=i18n.num(count.pages),
        encoding=t(f"composer.{count.encoding}"),
    )  # fmt: skip


def price_preview(message: str, sources: Sequence[str]) -> None:
    """Live price of a message over recipient lists (repo.price: a dry run, nothing
    written)."""
    if not message.strip():
        return
    try:
        quote = repo.price(message, list(sources))
    except ChaparError:
        return  # the composer already shows what is wrong with the text
    cols = st.columns(3)
    cols[0].metric(t("new.recipients"), i18n.num(quote.recipients))
    cols[1].metric(t("pages"), i18n.num(quote.pages * quote.recipients))
    cols[2].metric(i18n.in_currency(t("cost")), i18n.num(quote.cost))
    if sources:
        cols = st.columns(3)
        cols[0].metric(t("fig.invalid"), i18n.num(quote.invalid))
        cols[1].metric(t("fig.duplicates"), i18n.num(quote.duplicates))
        cols[2].metric(t("fig.blacklisted"), i18n.num(quote.blacklisted))
        if quote.by_operator:
            ops = i18n.join(
                [
                    f"{i18n.operator(op)}: {i18n.num(n)}"
                    for op, n in sorted(quote.by_operator.items())
                ]
            )
            st.caption(f"{t('new.by_operator')}: {ops}")


# --- tables ------------------------------------------------------------------------------------


def localized(frame: pl.DataFrame, columns: dict[str, str] | None = None) -> pl.DataFrame:
    """Column headers in the session's language (``col.<name>`` labels), statuses and
    times readable."""
    out = frame
    if "status" in out.columns:
        out = out.with_columns(pl.col("status").map_elements(i18n.message_state,
                                                             return_dtype=pl.String))  # fmt: skip
    for name in ("sent_at", "status_at", "at"):
        if name in out.columns:
            out = out.with_columns(pl.col(name).map_elements(
                lambda v: i18n.when(v, seconds=True), return_dtype=pl.String))  # fmt: skip
    if "operator" in out.columns:
        out = out.with_columns(
            pl.col("operator").map_elements(i18n.operator, return_dtype=pl.String, skip_nulls=False)
        )
    if "how" in out.columns:
        out = out.with_columns(pl.col("how").map_elements(
            lambda v: t(f"pbl.how.{v}") if i18n.has(f"pbl.how.{v}") else v,
            return_dtype=pl.String))  # fmt: skip
    names = columns or {}
    rename = {
        c: names.get(c) or (t(f"col.{c}") if i18n.has(f"col.{c}") else c) for c in out.columns
    }
    return out.rename(rename)


def table(frame: pl.DataFrame, **kwargs: Any) -> None:
    st.dataframe(frame, hide_index=True, **kwargs)


# --- the Features menu -------------------------------------------------------------------------


def can_archive(c: Campaign) -> rules.ActionCheck:
    if c.is_sending:
        return rules.ActionCheck(False, Reason(Code.SENDING_NOW))
    return rules.ActionCheck(True)


def feature_button(label: str, check: rules.ActionCheck, key: str) -> bool:
    """One entry of the Features menu: a button where the action is allowed, otherwise a
    disabled button with the reason beside it.

    A click made on a page drawn before the campaign changed (a double click, a second
    tab) arrives for an entry that is disabled now: it is still reported as a click, so
    the action runs into the core's own refusal and the user sees why."""
    stale_click = bool(st.session_state.get(key, False))
    if check.allowed:
        return st.button(label, key=key, width="stretch")
    st.button(label, key=key, disabled=True, width="stretch", help=i18n.reason(check.reason))
    st.caption(t("not_allowed", reason=i18n.reason(check.reason)))
    return stale_click


def features_menu(c: Campaign) -> None:
    """امکانات: every action of a campaign, each offered only where it is allowed."""
    k = f"c{c.id}"
    menu = f"features_{k}"
    if st.session_state.pop(f"close_{menu}", False):
        st.session_state[menu] = False  # an action was chosen: the menu closes
    with st.popover(t("features"), icon=":material/menu:", key=menu, on_change="rerun"):
        if feature_button(t("f.edit"), rules.can_edit(c), f"edit_{k}"):
            go("edit", c.id)
        if st.button(t("f.reports"), key=f"reports_{k}", width="stretch"):
            go("reports", c.id)
        if st.button(t("f.blacklist"), key=f"blacklist_{k}", width="stretch"):
            go("blacklist", c.id)
        if feature_button(t("f.send"), rules.can_send(c), f"send_{k}"):
            run_send(c, "start")
        if feature_button(t("f.rebuild"), rules.can_rebuild(c), f"rebuild_{k}"):
            run_send(c, "rebuild")
        if feature_button(t("f.reset"), rules.can_reset(c), f"reset_{k}"):
            st.session_state["confirm_reset"] = c.id
            close_menu(c)
            st.rerun()
        if feature_button(t("f.cut"), rules.can_cut(c), f"cut_{k}"):
            cut(c)
        if feature_button(t("f.archive"), can_archive(c), f"archive_{k}"):
            archive(c, True)
        from dashboards.beyond import features_block  # resend, test send (issue 12)

        features_block(c)


def close_menu(c: Campaign) -> None:
    """Close the campaign's Features menu on the next run (it stays open across reruns)."""
    st.session_state[f"close_features_c{c.id}"] = True


def reset_confirmation(c: Campaign) -> None:
    """Reset asks first: shown under the campaign whose Reset was chosen."""
    if st.session_state.get("confirm_reset") != c.id:
        return
    st.warning(t("reset.confirm", title=c.title))
    yes, no = st.columns(2)
    if yes.button(t("reset.yes"), key=f"reset_yes_c{c.id}", type="primary"):
        st.session_state.pop("confirm_reset", None)
        run_send(c, "reset")
    if no.button(t("cancel"), key=f"reset_no_c{c.id}"):
        st.session_state.pop("confirm_reset", None)
        st.rerun()


def run_send(c: Campaign, mode: data.Mode) -> None:
    """Start/rebuild/reset through :func:`dashboards.data.trigger`, report and rerun."""
    close_menu(c)
    try:
        url = data.trigger(c.id, mode)
    except ChaparError as exc:
        flash("error", str(exc))
    else:
        text = t("done.started", title=c.title, mode=i18n.mode_name(mode))
        if url:
            text += f" [{t('prefect.link')}]({url})"
        flash("success", text)
    st.rerun()


def archive(c: Campaign, archived: bool) -> None:
    close_menu(c)
    try:
        did = repo.set_archived(c.id, archived, actor=data.actor())
    except ChaparError as exc:
        flash("error", str(exc))
    else:
        data.changed()
        if not did:
            flash("info", t("done.already"))
        else:
            flash("success", t("done.archived" if archived else "done.unarchived", title=c.title))
    st.rerun()


def schedule_changed(campaign_id: int) -> None:
    """After a change of schedule: tell Prefect, and say where the schedule lives."""
    where = data.tell_prefect(campaign_id)
    if where is True:
        flash("info", t("schedule.in_prefect"))
    elif where is False:
        flash("warning", t("schedule.db_only"))


def cut(c: Campaign) -> None:
    from chapar.sending import cut_schedule

    close_menu(c)
    try:
        result = cut_schedule(c.id, actor=data.actor())
    except ChaparError as exc:
        flash("error", str(exc))
    else:
        data.changed()
        flash("success", t("done.cut", title=c.title, result=i18n.reason(result)))
        schedule_changed(c.id)
    st.rerun()
