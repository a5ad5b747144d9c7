"""The page (``/``), its static assets, figure specs, compliance timelines and HTML reports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from service import usecases
from service.deps import ContextDep
from service.presenters.json import plan_dict
from service.presenters.reasons import STATUS_ZH, reason_text
from service.usecases import IsoDate, PurchasePlan
from service.web import charts
from service.web.assets import STATIC_DIR, plotly_js_path
from service.web.compare import MAX_PLANS, compare_table
from service.web.report import render_report_bytes
from service.web.status import DataBadge, badge_from_status
from service.web.view import plan_view

page_router = APIRouter(include_in_schema=False)
router = APIRouter(tags=["web"])

Lang = Annotated[Literal["en", "zh"], Query(description="Label language of figures and reports.")]


@page_router.get("/")
def index() -> FileResponse:
    """The planner page."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@page_router.get("/static/vendor/plotly.min.js")
def plotly_bundle() -> FileResponse:
    """plotly.js from the installed plotly package (served locally: no CDN is needed)."""
    return FileResponse(plotly_js_path(), media_type="text/javascript")


class FiguresCreate(BaseModel):
    """Body of ``POST /v1/web/figures``."""

    model_config = ConfigDict(extra="forbid")
    plan: PurchasePlan


class OptionText(BaseModel):
    """A considered option's status and reason worded in the page's language."""

    status: str
    reason: str


class Figures(BaseModel):
    """Plotly figure specs for a plan, and the considered options' wording in the page's language."""

    cost: dict[str, Any]
    pareto: dict[str, Any]
    considered: list[OptionText] = Field(default_factory=list, description="Same order as the plan's `considered`.")
    risk: dict[str, Any] | None = Field(None, description="Outcome per scenario, today's plan beside the hedged plan "
                                        "(only for a plan with a `risk` block).")


@router.post("/v1/web/figures", response_model=Figures)
def create_figures(body: FiguresCreate, lang: Lang = "en") -> Figures:
    """Cost-breakdown and Pareto figures (Plotly specs) for a purchase plan, and its options' reasons in ``lang``."""
    plan = body.plan.model_dump(mode="json")
    words = [OptionText(status=STATUS_ZH.get(o.status, o.status) if lang == "zh" else o.status,
                        reason=reason_text(o.why, o.reason, lang)) for o in body.plan.considered]
    return Figures(cost=charts.cost_breakdown(plan, lang), pareto=charts.pareto(plan, lang), considered=words,
                   risk=charts.risk_outcomes(plan, lang) if plan.get("risk") else None)


class PagePlan(PurchasePlan):
    """A purchase plan as the API returned it, keeping fields a newer core adds (``break_even``, ``data``)."""

    model_config = ConfigDict(frozen=True, extra="allow")


class PlanViewCreate(BaseModel):
    """Body of ``POST /v1/web/plan-view``: the plan, and the request that produced it (for its buyer and date)."""

    model_config = ConfigDict(extra="forbid")
    plan: PagePlan
    request: dict[str, Any] | None = None


def _buyer(request: dict[str, Any] | None) -> dict[str, Any]:
    buyer = (request or {}).get("buyer")
    return buyer if isinstance(buyer, dict) else {}


def _rule_notes(ctx: usecases.AppContext, plan: PurchasePlan, request: dict[str, Any] | None,
                lang: str) -> dict[str, str]:
    """The plan's rule warnings (``sku: text``) worded in ``lang`` from their codes, for the buyer of ``request``."""
    buyer = _buyer(request)
    if lang != "zh" or not buyer.get("country"):
        return {}
    out: dict[str, str] = {}
    for sku in dict.fromkeys(i.sku for i in plan.items):
        try:
            result = usecases.check_compliance(ctx, sku, buyer_country=str(buyer["country"]),
                                               date=buyer.get("date") or None,
                                               buyer_kind=str(buyer.get("kind") or "commercial"))
        except (usecases.OptimizerError, ValueError):  # a request the page did not send: keep the English notes
            return out
        for warning in result.warnings:
            out[f"{sku}: {warning.text}"] = f"{sku}：{reason_text(warning.why, warning.text, lang)}"
    return out


@router.post("/v1/web/plan-view")
def create_plan_view(body: PlanViewCreate, ctx: ContextDep, lang: Lang = "en") -> dict[str, Any]:
    """A plan as the page shows it, in ``lang``.

    Headline, key figures, cost lines, schedule, parts, the considered options (decisive ones first, with break-even
    prices when the plan has them), notes, risk and figures, all worded in ``lang``.
    """
    raw = body.plan.model_dump(mode="json")
    start = _buyer(body.request).get("date")
    return plan_view(body.plan, raw, lang, start=str(start) if start else None,
                     known_notes=_rule_notes(ctx, body.plan, body.request, lang))


