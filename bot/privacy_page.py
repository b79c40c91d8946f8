"""The public privacy notice at /privacy: Thai first, English second, as an admin last saved it."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from clinic import privacy
from clinic.runtime import Runtime


def register(bp: Blueprint) -> None:
    @bp.get("/privacy")
    def privacy_notice() -> str:
        runtime: Runtime = current_app.extensions["clinic"]
        with runtime.db.transaction() as session:
            notice = privacy.notice(session)
        return render_template("bot/privacy.html", notice=notice)
