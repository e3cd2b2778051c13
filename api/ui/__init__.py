"""The browser UI under ``/ui/``: server-rendered pages for reviewers and invited candidates
(Jinja2, no script, a strict CSP), static files under a content hash."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from api.ui import candidate, pages, sessions
from api.ui.render import Renderer
from api.ui.sessions import SignInRequired, UiError

_static = APIRouter(prefix="/ui/static", include_in_schema=False)


@_static.get("/{digest}/{name}")
def static_file(digest: str, name: str, request: Request) -> Response:
    """CSS and the icon, cached for a year: a new content gets a new URL."""
    found = pages.renderer(request).static.get(name)
    if found is None or found.digest != digest:
        return Response("not found", status_code=404, media_type="text/plain")
    return Response(
        found.body,
        media_type=found.media_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


async def _ui_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UiError)
    user = None
    try:
        user = sessions.current(pages.services(request), request)
    except Exception:  # noqa: BLE001 - an error page must render even when the database is down
        user = None
    return pages.page(request, user, "error.html", status=exc.status, message=exc.message)


async def _sign_in(request: Request, _: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = "/ui/challenges"
    return RedirectResponse(f"/ui/sign-in?next={quote(target, safe='/')}", status_code=303)


def install(app: FastAPI) -> None:
    """Add the pages, the static files and the UI's error pages to ``app``."""
    app.state.ui = Renderer()
    app.include_router(_static)
    app.include_router(pages.router)
    app.include_router(candidate.router)
    app.add_exception_handler(UiError, _ui_error)
    app.add_exception_handler(SignInRequired, _sign_in)
