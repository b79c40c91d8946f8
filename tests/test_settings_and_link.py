from datetime import timedelta

import pytest

from clinic import settings, staff_link
from clinic.runtime import Runtime
from tests import factories


def test_sla_settings_default_to_the_environment_and_desk_values_win(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        assert settings.sla(session, runtime.config) == settings.SlaSettings(24.0, (6.0, 2.0), 4.0)
        admin = factories.staff_user(session, now=now, username="admin", role="admin")
        settings.set_sla(session, now=now, staff=admin, hours=8, warn_hours=(1, 3), repeat_hours=2)
        assert settings.sla(session, runtime.config) == settings.SlaSettings(8.0, (3.0, 1.0), 2.0)
        ticket = factories.ticket(session, now=now)
        assert ticket.due_at == now + timedelta(hours=8)


@pytest.mark.parametrize(("hours", "warn", "repeat"), [(0, (1,), 1), (24, (25,), 1), (24, (6,), 0), (10_000, (6,), 4)])
def test_sla_settings_out_of_range_change_nothing(runtime: Runtime, hours: float, warn: tuple, repeat: float) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        admin = factories.staff_user(session, now=now, username="admin", role="admin")
        with pytest.raises(settings.SettingsError):
            settings.set_sla(session, now=now, staff=admin, hours=hours, warn_hours=warn, repeat_hours=repeat)
        assert settings.sla(session, runtime.config).hours == 24.0
    with pytest.raises(settings.SettingsError):
        settings.parse_hours_list("6,abc")


def test_link_code_round_trip(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        agent = factories.staff_user(session, now=now)
        code = staff_link.issue_code(session, agent, now=now)
        assert staff_link.parse_code(f"เชื่อมบัญชี {code}") == code
        assert staff_link.parse_code(f" {code} ") == code
        assert staff_link.parse_code("ขอสอบถาม 123456 เรื่อง") is None
        assert staff_link.redeem(session, code="000000" if code != "000000" else "111111",
                                 line_user_id="Ustaff", now=now) is None  # fmt: skip
        assert staff_link.redeem(session, code=code, line_user_id="Ustaff", now=now) is agent
        assert agent.line_user_id == "Ustaff" and agent.link_code is None
        assert staff_link.redeem(session, code=code, line_user_id="Ustaff", now=now) is None  # one-time


def test_link_code_expires(runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        agent = factories.staff_user(session, now=now)
        code = staff_link.issue_code(session, agent, now=now)
        assert staff_link.redeem(session, code=code, line_user_id="U1", now=now + timedelta(minutes=16)) is None
        assert agent.line_user_id is None
