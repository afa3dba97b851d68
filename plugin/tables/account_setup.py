"""Account set-up: the calls every account needs before its tables (who the credentials are; which
regions are enabled when the spec says `regions: ["*"]`), declared like a service's."""

from __future__ import annotations

from ..aws.calls import Ctx, SyncError
from .service import MEMBER, ORG_ADMIN, Service

SERVICES = [
    # GetCallerIdentity checks that the credentials are the account listed (plugin/aws/clients.py);
    # the Organizations admin's are checked too.
    Service(name="sts", calls=["sts:GetCallerIdentity"], credentials=(MEMBER, ORG_ADMIN)),
    Service(name="ec2", calls=["ec2:DescribeRegions"]),
]


def enabled_regions(ctx: Ctx) -> list[str] | SyncError:
    """The regions enabled in the account of `ctx` (opt-in regions it has not opted into are left
    out), or the error that stopped us from knowing them."""
    failed: list[SyncError] = []
    r = ctx.with_errors(failed.append).call("ec2", "DescribeRegions", expect="Regions", AllRegions=False)
    if r is None:
        return failed[0]
    regions = r["Regions"]
    if not isinstance(regions, list):
        return SyncError(ctx.account_id, ctx.region, "", "ec2", "DescribeRegions", "", "MalformedResponse",
                         "the DescribeRegions answer's Regions is not a list")
    return sorted(x["RegionName"] for x in regions if x.get("OptInStatus", "opt-in-not-required") != "not-opted-in")
