"""Mount the screens on the FastAPI app: static files, pairing and sign-in, and each screen's routes."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from tapzone.web import gates, office, portal, session, till
from tapzone.web.render import STATIC_DIR


def _redirect(request: Request, to: str) -> Response:
    if request.headers.get("hx-request"):
        # An HTMX fragment request cannot follow a 303 into a full page; tell HTMX to navigate instead.
        return Response(status_code=204, headers={"HX-Redirect": to})
    return RedirectResponse(to, status_code=303)


def install_web(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (session, till, gates, office, portal):
        app.include_router(module.router)

    @app.exception_handler(session.NeedsPairing)
    async def _pair_first(request: Request, _: session.NeedsPairing) -> Response:
        return _redirect(request, "/pair")

    @app.exception_handler(session.NeedsSignIn)
    async def _sign_in_first(request: Request, _: session.NeedsSignIn) -> Response:
        return _redirect(request, "/sign-in")

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/till", status_code=303)
