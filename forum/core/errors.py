"""Domain errors: services raise them, and one place (forum.core.web.view) turns an error a
view did not handle itself into a response with the error's status and message."""

from __future__ import annotations

from collections.abc import Mapping

ERROR_TITLES = {
    400: "That request could not be used",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Changed meanwhile",
    413: "Too large",
    429: "Slow down",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


class DomainError(ValueError):
    """A rule was broken. `field` names the form field at fault, if any; `status` is the HTTP
    status a request that ends with this error gets."""

    status = 400

    def __init__(
        self,
        field: str,
        message: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str) -> None:
        super().__init__("", message)


class Forbidden(DomainError):
    status = 403

    def __init__(self, message: str) -> None:
        super().__init__("", message)


class Conflict(DomainError):
    status = 409

    def __init__(self, message: str) -> None:
        super().__init__("", message)
