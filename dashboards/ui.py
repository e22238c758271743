"""Pieces every page shares: language and layout, messages that survive a rerun, the
error edge, the campaign picker, the message composer and the Features menu."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jdatetime
import polars as pl
import streamlit as st

from chapar import campaigns as rules
from chapar.campaigns import Campaign, CampaignStatus
from chapar.errors import ChaparError, InputError
from chapar.pages import PageCount, count_pages
from chapar.pricing import Quote, check_message
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
.stApp [data-testid="stDataFrame"], .stApp code, .stApp [data-testid="stCode"] { direction: ltr; }
.stApp [data-testid="stMetricValue"] { direction: rtl; unicode-bidi: plaintext; }
/* The sidebar on the right comes from the flipped layout, but Streamlit hides a collapsed
   sidebar by moving it left: flipped, a strip of it stayed over the page. On a phone, where
   it is an overlay, the layout stays left-to-right (the page and the sidebar's content
   right-to-left); on a wide screen it stays open on the right, with no collapse. */
@media (max-width: 768px) {
  .stApp [data-testid="stAppViewContainer"] { direction: ltr; }
  .stApp [data-testid="stMain"], .stApp [data-testid="stSidebarContent"] { direction: rtl; }
}
@media (min-width: 769px) {
  .stApp [data-testid="stSidebarCollapseButton"] { display: none; }
}
</style>
"""

#: Both languages. A figure is never cut: Streamlit draws a metric's value on one line with
#: an ellipsis, and in a right-to-left page the ellipsis eats the *leading* digits
#: ("…٬۹۹۶"). Values may wrap instead, and their size follows the column's width.
BASE_CSS = """
<style>
[data-testid="stMetricValue"], [data-testid="stMetricValue"] *,
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  overflow: visible !important; text-overflow: clip !important; white-space: normal !important;
  overflow-wrap: anywhere;
}
[data-testid="stMetric"] { container-type: inline-size; }
[data-testid="stMetricValue"] { font-size: clamp(1.2rem, 12cqi, 1.9rem); line-height: 1.3; }
[data-testid="stAppDeployButton"] { display: none; }
.chapar-bar { margin: 0.25rem 0 0.5rem 0; }
.chapar-bar-text { font-size: 0.9rem; margin-bottom: 0.25rem; }
.chapar-track { height: 0.55rem; border-radius: 0.3rem; background: rgba(49, 51, 63, 0.12);
  overflow: hidden; }
.chapar-fill { height: 100%; background: #ff4b4b; border-radius: 0.3rem; }
.chapar-funnel-row { display: grid;
  grid-template-columns: minmax(8rem, 14rem) 1fr minmax(7rem, auto);
  gap: 0.6rem; align-items: center; margin: 0.2rem 0; }
.chapar-funnel-track { height: 1.1rem; background: rgba(49, 51, 63, 0.08); border-radius: 0.2rem; }
.chapar-funnel-fill { height: 100%; border-radius: 0.2rem; }
.chapar-funnel-value { font-variant-numeric: tabular-nums; white-space: nowrap; }
bdi { unicode-bidi: isolate; }
.chapar-figures { display: grid; gap: 1rem; align-items: start; margin: 0.25rem 0; }
.chapar-figure { container-type: inline-size; min-width: 0; }
.chapar-figures-boxed .chapar-figure { border: 1px solid rgba(49, 51, 63, 0.2);
  border-radius: 0.5rem; padding: 1rem; }
.chapar-figure-label { font-size: 0.875rem; line-height: 1.6; margin-bottom: 0.25rem;
  overflow-wrap: anywhere; }
.chapar-figure-value { font-size: clamp(1.2rem, 12cqi, 1.9rem); line-height: 1.3;
  overflow-wrap: anywhere; }
@media (max-width: 640px) {  /* as st.columns stack on a phone */
  .chapar-figures { grid-template-columns: minmax(0, 1fr) !important; }
}
.chapar-badge { display: inline-block; font-size: 0.875rem; line-height: 1.6;
  padding: 0 0.4rem; border-radius: 0.5rem; margin-bottom: 0.25rem; }
.chapar-caption { font-size: 0.875rem; opacity: 0.6; line-height: 1.6; margin: 0.25rem 0; }
.chapar-lang-label { font-size: 0.875rem; line-height: 1.6; margin-bottom: 0.35rem; }
.chapar-lang-options { display: flex; gap: 0.5rem; margin-bottom: 1rem; }
.chapar-lang-option { font-size: 0.875rem; line-height: 1.6; padding: 0.15rem 0.75rem;
  border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 1rem; text-decoration: none;
  color: inherit !important; }
a.chapar-lang-option:hover { border-color: #ff4b4b; color: #ff4b4b !important; }
.chapar-lang-option[aria-current="true"] { border-color: #ff4b4b; font-weight: 600;
  background: rgba(255, 75, 75, 0.1); }
.chapar-card { border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem;
  padding: calc(1rem - 1px); position: relative; }
/* a closed Features menu: Streamlit's secondary button, at the end of the card's title */
.chapar-menu-button { position: absolute; top: calc(1rem - 1px);
  inset-inline-end: calc(1rem - 1px); display: inline-flex; align-items: center;
  gap: 0.375rem; min-height: 2.5rem; padding: 0.25rem 0.75rem; border-radius: 0.5rem;
  border: 1px solid rgba(49, 51, 63, 0.2); background: #fff; color: #31333f !important;
  text-decoration: none !important; font-size: 0.875rem; line-height: 1.6; white-space: nowrap; }
.chapar-menu-button:hover { border-color: #ff4b4b; color: #ff4b4b !important; }
.chapar-icon { font-family: "Material Symbols Rounded"; font-size: 1.125rem; line-height: 1;
  font-weight: 400; font-style: normal; letter-spacing: normal; text-transform: none;
  white-space: nowrap; direction: ltr; font-feature-settings: "liga"; user-select: none; }
/* A home card's Features menu comes just before its card and sits over the end of the card's
   title line: pulled down into the card by its padding (1rem) and up by its own height (a
   button, 2.5rem) and the gap between elements (1rem), so the card keeps the usual gap. */
.stMain [class*="st-key-features_c"] {
  position: relative; z-index: 2; align-self: flex-end;
  margin-block: 1rem -4.5rem; margin-inline-end: calc(1rem - 1px); }
.chapar-card-title { font-weight: 600; min-height: 2.5rem; display: flex; align-items: center;
  padding-inline-end: 8rem; overflow-wrap: anywhere; }
.chapar-h1 { font-size: 2.75rem; font-weight: 700; line-height: 1.2; padding: 1.25rem 0 1rem;
  margin: 0; }
.chapar-h3 { font-size: 1.75rem; font-weight: 600; line-height: 1.2; padding: 1.5rem 0 0.5rem;
  margin: 0; }
</style>
"""

