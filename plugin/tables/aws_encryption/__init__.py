"""Tables of ours that need no AWS call of their own: the key types reference table, and what the
sync could not read (failed calls, unread scopes)."""

from ..service import Service
from .key_types import KEY_TYPES_TABLE
from .sync_coverage import SYNC_COVERAGE
from .sync_errors import SYNC_ERRORS

SERVICE = Service(name="aws-encryption", tables=[KEY_TYPES_TABLE, SYNC_ERRORS, SYNC_COVERAGE])
