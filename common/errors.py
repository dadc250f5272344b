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


# SQLSTATE classes of failures that may pass on retry: connection, transaction rollback (deadlock,
# serialization), insufficient resources, operator intervention (shutdown), system error.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (asyncpg's, possibly wrapped by SQLAlchemy)."""
    for candidate in (exc, getattr(exc, "orig", None), getattr(exc, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str) and len(code) == 5:
            return code
    return None


def is_transient(exc: BaseException) -> bool:
    """Failures that may pass on retry: connections, timeouts, unavailable dependencies, rollbacks."""
    if isinstance(exc, NoobleError):
        return exc.retryable
    if isinstance(exc, TimeoutError | ConnectionError):  # OSError subclasses of the network kind
        return True
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return True
    if (sqlstate := _sqlstate(exc)) is not None:
        return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    return isinstance(exc, DisconnectionError | InterfaceError | OperationalError | PoolTimeoutError | OSError)


# What a refused value was, by SQLSTATE: said to the client in words, never with the statement or its values.
_REFUSED = {
    "22001": "a value is longer than the store keeps",
    "22003": "a number is out of the range the store keeps",
    "22007": "a date or time is not valid",
    "22008": "a date or time is out of range",
    "22021": "a value holds a character the store cannot keep (a NUL byte or invalid UTF-8)",
    "22P02": "a value is not in the expected format",
    "22P05": "a value holds a character the store cannot keep (a NUL byte or invalid UTF-8)",
    "23502": "a required value is missing",
    "23503": "a value refers to something that does not exist",
}


def as_nooble_error(exc: BaseException) -> NoobleError:
    """Classify any exception once, for every worker and every route: transient failures are retryable;
    everything else ends the action at once — data the store refuses is a validation error (422), a conflict is
    409, and any other deterministic failure (a bug, unparseable input) an internal error that no retry would
    fix. The message is for clients: it never holds the driver's text, a statement or its values; the original
    exception stays the error's `__cause__`, for the logs."""
    if isinstance(exc, NoobleError):
        return exc
    error: NoobleError
    sqlstate = _sqlstate(exc)
    if is_transient(exc):
        error = DependencyError(f"a dependency failed ({type(exc).__name__}); try again", code="transient_failure")
    elif sqlstate == "23505":
        error = ConflictError("the record already exists", code="conflict")
    elif sqlstate is not None and sqlstate[:2] in {"22", "23"}:  # data exception, integrity violation
        reason = _REFUSED.get(sqlstate, "a value was refused by the store")
        error = ValidationError(f"the store refused the data: {reason}", code="data_refused")
    else:
        error = InternalError(f"internal error ({type(exc).__name__}); it has been logged", code="unhandled_exception")
    error.__cause__ = exc
    return error
