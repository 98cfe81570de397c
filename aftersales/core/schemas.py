"""Bases for API bodies and answers: plain pydantic models.

ninja's ``Schema`` wraps every value in an ORM-friendly getter, which cost a third of a queue
request and most of an order import's validation. Bodies and answers here are dicts or model
attributes, so plain pydantic does; query-parameter groups keep ``ninja.Schema``.
"""

from pydantic import BaseModel, ConfigDict


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Input(BaseModel):
    """A request body; unknown fields are ignored, as ninja's Schema does."""
