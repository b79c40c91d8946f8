"""The KPI page, the printable quarterly report, the exports, and `GET /api/v1/kpi`.

A period comes from the query string: `fy` and `q` (a Thai fiscal quarter), `from` and
`to` (any Bangkok days, both included), or `cumulative` (a start day) with `to`. With
none, the current fiscal quarter up to today.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from clinic import audit, kpi, kpi_export, report, thaidate
from clinic.models import StaffUser
from desk import api, openapi
from desk.current import runtime
from desk.i18n import translate

bp = Blueprint("kpi", __name__, url_prefix="/kpi")


def period_from(args: Mapping[str, str], today: date) -> kpi.Period:
    """The period a request asks for; `kpi.KpiError` (Thai first) for a bad one."""
    if args.get("fy") or args.get("q"):
        fy, q = args.get("fy", ""), args.get("q", "")
        if not (fy.isdigit() and q.isdigit()):
            raise kpi.KpiError("ปีงบประมาณและไตรมาสต้องเป็นตัวเลข / The fiscal year and quarter must be numbers")
        if not 2500 <= int(fy) <= 2700:
            raise kpi.KpiError("ปีงบประมาณต้องเป็นปี พ.ศ. เช่น 2570 / The fiscal year is a Buddhist Era year")
        whole = kpi.Period.fiscal_quarter(int(fy), int(q))
        if args.get("to"):  # the quarter so far, as the page shows it by default
            last = _day(args["to"], "to")
            if not whole.first <= last <= whole.last:
                raise kpi.KpiError("วันสิ้นสุดต้องอยู่ในไตรมาส / The end day must fall within the quarter")
            return kpi.Period(whole.first, last, "quarter", whole.fiscal_year_be, whole.quarter)
        return whole
    if args.get("cumulative"):
        start = _day(args["cumulative"], "cumulative")
        last = _day(args["to"], "to") if args.get("to") else today
        return kpi.Period.cumulative(start, last)
    if args.get("from") or args.get("to"):
        return kpi.Period(_day(args.get("from", ""), "from"), _day(args.get("to", ""), "to"))
    year, quarter = thaidate.fiscal_quarter(today)
    first, _ = thaidate.fiscal_quarter_bounds(year, quarter)
    return kpi.Period(first, today, "quarter", year, quarter)


def _day(raw: str, name: str) -> date:
    """A day from the page's fields (`26/11/2569`, Buddhist Era) or a link (`2026-11-26`)."""
    if "/" in raw:
        try:
            day = thaidate.parse_date_numeric(raw)
        except ValueError as exc:
            raise kpi.KpiError(str(exc)) from None
        if day is not None:
            return day
    return kpi.parse_day(raw, name)


def _today() -> date:
    return thaidate.to_local(runtime().clock.now()).date()


def _query(period: kpi.Period) -> dict[str, Any]:
    if period.kind == "quarter" and period.quarter and period.fiscal_year_be:
        query = {"fy": str(period.fiscal_year_be), "q": str(period.quarter)}
        if period.last != thaidate.fiscal_quarter_bounds(period.fiscal_year_be, period.quarter)[1]:
            query["to"] = period.last.isoformat()  # exports and the report cover what the page shows
        return query
    if period.kind == "cumulative":
        return {"cumulative": period.first.isoformat(), "to": period.last.isoformat()}
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


def _quarter_links(today: date) -> list[tuple[str, dict[str, str]]]:
    """The last five fiscal quarters, newest first, and the cumulative figure since the clinic opened."""
    year, quarter = thaidate.fiscal_quarter(today)
    links = []
    for _ in range(5):
        link = {"fy": str(year), "q": str(quarter)}
        if thaidate.fiscal_quarter_bounds(year, quarter)[1] > today:
            link["to"] = today.isoformat()  # the quarter so far
        links.append((f"{translate('Quarter')} {quarter}/{year}", link))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    since = {"cumulative": kpi.CLINIC_OPENED.isoformat(), "to": today.isoformat()}
    links.append((translate("Cumulative since 1 Nov 2563"), since))
    return links


def _error_page(exc: kpi.KpiError) -> tuple[str, int]:
    return render_template("kpi/error.html", message=str(exc), active_nav="kpi"), 400


@bp.get("")
@login_required
def page() -> str | tuple[str, int]:
    today = _today()
    try:
        period = period_from(request.args, today)
    except kpi.KpiError as exc:
        return _error_page(exc)
    rt = runtime()
    with rt.db.transaction() as session:
        figures = kpi.compute(session, period, rt.clock.now())
    return render_template(
        "kpi/page.html", figures=figures, query=_query(period), links=_quarter_links(today), active_nav="kpi",
        today=today, max_month=max((row.consultations for row in figures.by_month), default=0),
    )  # fmt: skip


