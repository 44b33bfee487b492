"""What campaigns are measured with: contacts (CSV upload), won deals (entered or
uploaded), conversion definitions and costs (CSV upload).  Uploads accept a file or
pasted text, UTF-8 or Windows-1252 (what French spreadsheets write), up to 5 MB; the
result names every bad line and field.  Changing anything needs the admin or marketer
role, except recording a won deal, which sales reps may do too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from webleads.campaigns.contacts import import_contacts
from webleads.campaigns.conversions import validate as validate_conversion
from webleads.campaigns.costs import import_costs
from webleads.campaigns.deals import DealRefused, add_deal, import_deals
from webleads.db import campaigns as db
from webleads.db import contacts_import as contacts_db
from webleads.db.engine import read_only
from webleads.users import Role
from webleads.web import campaign_views as v
from webleads.web.campaign_forms import MAX_UPLOAD, field_errors, line_error, plain
from webleads.web.page import Ctx, HTTPProblem, workspace_ctx

router = APIRouter(include_in_schema=False)
CtxDep = Annotated[Ctx, Depends(workspace_ctx)]
WRITERS: tuple[Role, ...] = ("admin", "marketer")
PAGE = 100


class UploadProblem(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def _upload(ctx: Ctx, form: FormData) -> str:
    """The text of the uploaded file, or of the pasted text."""
    item = form.get("file")
    raw = b""
    if isinstance(item, UploadFile):
        try:
            raw = await item.read(MAX_UPLOAD + 1)
        finally:
            await item.close()
    pasted = form.get("text")
    if not raw and isinstance(pasted, str):
        raw = pasted.encode("utf-8")
    if not raw.strip():
        raise UploadProblem(plain(ctx.t("Choose a CSV file, or paste its lines.")))
    if len(raw) > MAX_UPLOAD:
        raise UploadProblem(plain(ctx.t("The file is larger than 5 MB: split it.")))
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UploadProblem(plain(ctx.t("The file is neither UTF-8 nor Windows-1252 text: save it "
                                  "as CSV (UTF-8) and try again.")))


def _checked(form: FormData, name: str) -> bool:
    return form.get(name) in ("1", "on", "true", "yes")


# -- contacts -------------------------------------------------------------------------------

def _contacts(ctx: Ctx, *, q: str = "", page: int = 1, status: int = 200,
              **extra: Any) -> Response:
    with read_only(ctx.engine) as conn:
        rows = contacts_db.list_contacts(conn, ctx.workspace_id,
                                         search=q, limit=PAGE + 1, offset=(page - 1) * PAGE)
        counts = contacts_db.count_contacts(conn, ctx.workspace_id)
    return ctx.render("campaigns/contacts.html", status=status, tab="contacts",
                      contacts=rows[:PAGE], more=len(rows) > PAGE, page=page, q=q,
                      counts=counts, can_edit=ctx.can(*WRITERS), **extra)


@router.get("/w/{ws}/campaigns/contacts")
def contacts_page(ctx: CtxDep, q: Annotated[str | None, Query(max_length=200)] = None,
                  page: Annotated[str | None, Query(max_length=10)] = None) -> Response:
    number = 1
    if page not in (None, ""):
        if not page.isdigit() or not 1 <= int(page) <= 100_000:
            raise HTTPProblem(400, plain(ctx.t("Page: give a page number from 1.")))
        number = int(page)
    return _contacts(ctx, q=(q or "").strip(), page=number)


@router.post("/w/{ws}/campaigns/contacts")
async def upload_contacts(ctx: CtxDep, request: Request) -> Response:
    ctx.require(*WRITERS)
    form = await request.form()
    skip = _checked(form, "skip_invalid")
    try:
        text = await _upload(ctx, form)
    except UploadProblem as exc:
        return _contacts(ctx, status=400, upload_error=exc.message, skip=skip)
    with ctx.engine.begin() as conn:
        result = import_contacts(conn, ctx.workspace_id, text, now=datetime.now(UTC),
                                 skip_invalid=skip)
    problems = [line_error(ctx.t, e) for e in result.errors]
    if result.errors and not skip:
        return _contacts(ctx, status=400, problems=problems, result=result, skip=skip)
    done = plain(ctx.t("%(lines)s lines read: %(created)s contacts added, %(updated)s updated, "
                     "%(attached)s attached to their account.",
                     lines=ctx.t.number(result.lines), created=ctx.t.number(result.created),
                     updated=ctx.t.number(result.updated),
                     attached=ctx.t.number(result.attached)))
    if problems:
        return _contacts(ctx, problems=problems, result=result, done=done, skip=skip)
    return ctx.redirect("/campaigns/contacts", flash=done)


# -- won deals ------------------------------------------------------------------------------

def _deals(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    with read_only(ctx.engine) as conn:
        deals = db.list_deals(conn, ctx.workspace_id, limit=500)
        campaigns = db.list_campaigns(conn, ctx.workspace_id)
    extra.setdefault("values", {"day": datetime.now(UTC).date().isoformat(), "account": "",
                                "email": "", "amount": "", "currency": "EUR", "campaign": "",
                                "note": ""})
    extra.setdefault("errors", {})
    return ctx.render("campaigns/deals.html", status=status, tab="deals", deals=deals,
                      campaigns=campaigns, can_import=ctx.can(*WRITERS), **extra)


@router.get("/w/{ws}/campaigns/deals")
def deals_page(ctx: CtxDep) -> Response:
    return _deals(ctx)


@router.post("/w/{ws}/campaigns/deals")
async def add_won_deal(ctx: CtxDep, request: Request) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip()[:1000]
              for k in ("day", "account", "email", "amount", "currency", "campaign", "note")}
    cells = dict(values)
    if cells["campaign"]:
        with read_only(ctx.engine) as conn:
            known = {str(c.id) for c in db.list_campaigns(conn, ctx.workspace_id)}
        if cells["campaign"] not in known:
            raise HTTPProblem(404, plain(ctx.t("This campaign does not exist in this "
                                             "workspace.")))
    try:
        with ctx.engine.begin() as conn:
            made = add_deal(conn, ctx.workspace_id, cells, now=datetime.now(UTC))
    except DealRefused as exc:
        return _deals(ctx, status=400, values=values, errors=field_errors(ctx.t, exc.problems))
    return ctx.redirect("/campaigns/deals", flash=plain(ctx.t(
        "Deal of %(amount)s saved.", amount=ctx.t.money(made.amount_cents, made.currency))))


@router.post("/w/{ws}/campaigns/deals/import")
async def upload_deals(ctx: CtxDep, request: Request) -> Response:
    ctx.require(*WRITERS)
    form = await request.form()
    skip = _checked(form, "skip_invalid")
    try:
        text = await _upload(ctx, form)
    except UploadProblem as exc:
        return _deals(ctx, status=400, upload_error=exc.message, skip=skip)
    with ctx.engine.begin() as conn:
        result = import_deals(conn, ctx.workspace_id, text, now=datetime.now(UTC),
                              skip_invalid=skip)
    problems = [line_error(ctx.t, e) for e in result.errors]
    if result.errors and not skip:
        return _deals(ctx, status=400, problems=problems, skip=skip)
    done = plain(ctx.t("%(lines)s lines read: %(added)s deals added, %(known)s already there.",
                     lines=ctx.t.number(result.lines), added=ctx.t.number(result.added),
                     known=ctx.t.number(result.known)))
    if problems:
        return _deals(ctx, problems=problems, done=done, skip=skip)
    return ctx.redirect("/campaigns/deals", flash=done)


@router.post("/w/{ws}/campaigns/deals/{deal_id}/delete")
def delete_deal(ctx: CtxDep, deal_id: int) -> Response:
    ctx.require(*WRITERS)
    with ctx.engine.begin() as conn:
        gone = db.delete_deal(conn, ctx.workspace_id, deal_id)
    if not gone:
        raise HTTPProblem(404, plain(ctx.t("This deal does not exist in this workspace.")))
    return ctx.redirect("/campaigns/deals", flash=plain(ctx.t("Deal deleted.")))


# -- conversion definitions -----------------------------------------------------------------

def _conversions(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    with read_only(ctx.engine) as conn:
        found = db.list_definitions(conn, ctx.workspace_id)
    extra.setdefault("values", {"name": "", "kind": "event", "value": ""})
    extra.setdefault("errors", {})
    return ctx.render("campaigns/conversions.html", status=status, tab="conversions",
                      definitions=found, kinds=v.kind_names(ctx.t),
                      can_edit=ctx.can(*WRITERS), **extra)


@router.get("/w/{ws}/campaigns/conversions")
def conversions_page(ctx: CtxDep) -> Response:
    return _conversions(ctx)


@router.post("/w/{ws}/campaigns/conversions")
async def add_conversion(ctx: CtxDep, request: Request) -> Response:
    ctx.require(*WRITERS)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip()[:600] for k in ("name", "kind", "value")}
    t = ctx.t
    try:
        name, kind, value = validate_conversion(values["name"], values["kind"], values["value"])
        with ctx.engine.begin() as conn:
            db.insert_definition(conn, ctx.workspace_id, name=name, kind=kind, value=value,
                                 now=datetime.now(UTC))
    except ValueError as exc:
        field = str(exc).split(":", 1)[0]
        message = {
            "name": t("Another conversion already has this name.") if "already" in str(exc)
            else t("Give a name of 1 to 100 characters."),
            "kind": t("Choose a kind."),
            "value": t("For an event, its name; for a page, a path such as /thanks* or an "
                       "address; for a form, its name or *; for a stage, mql, sql, "
                       "opportunity or customer."),
        }.get(field, t("Check this value."))
        return _conversions(ctx, status=400, values=values,
                            errors={field if field in values else "value": str(message)})
    return ctx.redirect("/campaigns/conversions", flash=plain(t(
        "Conversion %(name)s added: campaign pages count it now.", name=name)))


@router.post("/w/{ws}/campaigns/conversions/{definition_id}/delete")
def delete_conversion(ctx: CtxDep, definition_id: int) -> Response:
    ctx.require(*WRITERS)
    with ctx.engine.begin() as conn:
        gone = db.delete_definition(conn, ctx.workspace_id, definition_id)
    if not gone:
        raise HTTPProblem(404, plain(ctx.t("This conversion does not exist in this workspace.")))
    return ctx.redirect("/campaigns/conversions", flash=plain(ctx.t("Conversion removed.")))


# -- costs ----------------------------------------------------------------------------------

def _costs(ctx: Ctx, *, status: int = 200, **extra: Any) -> Response:
    with read_only(ctx.engine) as conn:
        campaigns = db.list_campaigns(conn, ctx.workspace_id)
        spent = db.costs_by_campaign(conn, [c.id for c in campaigns])
    return ctx.render("campaigns/costs.html", status=status, tab="costs",
                      campaigns=[(c, spent.get(c.id, 0)) for c in campaigns],
                      can_edit=ctx.can(*WRITERS), **extra)


@router.get("/w/{ws}/campaigns/costs")
def costs_page(ctx: CtxDep) -> Response:
    return _costs(ctx)


@router.post("/w/{ws}/campaigns/costs")
async def upload_costs(ctx: CtxDep, request: Request) -> Response:
    ctx.require(*WRITERS)
    form = await request.form()
    try:
        text = await _upload(ctx, form)
    except UploadProblem as exc:
        return _costs(ctx, status=400, upload_error=exc.message)
    with ctx.engine.begin() as conn:
        result = import_costs(conn, ctx.workspace_id, text, now=datetime.now(UTC))
    if result.errors:
        return _costs(ctx, status=400, problems=[line_error(ctx.t, e) for e in result.errors])
    totals = ", ".join(ctx.t.money(c, k) for k, c in sorted(result.total_cents.items()))
    return ctx.redirect("/campaigns/costs", flash=plain(ctx.t(
        "%(lines)s lines read: %(days)s daily amounts saved (%(totals)s).",
        lines=ctx.t.number(result.lines), days=ctx.t.number(result.days), totals=totals or "–")))
