"""The welcome and the ticket confirmation state the deadline in words from the settings in force."""

from __future__ import annotations

import pytest

from clinic import settings
from clinic.runtime import Runtime
from tests import factories
from tests.test_conversation import intake, send, texts


@pytest.mark.parametrize(
    ("hours", "thai", "english", "due"),
    [
        (None, "1 วัน", "1 day", "26 พ.ย. 2569 10:00 น."),  # the environment's 24 hours
        (48.0, "2 วัน", "2 days", "27 พ.ย. 2569 10:00 น."),
        (4.0, "4 ชั่วโมง", "4 hours", "25 พ.ย. 2569 14:00 น."),
        (1.5, "1 ชั่วโมง 30 นาที", "1 hour 30 minutes", "25 พ.ย. 2569 11:30 น."),
        (0.05, "3 นาที", "3 minutes", "25 พ.ย. 2569 10:03 น."),
    ],
)
def test_welcome_and_confirmation_state_the_deadline_in_words(
    runtime: Runtime, hours: float | None, thai: str, english: str, due: str
) -> None:
    if hours is not None:  # an admin's setting, over the environment's default
        with runtime.db.transaction() as session:
            admin = factories.staff_user(session, now=runtime.clock.now(), username="admin", role="admin")
            settings.set_sla(session, now=runtime.clock.now(), staff=admin, hours=hours, warn_hours=(),
                             repeat_hours=1.0)  # fmt: skip
    welcome = texts(send(runtime, "D1", kind="follow"))
    assert f"เจ้าหน้าที่จะตอบภายใน {thai}\n" in welcome and f"Staff answer within {english}." in welcome
    send(runtime, "D1", "2")
    send(runtime, "D1", "พระนคร")
    send(runtime, "D1", "ข้าม")
    send(runtime, "D1", "ข้าม")
    send(runtime, "D1", "1")
    confirmation = texts(send(runtime, "D1", "ขอสอบถามเรื่องหนังสือเวียน"))
    assert f"เจ้าหน้าที่จะตอบภายใน {thai} คือภายใน {due}\n" in confirmation
    assert f"Staff answer within {english}, by " in confirmation
    assert "0.05" not in confirmation and "1 วัน (24 ชั่วโมง)" not in confirmation


def test_a_returning_requester_sees_the_current_setting(runtime: Runtime) -> None:
    intake(runtime, "D2")
    with runtime.db.transaction() as session:
        admin = factories.staff_user(session, now=runtime.clock.now(), username="admin", role="admin")
        settings.set_sla(session, now=runtime.clock.now(), staff=admin, hours=8.0, warn_hours=(2.0,), repeat_hours=1.0)
    send(runtime, "D2", "1")
    assert "เจ้าหน้าที่จะตอบภายใน 8 ชั่วโมง คือภายใน 25 พ.ย. 2569 18:00 น." in texts(send(runtime, "D2", "ถามเรื่องงานพิธี"))
