"""Signing in and out, roles, the language switch, and linking a staff member's LINE account.

Roles: `agent` answers (reply, note, claim, correct the classification, close);
`supervisor` also assigns to others and reopens; `admin` also runs the admin pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from clinic import audit, staff, staff_link
from clinic.models import StaffUser
from desk import login_throttle
from desk.current import runtime, staff_in
from desk.i18n import LANGUAGES, translate

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
login_manager.login_message = "กรุณาเข้าสู่ระบบ / Please log in"
login_manager.login_message_category = "error"

ROLE_RANK = {"agent": 0, "supervisor": 1, "admin": 2}
View = TypeVar("View", bound=Callable[..., Any])


@dataclass
class SignedInStaff(UserMixin):
    """What a request knows about its staff member; the row itself is loaded per transaction."""

    id: int
    username: str
    display_name: str
    role: str
    locale: str

    def get_id(self) -> str:
        return str(self.id)

    def can(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]

    @property
    def is_admin(self) -> bool:
        return self.can("admin")

    @classmethod
    def of(cls, row: StaffUser) -> SignedInStaff:
        return cls(row.id, row.username, row.display_name or row.username, row.role, row.locale or "th")


@login_manager.user_loader
def load_staff(user_id: str) -> SignedInStaff | None:
    if not user_id.isdigit():
        return None
    with runtime().db.transaction() as session:
        row = session.get(StaffUser, int(user_id))
        # A deactivated account loses its open sessions at their next request.
        return SignedInStaff.of(row) if row is not None and row.active else None


def requires(role: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def _safe_next(target: str | None) -> str:
    """Only a path on this site, so the login form cannot bounce staff to another host."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    rt = runtime()
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    if login_throttle.is_locked(rt, address, username):
        flash("ลองเข้าสู่ระบบผิดหลายครั้ง กรุณารอ 15 นาที / Too many failed logins; wait 15 minutes", "error")
        return render_template("login.html", next=request.form.get("next", "")), 429
    now = rt.clock.now()
    with rt.db.transaction() as db:
        row = staff.authenticate(db, username, password)
        if row is None:
            audit.record(db, now=now, action="staff.login_failed", actor=username[:100] or "?", address=address)
        else:
            row.last_login_at = now
            audit.record(db, now=now, action="staff.login", staff=row, address=address)
            signed_in = SignedInStaff.of(row)
    if row is None:
        login_throttle.record_failure(rt, address, username)
        flash("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง / Wrong username or password", "error")
        return render_template("login.html", next=request.form.get("next", "")), 401
    login_throttle.clear(rt, address, username)
    lang = session.get("lang")
    session.clear()  # a fresh session on sign-in: no fixation
    if lang:
        session["lang"] = lang
    login_user(signed_in)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
@login_required
def logout() -> Response:
    rt = runtime()
    with rt.db.transaction() as db:
        audit.record(db, now=rt.clock.now(), action="staff.logout", staff=staff_in(db))
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language() -> Response:
    chosen = request.form.get("lang", "th")
    if chosen not in LANGUAGES:
        abort(400)
    session["lang"] = chosen
    if current_user.is_authenticated:
        with runtime().db.transaction() as db:
            staff_in(db).locale = chosen
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/account/line", methods=["GET", "POST"])
@login_required
def line_link() -> str:
    rt = runtime()
    code = None
    with rt.db.transaction() as db:
        me = staff_in(db)
        if request.method == "POST":
            code = staff_link.issue_code(db, me, now=rt.clock.now())
        linked = me.line_user_id is not None
    return render_template("line_link.html", code=code, linked=linked, title=translate("Link your LINE account"))
