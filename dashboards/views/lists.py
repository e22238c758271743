"""لیست‌های مخاطبان — Recipient lists (upload and import) and the telecom blacklist."""

from __future__ import annotations

import polars as pl
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from chapar.errors import ChaparError
from chapar.store import repo
from dashboards import data, i18n, ui
from dashboards.i18n import t

FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "xls", "xlsm", "xlsb", "ods"]


def samples(rows: list[tuple[int, str]]) -> None:
    if rows:
        st.caption(t("lists.samples"))
        ui.table(pl.DataFrame({t("lists.line"): [i18n.num(n) for n, _ in rows],
                               t("lists.raw"): [raw for _, raw in rows]}))  # fmt: skip


def _upload_id(upload: UploadedFile) -> str:
    return str(getattr(upload, "file_id", None) or f"{upload.name}:{upload.size}")


def _keep_typed_name(upload: UploadedFile | None) -> None:
    """A new file names the list only when no name was typed (issue 11: a typed name is
    never replaced by the file's)."""
    if upload is None:
        return
    if st.session_state.get("list_name_file") != _upload_id(upload):
        st.session_state["list_name_file"] = _upload_id(upload)
        if not str(st.session_state.get("list_name", "")).strip():
            st.session_state["list_name"] = upload.name.rsplit(".", 1)[0]


def _delimiter(value: str | None) -> str:
    if value is None:
        return t("imp.delim.none")
    return t("imp.delim.tab") if value == "\t" else f"« {value} »"


def show_preview(p: repo.ListPreview) -> None:
    """How the file is read and what the import would do: the import's own computation
    (repo.preview_list: read, staged and counted, without the copy into the list)."""
    st.markdown(f"**{t('imp.preview')}** — `{p.file}`")
    if p.kind == "excel":
        how = t("imp.how_excel", sheet=p.sheet, sheets="، ".join(p.sheets) if i18n.lang() == "fa"
                else ", ".join(p.sheets))  # fmt: skip
    else:
        how = t("imp.how_text", encoding=p.encoding, delimiter=_delimiter(p.delimiter))
    header = (t("imp.header", line=i18n.num(p.header_line)) if p.header_line
              else t("imp.no_header"))  # fmt: skip
    attrs = "، ".join(p.attributes) if i18n.lang() == "fa" else ", ".join(p.attributes)
    # "؛" / ";" between the parts: a middle dot reads as the Persian zero (issue 11)
    parts = [how, header, t("imp.number_column", column=p.number_column),
             t("imp.attributes", columns=attrs or t("imp.none"))]  # fmt: skip
    st.caption(("؛ " if i18n.lang() == "fa" else "; ").join(parts))
    cols = st.columns(5)
    cols[0].metric(t("imp.rows"), i18n.num(p.total))
    cols[1].metric(t("imp.valid"), i18n.num(p.valid))
    cols[2].metric(t("imp.invalid"), i18n.num(p.invalid))
    cols[3].metric(t("imp.duplicates"), i18n.num(p.duplicates))
    cols[4].metric(t("imp.blacklisted"), i18n.num(p.blacklisted))
    st.caption(t("imp.first_rows"))
    first = p.first_rows  # labels made here: polars' threads cannot read the session's language
    ui.table(pl.DataFrame({
        t("lists.line"): [i18n.num(n) for n in first["line_no"]],
        t("imp.as_written"): first["raw"].to_list(),
        t("imp.number"): ["" if n is None else i18n.digits(str(n)) for n in first["number"]],
        **{c: first[c].to_list() for c in first.columns[3:]},
    }, schema_overrides={c: pl.String for c in first.columns[3:]}))  # fmt: skip
    samples(p.invalid_samples)


def _preview(upload: UploadedFile, column: str | None, sheet: str | None,
             accept_invalid: bool) -> repo.ListPreview:  # fmt: skip
    """The preview of this upload and options, computed once (a rerun for a keystroke in
    the name field reuses it)."""
    key = (_upload_id(upload), column, sheet, accept_invalid, data_version())
    cached = st.session_state.get("list_preview")
    if cached is not None and cached[0] == key:
        return cached[1]
    upload.seek(0)
    with data.saved_upload(upload.name, upload) as path:
        preview = repo.preview_list(path, column, sheet=sheet, accept_invalid=accept_invalid)
    st.session_state["list_preview"] = (key, preview)
    return preview


def data_version() -> int:
    """Changes after every import, so a preview's blacklist count is never stale."""
    return int(st.session_state.get("imports_done", 0))


def import_list() -> None:
    st.subheader(t("lists.import"))
    upload = st.file_uploader(t("lists.file"), type=FILE_TYPES, key="list_file")
    _keep_typed_name(upload)
    name = st.text_input(t("lists.name"), key="list_name", help=t("imp.name_help"))
    left, right = st.columns(2)
    column = left.text_input(t("lists.column"), key="list_column", help=t("lists.column_help"))
    sheet = right.text_input(t("imp.sheet"), key="list_sheet", help=t("imp.sheet_help"))
    replace = st.checkbox(t("lists.replace"), key="list_replace")
    accept_invalid = st.checkbox(t("imp.accept_invalid"), key="list_accept_invalid")
    options = (column.strip() or None, sheet.strip() or None)
    preview = None
    if upload is not None:
        try:
            preview = _preview(upload, *options, accept_invalid)
        except ChaparError as exc:
            st.error(exc.text(i18n.lang()))
            return
        show_preview(preview)
        if preview.refusal is not None:
            st.error(preview.refusal.text(i18n.lang()))
    refused = preview is not None and preview.refusal is not None
    if st.button(t("imp.confirm"), type="primary", key="list_import", disabled=refused,
                 icon=":material/upload:"):  # fmt: skip
        if upload is None:
            st.warning(t("lists.need_file"))
            return
        list_name = name.strip() or upload.name.rsplit(".", 1)[0]
        try:
            upload.seek(0)
            with data.saved_upload(upload.name, upload) as path:
                result = repo.import_list(
                    list_name, path, options[0], sheet=options[1], replace=replace,
                    accept_invalid=accept_invalid,
                )  # fmt: skip
        except ChaparError as exc:
            st.error(exc.text(i18n.lang()))
            return
        st.session_state["imports_done"] = data_version() + 1
        data.changed()
        st.success(t("lists.imported", name=result.name, total=i18n.num(result.total),
                     valid=i18n.num(result.valid), invalid=i18n.num(result.invalid),
                     duplicates=i18n.num(result.duplicates)))  # fmt: skip


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
                    upload.seek(0)
                    with data.saved_upload(upload.name, upload) as path:
                        result = repo.import_blacklist(path, column.strip() or None)
                except ChaparError as exc:
                    st.error(exc.text(i18n.lang()))
                else:
                    st.session_state["imports_done"] = data_version() + 1  # previews recount
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