class ComparedPlan(BaseModel):
    """One plan of a comparison, with the label the page gave it and the data date it was made with."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field("", max_length=200)
    plan: PagePlan
    data_as_of: str | None = Field(None, max_length=40)


class CompareCreate(BaseModel):
    """Body of ``POST /v1/web/compare``: two or three plans."""

    model_config = ConfigDict(extra="forbid")
    plans: list[ComparedPlan] = Field(min_length=1, max_length=MAX_PLANS)


class CompareRow(BaseModel):
    """One compared figure: its label, one cell per plan, whether they differ and which plans do best."""

    key: str
    label: str
    cells: list[str]
    differs: bool
    best: list[int]


class Comparison(BaseModel):
    """Plans side by side (``columns`` are their labels)."""

    columns: list[str]
    rows: list[CompareRow]


def _entries(plans: list[ComparedPlan]) -> list[dict[str, Any]]:
    return [{"label": p.label, "plan": p.plan.model_dump(mode="json"), "data_as_of": p.data_as_of} for p in plans]


@router.post("/v1/web/compare", response_model=Comparison)
def create_comparison(body: CompareCreate, lang: Lang = "en") -> Comparison:
    """Two or three plans side by side: parts, counts, cost lines, days, risks and data age, differences marked."""
    return Comparison.model_validate(compare_table(_entries(body.plans), lang))


@router.get("/v1/web/data-status", response_model=DataBadge)
def read_data_badge(ctx: ContextDep, lang: Lang = "en") -> DataBadge:
    """The page's "data as of" badge: the date the data in use is current to, its age and whether it is stale."""
    return badge_from_status(usecases.data_status(ctx), lang)


class Passage(BaseModel):
    """A cited passage shown in a report."""

    model_config = ConfigDict(extra="ignore")
    title: str = Field("", max_length=500)
    date: str | None = Field(None, max_length=40)
    text: str = Field("", max_length=20_000)
    quote: str | None = Field(None, max_length=20_000)
    doc_id: str | None = Field(None, max_length=500)


class ReportCreate(BaseModel):
    """Body of ``POST /v1/reports``: the plan, the request that produced it, and cited passages."""

    model_config = ConfigDict(extra="forbid")
    plan: PagePlan
    request: dict[str, Any] | None = None
    citations: list[Passage] = Field(default_factory=list, max_length=50)
    compare: list[ComparedPlan] = Field(default_factory=list, max_length=MAX_PLANS,
                                        description="Plans to show side by side in the memo.")


@router.post("/v1/reports", response_class=HTMLResponse, tags=["reports"])
def create_report(body: ReportCreate, ctx: ContextDep, lang: Lang = "en") -> HTMLResponse:
    """A self-contained HTML memo of the plan (plots, considered options, citations) that opens offline."""
    plan = {**body.plan.model_dump(mode="json"), **plan_dict(body.plan, lang)}
    html = render_report_bytes(
        plan,
        request=body.request,
        citations=[c.model_dump() for c in body.citations],
        lang=lang,
        data_version=usecases.data_version(ctx),
        compare=_entries(body.compare),
    )
    return HTMLResponse(html, headers={"content-disposition": 'attachment; filename="procure-plan.html"'})


class Timeline(BaseModel):
    """Verdicts of one part by destination and date, with its heat-map figure."""

    sku: str
    name: str
    dates: list[str]
    rows: list[dict[str, Any]]
    figure: dict[str, Any]


@router.get("/v1/compliance/timeline", response_model=Timeline, tags=["compliance"])
def read_compliance_timeline(
    ctx: ContextDep,
    sku: Annotated[str, Query(min_length=1, max_length=64)],
    countries: Annotated[str, Query(min_length=2, max_length=200, description="Comma-separated ISO codes.")] = "CN",
    start: IsoDate | None = None,
    end: IsoDate | None = None,
    lang: Lang = "en",
) -> Timeline:
    """Verdict of a part for each destination, month by month (July 2022 to today by default)."""
    timeline = usecases.compliance_timeline(ctx, sku, countries.split(","), start=start, end=end)
    data = timeline.model_dump(mode="json")
    return Timeline(**data, figure=charts.compliance_timeline(data, lang))


class JobFigures(BaseModel):
    """Plots of a batch job: the winning part per cell and the cost/time curves by budget."""

    winner: dict[str, Any]
    curves: dict[str, Any]
    axes: list[str]


def _axis(axes: list[str], preferred: tuple[str, ...], *, exclude: str | None = None) -> str | None:
    for name in preferred:
        if name in axes and name != exclude:
            return name
    return next((a for a in axes if a != exclude), None)


@router.get("/v1/web/jobs/{job_id}/figures", response_model=JobFigures, tags=["jobs"])
def read_job_figures(request: Request, job_id: Annotated[str, Path(max_length=64)], lang: Lang = "en") -> JobFigures:
    """Heat map of the winning part (budget down, date or country across) and cost/time curves of a job."""
    from service.api.ownership import guard_job
    from service.jobs.manage import rows

    store = getattr(request.app.state, "job_store", None)
    if store is None:
        raise HTTPException(503, "the job store is unavailable")
    owner = guard_job(request, store, job_id)  # another key's job is 404, as in /v1/jobs
    axes = list(store.status(job_id, owner=owner).axes)
    results = list(rows(store, job_id, owner=owner))
    y_key = _axis(axes, ("budget.amount",)) or "budget.amount"
    x_key = _axis(axes, ("buyer.date", "buyer.country", "objective"), exclude=y_key) or "buyer.date"
    series = x_key if x_key in axes and x_key != y_key else None
    return JobFigures(
        winner=charts.winner_heatmap(results, lang, x_key=x_key, y_key=y_key),
        curves=charts.budget_curves(results, lang, budget_key=y_key, series_key=series),
        axes=axes,
    )
