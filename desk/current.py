"""The request's runtime and signed-in staff member, as the desk's views need them."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user
from sqlalchemy.orm import Session

from clinic.models import StaffUser
from clinic.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["clinic"]


def staff_in(session: Session) -> StaffUser:
    """The signed-in staff member, loaded in `session` so services can link rows to them."""
    staff = session.get(StaffUser, int(current_user.get_id()))
    assert staff is not None
    return staff
