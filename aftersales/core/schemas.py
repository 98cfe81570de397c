"""Base for API answers.

Answers are plain pydantic models built from the presenters' dicts (or read from model
attributes): ninja's ``Schema`` wraps every input in an ORM-friendly getter, which cost a third
of a queue request; inputs keep ``ninja.Schema``.
"""

from pydantic import BaseModel, ConfigDict


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)
