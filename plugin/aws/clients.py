"""AWS client layer: credentials per account, one client per account x region x service.

- One botocore data loader per process (shared), so each client costs ~6 ms, not a new session.
- Assumed-role credentials are fetched once per account, eagerly (so a role that can't be assumed
  is reported as such, naming the account), and refreshed by botocore before they expire.
- Every client gets the retry, timeout and pool settings from the spec and the custom endpoint.
  So does the STS client botocore itself creates when a profile assumes a role (`role_arn` with
  `source_profile` or `credential_source` in ~/.aws/config): with `custom_endpoint_url` set, no call
  goes to the real STS.
- Any failure to get an account's credentials, the profile's own AssumeRole included, is a
  CredentialsError naming the operation, so the account's error row carries the configured id.
- S3 Control (access points, Multi-Region Access Points) names the account in the host
  (`{AccountId}.s3-control.<region>.amazonaws.com`). With a custom endpoint whose hostname is
  immutable (`custom_endpoint_hostname_immutable`, as for moto and LocalStack) the request goes to the
  endpoint's own host and the account travels in the `x-amz-account-id` header alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, Credentials, DeferredRefreshableCredentials
from botocore.exceptions import NoCredentialsError, UnknownCredentialError

from .. import __version__
from .redact import register_secret
from ..source.spec import Account, Spec
from .errors import OurError

log = logging.getLogger("aws_encryption.clients")

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})

# Partition of a region, for ARNs and the region of global calls.
_GLOBAL_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


_PARTITION_PREFIXES = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-iso-", "aws-iso"), ("us-isob-", "aws-iso-b"),
                       ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f"), ("eusc-", "aws-eusc"))


def partition_of(region: str) -> str:
    for prefix, partition in _PARTITION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"


class CredentialsError(Exception):
    """Credentials for an account could not be obtained; carries the failing call (`service`,
    `operation`: local configuration, AssumeRole or the identity check) and its cause."""

    def __init__(self, operation: str, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.operation = operation
        self.service = "config" if operation in ("LoadProfile", "LoadCredentials") else "sts"
        self.cause = exc


class AccountMismatch(OurError):
    """The credentials of an `accounts` entry belong to another account."""


@dataclass
class AccountSession:
    """Credentials and clients of one account."""

    account: Account
    spec: Spec
    config: Config
    botocore_session: botocore.session.Session
    account_id: str = ""
    partition: str = "aws"
    identity_call: str = ""   # the call that proved who we are: "service:Operation"
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def global_region(self) -> str:
        if self.spec.custom_endpoint_url:
            return self.spec.custom_endpoint_signing_region
        return self.account.default_region or _GLOBAL_REGION.get(self.partition, "us-east-1")

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.global_region
        key = (service, region)
        with self._lock:
            c = self._clients.get(key)
            if c is None:
                kwargs: dict[str, Any] = {"region_name": region, "config": self.config}
                if self.spec.custom_endpoint_url:
                    kwargs["endpoint_url"] = self.spec.custom_endpoint_url
                if service != "sts":
                    # Calls made through plugin.aws.calls.Ctx retry themselves (plugin/aws/retry.py);
                    # STS (credentials, identity) keeps botocore's standard retries.
                    kwargs["config"] = self.config.merge(NO_RETRIES)
                c = self.botocore_session.create_client(service, **kwargs)
                if self.spec.custom_endpoint_url and self.spec.custom_endpoint_hostname_immutable \
                        and service == "s3control":
                    c.meta.events.register_first("before-sign.s3-control", drop_account_host_label)
                self._clients[key] = c
            return c

    def release(self, region: str | None = None) -> None:
        """Drop the clients of one region (or all), so memory does not grow with the organisation."""
        with self._lock:
            for k in [k for k in self._clients if region is None or k[1] == region]:
                self._clients.pop(k).close()


def drop_account_host_label(request: Any, **_: Any) -> None:
    """Send an S3 Control request to the custom endpoint's own host, not `<account id>.<host>`.

    `inject_host_prefix=False` (set with an immutable custom endpoint) drops the host prefix of the
    service model, but botocore 1.44's endpoint rules for S3 Control add the account id to the custom
    endpoint's host themselves. This runs before signing, so the signature covers the host sent."""
    account = request.headers.get("x-amz-account-id")
    if not account:
        return
    if isinstance(account, bytes):
        account = account.decode()
    parts = urlsplit(request.url)
    if parts.netloc.startswith(account + "."):
        request.url = urlunsplit(parts._replace(netloc=parts.netloc[len(account) + 1:]))