#: The page's script. Streamlit's own words (the file uploader, placeholders, hints) have no
#: parameter to set them; in Persian it rewrites them in the page as they appear (a
#: MutationObserver). A click on the language switch (:func:`language_switch`) or on a
#: closed Features menu (:func:`menu_button_html`) sets ``lang`` / ``features`` in the URL
#: in place and sends the ``popstate`` Streamlit reruns the page on (as after the browser's
#: Back), keeping the session; a click with a modifier key opens the link as usual.
PAGE_JS = """
<script>
(() => {
  window.__chaparLang = "%LANG%";
  if (window.__chaparWords) { window.__chaparWords(document.body); return; }
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element
      && event.target.closest("a[data-chapar-lang], a[data-chapar-menu]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey
        || event.altKey) return;
    event.preventDefault();
    const url = new URL(window.location.href);
    if (link.dataset.chaparLang) {  // a language: a step in the history, as a link is
      url.searchParams.set("lang", link.dataset.chaparLang);
      window.history.pushState(window.history.state, "", url);
    } else {  // a Features menu opens: the page reads the parameter once and drops it
      url.searchParams.set("features", link.dataset.chaparMenu);
      link.setAttribute("aria-expanded", "true");
      window.history.replaceState(window.history.state, "", url);
    }
    window.dispatchEvent(new PopStateEvent("popstate", { state: window.history.state }));
  });
  const fa = (s) => s.replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]);
  const units = { KB: "کیلوبایت", MB: "مگابایت", GB: "گیگابایت" };
  const exact = %EXACT%;
  const patterns = [
    [/^(?:Limit\\s*)?(\\d+)\\s*(KB|MB|GB) per file(.*)$/,
     (m, n, u, rest) => `حداکثر ${fa(n)} ${units[u]} برای هر فایل${rest.replace(/•/g, "،")}`],
    [/^(\\d+)\\s*(KB|MB|GB)$/, (m, n, u) => `${fa(n)} ${units[u]}`],
  ];
  const fixText = (node) => {
    const text = node.nodeValue.trim();
    if (!text) return;
    if (exact[text]) { node.nodeValue = exact[text]; return; }
    for (const [re, f] of patterns) {
      if (re.test(text)) { node.nodeValue = text.replace(re, f); return; }
    }
  };
  const fix = (root) => {
    if (window.__chaparLang !== "fa" || !root) return;
    if (root.nodeType === 3) { fixText(root); return; }
    if (root.nodeType !== 1) return;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) fixText(node);
    root.querySelectorAll("[placeholder]").forEach((el) => {
      const p = exact[el.getAttribute("placeholder")];
      if (p) el.setAttribute("placeholder", p);
    });
  };
  window.__chaparWords = fix;
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "characterData") fix(r.target);
      else if (r.type === "attributes") fix(r.target.parentNode || r.target);
      else r.addedNodes.forEach(fix);
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true,
                              attributes: true, attributeFilter: ["placeholder"] });
  fix(document.body);
})();
</script>
"""

