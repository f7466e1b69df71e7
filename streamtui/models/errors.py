"""Typed provider errors: one family for both SDKs, raised before or during a stream.

Each carries the provider, the HTTP status (``None`` for transport failures), the
provider's own message, and ``retry_after`` seconds when the provider sent one. The SDKs
retry only before the first byte of a response; once a stream has started, a failure is
raised as one of these after the chunks already received were emitted — never retried
silently, because half an answer cannot be un-shown.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "MalformedStreamError",
    "MissingAPIKeyError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "ProviderError",
    "RateLimitError",
    "ServerError",
    "StreamInterruptedError",
    "StreamTimeoutError",
]


class ProviderError(Exception):
    """A model provider refused or failed a request."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
        mid_stream: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retry_after = retry_after
        self.request_id = request_id
        self.mid_stream = mid_stream
        """True when the failure came after the stream had started."""

    def __str__(self) -> str:
        where = f"{self.provider} {self.status}" if self.status else self.provider
        after = f" (retry after {self.retry_after:g}s)" if self.retry_after is not None else ""
        return f"{where}: {self.message}{after}"


class MissingAPIKeyError(ProviderError):
    """No key was given and the environment variable that would hold one is unset."""


class AuthenticationError(ProviderError):
    """401: the key is wrong or revoked."""


class PermissionDeniedError(ProviderError):
    """403: the key may not use this model or endpoint."""


class NotFoundError(ProviderError):
    """404: usually a misspelt model name or a wrong ``base_url``."""


class BadRequestError(ProviderError):
    """400/422: the request itself is invalid (parameters, messages, tools)."""


class RateLimitError(ProviderError):
    """429: too many requests or tokens; ``retry_after`` says when to try again."""


class ServerError(ProviderError):
    """5xx, or an error event the provider sent in the middle of a stream."""


class OverloadedError(ServerError):
    """The provider is overloaded (Anthropic 529 / ``overloaded_error``, OpenAI 503)."""


class StreamInterruptedError(ProviderError):
    """The connection dropped or was reset before the response ended."""


class StreamTimeoutError(ProviderError):
    """No bytes arrived within the read timeout (a stalled stream)."""


class MalformedStreamError(ProviderError):
    """The provider sent a chunk that is not valid JSON or not the expected shape."""


def for_status(status: int | None, *, overloaded: bool = False) -> type[ProviderError]:
    """The error class for an HTTP status."""
    if overloaded or status in (503, 529):
        return OverloadedError
    return {
        400: BadRequestError,
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        422: BadRequestError,
        429: RateLimitError,
    }.get(status or 0, ServerError if (status or 0) >= 500 else ProviderError)