class ClientFactory:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        immutable = bool(spec.custom_endpoint_url and spec.custom_endpoint_hostname_immutable)
        s3_cfg = {"addressing_style": "path"} if immutable else {}
        self.config = Config(
            retries={"total_max_attempts": spec.max_retries + 1, "mode": "standard"},
            max_pool_connections=spec.concurrency,
            connect_timeout=spec.request_timeout,
            read_timeout=spec.request_timeout,
            user_agent_extra=f"aws-encryption/{__version__}",
            # Every request's parameters are built here, not typed by a user: validating them again
            # against the model on every call is CPU spent for nothing.
            parameter_validation=False,
            s3=s3_cfg or None,
            # An immutable custom endpoint is one host: no operation parameter goes into its name
            # (S3 Control's `{AccountId}.`; see drop_account_host_label).
            **({"inject_host_prefix": False} if immutable else {}),
        )
        self._base: dict[str, boto3.Session] = {}
        self._lock = threading.Lock()
        self._loader = None

    def _base_session(self, profile: str) -> boto3.Session:
        with self._lock:
            s = self._base.get(profile)
            if s is None:
                s = boto3.Session(profile_name=profile or None)
                if self._loader is None:
                    self._loader = s._session.get_component("data_loader")
                else:
                    s._session.register_component("data_loader", self._loader)
                if self.spec.custom_endpoint_url:
                    self._route_profile_sts(s._session)
                self._base[profile] = s
            return s

    def _route_profile_sts(self, session: botocore.session.Session) -> None:
        """Send the AssumeRole botocore makes for a role profile to the custom endpoint.

        botocore's assume-role providers create their STS client with the session's defaults, which
        ignore our endpoint: the call went to sts.us-east-1.amazonaws.com. The client creator is the
        one thing to change (fetchers are built from it when credentials are first loaded); the
        providers keep reading ~/.aws/config and resolving source profiles themselves.
        """
        creator = functools.partial(self._sts_creator, session, self.spec.custom_endpoint_signing_region)
        resolver = session.get_component("credential_provider")
        for name in ("assume-role", "assume-role-with-web-identity"):
            try:
                provider = resolver.get_provider(name)
            except UnknownCredentialError:
                continue
            if not hasattr(provider, "_client_creator"):  # a botocore that changed it: refuse, don't leak
                raise RuntimeError(f"botocore {botocore.__version__}: can't send the {name} call of a profile "
                                   "to custom_endpoint_url")
            provider._client_creator = creator

    def _new_botocore_session(self) -> botocore.session.Session:
        s = botocore.session.Session()
        if self._loader is not None:
            s.register_component("data_loader", self._loader)
        return s

    def open(self, account: Account, via: AccountSession | None = None, check_account: bool = True) -> AccountSession:
        """Resolve credentials for `account` (AssumeRole if configured) and check who we are.

        `via`: assume the role with that session's credentials (Organizations: the admin account or
        `member_trusted_principal`) instead of the account's own profile. Raises CredentialsError
        naming the failing operation; with `check_account`, also when the credentials are another
        account's than the `accounts` entry's id.
        """
        try:
            base = self._base_session(account.local_profile)
        except Exception as e:  # ProfileNotFound and friends
            raise CredentialsError("LoadProfile", e) from None
        try:
            # A role profile assumes its role here (botocore defers it to the first use), so a denied
            # AssumeRole surfaces as this account's failure, not as an exception of the sync.
            source = via.botocore_session.get_credentials() if via is not None else base.get_credentials()
            if source is None:
                raise NoCredentialsError()
            frozen = source.get_frozen_credentials()
        except Exception as e:  # noqa: BLE001 - any failure to load credentials is the account's
            raise CredentialsError(_credentials_operation(base, via), e) from None
        register_secret(frozen.secret_key, frozen.token)
        region = (self.spec.custom_endpoint_signing_region if self.spec.custom_endpoint_url
                  else account.default_region) or "us-east-1"
        if account.role_arn:
            creds = self._assume(base, source, account, region)
            sess = self._new_botocore_session()
            sess._credentials = creds  # botocore's documented hook for refreshable credentials
        else:
            sess = base._session
        acc = AccountSession(account=account, spec=self.spec, config=self.config, botocore_session=sess,
                             partition=self.spec.custom_endpoint_partition_id or partition_of(region))
        try:
            ident = acc.client("sts", acc.global_region).get_caller_identity()
        except Exception as e:
            raise CredentialsError("GetCallerIdentity", e) from None
        acc.account_id = ident["Account"]
        arn = ident.get("Arn", "")
        if arn.count(":") >= 2:
            acc.partition = arn.split(":")[1]
        if check_account and account.id and acc.account_id != account.id:
            raise CredentialsError("GetCallerIdentity", AccountMismatch(
                f"credentials for accounts entry {account.id} belong to account {acc.account_id}; "
                "nothing was synced for it"))
        acc.identity_call = "sts:AssumeRole" if account.role_arn else "sts:GetCallerIdentity"
        return acc

    def _assume(self, base: boto3.Session, source: Credentials, account: Account, region: str) -> Credentials:
        extra: dict[str, Any] = {"RoleSessionName": account.role_session_name or "aws-encryption"}
        if account.external_id:
            extra["ExternalId"] = account.external_id
        creator = functools.partial(self._sts_creator, base._session, region)
        fetcher = AssumeRoleCredentialFetcher(creator, source, account.role_arn, extra_args=extra)

        def refresh() -> dict[str, Any]:
            c = fetcher.fetch_credentials()
            register_secret(c.get("secret_key"), c.get("token"))
            return c

        # Every signed request asks the credentials whether they need a refresh; botocore's default
        # clock is now(tzlocal()), which cost ~5% of the CPU of an AWS call (profiled). UTC gives the
        # same answer: the expiry is an aware datetime.
        creds = DeferredRefreshableCredentials(refresh_using=refresh, method="assume-role", time_fetcher=_utc_now)
        try:
            creds.get_frozen_credentials()
        except Exception as e:
            raise CredentialsError("AssumeRole", e) from None
        return creds

    def _sts_creator(self, session: botocore.session.Session, region: str, service: str, **kwargs: Any) -> Any:
        """Create `service` (STS) as every other client is: our config, region and custom endpoint."""
        kwargs.setdefault("region_name", region)
        kwargs.setdefault("config", self.config)
        if self.spec.custom_endpoint_url:
            kwargs.setdefault("endpoint_url", self.spec.custom_endpoint_url)
        return session.create_client(service, **kwargs)


def _credentials_operation(base: boto3.Session, via: AccountSession | None) -> str:
    """AssumeRole when the credentials come from a role profile (its own AssumeRole failed), else LoadCredentials."""
    if via is not None:
        return "LoadCredentials"
    try:
        profile = base._session.get_scoped_config()
    except Exception:  # noqa: BLE001 - only for naming the operation
        return "LoadCredentials"
    return "AssumeRole" if profile.get("role_arn") else "LoadCredentials"