STREAMLIT_WORDS_FA = {
    "Drag and drop file here": "فایل را اینجا رها کنید",
    "Drag and drop files here": "فایل‌ها را اینجا رها کنید",
    "Browse files": "انتخاب فایل",
    "Upload": "انتخاب فایل",
    "Choose options": "انتخاب کنید",
    "Choose an option": "انتخاب کنید",
    "No options to select.": "گزینه‌ای نیست",
    "No results": "چیزی پیدا نشد",
    "Press Enter to apply": "برای ثبت، کلید ورود را بزنید",
    "Press Enter to submit form": "برای ثبت فرم، کلید ورود را بزنید",
    "Press ⌘+Enter to apply": "برای ثبت، کلیدهای کنترل و ورود را بزنید",
    "Press Ctrl+Enter to apply": "برای ثبت، کلیدهای کنترل و ورود را بزنید",
    "View more": "بیشتر",
    "View less": "کمتر",
    "Running...": "در حال اجرا…",
    "Stop": "توقف",
    "Clear all": "پاک کردن همه",
    "Remove": "حذف",
    "Page not found": "صفحه پیدا نشد",  # an old or mistyped link
    "The page that you have requested does not seem to exist. Running the app's main page.": (
        "صفحه‌ای که خواستید وجود ندارد؛ پیشخوان باز شد."
    ),
}

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
    """The فارسی/English switch in the sidebar; Persian by default. The language is kept in
    the URL (``?lang=en``), so a reload or a shared link opens in the same language, and the
    URL decides: a click on the switch changes ``lang`` there.

    Drawn as two links in one HTML block with the app's name, not a radio: a radio made the
    browser load and run seven more chunks of Streamlit's JavaScript on every first render.
    The page's script (:data:`PAGE_JS`) turns a click into a change of the URL in place and
    the ``popstate`` Streamlit answers the browser's Back with, so the page reruns in the
    same session (what was typed stays); without the script the link loads the page anew
    in the other language."""
    wanted = st.query_params.get("lang")
    if wanted in LANGS:
        st.session_state["lang"] = wanted
    elif st.session_state.get("lang") not in LANGS:
        st.session_state["lang"] = i18n.DEFAULT_LANG
    current = st.session_state["lang"]
    if wanted != current:
        st.query_params["lang"] = current
    options = []
    for code in LANGS:
        name = html.escape(LANG_NAMES[code])
        if code == current:
            options.append(f'<span class="chapar-lang-option" aria-current="true" lang="{code}">'
                           f"{name}</span>")  # fmt: skip
        else:
            params = {**st.query_params.to_dict(), "lang": code}
            params.pop(MENU_PARAM, None)
            href = html.escape("?" + urlencode(params))
            options.append(f'<a class="chapar-lang-option" href="{href}" hreflang="{code}" '
                           f'lang="{code}" data-chapar-lang="{code}">{name}</a>')  # fmt: skip
    label = html.escape(t("app.language"))
    caption = html.escape(i18n.join([t("app.name"), t("app.tagline")]))
    st.sidebar.html(
        f'<div class="chapar-lang" data-testid="chaparLanguage">'
        f'<div class="chapar-lang-label">{label}</div>'
        f'<div class="chapar-lang-options" role="group" aria-label="{label}">{"".join(options)}'
        f'</div><div class="chapar-caption">{caption}</div></div>'
    )


def apply_direction() -> None:
    """The page's styles (one block, right to left in Persian) and its script."""
    st.html(BASE_CSS + (RTL_CSS if is_rtl() else ""))
    script = PAGE_JS.replace("%LANG%", i18n.lang()).replace(
        "%EXACT%", json.dumps(STREAMLIT_WORDS_FA, ensure_ascii=False)
    )
    st.html(script, unsafe_allow_javascript=True, width="content")


def live_typing() -> None:
    st.html(LIVE_TYPING_JS, unsafe_allow_javascript=True, width="content")


# --- messages and errors -----------------------------------------------------------------------


def flash(kind: str, text: str) -> None:
    """A message shown once at the top of the next run (after st.rerun / switch_page)."""
    st.session_state.setdefault("flash", []).append((kind, text))


