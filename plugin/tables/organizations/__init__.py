"""AWS Organizations: the organisation's accounts (discovery itself is plugin/source/discovery.py)."""

from ..service import ORG_ADMIN, Service
from .accounts import ORG_ACCOUNTS

# Its calls are made with the Organizations admin's credentials, not the member accounts' audit role.
SERVICE = Service(name="organizations", tables=[ORG_ACCOUNTS], credentials=(ORG_ADMIN,))
