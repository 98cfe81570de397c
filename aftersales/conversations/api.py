"""Messages and the bell over HTTP: a case's or a complaint's conversation (read, write with
photos, mark read), a message's photo, and the caller's notices. Scoped as the subject: the
customer their own, staff their shops'."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from aftersales.conversations import bell, selectors, services
from aftersales.conversations.models import Message
from aftersales.core.errors import InvalidInput
from aftersales.core.schemas import (
    ERROR_RESPONSES,
    BodyBool,
    BodyId,
    Id,
    Input,
    Output,
    refuse_unknown_parameters,
)

router = Router(tags=["messages"])


class PhotoOut(Output):
    id: int
    width: int
    height: int
    url: str
    thumbnail_url: str


class MessageOut(Output):
    id: int
    direction: Literal["in", "out"]
    author: str
    text: str
    created_at: dt.datetime
    photos: list[PhotoOut]


class ThreadOut(Output):
    items: list[MessageOut]
    unread: int


class ReadOut(Output):
    unread: int


def present_message(message: Message) -> dict:
    return {
        "id": message.id,
        "direction": message.direction,
        "author": message.author_name,
        "text": message.text,
        "created_at": message.created_at,
        "photos": [
            {
                "id": photo.id,
                "width": photo.width,
                "height": photo.height,
                "url": f"/api/v1/messages/photos/{photo.id}",
                "thumbnail_url": f"/api/v1/messages/photos/{photo.id}?thumbnail=true",
            }
            for photo in message.photos.all()
        ],
    }


def _thread(request: HttpRequest, subject_type: str, number: str) -> dict:
    view = selectors.thread_get(actor=request.auth, subject_type=subject_type, number=number)
    return {"items": [present_message(m) for m in view.messages], "unread": view.unread}


def _post(request, subject_type: str, number: str, text: str, photos, template_id) -> Status:
    message = services.message_post(
        actor=request.auth,
        subject_type=subject_type,
        number=number,
        text=text,
        photos=photos or [],
        template_id=template_id,
    )
    return Status(201, present_message(message))


def _read(request: HttpRequest, subject_type: str, number: str) -> dict:
    services.thread_read(actor=request.auth, subject_type=subject_type, number=number)
    return {"unread": 0}


@router.get("/cases/{number}/messages", response={200: ThreadOut, **ERROR_RESPONSES})
def list_case_messages(request: HttpRequest, number: str):
    """The case's conversation, oldest first, and how many messages the caller's side has not
    read."""
    return _thread(request, "case", number)


@router.post("/cases/{number}/messages", response={201: MessageOut, **ERROR_RESPONSES})
def post_case_message(
    request: HttpRequest,
    number: str,
    text: Form[str] = "",
    template_id: Form[Id | None] = None,
    photos: File[list[UploadedFile]] = None,
):
    """A message on the case (multipart: ``text``, up to three ``photos``; staff may name a
    reply ``template_id``): from the customer when a customer sends it, else from the shop."""
    return _post(request, "case", number, text, photos, template_id)


@router.post("/cases/{number}/messages/read", response={200: ReadOut, **ERROR_RESPONSES})
def read_case_messages(request: HttpRequest, number: str):
    """The caller's side has read the case's conversation (staff read it for their team)."""
    return _read(request, "case", number)


@router.get("/complaints/{number}/messages", response={200: ThreadOut, **ERROR_RESPONSES})
def list_complaint_messages(request: HttpRequest, number: str):
    return _thread(request, "complaint", number)


@router.post("/complaints/{number}/messages", response={201: MessageOut, **ERROR_RESPONSES})
def post_complaint_message(
    request: HttpRequest,
    number: str,
    text: Form[str] = "",
    photos: File[list[UploadedFile]] = None,
):
    """A message on the complaint (multipart: ``text``, up to three ``photos``)."""
    return _post(request, "complaint", number, text, photos, None)


@router.post("/complaints/{number}/messages/read", response={200: ReadOut, **ERROR_RESPONSES})
def read_complaint_messages(request: HttpRequest, number: str):
    return _read(request, "complaint", number)


PHOTO_ANSWER = {
    "responses": {
        200: {
            "description": "The photo or its thumbnail (JPEG)",
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/messages/photos/{photo_id}",
    response={200: None, **ERROR_RESPONSES},
    openapi_extra=PHOTO_ANSWER,
)
def get_message_photo(request: HttpRequest, photo_id: Id, thumbnail: bool = False):
    """A message's photo, for those who may see its case or complaint."""
    photo = selectors.photo_get(actor=request.auth, photo_id=photo_id)
    stored = photo.thumbnail if thumbnail else photo.file
    response = FileResponse(stored.open("rb"), content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


# --- the bell ------------------------------------------------------------------------------------


class NoticeOut(Output):
    id: int
    kind: str
    summary: str
    subject_type: str
    number: str
    url: str
    created_at: dt.datetime
    is_read: bool
    is_personal: bool


class NoticePage(Output):
    items: list[NoticeOut]
    unread: int


class NoticesReadIn(Input):
    ids: list[BodyId] | None = Field(None, max_length=200)
    all: BodyBool = False


class NoticesReadOut(Output):
    read: int
    unread: int


class NoticeQuery(Schema):
    unread: bool = False


@router.get("/me/notices", response={200: NoticePage, **ERROR_RESPONSES})
def list_my_notices(request: HttpRequest, query: Query[NoticeQuery]):
    """The caller's bell: notices to them, and to their shops' staff (or leads), of the last 30
    days, newest first (``unread=true``: only those not read yet). A customer's are empty."""
    refuse_unknown_parameters(request, NoticeQuery)
    actor = request.auth
    items = bell.bell_items(actor, unread_only=query.unread)
    return {
        "items": [{**item.__dict__, "created_at": item.at} for item in items],
        "unread": bell.unread_count(actor),
    }


@router.post("/me/notices/read", response={200: NoticesReadOut, **ERROR_RESPONSES})
def read_my_notices(request: HttpRequest, payload: NoticesReadIn):
    """Mark notices read: ``{"ids": [...]}`` (a notice not in the caller's bell is refused and
    nothing is marked) or ``{"all": true}``."""
    actor = request.auth
    if payload.ids is None and not payload.all:
        raise InvalidInput(_("Name the notices, or say all."), code="ids_required", field="ids")
    read = bell.notices_read(actor=actor, ids=None if payload.all else payload.ids)
    return {"read": read, "unread": bell.unread_count(actor)}
