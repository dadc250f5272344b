"""One small error tree. Each error knows its `ErrorDetail` and its HTTP status."""

from __future__ import annotations

from typing import Any, ClassVar

from common.models.actions import ErrorDetail, ErrorType


class NoobleError(Exception):
    error_type: ClassVar[ErrorType] = ErrorType.INTERNAL_ERROR
    http_status: ClassVar[int] = 500
    retryable: bool = False

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.error_type.value
        self.details = details

    def to_detail(self) -> ErrorDetail:
        return ErrorDetail(error_type=self.error_type, error_code=self.code, message=self.message, details=self.details)

    @classmethod
    def from_detail(cls, detail: ErrorDetail) -> NoobleError:
        error_class = _BY_TYPE.get(detail.error_type, InternalError)
        return error_class(detail.message, code=detail.error_code, details=detail.details)


class ValidationError(NoobleError):
    error_type = ErrorType.VALIDATION_ERROR
    http_status = 422


class NotFoundError(NoobleError):
    error_type = ErrorType.NOT_FOUND
    http_status = 404


class UnauthorizedError(NoobleError):
    error_type = ErrorType.UNAUTHORIZED
    http_status = 401


class ForbiddenError(NoobleError):
    error_type = ErrorType.FORBIDDEN
    http_status = 403


class RateLimitedError(NoobleError):
    error_type = ErrorType.RATE_LIMITED
    http_status = 429


class QuotaExceededError(NoobleError):
    error_type = ErrorType.QUOTA_EXCEEDED
    http_status = 403


class ActionTimeoutError(NoobleError):
    error_type = ErrorType.TIMEOUT
    http_status = 504


class ConflictError(NoobleError):
    error_type = ErrorType.CONFLICT
    http_status = 409


class DependencyError(NoobleError):
    """A dependency (another service, a provider, a database) failed. Retryable by default."""

    error_type = ErrorType.DEPENDENCY_ERROR
    http_status = 503

    def __init__(self, message: str, *, retryable: bool = True, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retryable = retryable


class InternalError(NoobleError):
    error_type = ErrorType.INTERNAL_ERROR
    http_status = 500


_BY_TYPE: dict[ErrorType, type[NoobleError]] = {
    cls.error_type: cls
    for cls in (
        ValidationError,
        NotFoundError,
        UnauthorizedError,
        ForbiddenError,
        RateLimitedError,
        QuotaExceededError,
        ActionTimeoutError,
        ConflictError,
        DependencyError,
        InternalError,
    )
}


def as_nooble_error(exc: BaseException) -> NoobleError:
    """Map any exception to the tree; unknown ones become a retryable internal error."""
    if isinstance(exc, NoobleError):
        return exc
    error = InternalError(f"{type(exc).__name__}: {exc}", code="unhandled_exception")
    error.retryable = True
    return error
