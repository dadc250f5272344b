"""The envelope every service speaks (DESIGN.md §2)."""

from common.models.actions import DomainAction, DomainActionResponse, ErrorDetail, ErrorType
from common.models.tiers import Tier

__all__ = [
    "DomainAction",
    "DomainActionResponse",
    "ErrorDetail",
    "ErrorType",
    "Tier",
]