def show_flashes() -> None:
    shown = st.session_state.pop("flash", [])
    # for redraw(), should a card redraw the page moments later
    st.session_state["flash_shown"] = (time.monotonic(), shown)
    for kind, text in shown:
        {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[kind](
            text
        )


def redraw() -> None:
    """Rerun the whole page now, keeping the messages this run showed (a fast send can
    finish, and its card redraw the page, before anyone read "send started")."""
    at, shown = st.session_state.get("flash_shown", (0.0, []))
    kept = shown if time.monotonic() - at < REDRAW_KEEPS_S else []
    st.session_state["flash"] = kept + st.session_state.get("flash", [])
    st.rerun()


#: how recent a message must be for a redraw to show it again
REDRAW_KEEPS_S = 10.0


@contextmanager
def edge() -> Iterator[None]:
    """The page edge: a domain error becomes a clear message, never a traceback."""
    try:
        yield
    except ChaparError as exc:
        st.error(i18n.error(exc))


def labels(options: Sequence[Any], label: Callable[[Any], str]) -> Callable[[Any], str]:
    """A ``format_func`` whose labels are computed now, in this run's language: Streamlit
    may call a format function outside the run (AppTest does), where the session's
    language cannot be read."""
    fixed = {option: label(option) for option in options}
    return lambda option: fixed.get(option, str(option))


# --- navigation and the campaign picker --------------------------------------------------------


def go(page: str, campaign_id: int | None = None) -> None:
    params: dict[str, str] = {"lang": i18n.lang()}
    if campaign_id is not None:
        st.session_state["campaign"] = campaign_id
        params["campaign"] = str(campaign_id)
    st.switch_page(PAGES[page], query_params=params)


def campaign_label(c: Campaign) -> str:
    label = t("campaign.label", id=i18n.digits(str(c.id)), title=i18n.isolate(c.title))
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
    """The campaign's status and why, as the home card draws it: it wraps on a narrow
    screen (st.badge keeps one line and cut the time a waiting run continues)."""
    st.html(badge_html(status_text(c), STATUS_COLORS.get(c.status, "gray")))


# --- inputs in the session's digits --------------------------------------------------------------


def int_input(
    label: str,
    key: str,
    value: int | None = None,
    *,
    placeholder: str | None = None,
    help: str | None = None,
    disabled: bool = False,
    minimum: int = 0,
) -> tuple[int | None, bool]:
    """A whole number typed in Persian or Latin digits (a text field shown in the session's
    digits; Streamlit's number field shows Latin digits only). Returns (value, ok): an
    empty field is (None, True); text that is not a number shows why and is (None, False)."""
    if key not in st.session_state:
        st.session_state[key] = "" if value is None else i18n.digits(str(value))
    raw = st.text_input(label, key=key, placeholder=placeholder, help=help, disabled=disabled)
    try:
        number = i18n.parse_int(raw)
    except ValueError:
        st.error(t("int.bad", value=raw))
        return None, False
    if number is not None and number < minimum:
        st.error(t("int.bad", value=raw))
        return None, False
    return number, True


def pager(pages: int, key: str) -> int:
    """Page n of ``pages``: previous / next and the page number in the session's digits
    (Streamlit's own pagination shows Latin digits)."""
    state = f"{key}_no"
    box = f"{key}_box"
    current = min(max(1, int(st.session_state.get(state, 1))), pages)

    def move(to: int) -> None:
        st.session_state[state] = min(max(1, to), pages)
        st.session_state[box] = i18n.digits(str(st.session_state[state]))

    def typed() -> None:
        try:
            to = i18n.parse_int(st.session_state.get(box)) or 1
        except ValueError:
            to = current
        move(to)

    if box not in st.session_state:
        st.session_state[box] = i18n.digits(str(current))
    prev, number, nxt, where = st.columns([1, 1, 1, 3], vertical_alignment="bottom")
    prev.button(t("pager.prev"), key=f"{key}_prev", disabled=current <= 1,
                on_click=move, args=(current - 1,), width="stretch")  # fmt: skip
    number.text_input(t("pager.page"), key=box, on_change=typed)
    nxt.button(t("pager.next"), key=f"{key}_next", disabled=current >= pages,
               on_click=move, args=(current + 1,), width="stretch")  # fmt: skip
    where.caption(t("pager.of", page=i18n.num(current), pages=i18n.num(pages)))
    return current


def schedule_picker(key: str, default: datetime, disabled: bool = False) -> datetime:
    """A start time: year, month, day (Jalali in Persian, Gregorian in English) and a
    24-hour time, all in Tehran time and the session's digits. Returns an aware datetime."""
    zone = i18n.tz()
    local = default.astimezone(zone)
    persian = i18n.lang() == "fa"
    if persian:
        jd = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
        y0, m0, d0 = jd.year, jd.month, jd.day
        months = i18n.JALALI_MONTHS
    else:
        y0, m0, d0 = local.year, local.month, local.day
        months = i18n.GREGORIAN_MONTHS
    cal = "fa" if persian else "en"
    year_c, month_c, day_c, hour_c, minute_c = st.columns([2, 3, 2, 2, 2])
    years = list(range(y0 - 1, y0 + 3))
    year = year_c.selectbox(t("schedule.year"), years, index=years.index(y0),
                            key=f"{key}_{cal}_y", disabled=disabled,
                            format_func=labels(years, lambda y: i18n.digits(str(y))))  # fmt: skip
    month_nos = list(range(1, 13))
    month = month_c.selectbox(t("schedule.month"), month_nos, index=m0 - 1,
                              key=f"{key}_{cal}_m", disabled=disabled,
                              format_func=labels(month_nos, lambda m: months[m - 1]))  # fmt: skip
    days = list(range(1, _days_in(persian, year, month) + 1))
    day = day_c.selectbox(t("schedule.day"), days, index=min(d0, len(days)) - 1,
                          key=f"{key}_{cal}_d", disabled=disabled,
                          format_func=labels(days, lambda d: i18n.digits(str(d))))  # fmt: skip
    hours = list(range(24))
    two = lambda n: i18n.digits(f"{n:02d}")  # noqa: E731
    hour = hour_c.selectbox(t("schedule.hour"), hours, index=local.hour, key=f"{key}_h",
                            disabled=disabled, format_func=labels(hours, two))  # fmt: skip
    minutes = list(range(0, 60, 5))
    minute = minute_c.selectbox(t("schedule.minute"), minutes,
                                index=min(local.minute // 5, 11), key=f"{key}_min",
                                disabled=disabled, format_func=labels(minutes, two))  # fmt: skip
    day = min(int(day or 1), len(days))
    if persian:
        g: date = jdatetime.date(int(year), int(month), day).togregorian()
    else:
        g = date(int(year), int(month), day)
    return datetime(g.year, g.month, g.day, int(hour), int(minute), tzinfo=zone)


def _days_in(persian: bool, year: int, month: int) -> int:
    if persian:
        if month <= 6:
            return 31
        if month <= 11:
            return 30
        return 30 if jdatetime.date(year, 1, 1).isleap() else 29
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def schedule_note(sender: str, start_at: datetime | None) -> None:
    """When it will send, in words, and a warning when that time is outside the line's
    sending window (the run would wait for the window to open)."""
    if start_at is None:
        return
    st.caption(t("schedule.when", when=i18n.when(start_at)))
    if start_at < datetime.now(i18n.tz()):
        st.warning(t("schedule.past"))
    outside = window_warning(sender, start_at)
    if outside:
        st.warning(outside)


def window_warning(sender: str, start_at: datetime) -> str | None:
    """Why a start time will wait: it is outside the line's sending window (its own window,
    else the setting's); None when it is inside."""
    from chapar.window import next_opening, parse_window

    text = data.line_window(sender)
    try:
        window = parse_window(text)
    except ValueError:
        return None
    opens = next_opening(start_at, window, get_settings().timezone)
    if opens is None:
        return None
    return t("schedule.outside", sender=i18n.digits(sender), window=i18n.digits(text),
             opens=i18n.when(opens))  # fmt: skip


# --- bars drawn in the page's direction --------------------------------------------------------


def progress_html(fraction: float, text: str) -> str:
    """A progress bar that fills from the start of the line: right to left in Persian
    (Streamlit's own bar always fills left to right)."""
    share = max(0.0, min(1.0, fraction))
    direction = "rtl" if is_rtl() else "ltr"
    return (
        f'<div class="chapar-bar" dir="{direction}" data-testid="chaparProgress"'
        f' data-fraction="{share:.4f}">'
        f'<div class="chapar-bar-text">{html.escape(text)}</div>'
        f'<div class="chapar-track" role="progressbar" aria-valuenow="{round(share * 100)}"'
        f' aria-valuemin="0" aria-valuemax="100">'
        f'<div class="chapar-fill" style="width: {share * 100:.2f}%"></div></div></div>'
    )


def progress_bar(fraction: float, text: str, key: str | None = None) -> None:
    """:func:`progress_html` as an element of its own."""
    st.html(progress_html(fraction, text))


FUNNEL_COLORS = ("#7c8db5", "#4a78c2", "#2e9e5b")


def funnel(steps: Sequence[tuple[str, int]]) -> None:
    """planned → handed → delivered as bars in the page's direction, each with its count
    and its share of the first step."""
    top = max(1, steps[0][1]) if steps else 1
    direction = "rtl" if is_rtl() else "ltr"
    rows = []
    for (label, n), color in zip(steps, FUNNEL_COLORS, strict=False):
        share = n / top
        rows.append(
            f'<div class="chapar-funnel-row"><div>{html.escape(label)}</div>'
            f'<div class="chapar-funnel-track"><div class="chapar-funnel-fill" '
            f'style="width: {min(share, 1.0) * 100:.2f}%; background: {color}"></div></div>'
            f'<div class="chapar-funnel-value">{i18n.num(n)} ({i18n.rate(n, top)})</div></div>'
        )
    st.html(f'<div dir="{direction}" data-testid="chaparFunnel">{"".join(rows)}</div>')


# --- figures drawn as one block --------------------------------------------------------------
#
# A page of many st.metric / st.caption / st.badge elements costs the browser more than its
# data: each is a React element with its own styled wrappers, and every label goes through
# Streamlit's Markdown renderer. In the first render of the home page (10 cards) the cards'
# ≈35 elements each were most of the browser's work above an empty page, so a card's body,
# and the report's grids of figures, are drawn as one HTML block each: the same words and
# digits, the look of a metric, values that wrap instead of being cut (BASE_CSS).


class Figure:
    """A labelled value drawn like a metric; ``help`` is its tooltip."""

    __slots__ = ("help", "label", "value")

    def __init__(self, label: str, value: str, help: str | None = None) -> None:
        self.label, self.value, self.help = label, value, help

    def html(self) -> str:
        tip = f' title="{html.escape(self.help)}"' if self.help else ""
        return (
            f'<div class="chapar-figure" data-testid="chaparFigure"{tip}>'
            f'<div class="chapar-figure-label" data-testid="chaparFigureLabel">'
            f"{html.escape(self.label)}</div>"
            f'<div class="chapar-figure-value" data-testid="chaparFigureValue">'
            f"{html.escape(self.value)}</div></div>"
        )


def figures_html(figures: Sequence[Figure], *, columns: int | str = 4, border: bool = False,
                 lead: str = "") -> str:  # fmt: skip
    """A row (or grid) of figures; ``columns`` is a count or a CSS grid template; ``lead``
    is HTML put in the first cell (the home card's progress bar)."""
    template = f"repeat({columns}, minmax(0, 1fr))" if isinstance(columns, int) else columns
    boxed = " chapar-figures-boxed" if border else ""
    cells = ([f"<div>{lead}</div>"] if lead else []) + [f.html() for f in figures]
    return (
        f'<div class="chapar-figures{boxed}" data-testid="chaparFigures" '
        f'style="grid-template-columns: {template}">{"".join(cells)}</div>'
    )


def figures(figures: Sequence[Figure], *, columns: int | str = 4, border: bool = False) -> None:
    """:func:`figures_html` as one element."""
    st.html(figures_html(figures, columns=columns, border=border))


#: a home card's row: the progress bar, then delivered %, resets, pages and cost
CARD_COLUMNS = "4fr 2fr 2fr 2fr 3fr"

#: st.badge's colours (text, background) in Streamlit's light theme
BADGE_COLORS = {
    "gray": ("#31333f", "rgba(49, 51, 63, 0.1)"),
    "blue": ("#0054a3", "rgba(28, 131, 225, 0.1)"),
    "orange": ("#e2660c", "rgba(255, 164, 33, 0.1)"),
    "green": ("#177233", "rgba(33, 195, 84, 0.1)"),
    "red": ("#bd4043", "rgba(255, 75, 75, 0.1)"),
}


def badge_html(text: str, color: str) -> str:
    fg, bg = BADGE_COLORS.get(color, BADGE_COLORS["gray"])
    return (
        f'<span class="chapar-badge" data-testid="chaparBadge" style="color: {fg}; '
        f'background: {bg}">{html.escape(text)}</span>'
    )


def heading_html(text: str, level: int) -> str:
    """A page title (1) or a section heading (3) with the look of st.title / st.subheader."""
    return f'<h{level} class="chapar-h{level}">{html.escape(text)}</h{level}>'


def caption_html(text: str, color: str | None = None) -> str:
    style = f' style="color: {BADGE_COLORS[color][0]}; opacity: 1"' if color in BADGE_COLORS else ""
    return f'<div class="chapar-caption"{style}>{html.escape(text)}</div>'


def bars(rows: Sequence[tuple[str, int]], *, testid: str = "chaparBars",
         color: str = "#4c78a8") -> None:  # fmt: skip
    """Counts as horizontal bars in the page's direction (the report's "by status" chart),
    each with its count and its share of the whole: plain HTML, so the first paint of a
    report loads no chart library (Vega is drawn only when another chart's tab opens)."""
    whole = max(1, sum(n for _, n in rows))
    top = max([1, *(n for _, n in rows)])
    direction = "rtl" if is_rtl() else "ltr"
    cells = "".join(
        f'<div class="chapar-funnel-row"><div>{html.escape(label)}</div>'
        f'<div class="chapar-funnel-track"><div class="chapar-funnel-fill" '
        f'style="width: {n / top * 100:.2f}%; background: {color}"></div></div>'
        f'<div class="chapar-funnel-value">{i18n.num(n)} ({i18n.rate(n, whole)})</div></div>'
        for label, n in rows
    )
    st.html(f'<div dir="{direction}" data-testid="{testid}">{cells}</div>')


# --- the message composer ----------------------------------------------------------------------


def composer(key: str, value: str = "", disabled: bool = False) -> str:
    """The message text area with its page count, updated as the text is typed."""
    live_typing()
    text = st.text_area(t("message"), value=value, key=f"live_{key}", height=140,
                        disabled=disabled, help=t("composer.help"))  # fmt: skip
    text = text or ""
    count = count_pages(text)
    limit = get_settings().max_pages
    st.caption(i18n.join([page_count_text(count), t("composer.limit", n=i18n.num(limit))]))
    if text:
        try:
            check_message(text)
        except InputError as exc:
            st.error(i18n.error(exc))
    return text


def page_count_text(count: PageCount) -> str:
    return t(
        "composer.count", characters=i18n.num(count.characters), pages=i18n.num(count.pages),
        encoding=t(f"composer.{count.encoding}"),
    )  # fmt: skip


def price_preview(
    message: str,
    sources: Sequence[str],
    send_count: int | None = None,
    sender: str | None = None,
    defer_capped: bool = False,
) -> Quote | None:
    """Live price of a message over recipient lists from a sender line, with the send count
    (a dry run, nothing written), priced by the core as ``chapar price`` and sending do
    (:func:`dashboards.data.line_quote`): recipients, pages and cost in total and per
    message beside the credit; the text as sent with the line's opt-out footer; for a
    personalised text the fewest and most pages a recipient and a few rendered samples; what
    the line's opt-outs and frequency cap leave out; the core's refusal of unknown variables
    or missing values; a warning with a link to top up when the credit does not cover it."""
    from dashboards import beyond

    if not message.strip():
        return None
    try:
        check_message(message)
    except ChaparError:
        return None  # the composer already shows what is wrong with the text
    try:
        quote = data.line_quote(message, list(sources), send_count, sender)
    except ChaparError as exc:
        st.error(t("bq.refused", reason=i18n.error(exc)))
        return None
    balance = data.balance()
    cols = st.columns(4)
    cols[0].metric(t("new.recipients"), i18n.num(quote.recipients))
    cols[1].metric(t("pages"), i18n.num(quote.total_pages))
    cols[2].metric(i18n.in_currency(t("cost")), i18n.num(quote.cost))
    cols[3].metric(i18n.in_currency(t("price.balance")), i18n.num(balance))
    if quote.max_pages is None:
        per_message = quote.cost // quote.recipients if quote.recipients else 0
        st.caption(f"{t('price.per_message')}: " + t(
            "price.per_message_value", pages=i18n.num(quote.pages), cost=i18n.num(per_message),
            currency=i18n.currency()))  # fmt: skip
    beyond.as_sent(message, quote, sender)
    if send_count is not None and sources:
        everyone = data.audience(list(sources))
        st.caption(t("price.send_count", n=i18n.num(send_count),
                     all=i18n.num(sum(everyone.by_operator.values()))))  # fmt: skip
    if sources:
        figures = [("fig.invalid", quote.invalid), ("fig.duplicates", quote.duplicates),
                   ("fig.blacklisted", quote.blacklisted)]  # fmt: skip
        if sender and sender.strip():
            figures += [("bq.opted_out", quote.opted_out), ("bq.capped", quote.capped)]
        for col, (label, n) in zip(st.columns(len(figures)), figures, strict=True):
            col.metric(t(label), i18n.num(n))
        beyond.cap_note(quote, sender, defer_capped)
        if quote.by_operator:
            ops = i18n.join(
                [
                    f"{i18n.operator(op)}: {i18n.num(n)}"
                    for op, n in sorted(quote.by_operator.items())
                ]
            )
            st.caption(f"{t('new.by_operator')}: {ops}")
    if quote.cost > balance:
        per = quote.cost / quote.recipients if quote.recipients else 1
        st.warning(t("price.short", cost=i18n.money(quote.cost), balance=i18n.money(balance),
                     covered=i18n.num(int(balance // per) if per else 0),
                     total=i18n.num(quote.recipients)))  # fmt: skip
        st.page_link(PAGES["credit"], label=t("price.topup_link"), icon=":material/payments:",
                     query_params={"lang": i18n.lang()})  # fmt: skip
    return quote


# --- tables ------------------------------------------------------------------------------------

#: Columns holding counts or money: Persian digits (as text) in Persian.
NUMBER_COLUMNS = ("seq", "pages", "cost", "run_no", "amount")


def localized(frame: pl.DataFrame, columns: dict[str, str] | None = None) -> pl.DataFrame:
    """A table in the session's language: headers (``col.<name>`` labels), statuses,
    operators, Tehran times (Jalali in Persian), numbers as people write them (09…), and
    Persian digits in Persian (the columns become text). Empty cells stay empty, never
    "None"."""
    out = frame
    persian = i18n.lang() == "fa"
    if "status" in out.columns:
        out = out.with_columns(pl.col("status").map_elements(i18n.message_state,
                                                             return_dtype=pl.String))  # fmt: skip
    for name in ("sent_at", "status_at", "at"):
        if name in out.columns:
            out = out.with_columns(pl.col(name).map_elements(
                lambda v: i18n.when(v, seconds=True), return_dtype=pl.String,
                skip_nulls=False))  # fmt: skip
    if "operator" in out.columns:
        out = out.with_columns(
            pl.col("operator").map_elements(i18n.operator, return_dtype=pl.String, skip_nulls=False)
        )
    if "number" in out.columns:
        out = out.with_columns(pl.col("number").map_elements(
            lambda v: i18n.digits(i18n.local_number(v)), return_dtype=pl.String,
            skip_nulls=False))  # fmt: skip
    if "provider_id" in out.columns:
        out = out.with_columns(pl.col("provider_id").cast(pl.String).fill_null("")
                               .map_elements(i18n.digits, return_dtype=pl.String))  # fmt: skip
    if persian:
        out = out.with_columns(
            pl.col(c).map_elements(lambda v: i18n.num(v) if v is not None else "",
                                   return_dtype=pl.String, skip_nulls=False)
            for c in NUMBER_COLUMNS if c in out.columns
        )  # fmt: skip
    out = out.with_columns(pl.col(pl.String).fill_null(""))
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


#: The URL parameter a closed Features menu's button sets to open it: ``?features=<id>``.
MENU_PARAM = "features"


def features_menu(c: Campaign) -> str:
    """امکانات: every action of a campaign, each offered only where it is allowed.

    Closed, the menu is a button in the card's own HTML (returned here for the card to
    draw; "" when the menu is drawn open): ten st.popover (each a block with its floating
    layer, icons and a Markdown label, measured by the browser as it is mounted) were a
    good part of the browser's work on a first render of the home page. A click on the
    button sets ``?features=<id>`` in the URL in place (:data:`PAGE_JS`; without the
    script, a link to it), the page reruns and draws the real menu, open, over the card's
    title (the ``st-key-features_c…`` rule of BASE_CSS), with its entries; closing it (a
    click outside, Escape, an action) brings the button back."""
    k = f"c{c.id}"
    menu = f"features_{k}"
    if st.query_params.get(MENU_PARAM) == str(c.id):
        del st.query_params[MENU_PARAM]  # read once: a reload does not open it again
        st.session_state[menu] = True
    if st.session_state.pop(f"close_{menu}", False):
        st.session_state[menu] = False  # an action was chosen: the menu closes
    if not st.session_state.get(menu, False):
        return menu_button_html(c)
    with st.popover(t("features"), icon=":material/menu:", key=menu, on_change="rerun") as popover:
        if not popover.open:
            return ""
        if feature_button(t("f.edit"), rules.can_edit(c), f"edit_{k}"):
            go("edit", c.id)
        if st.button(t("f.reports"), key=f"reports_{k}", width="stretch"):
            go("reports", c.id)
        if st.button(t("f.blacklist"), key=f"blacklist_{k}", width="stretch"):
            go("blacklist", c.id)
        if feature_button(t("f.send"), rules.can_send(c), f"send_{k}"):
            request_send(c, "start")
        if feature_button(t("f.rebuild"), rules.can_rebuild(c), f"rebuild_{k}"):
            request_send(c, "rebuild")
        if feature_button(t("f.reset"), rules.can_reset(c), f"reset_{k}"):
            st.session_state["confirm_send"] = (c.id, "reset")
            close_menu(c)
            st.rerun()
        if feature_button(t("f.cut"), rules.can_cut(c), f"cut_{k}"):
            cut(c)
        if feature_button(t("f.archive"), can_archive(c), f"archive_{k}"):
            archive(c, True)
        from dashboards.beyond import features_block  # resend, test send (issue 12)

        features_block(c)
    return ""


def menu_button_html(c: Campaign) -> str:
    """A closed Features menu: a button with the look of Streamlit's (its icons from the
    same Material Symbols font), a link that opens the menu (:func:`features_menu`)."""
    params = {**st.query_params.to_dict(), MENU_PARAM: str(c.id)}
    href = html.escape("?" + urlencode(params))
    icon = '<span class="chapar-icon" aria-hidden="true" data-testid="stIconMaterial">{}</span>'
    return (
        f'<a class="chapar-menu-button" role="button" href="{href}" data-chapar-menu="{c.id}" '
        f'aria-haspopup="dialog" aria-expanded="false" data-testid="chaparMenuButton">'
        f"{icon.format('menu')}<span>{html.escape(t('features'))}</span>"
        f"{icon.format('expand_more')}</a>"
    )


def close_menu(c: Campaign) -> None:
    """Close the campaign's Features menu on the next run (it stays open across reruns)."""
    st.session_state[f"close_features_c{c.id}"] = True


def request_send(c: Campaign, mode: data.Mode) -> None:
    """Send or rebuild: at once when the credit covers it, else ask first (what the credit
    covers, or top up first). A refused action goes straight to the core's refusal."""
    allowed = data.check_mode(c, mode).allowed
    if allowed and data.estimate(c, mode).short:
        st.session_state["confirm_send"] = (c.id, mode)
        close_menu(c)
        st.rerun()
    run_send(c, mode)


def send_confirmation(c: Campaign) -> None:
    """Shown under the campaign whose Send, Rebuild or Reset needs a choice: a reset always
    asks; any of them asks when the credit does not cover the estimate."""
    asked = st.session_state.get("confirm_send")
    if not asked or asked[0] != c.id:
        return
    mode: data.Mode = asked[1]
    est = data.estimate(c, mode)
    with st.container(border=True, key=f"confirm_c{c.id}"):
        st.markdown(
            f"**{t('send.confirm_title', mode=i18n.mode_name(mode), title=i18n.isolate(c.title))}**"
        )
        if mode == "reset":
            st.warning(t("reset.confirm", title=i18n.isolate(c.title)))
        st.caption(t("send.estimate", messages=i18n.num(est.messages), pages=i18n.num(est.pages),
                     cost=i18n.money(est.cost), balance=i18n.money(est.balance)))  # fmt: skip
        if est.short:
            st.error(t("price.short", cost=i18n.money(est.cost), balance=i18n.money(est.balance),
                       covered=i18n.num(est.covered), total=i18n.num(est.messages)))  # fmt: skip
        go_c, topup_c, no_c = st.columns(3)
        if est.short:
            label = t("send.covered")
        elif mode == "reset":
            label = t("reset.yes")
        else:
            label = t("send.go", mode=i18n.mode_name(mode))
        if go_c.button(label, key=f"{mode}_yes_c{c.id}", type="primary", width="stretch"):
            st.session_state.pop("confirm_send", None)
            run_send(c, mode)
        if est.short:
            topup_c.page_link(PAGES["credit"], label=t("send.topup_first"),
                              icon=":material/payments:",
                              query_params={"lang": i18n.lang()})  # fmt: skip
        if no_c.button(t("cancel"), key=f"{mode}_no_c{c.id}", width="stretch"):
            st.session_state.pop("confirm_send", None)
            st.rerun()


#: The earlier name, kept for callers.
reset_confirmation = send_confirmation


def run_send(c: Campaign, mode: data.Mode) -> None:
    """Start/rebuild/reset through :func:`dashboards.data.trigger`, report and rerun."""
    close_menu(c)
    try:
        url = data.trigger(c.id, mode)
    except ChaparError as exc:
        flash("error", i18n.error(exc))
    else:
        text = t("done.started", title=i18n.isolate(c.title), mode=i18n.mode_name(mode))
        if url:
            text += f" [{t('prefect.link')}]({url})"
        flash("success", text)
    st.rerun()


def archive(c: Campaign, archived: bool) -> None:
    close_menu(c)
    try:
        did = repo.set_archived(c.id, archived, actor=data.actor())
    except ChaparError as exc:
        flash("error", i18n.error(exc))
    else:
        data.changed()
        if not did:
            flash("info", t("done.already"))
        else:
            flash("success", t("done.archived" if archived else "done.unarchived",
                               title=i18n.isolate(c.title)))  # fmt: skip
    st.rerun()


def schedule_changed(campaign_id: int) -> None:
    """After a change of schedule: tell Prefect, and say where the schedule lives."""
    where = data.tell_prefect(campaign_id)
    if where is True:
        flash("info", t("schedule.in_prefect"))
    elif where is False:
        flash("warning", t("schedule.db_only"))


#: What a cut did (the core's answer) -> what the flash says the campaign can do next.
#: What a cut did (the core's outcome code) -> what the flash says was done and comes next.
CUT_OUTCOMES = {
    Code.CANCELLED_NEVER_SENT: "cut.cancelled",
    Code.SCHEDULE_CUT: "cut.unfinished",
    Code.STOPPING: "cut.stopping",
}


def cut(c: Campaign) -> None:
    from chapar.sending import cut_schedule

    close_menu(c)
    try:
        result = cut_schedule(c.id, actor=data.actor())
    except ChaparError as exc:
        flash("error", i18n.error(exc))
    else:
        data.changed()
        key = CUT_OUTCOMES.get(result.code)
        if key:
            flash("success", t(key, title=i18n.isolate(c.title)))
        else:
            flash("success", t("done.cut", title=i18n.isolate(c.title),
                               result=i18n.reason(result)))  # fmt: skip
        if data.tell_prefect(c.id) is False:
            flash("warning", t("schedule.cut_db_only"))
    st.rerun()
