"""AWS IAM: the roles, users, groups and managed policies of every synced account, with their
inline policies, read once per account with GetAccountAuthorizationDetails
(authorization_details.py). IAM is global: these tables have no Region."""

from ..service import Service
from .groups import GROUPS
from .policies import POLICIES
from .roles import ROLES
from .users import USERS

SERVICE = Service(name="iam", tables=[ROLES, USERS, GROUPS, POLICIES])
