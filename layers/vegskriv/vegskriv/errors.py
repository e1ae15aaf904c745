"""Domain errors. The API maps each to one HTTP status in one place (api/app.py)."""


class VegskrivError(Exception):
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(VegskrivError):
    status = 400


class Forbidden(VegskrivError):
    status = 403


class NotFound(VegskrivError):
    status = 404


class Conflict(VegskrivError):
    status = 409


class PayloadTooLarge(VegskrivError):
    status = 413


class UnsupportedMediaType(VegskrivError):
    status = 415


class NotAcceptable(VegskrivError):
    status = 406


class Unprocessable(VegskrivError):
    status = 422


class Unavailable(VegskrivError):
    """Briefly unreadable (e.g. a stored document in the middle of being rewritten): try again."""

    status = 503


class TransitionRefused(Exception):
    """A conditional state change lost: the changeset was not in a state it may leave that way."""
