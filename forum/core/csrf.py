"""Cross-site request forgery: every request that changes state carries a token that only
this site's pages give out, tied to the browser and to its sign-in, whatever other headers
it carries; and where the browser says where the request comes from (`Origin`,
`Sec-Fetch-Site`), it must come from this site.

A browser gets a random id in a cookie (`candor_csrf`, HttpOnly) the first time a page with a
form is rendered for it. A form's token is an HMAC of that id and the session cookie, so a
token copied from another browser or another sign-in is worthless, and signing in or out
changes it. Forms send it as the `csrftoken` field; scripts as the `X-CSRFToken` header."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

COOKIE = "candor_csrf"
FIELD = "csrftoken"
HEADER = "x-csrftoken"


class CsrfTokens:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"candor csrf\x00" + secret.encode()).digest()

    @staticmethod
    def new_browser_id() -> str:
        return secrets.token_urlsafe(24)

    def token(self, browser_id: str, session: str | None) -> str:
        message = f"{browser_id}\x00{session or ''}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def valid(self, browser_id: str | None, session: str | None, token: str | None) -> bool:
        if not browser_id or not token or len(token) > 200 or len(browser_id) > 100:
            return False
        return hmac.compare_digest(self.token(browser_id, session), token)


def same_origin(request: Request, base_url: str = "") -> bool:
    """False when the browser says the request comes from another site: an `Origin` other
    than the address it was sent to (or the configured base URL), or `Sec-Fetch-Site:
    cross-site`. Requests that say nothing (older browsers, scripts) are judged by their
    token alone."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":  # sandboxed frames, some redirects: not this site's pages
        return False
    here = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
    allowed = {here}
    if base_url:
        base = urlsplit(base_url)
        allowed.add(f"{base.scheme}://{base.netloc}".lower())
    return origin.rstrip("/").lower() in allowed
