"""The desk's pages."""

from flask import Blueprint

bp = Blueprint("desk", __name__, template_folder="templates", static_folder="static", static_url_path="/desk/static")


@bp.get("/")
def index() -> str:
    return (
        "<!doctype html><html lang='th'><meta charset='utf-8'><title>คลินิกให้คำปรึกษา</title>"
        "<h1>คลินิกให้คำปรึกษาการปฏิบัติงานออนไลน์ 24 ชั่วโมง</h1><p>BMA 24-hour consultation clinic</p></html>"
    )
