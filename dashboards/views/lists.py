"""لیست‌های مخاطبان — Recipient lists (upload and import) and the telecom blacklist."""

from __future__ import annotations

import polars as pl
import streamlit as st

from chapar.errors import ChaparError
from chapar.store import repo
from dashboards import data, i18n, ui
from dashboards.i18n import t

FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "xls", "xlsm"]


def samples(rows: list[tuple[int, str]]) -> None:
    if rows:
        st.caption(t("lists.samples"))
        ui.table(pl.DataFrame({t("lists.line"): [i18n.num(n) for n, _ in rows],
                               t("lists.raw"): [raw for _, raw in rows]}))  # fmt: skip


def import_list() -> None:
    st.subheader(t("lists.import"))
    upload = st.file_uploader(t("lists.file"), type=FILE_TYPES, key="list_file")
    default_name = upload.name.rsplit(".", 1)[0] if upload is not None else ""
    name = st.text_input(t("lists.name"), value=default_name, key=f"list_name_{default_name}")
    column = st.text_input(t("lists.column"), key="list_column", help=t("lists.column_help"))
    replace = st.checkbox(t("lists.replace"), key="list_replace")
    if st.button(t("lists.do_import"), type="primary", key="list_import", icon=":material/upload:"):
        if upload is None:
            st.warning(t("lists.need_file"))
            return
        try:
            with data.saved_upload(upload.name, upload) as path:
                result = repo.import_list(name, path, column.strip() or None, replace=replace)
        except ChaparError as exc:
            st.error(str(exc))
            return
        data.changed()
        st.success(t("lists.imported", name=result.name, total=i18n.num(result.total),
                     valid=i18n.num(result.valid), invalid=i18n.num(result.invalid),
                     duplicates=i18n.num(result.duplicates)))  # fmt: skip
        samples(result.invalid_samples)


def existing() -> None:
    st.subheader(t("lists.existing"))
    infos = repo.lists()
    if not infos:
        st.caption(t("rows.none"))
        return
    ui.table(pl.DataFrame({
        t("lists.name"): [i.name for i in infos],
        t("lists.source_file"): [i.source_file or "" for i in infos],
        t("created_at"): [i18n.when(i.created_at) for i in infos],
        t("lists.total"): [i18n.num(i.total_rows) for i in infos],
        t("lists.valid"): [i18n.num(i.valid) for i in infos],
        t("lists.invalid"): [i18n.num(i.invalid) for i in infos],
        t("lists.duplicates"): [i18n.num(i.duplicates) for i in infos],
    }))  # fmt: skip


def blacklist() -> None:
    st.subheader(t("bl.title"))
    size = st.empty()  # filled last, so an import made below shows in it at once
    with st.expander(t("bl.import")):
        upload = st.file_uploader(t("lists.file"), type=FILE_TYPES, key="bl_file")
        column = st.text_input(t("lists.column"), key="bl_column", help=t("lists.column_help"))
        if st.button(t("lists.do_import"), key="bl_import", icon=":material/upload:"):
            if upload is None:
                st.warning(t("lists.need_file"))
            else:
                try:
                    with data.saved_upload(upload.name, upload) as path:
                        result = repo.import_blacklist(path, column.strip() or None)
                except ChaparError as exc:
                    st.error(str(exc))
                else:
                    data.changed()
                    st.success(t("bl.imported", added=i18n.num(result.added),
                                 already=i18n.num(result.already),
                                 invalid=i18n.num(result.invalid)))  # fmt: skip
                    samples(result.invalid_samples)
    with st.form("bl_check_form", border=False):
        raw = st.text_input(t("bl.check"), key="bl_check")
        if st.form_submit_button(t("bl.check_do")) and raw.strip():
            try:
                number, entry = repo.blacklist_check(raw)
            except ChaparError as exc:
                st.error(str(exc))
            else:
                shown = i18n.digits(str(number))
                if entry is None:
                    st.success(t("bl.not_listed", number=shown))
                else:
                    st.warning(t("bl.listed", number=shown, source=entry.source,
                                 when=i18n.when(entry.added_at)))  # fmt: skip
    size.metric(t("bl.size"), i18n.num(repo.blacklist_size()))


st.title(t("lists.title"))
with ui.edge():
    import_list()
    existing()
    st.divider()
    blacklist()