@bp.get("/report")
@login_required
def printable_report() -> str | tuple[str, int]:
    try:
        period = period_from(request.args, _today())
    except kpi.KpiError as exc:
        return _error_page(exc)
    rt = runtime()
    now = rt.clock.now()
    with rt.db.transaction() as session:
        built = report.build(kpi.compute(session, period, now), now)
    return render_template("kpi/report.html", report=built, query=_query(period))


@bp.get("/export.<fmt>")
@login_required
def export(fmt: str) -> Response | tuple[str, int]:
    if fmt not in kpi_export.MEDIA_TYPES:
        return _error_page(kpi.KpiError("รูปแบบไฟล์ต้องเป็น csv หรือ xlsx / The format must be csv or xlsx"))
    try:
        period = period_from(request.args, _today())
    except kpi.KpiError as exc:
        return _error_page(exc)
    rt = runtime()
    now = rt.clock.now()
    name = kpi_export.file_name(period, fmt)
    with rt.db.transaction() as session:
        staff = session.get(StaffUser, int(current_user.get_id()))
        audit.record(session, now=now, action="kpi.export", staff=staff, target_type="kpi",
                     target_id=f"{period.first}..{period.last}", format=fmt)  # fmt: skip
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":

        def lines() -> Any:
            # One transaction for the whole download, rows fetched in batches as they are sent.
            with rt.db.transaction() as session:
                yield from kpi_export.csv_lines(kpi_export.ticket_rows(session, period, now))

        return Response(stream_with_context(lines()), mimetype=kpi_export.MEDIA_TYPES["csv"], headers=headers)
    buffer = io.BytesIO()
    with rt.db.transaction() as session:
        kpi_export.write_xlsx(buffer, kpi.compute(session, period, now), kpi_export.ticket_rows(session, period, now),
                              kpi_export.offer_rows(session, period))  # fmt: skip
    return Response(buffer.getvalue(), mimetype=kpi_export.MEDIA_TYPES["xlsx"], headers=headers)


@api.bp.get("/kpi")
@api.token_required
def kpi_json() -> Response:
    """The same figures as `clinic kpi --format json`; both days are required and included."""
    unknown = sorted(set(request.args) - {"from", "to"})
    if unknown:
        raise api.ApiError(400, f"ไม่รู้จักพารามิเตอร์ / Unknown parameters: {', '.join(unknown)}")
    if not request.args.get("from") or not request.args.get("to"):
        raise api.ApiError(400, "ต้องระบุ from และ to (YYYY-MM-DD) / from and to (YYYY-MM-DD) are required")
    try:
        period = kpi.Period.parse(request.args["from"], request.args["to"])
    except kpi.KpiError as exc:
        raise api.ApiError(400, str(exc)) from None
    rt = runtime()
    with rt.db.transaction() as session:
        figures = kpi.compute(session, period, rt.clock.now())
    response = jsonify(figures.to_dict())
    response.headers["Link"] = f'<{url_for("kpi.printable_report", **_query(period))}>; rel="alternate"'
    return response


openapi.PATHS["/kpi"] = {
    "get": {
        "summary": "The two KPIs and their breakdowns for a period of Bangkok days (both included)",
        "description": "The same figures as `clinic kpi --format json`. KPI 1 = completed within SLA_HOURS × 100 / "
        "consultations whose outcome is known (open tickets still within their deadline are `pending`, and questions "
        "the requester withdrew before their deadline are `withdrawn`, both apart). "
        "KPI 2 = respondents answering 4 or 5 on `overall` × 100 / respondents. Percentages: one decimal, half up. "
        "Questions the knowledge base answered at once in the chat are apart from both KPIs: `self_served`, "
        "`deflection_percent` (self-served × 100 / (self-served + consultations)) and `self_service`.",
        "parameters": [
            {
                "name": "from",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "format": "date"},
                "description": "First day, YYYY-MM-DD (Gregorian), Bangkok time",
            },
            {
                "name": "to",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "format": "date"},
                "description": "Last day, YYYY-MM-DD (Gregorian), Bangkok time, included",
            },
        ],  # fmt: skip
        "responses": {
            "200": {"description": "The figures", "content": {"application/json": {"schema": {"type": "object"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
        },
    }
}
