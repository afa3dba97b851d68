"""AWS Organizations: the organisation's accounts, listed by the admin (discovery itself is
plugin/source/discovery.py), and the organisation each synced account belongs to, asked by the account."""

from ..service import MEMBER, ORG_ADMIN, Service
from .accounts import ORG_ACCOUNTS
from .organizations import ORGANIZATIONS
from .policies import POLICIES

# Discovery's calls are made with the Organizations admin's credentials, not the member accounts' audit
# role; DescribeOrganization names the organisation, so its accounts resolve `aws:PrincipalOrgID`.
SERVICE = Service(name="organizations", tables=[ORG_ACCOUNTS, POLICIES], calls=["organizations:DescribeOrganization"],
                  credentials=(ORG_ADMIN,))

# Each member account asks which organisation it is in, with its own audit role.
MEMBER_SERVICE = Service(name="organizations", tables=[ORGANIZATIONS], credentials=(MEMBER,))
