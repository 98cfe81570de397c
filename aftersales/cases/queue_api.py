"""The queue over HTTP: the CSV export of a view of the queue (the desk's parameters, the same
rows in the same order as on screen) and the caller's saved views. Registered before the case
router, so ``/cases/export.csv`` is not read as a case number."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from urllib.parse import urlencode

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from aftersales.cases import queue
from aftersales.cases.choices import CaseKind, CaseState, Reason
from aftersales.core import clock
from aftersales.core.exports import CSV_OPENAPI, csv_response
from aftersales.core.schemas import ERROR_RESPONSES, Id, Input, Output, refuse_unknown_parameters

router = Router(tags=["queue"])

TabCode = Literal["pending", "to_return", "receiving", "to_refund", "overdue", "all"]
SortCode = Literal[
    "deadline", "-deadline", "created", "-created", "amount", "-amount", "updated", "-updated"
]


class QueueQuery(Schema):
    tab: TabCode = "all"
    sort: SortCode = "deadline"
    state: list[CaseState] | None = None
    kind: CaseKind | None = None
    reason: Reason | None = None
    shop: str | None = Field(None, max_length=40)
    due: Literal["today", "overdue"] | None = None
    flagged: bool = False
    mine: bool = False
    sla: Literal["breached", "warned", "running", "met"] | None = None
    q: str | None = Field(None, max_length=100)


def _parameters(query: QueueQuery) -> dict:
    values = query.model_dump(exclude_none=True)
    values["flagged"] = "1" if values.get("flagged") else ""
    values["mine"] = "1" if values.get("mine") else ""
    return {name: value for name, value in values.items() if value not in ("", None)}


@router.get("/cases/export.csv", response={200: None, **ERROR_RESPONSES}, openapi_extra=CSV_OPENAPI)
def export_cases(request: HttpRequest, query: Query[QueueQuery]):
    """A view of the desk's queue as CSV (its tab, filters and sort; at most 10 000 rows):
    translated headers, words for codes, times in each shop's time zone."""
    refuse_unknown_parameters(request, QueueQuery)
    actor = request.auth
    view = queue.queue_parameters(_parameters(query), actor)
    header, rows = queue.export_table(actor=actor, view=view)
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    return csv_response(filename=f"cases-{stamp}.csv", header=header, rows=rows)


class SavedViewIn(Input):
    name: str = Field(min_length=1, max_length=60)
    query: dict[str, str | list[str] | bool] = Field(default_factory=dict, max_length=20)


class SavedViewOut(Output):
    id: int
    name: str
    query: dict
    url: str
    created_at: dt.datetime


class SavedViewPage(Output):
    items: list[SavedViewOut]


def present_view(saved) -> dict:
    return {
        "id": saved.id,
        "name": saved.name,
        "query": saved.query,
        "url": f"/desk/?{urlencode(saved.query, doseq=True)}",
        "created_at": saved.created_at,
    }


@router.get("/me/views", response={200: SavedViewPage, **ERROR_RESPONSES})
def list_my_views(request: HttpRequest):
    """The caller's saved views of the queue (a customer has none)."""
    return {"items": [present_view(saved) for saved in queue.saved_views_for(request.auth)]}


@router.post("/me/views", response={201: SavedViewOut, **ERROR_RESPONSES})
def create_my_view(request: HttpRequest, payload: SavedViewIn):
    """Save a view of the queue: a name and the queue's parameters (``tab``, ``sort``, ``state``,
    ``kind``, ``reason``, ``shop``, ``due``, ``flagged``, ``mine``, ``q``). Staff only."""
    saved = queue.saved_view_create(actor=request.auth, name=payload.name, query=payload.query)
    return Status(201, present_view(saved))


@router.delete("/me/views/{view_id}", response={204: None, **ERROR_RESPONSES})
def delete_my_view(request: HttpRequest, view_id: Id):
    queue.saved_view_delete(actor=request.auth, view_id=view_id)
    return Status(204, None)
