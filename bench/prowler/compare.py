#!/usr/bin/env python3
"""Our checks next to Prowler's, on the same emulated AWS world, resource by resource.

What it does (all on loopback, nothing leaves the machine once Prowler is installed):

1. Prowler in its own virtual environment (`--prowler-venv`, default ~/.cache/aws-encryption-bench/
   prowler-venv): created and `pip install prowler==PROWLER_VERSION` unless `--skip-install`; the
   install is timed and bounded (`--install-timeout`), and a failed install (no network, wrong
   Python) ends the script with a clear message and exit status 2.
2. The demo world (plugin/demo/world.py, built on RecordingMotoServer in this process, 127.0.0.1 on a
   free port) plus the comparison's own resources (`extend_world`: public and restricted key
   policies, an enabled key with imported material, a key in a CloudHSM key store, a disabled key
   with a public policy, buckets on customer managed keys shared or not, a bucket whose key is
   pending deletion, DSSE-KMS, aws/s3 unshared), and a `prowler-audit` role per account with the
   broad read access Prowler documents; COMPUTE's carries the same drift as our audit role there (no
   kms:GetKeyRotationStatus). Then moto's IAM enforcement is switched on, for both tools.
3. Ours: `aws-encryption sync spec.yml` (DATA and COMPUTE through their audit roles, least-privilege
   policy) then `aws-encryption check DB --format json`, both as child processes, timed.
4. Prowler: once per account (it scans one account per run), with that account's prowler-audit
   credentials in the environment and `AWS_ENDPOINT_URL` pointing at moto:
   `prowler aws --services kms s3 secretsmanager sqs sns rds ec2 backup -f us-east-1 eu-west-1 -M json-ocsf
   --no-banner ...` (`--services` to change the list), timed,
   bounded by `--prowler-timeout` (the whole process group is killed when it runs over).
5. Compare per resource ARN:
     ours kms_cmk_rotation_disabled   <-> prowler kms_cmk_rotation_enabled
     ours kms_key_policy_public       <-> prowler kms_key_not_publicly_accessible
     ours "S3 KMS encryption"         <-> prowler s3_bucket_kms_encryption
   where ours' S3 verdict is: the bucket's default encryption is SSE-KMS or DSSE-KMS
   (aws_s3_bucket_encryption_keys.sse_algorithm) AND none of s3_aws_managed_key_cross_account,
   s3_key_unusable_by_bucket_principals, s3_encryption_key_unusable_state fails.
   Statuses are normalised to pass / fail / error (ours error, Prowler MANUAL) / n/a (ours skip, or
   the tool did not report the resource). Every resource where the two differ is printed with both
   statuses and reasons and a classification: a known AWS rule (RULES below, each matched on facts
   from the synced database, never on the statuses alone, and only for the exact status pair it
   explains) or UNEXPECTED.

Exit status: 0 every difference is explained, 1 some difference is UNEXPECTED, 2 the run could not
be made (install failed, Prowler failed or timed out, our sync failed).

Usage:
  /tmp/venv/bin/python bench/prowler/compare.py                      # install (first time) + compare
  /tmp/venv/bin/python bench/prowler/compare.py --skip-install --prowler-venv /tmp/prowler-venv
  ... --checks-only       # run only Prowler's 3 compared checks, not all of kms and s3 (faster)
  ... --json out.json --markdown out.md --workdir DIR --keep
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

PROWLER_VERSION = "5.46.0"
REGIONS = ["us-east-1", "eu-west-1"]
PROWLER_ROLE = "prowler-audit"
PAIRS = [  # (our check, Prowler's check)
    ("kms_cmk_rotation_disabled", "kms_cmk_rotation_enabled"),
    ("kms_key_policy_public", "kms_key_not_publicly_accessible"),
    ("s3_kms_encryption", "s3_bucket_kms_encryption"),
    # the controls both implement one to one: our finding as it is
    ("kms_key_pending_deletion_or_disabled", "kms_cmk_not_deleted_unintentionally"),
    ("kms_cmk_unused", "kms_cmk_are_used"),
    ("kms_key_multi_region", "kms_cmk_not_multi_region"),
    ("s3_bucket_tls_not_required", "s3_bucket_secure_transport_policy"),
    ("s3_bucket_public_access_block_disabled", "s3_bucket_level_public_access_block"),
    ("s3_bucket_acls_enabled", "s3_bucket_acl_prohibited"),
    ("s3_bucket_publicly_accessible", "s3_bucket_public_access"),
]
DIRECT = [ours for ours, _ in PAIRS[3:]]
OUR_S3_CHECKS = ["s3_aws_managed_key_cross_account", "s3_key_unusable_by_bucket_principals",
                 "s3_encryption_key_unusable_state"]


def log(msg: str) -> None:
    sys.stderr.write(f"[compare] {msg}\n")
    sys.stderr.flush()


class Abort(Exception):
    """The comparison could not be made; exit 2 with this message."""


# ---------------------------------------------------------------------------------------------
# Prowler's virtual environment


@dataclass
class ProwlerInstall:
    venv: Path
    version: str
    install_seconds: float | None  # None with --skip-install
    python_version: str

    @property
    def bin(self) -> Path:
        return self.venv / "bin" / "prowler"


def _venv_prowler_version(venv: Path) -> str | None:
    py = venv / "bin" / "python"
    if not py.exists() or not (venv / "bin" / "prowler").exists():
        return None
    r = subprocess.run([str(py), "-c", "import importlib.metadata as m; print(m.version('prowler'))"],
                       capture_output=True, text=True, timeout=120)
    return r.stdout.strip() if r.returncode == 0 else None


def ensure_prowler(venv: Path, version: str, skip_install: bool, timeout: float) -> ProwlerInstall:
    def pyver() -> str:
        r = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.version.split()[0])"],
                           capture_output=True, text=True, timeout=60)
        return r.stdout.strip()

    if skip_install:
        have = _venv_prowler_version(venv)
        if not have:
            raise Abort(f"--skip-install: no Prowler in {venv} (expected {venv}/bin/prowler); run once without "
                        f"--skip-install, or pass --prowler-venv pointing at a venv where `pip install "
                        f"prowler=={version}` was done")
        if have != version:
            log(f"warning: {venv} has Prowler {have}, this script was measured with {version}")
        return ProwlerInstall(venv, have, None, pyver())

    have = _venv_prowler_version(venv)
    if have == version:
        log(f"Prowler {version} already installed in {venv}; not reinstalling (install time not measured)")
        return ProwlerInstall(venv, have, None, pyver())
    log(f"installing prowler=={version} into {venv} (about 2.3 GB, several minutes) ...")
    t0 = time.monotonic()
    deadline = t0 + timeout
    logf = venv.parent / f"{venv.name}-install.log"
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [  # (command, must succeed)
        ([sys.executable, "-m", "venv", "--clear", str(venv)], True),
        ([str(venv / "bin" / "python"), "-m", "pip", "install", "--upgrade", "pip"], False),
        ([str(venv / "bin" / "python"), "-m", "pip", "install", f"prowler=={version}"], True),
    ]
    with open(logf, "w") as out:
        for cmd, required in steps:
            left = deadline - time.monotonic()
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            try:
                r = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=max(left, 1),
                                   env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
            except subprocess.TimeoutExpired:
                raise Abort(f"installing Prowler took more than {timeout:.0f} s (--install-timeout); log: {logf}")
            if r.returncode != 0 and not required:
                log(f"warning: `{' '.join(cmd[-3:])}` failed (status {r.returncode}); going on with the venv's pip")
                continue
            if r.returncode != 0:
                tail = "".join(logf.read_text(errors="replace").splitlines(keepends=True)[-15:])
                hint = ""
                if any(s in tail for s in ("Could not find a version", "No matching distribution",
                                           "NewConnectionError", "Temporary failure in name resolution",
                                           "Network is unreachable", "ConnectTimeout")):
                    hint = " (PyPI not reachable? Install it where PyPI is, then use --skip-install)"
                raise Abort(f"`{' '.join(cmd)}` failed with status {r.returncode}{hint}; last lines of {logf}:\n"
                            + textwrap.indent(tail, "    "))
    secs = time.monotonic() - t0
    have = _venv_prowler_version(venv)
    if have != version:
        raise Abort(f"pip reported success but {venv} has no prowler {version} (found {have!r}); log: {logf}")
    log(f"installed Prowler {version} in {secs:.0f} s")
    return ProwlerInstall(venv, have, secs, pyver())


# ---------------------------------------------------------------------------------------------
# The world: the demo world plus what the comparison needs


@dataclass
class Extras:
    keys: dict[str, str] = field(default_factory=dict)     # name -> key ARN
    buckets: dict[str, str] = field(default_factory=dict)  # name -> bucket ARN
    prowler_roles: dict[str, str] = field(default_factory=dict)  # account -> role ARN


def _root_statement(account: str) -> dict[str, Any]:
    return {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}


def _public_policy(account: str, sid: str, condition: dict[str, Any] | None = None,
                   actions: Any = ("kms:Decrypt", "kms:DescribeKey")) -> str:
    st: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": "*"},
                          "Action": list(actions) if not isinstance(actions, str) else actions, "Resource": "*"}
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [_root_statement(account), st]})


def start_world() -> tuple[Any, Any, Extras]:
    import logging

    from plugin.demo.server import RecordingMotoServer
    from plugin.demo.world import build_world

    # Setup credentials for building the world, as tests/conftest.py does.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # CRITICAL: moto answers the APIs it lacks (Prowler asks for some) with a 500 and werkzeug would print
    # each traceback here; Prowler's own log (kept in the work directory) has those errors.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = RecordingMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    actions = json.loads((REPO / "plugin" / "iam_policy.json").read_text())["Statement"][0]["Action"]
    world = build_world(endpoint, actions, server)
    extras = extend_world(world, server)
    return server, world, extras


def extend_world(w: Any, server: Any) -> Extras:
    """The comparison's own resources, made before IAM enforcement is switched on."""
    import boto3

    from plugin.demo.world import COMPUTE, COMPUTE_READER, DATA, SCANNER, create_key, shape_key

    ex = Extras()
    kms = w.admin("kms", DATA)
    s3 = w.admin("s3", DATA)

    def key(name: str, **kw: Any) -> dict[str, Any]:
        meta = create_key(kms, Description=f"compare: {name}", **kw)
        ex.keys[name] = meta["Arn"]
        return meta

    def rotate(meta: dict[str, Any]) -> None:
        kms.enable_key_rotation(KeyId=meta["KeyId"])

    # kms_key_policy_public vs kms_key_not_publicly_accessible (rotation on, so the rotation pair agrees)
    rotate(key("public-policy", Policy=_public_policy(DATA, "Public")))
    rotate(key("public-calleraccount", Policy=_public_policy(
        DATA, "AnyPrincipalOwnAccount", {"StringEquals": {"kms:CallerAccount": DATA}})))
    rotate(key("public-orgid", Policy=_public_policy(
        DATA, "AnyPrincipalOrg", {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}})))
    rotate(key("public-viaservice-only", Policy=_public_policy(
        DATA, "AnyPrincipalViaS3", {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})))
    rotate(key("public-calleraccount-wildcard", Policy=_public_policy(
        DATA, "AnyAccountWildcard", {"StringLike": {"kms:CallerAccount": "*"}})))
    disabled = key("disabled-public-policy", Policy=_public_policy(DATA, "PublicAdmin", actions="kms:*"))
    rotate(disabled)
    kms.disable_key(KeyId=disabled["KeyId"])

    # kms_cmk_rotation_disabled vs kms_cmk_rotation_enabled
    key("imported-material-enabled", Origin="EXTERNAL")
    # moto has no ImportKeyMaterial and reports an EXTERNAL key Enabled: that is the state of a key
    # whose material has been imported (the demo world's other EXTERNAL key is shaped to PendingImport).
    hsm = key("cloudhsm-key-store")
    shape_key(DATA, "us-east-1", hsm["KeyId"], origin="AWS_CLOUDHSM")
    store_id, cluster_id = "cks-0123456789abcdef0", "cluster-1a23b4cdefg"
    _describe_key_extra(server, {hsm["KeyId"]: {"CustomKeyStoreId": store_id, "CloudHsmClusterId": cluster_id}})
    # AWS rejects rotation calls for keys in a custom key store; moto would answer "false".
    hsm_id = hsm["KeyId"]
    server.faults.append(lambda svc, op, body: (400, "UnsupportedOperationException")
                         if svc == "kms" and op == "GetKeyRotationStatus" and hsm_id.encode() in body else None)

    # s3_bucket_kms_encryption vs ours
    def bucket(name: str, algo: str | None, key_id: str | None = None, shared_with: str | None = None) -> None:
        s3.create_bucket(Bucket=name)
        if algo:
            default: dict[str, Any] = {"SSEAlgorithm": algo}
            if key_id:
                default["KMSMasterKeyID"] = key_id
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": algo == "aws:kms"}]})
        if shared_with:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Sid": "CrossAccountRead", "Effect": "Allow", "Principal": {"AWS": shared_with},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]}]}))
        ex.buckets[name] = f"arn:aws:s3:::{name}"

    rotating, norot, pending = (w.keys[k]["Arn"] for k in ("rotating", "no_rotation", "pending_deletion"))
    bucket(f"cmp-shared-cmk-granted-{DATA}", "aws:kms", rotating, COMPUTE_READER)      # key policy admits the reader
    bucket(f"cmp-shared-cmk-not-granted-{DATA}", "aws:kms", norot, COMPUTE_READER)     # key policy admits DATA only
    bucket(f"cmp-pending-deletion-key-{DATA}", "aws:kms", pending)
    bucket(f"cmp-aws-s3-alias-private-{DATA}", "aws:kms", "alias/aws/s3")
    bucket(f"cmp-dsse-kms-{DATA}", "aws:kms:dsse", rotating)
    bucket(f"cmp-no-default-encryption-{DATA}", None)

    # the S3 controls both tools implement: TLS-only, Block Public Access (all four, and the two settings
    # Prowler counts), ACLs disabled, and a bucket public through its policy
    tls = f"cmp-tls-only-{DATA}"
    bucket(tls, "AES256")
    s3.put_bucket_policy(Bucket=tls, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{tls}", f"arn:aws:s3:::{tls}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    s3.put_bucket_ownership_controls(Bucket=tls, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_public_access_block(Bucket=tls, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    half = f"cmp-bpa-two-of-four-{DATA}"
    bucket(half, "AES256")
    s3.put_public_access_block(Bucket=half, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": True})
    public = f"cmp-public-policy-{DATA}"
    bucket(public, "AES256")
    s3.put_bucket_policy(Bucket=public, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{public}/*"}]}))

    # A role per account for Prowler, with the broad read access Prowler documents
    # (SecurityAudit + ViewOnlyAccess); COMPUTE's lacks kms:GetKeyRotationStatus like our audit role there.
    iam = boto3.client("iam", endpoint_url=w.endpoint, region_name="us-east-1")  # SCANNER, setup creds
    sts = boto3.client("sts", endpoint_url=w.endpoint, region_name="us-east-1")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SCANNER}:root"}, "Action": "sts:AssumeRole"}]})
    for account in (DATA, COMPUTE):
        cr = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
        aiam = boto3.client("iam", endpoint_url=w.endpoint, region_name="us-east-1",
                            aws_access_key_id=cr["AccessKeyId"], aws_secret_access_key=cr["SecretAccessKey"],
                            aws_session_token=cr["SessionToken"])
        aiam.create_role(RoleName=PROWLER_ROLE, AssumeRolePolicyDocument=trust)
        statements: list[dict[str, Any]] = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
        if account == COMPUTE:
            statements.append({"Effect": "Deny", "Action": "kms:GetKeyRotationStatus", "Resource": "*"})
        aiam.put_role_policy(RoleName=PROWLER_ROLE, PolicyName="read",
                             PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
        ex.prowler_roles[account] = f"arn:aws:iam::{account}:role/{PROWLER_ROLE}"
    iam.put_user_policy(UserName="scanner", PolicyName="assume-prowler", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": list(ex.prowler_roles.values())}]}))
    return ex


def _describe_key_extra(server: Any, extra: dict[str, dict[str, Any]]) -> None:
    """DescribeKey answers with the custom key store fields AWS returns for keys in one."""
    prev = server.rewrites.get(("kms", "DescribeKey"))

    def rewrite(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any]:
        if prev:
            resp = prev(req, resp)
        meta = resp.get("KeyMetadata") or {}
        meta.update(extra.get(meta.get("KeyId"), {}))
        return resp

    server.rewrites[("kms", "DescribeKey")] = rewrite


# ---------------------------------------------------------------------------------------------
# Ours


@dataclass
class Timed:
    seconds: float
    returncode: int
    log: Path


def _console_script(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        raise Abort(f"{name} is not installed next to {sys.executable} (pip install -e .)")
    return found


def run_ours(world: Any, workdir: Path, timeout: float) -> tuple[Path, Path, Timed, Timed]:
    import yaml

    from plugin.demo.world import COMPUTE, DATA

    db = workdir / "posture.duckdb"
    spec = workdir / "spec.yml"
    source = {"kind": "source", "spec": {
        "name": "aws-encryption", "path": _console_script("aws-encryption"), "registry": "local",
        "version": "v0.1.0", "tables": ["*"], "destinations": ["duckdb"],
        "spec": world.spec(accounts=[DATA, COMPUTE])}}
    dest = {"kind": "destination", "spec": {
        "name": "duckdb", "path": _console_script("aws-encryption-duckdb"), "registry": "local",
        "version": "v0.1.0", "write_mode": "overwrite-delete-stale", "spec": {"connection_string": str(db)}}}
    spec.write_text(yaml.safe_dump(source, sort_keys=False) + "---\n" + yaml.safe_dump(dest, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(world.env)
    exe = _console_script("aws-encryption")
    sync = _timed([exe, "sync", str(spec)], env, workdir / "ours-sync.log", timeout, workdir)
    if sync.returncode != 0:
        raise Abort(f"aws-encryption sync failed with status {sync.returncode}; see {sync.log}")
    report = workdir / "ours-check.json"
    check = _timed([exe, "check", str(db), "--format", "json", "--output", str(report), "--fail-on", "none",
                    "--allow-incomplete"],
                   env, workdir / "ours-check.log", timeout, workdir)
    if check.returncode != 0:
        raise Abort(f"aws-encryption check failed with status {check.returncode}; see {check.log}")
    return db, report, sync, check


def _timed(cmd: list[str], env: dict[str, str], logf: Path, timeout: float, cwd: Path) -> Timed:
    with open(logf, "w") as out:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise Abort(f"`{' '.join(cmd[:4])} ...` ran over {timeout:.0f} s and was killed; see {logf}")
        return Timed(time.monotonic() - t0, rc, logf)


# ---------------------------------------------------------------------------------------------
# Prowler


@dataclass
class ProwlerRun:
    account: str
    seconds: float
    returncode: int
    findings: list[dict[str, Any]]
    log: Path
    errors: list[str]
    startup: float | None = None  # process start -> Prowler's first log line (imports, checks, compliance)
    scan: float | None = None     # first log line -> "Extracting audit statistics" (the AWS calls + checks)


def prowler_env(pw: ProwlerInstall, endpoint: str, creds: dict[str, str], home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "aws-config"
    # Path-style S3 (the endpoint is an IP, so botocore picks path style for it anyway); no profile,
    # no shared credentials, no instance metadata: only the session in the environment.
    cfg.write_text("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
    (home / "aws-credentials").write_text("")
    return {
        "PATH": f"{pw.venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(cfg),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    }


_LOG_HEAD = re.compile(r'^\{"timestamp": "([^"]+)", "filename": "[^"]*", "level": "(\w+)", '
                       r'"module": "[^"]*", "message": "(.*)$')


def parse_prowler_log(logf: Path) -> list[tuple[dt.datetime, str, str]]:
    """(time, level, message) of each entry of Prowler's --log-file. Its lines look like JSON but are not
    always (an error message that holds an XML body is written unescaped, over several lines)."""
    out: list[tuple[dt.datetime, str, str]] = []
    for ln in (logf.read_text(errors="replace").splitlines() if logf.exists() else []):
        m = _LOG_HEAD.match(ln)
        if m:
            msg = m.group(3)
            out.append((dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f"), m.group(2),
                        msg[:-2] if msg.endswith('"}') else msg))
        elif out:
            ts, level, msg = out[-1]
            out[-1] = (ts, level, msg + " " + ln.strip().removesuffix('"}'))
    return out


# Prowler's services covering what our sync reads (kms, s3, and the shareable services' secrets, queues,
# topics, RDS and EBS snapshots, AMIs and backup vaults): the time comparison runs them all.
SERVICES = ["kms", "s3", "secretsmanager", "sqs", "sns", "rds", "ec2", "backup"]


def run_prowler(pw: ProwlerInstall, world: Any, extras: Extras, account: str, outdir: Path, timeout: float,
                checks_only: bool, services: list[str] = SERVICES) -> ProwlerRun:
    import boto3

    sts = boto3.client("sts", endpoint_url=world.endpoint, region_name="us-east-1",
                       aws_access_key_id=world.scanner_key_id, aws_secret_access_key=world.scanner_secret)
    creds = sts.assume_role(RoleArn=extras.prowler_roles[account], RoleSessionName="prowler")["Credentials"]
    env = prowler_env(pw, world.endpoint, creds, outdir / f"home-{account}")
    name = f"prowler-{account}"
    what = ["--checks", *[p for _, p in PAIRS]] if checks_only else ["--services", *services]
    logf = outdir / f"{name}.log"
    cmd = [str(pw.bin), "aws", *what, "--region", *REGIONS, "--output-formats", "json-ocsf",
           "--output-directory", str(outdir), "--output-filename", name, "--no-banner", "--no-color",
           "--ignore-exit-code-3", "--skip-sh-update", "--log-level", "INFO", "--log-file", str(logf),
           "--aws-retries-max-attempts", "1"]
    log(f"prowler {' '.join(what)} on account {account} ...")
    started = dt.datetime.now()
    t = _timed(cmd, env, outdir / f"{name}.stdout", timeout, outdir)
    out = outdir / f"{name}.ocsf.json"
    if t.returncode != 0 or not out.exists():
        tail = "".join(t.log.read_text(errors="replace").splitlines(keepends=True)[-20:])
        raise Abort(f"prowler on {account} exited with status {t.returncode} (no {out.name}); last lines of "
                    f"{t.log}:\n" + textwrap.indent(tail, "    "))
    findings = json.loads(out.read_text() or "[]")
    entries = parse_prowler_log(logf)
    errors = [m for _, level, m in entries if level == "ERROR"]
    run = ProwlerRun(account, t.seconds, t.returncode, findings, logf, errors)
    if entries:
        run.startup = (entries[0][0] - started).total_seconds()
        end = next((ts for ts, _, m in entries if m.startswith("Extracting audit statistics")), None)
        run.scan = (end - entries[0][0]).total_seconds() if end else None
    log(f"prowler on {account}: {len(findings)} findings in {t.seconds:.1f} s, {len(errors)} logged errors")
    return run


# ---------------------------------------------------------------------------------------------
# Facts from our database, for the classification


def load_facts(db: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)

    def rows(sql: str) -> list[dict[str, Any]]:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    facts = {
        "keys": {r["arn"]: r for r in rows(
            "SELECT arn, key_id, account_id, region, key_manager, origin, key_state, key_spec, "
            "custom_key_store_id, key_type FROM aws_kms_keys")},
        "policies": {r["key_arn"]: r["policy"] for r in rows("SELECT key_arn, policy FROM aws_kms_key_policies")},
        "bucket_keys": {r["bucket_arn"]: r for r in rows("SELECT * FROM aws_s3_bucket_encryption_keys")},
        "buckets": {r["arn"]: r for r in rows("SELECT arn, account_id, region FROM aws_s3_buckets")},
        "errors": rows("SELECT account_id, region, service, operation, resource_arn, error_code "
                       "FROM aws_encryption_sync_errors"),
        "key_grants": {r["key_arn"] for r in rows("SELECT DISTINCT key_arn FROM aws_kms_key_grants")},
        "bucket_bpa": {r["bucket_arn"]: r["public_access_block_configuration"] for r in rows(
            "SELECT bucket_arn, public_access_block_configuration FROM aws_s3_bucket_public_access_blocks")},
        "key_aliases": {r["arn"] for r in rows(
            "SELECT k.arn FROM aws_kms_aliases a JOIN aws_kms_keys k ON k.key_id = a.target_key_id "
            "AND k.account_id = a.account_id AND k.region = a.region")},
    }
    from plugin.checks.views import create_views  # the checks' shared view, read as a fact here
    create_views(con)
    facts["key_users"] = {r["key_arn"] for r in rows("SELECT DISTINCT key_arn FROM aws_encryption_key_users")}
    con.close()
    return facts


# ---------------------------------------------------------------------------------------------
# Comparison


@dataclass
class Verdict:
    status: str   # pass | fail | error | n/a
    raw: str      # the tool's own status, "-" when it did not report the resource
    reason: str


@dataclass
class Row:
    pair: tuple[str, str]
    resource: str
    account: str
    region: str
    ours: Verdict
    prowler: Verdict
    rule: str | None = None       # RULES key, None = UNEXPECTED
    why: str = ""

    @property
    def kind(self) -> str:
        """verdict: both tools reported the resource; coverage: one of them did not report it at all."""
        return "coverage" if "-" in (self.ours.raw, self.prowler.raw) else "verdict"


OURS_NORM = {"pass": "pass", "fail": "fail", "error": "error", "skip": "n/a"}
PROWLER_NORM = {"PASS": "pass", "FAIL": "fail", "MANUAL": "error"}


def ours_verdicts(report: dict[str, Any], facts: dict[str, Any]) -> dict[str, dict[str, Verdict]]:
    by_check = {c["id"]: {f["resource_arn"]: f for f in c["findings"]} for c in report["checks"]}
    for cid in ("kms_cmk_rotation_disabled", "kms_key_policy_public", *OUR_S3_CHECKS, *DIRECT):
        if cid not in by_check:
            raise Abort(f"our report has no check {cid}")
    out: dict[str, dict[str, Verdict]] = {}
    for cid in ("kms_cmk_rotation_disabled", "kms_key_policy_public", *DIRECT):
        out[cid] = {arn: Verdict(OURS_NORM[f["status"]], f["status"], f["reason"]) for arn, f in by_check[cid].items()}
    s3: dict[str, Verdict] = {}
    for arn in facts["buckets"]:
        e = facts["bucket_keys"].get(arn) or {}
        algo = e.get("sse_algorithm")
        parts = {cid: by_check[cid].get(arn) for cid in OUR_S3_CHECKS}
        if algo is None:
            s3[arn] = Verdict("error", "error", "The bucket's default encryption could not be read.")
        elif algo not in ("SSE-KMS", "DSSE-KMS"):
            s3[arn] = Verdict("fail", "fail", f"Default encryption is {algo}, not KMS (aws_s3_bucket_encryption_keys).")
        else:
            failing = [(c, f) for c, f in parts.items() if f and f["status"] == "fail"]
            erring = [(c, f) for c, f in parts.items() if f and f["status"] == "error"]
            if failing:
                s3[arn] = Verdict("fail", "fail " + "+".join(c for c, _ in failing),
                                  " ".join(f"[{c}] {f['reason']}" for c, f in failing))
            elif erring:
                s3[arn] = Verdict("error", "error " + "+".join(c for c, _ in erring),
                                  " ".join(f"[{c}] {f['reason']}" for c, f in erring))
            else:
                s3[arn] = Verdict("pass", "pass", f"{algo} with {e.get('resolved_key_arn') or 'aws/s3'} "
                                  f"({e.get('key_type')}); {', '.join(OUR_S3_CHECKS)} pass or skip.")
    out["s3_kms_encryption"] = s3
    return out


def prowler_verdicts(runs: list[ProwlerRun]) -> dict[str, dict[str, tuple[Verdict, str, str]]]:
    out: dict[str, dict[str, tuple[Verdict, str, str]]] = {p: {} for _, p in PAIRS}
    for run in runs:
        for f in run.findings:
            cid = (f.get("metadata") or {}).get("event_code")
            if cid not in out:
                continue
            res = (f.get("resources") or [{}])[0]
            arn = res.get("uid") or ""
            raw = f.get("status_code") or "?"
            if (f.get("status") or "").lower() == "suppressed":
                raw = f"MUTED({raw})"
            norm = PROWLER_NORM.get(raw, "error")
            cloud = f.get("cloud") or {}
            out[cid][arn] = (Verdict(norm, raw, f.get("status_detail") or ""),
                             (cloud.get("account") or {}).get("uid") or run.account,
                             res.get("region") or cloud.get("region") or "")
    return out


def compare(ours: dict[str, dict[str, Verdict]], prowler: dict[str, dict[str, tuple[Verdict, str, str]]],
            facts: dict[str, Any]) -> tuple[list[Row], list[Row]]:
    """(differences, agreements); resources neither tool evaluates (ours skip, Prowler silent) agree."""
    rows: list[Row] = []
    agree: list[Row] = []
    for pair in PAIRS:
        o, p = ours[pair[0]], prowler[pair[1]]
        for arn in sorted(set(o) | set(p)):
            ov = o.get(arn) or Verdict("n/a", "-", "not reported")
            pv, acct, region = p.get(arn) or (Verdict("n/a", "-", "not reported"), "", "")
            meta = facts["keys"].get(arn) or facts["buckets"].get(arn) or {}
            row = Row(pair, arn, meta.get("account_id") or acct, meta.get("region") or region, ov, pv)
            if ov.status == pv.status:
                agree.append(row)
                continue
            classify(row, facts)
            rows.append(row)
    return rows, agree


# --- The known AWS rules. Each is (id, pair, status pair it explains, fact predicate, explanation).

_NON_CALLER_KEYS = {"kms:viaservice", "aws:calledvia", "aws:calledviafirst", "aws:calledvialast",
                    "aws:resourceaccount", "s3:resourceaccount", "aws:username", "lambda:eventsourcetoken"}
_CALLER_KEYS = {"kms:calleraccount", "aws:principalaccount", "aws:sourceaccount", "aws:sourceowner",
                "aws:principalarn", "aws:sourcearn", "aws:principalorgid", "aws:principalorgpaths",
                "aws:sourceorgid", "aws:sourceorgpaths", "aws:userid", "aws:sourcevpc", "aws:sourcevpce",
                "aws:sourceip"}


def _public_statements(policy: Any) -> list[dict[str, Any]]:
    """Allow statements with a wildcard principal (read from the raw policy, not from our analysis)."""
    doc = json.loads(policy) if isinstance(policy, str) else policy
    sts = (doc or {}).get("Statement") or []
    sts = [sts] if isinstance(sts, dict) else sts
    out = []
    for st in sts:
        pr = st.get("Principal")
        aws = pr.get("AWS") if isinstance(pr, dict) else pr
        vals = aws if isinstance(aws, list) else [aws]
        if st.get("Effect") == "Allow" and any(v in ("*", "arn:aws:iam::*:root") for v in vals):
            out.append(st)
    return out


def _cond_keys(st: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    out = []
    for op, block in (st.get("Condition") or {}).items():
        for k, v in (block or {}).items():
            out.append((op, k.lower(), [str(x) for x in (v if isinstance(v, list) else [v])]))
    return out


def _key(facts: dict[str, Any], arn: str) -> dict[str, Any]:
    return facts["keys"].get(arn) or {}


def _sync_error(facts: dict[str, Any], arn: str, op: str) -> str | None:
    codes = sorted({e["error_code"] for e in facts["errors"] if e["resource_arn"] == arn and e["operation"] == op})
    return ", ".join(codes) or None


def _r_imported(row: Row, f: dict[str, Any]) -> bool:
    k = _key(f, row.resource)
    return k.get("origin") == "EXTERNAL" and k.get("key_manager") == "CUSTOMER" and k.get("key_state") == "Enabled"


def _r_custom_store(row: Row, f: dict[str, Any]) -> bool:
    k = _key(f, row.resource)
    return k.get("origin") in ("AWS_CLOUDHSM", "EXTERNAL_KEY_STORE") or bool(k.get("custom_key_store_id"))


def _r_rotation_denied(row: Row, f: dict[str, Any]) -> bool:
    code = _sync_error(f, row.resource, "GetKeyRotationStatus") or ""
    return "AccessDenied" in code


def _r_non_caller_condition(row: Row, f: dict[str, Any]) -> bool:
    sts = _public_statements(f["policies"].get(row.resource))
    bad = [st for st in sts if st.get("Condition")
           and {k for _, k, _ in _cond_keys(st)} <= _NON_CALLER_KEYS]
    return bool(bad)


def _r_wildcard_value(row: Row, f: dict[str, Any]) -> bool:
    for st in _public_statements(f["policies"].get(row.resource)):
        keys = _cond_keys(st)
        caller = [(op, k, v) for op, k, v in keys if k in _CALLER_KEYS]
        if caller and all(any("*" in x or "?" in x for x in v) for _, _, v in caller):
            return True
    return False


def _r_not_enabled(row: Row, f: dict[str, Any]) -> bool:
    k = _key(f, row.resource)
    return k.get("key_manager") == "CUSTOMER" and k.get("key_state") not in (None, "Enabled")


def _r_aws_managed(row: Row, f: dict[str, Any]) -> bool:
    return _key(f, row.resource).get("key_manager") == "AWS"


def _bucket_key(f: dict[str, Any], arn: str) -> dict[str, Any]:
    return f["bucket_keys"].get(arn) or {}


def _r_aws_managed_shared(row: Row, f: dict[str, Any]) -> bool:
    return (_bucket_key(f, row.resource).get("key_type") == "aws_managed"
            and "s3_aws_managed_key_cross_account" in row.ours.raw)


def _r_cmk_not_granted(row: Row, f: dict[str, Any]) -> bool:
    return ((_bucket_key(f, row.resource).get("key_type") or "").startswith("customer_managed")
            and "s3_key_unusable_by_bucket_principals" in row.ours.raw)


def _r_key_unusable_state(row: Row, f: dict[str, Any]) -> bool:
    e = _bucket_key(f, row.resource)
    return (e.get("key_state") not in (None, "Enabled") or e.get("key_known") is False) \
        and "s3_encryption_key_unusable_state" in row.ours.raw


def _r_encryption_unreadable(row: Row, f: dict[str, Any]) -> bool:
    return bool(_sync_error(f, row.resource, "GetBucketEncryption"))


def _state(row: Row, f: dict[str, Any], *states: str) -> bool:
    k = _key(f, row.resource)
    return k.get("key_manager") == "CUSTOMER" and k.get("key_state") in states


def _r_no_sign_of_use(row: Row, f: dict[str, Any]) -> bool:
    return (_state(row, f, "Enabled") and row.resource not in f["key_users"] and row.resource not in f["key_grants"]
            and row.resource not in f["key_aliases"])


def _r_two_of_four(row: Row, f: dict[str, Any]) -> bool:
    bpa = f["bucket_bpa"].get(row.resource)
    c = json.loads(bpa) if isinstance(bpa, str) else (bpa or {})
    return bool(c.get("IgnorePublicAcls") and c.get("RestrictPublicBuckets")
                and not (c.get("BlockPublicAcls") and c.get("BlockPublicPolicy")))


ROT, PUB, S3P, DEL, USED, MRK, TLS, BPA, ACL, PUBLIC = PAIRS
RULES: dict[str, tuple[tuple[str, str], tuple[str, str], Callable[[Row, dict[str, Any]], bool], str]] = {
    "imported-key-material": (ROT, ("n/a", "fail"), _r_imported,
        "Key with imported (EXTERNAL) key material: AWS cannot rotate it automatically (EnableKeyRotation is "
        "UnsupportedOperationException; rotate by importing new material, see kms_key_manual_rotation_overdue). "
        "Prowler does not fetch the rotation status of EXTERNAL keys and reports FAIL; ours skips."),
    "custom-key-store": (ROT, ("n/a", "fail"), _r_custom_store,
        "Key in a custom key store (CloudHSM or external): AWS does not support automatic rotation for it. "
        "Prowler still calls GetKeyRotationStatus (the emulator answers UnsupportedOperationException, as AWS "
        "rejects rotation calls for such keys; an answer of false would give the same) and reports FAIL; ours "
        "skips."),
    "rotation-status-denied": (ROT, ("error", "fail"), _r_rotation_denied,
        "GetKeyRotationStatus was AccessDenied (the account's audit role lacks kms:GetKeyRotationStatus): "
        "the rotation status is unknown. Prowler logs the error and reports FAIL; ours reports error."),
    "non-caller-condition": (PUB, ("fail", "pass"), _r_non_caller_condition,
        "A wildcard-principal statement whose only conditions are keys that do not say who the caller is "
        "(kms:ViaService, aws:CalledVia, aws:ResourceAccount, ...): any AWS account's principal can call "
        "through that service (kms:ViaService names the service, not the caller's account), so the key is "
        "public. Prowler counts any of these keys as restrictive and reports PASS; ours FAIL."),
    "wildcard-condition-value": (PUB, ("fail", "pass"), _r_wildcard_value,
        "A wildcard-principal statement whose caller condition has a wildcard value (StringLike "
        "kms:CallerAccount \"*\"): it matches every account, so it restricts nothing. Prowler accepts any "
        "string value when cross-account access is allowed and reports PASS; ours FAIL."),
    "key-not-enabled": (PUB, ("fail", "n/a"), _r_not_enabled,
        "Disabled (or pending) customer managed key with a public key policy: the policy is in force in every "
        "key state (whoever it admits can call DescribeKey, GetKeyPolicy and, here, EnableKey/PutKeyPolicy, and "
        "can use the key once it is enabled). Prowler evaluates Enabled keys only; ours FAIL."),
    "key-not-enabled-pass": (PUB, ("pass", "n/a"), _r_not_enabled,
        "Disabled, pending-import or pending-deletion customer managed key: Prowler evaluates Enabled keys "
        "only; ours evaluates its policy too (not public). Scope only."),
    "aws-managed-key-policy": (PUB, ("pass", "n/a"), _r_aws_managed,
        "AWS managed key (aws/s3): Prowler evaluates customer managed keys only; ours reads its fixed policy "
        "(Principal * narrowed by kms:CallerAccount = the owner and kms:ViaService): not public. Scope only."),
    "aws-s3-key-shared-bucket": (S3P, ("fail", "pass"), _r_aws_managed_shared,
        "Bucket encrypted with the AWS managed aws/s3 key and shared with another account by its bucket policy: "
        "the aws/s3 key policy admits only its own account (kms:CallerAccount) and cannot be changed or granted, "
        "so the other account's GetObject/PutObject fail with AccessDenied from KMS. Prowler only checks "
        "SSEAlgorithm = aws:kms and reports PASS; ours FAIL (s3_aws_managed_key_cross_account)."),
    "cmk-not-granted-to-readers": (S3P, ("fail", "pass"), _r_cmk_not_granted,
        "Bucket on a customer managed key whose key policy and grants do not give the account(s) the bucket "
        "policy admits kms:Decrypt/kms:GenerateDataKey: a KMS key policy must allow cross-account use "
        "explicitly, so their requests fail with AccessDenied from KMS. Prowler only checks SSEAlgorithm; ours "
        "FAIL (s3_key_unusable_by_bucket_principals)."),
    "key-unusable-state": (S3P, ("fail", "pass"), _r_key_unusable_state,
        "Bucket whose default KMS key is disabled, pending deletion or pending import: S3 cannot use it "
        "(KMS.KMSInvalidStateException on every write relying on default encryption, and objects become "
        "unreadable once the key is deleted). Prowler only checks SSEAlgorithm; ours FAIL "
        "(s3_encryption_key_unusable_state)."),
    "bucket-encryption-unreadable": (S3P, ("error", "fail"), _r_encryption_unreadable,
        "GetBucketEncryption failed: the default encryption is unknown. Prowler reports FAIL; ours error."),
    "disabled-key": (DEL, ("fail", "n/a"), lambda r, f: _state(r, f, "Disabled"),
        "Disabled customer managed key: every request to use it fails now (key-state). Prowler's check leaves "
        "disabled keys out (unless --scan-unused-services); ours FAIL, naming the synced resources under it."),
    "pending-import-deletion-check": (DEL, ("n/a", "pass"), lambda r, f: _state(r, f, "PendingImport"),
        "Key with no (or expired) imported material: not scheduled for deletion, but unusable; ours leaves it to "
        "kms_imported_key_material_expiring (skip), Prowler PASS. Scope only."),
    "enabled-without-sign-of-use": (USED, ("fail", "pass"), _r_no_sign_of_use,
        "Enabled customer managed key that no synced resource is encrypted under, with no grant and no alias. "
        "Prowler reports every Enabled key as 'being used' without looking; ours FAIL at low severity, telling "
        "to confirm with CloudTrail first (posture data can't see direct Encrypt/Decrypt calls)."),
    "pending-deletion-use-check": (USED, ("n/a", "pass"), lambda r, f: _state(r, f, "PendingDeletion"),
        "Key pending deletion: Prowler PASS ('not being used but it has scheduled deletion'); ours leaves it to "
        "kms_key_pending_deletion_or_disabled (skip). Scope only."),
    "pending-import-use-check": (USED, ("pass", "fail"), lambda r, f: _state(r, f, "PendingImport")
                                 and (r.resource in f["key_grants"] or r.resource in f["key_aliases"]
                                      or r.resource in f["key_users"]),
        "Key pending import with an alias, grant or resource naming it: something expects to use it (ours "
        "pass: in use; its unusable state is kms_imported_key_material_expiring's finding); Prowler FAIL "
        "('not being used', from the state alone)."),
    "bpa-two-of-four": (BPA, ("fail", "pass"), _r_two_of_four,
        "Bucket Block Public Access with IgnorePublicAcls and RestrictPublicBuckets on but BlockPublicAcls or "
        "BlockPublicPolicy off: what is public today is neutralised, but anyone who may write the bucket's policy "
        "or ACL can still make it public, which Security Hub S3.8 and CIS 2.1.4 ask the other two settings to "
        "refuse. Prowler's check looks at the two settings only and reports PASS; ours FAIL (all four)."),
    "multi-region-scope": (MRK, ("pass", "n/a"), lambda r, f: _state(r, f, "Disabled", "PendingDeletion",
                                                                       "PendingImport", "Unavailable"),
        "Single-Region customer managed key that is not Enabled: Prowler evaluates Enabled keys only; ours "
        "every customer managed key. Scope only."),
}


def classify(row: Row, facts: dict[str, Any]) -> None:
    for rid, (pair, statuses, pred, why) in RULES.items():
        if pair == row.pair and statuses == (row.ours.status, row.prowler.status) and pred(row, facts):
            row.rule, row.why = rid, why
            return
    row.rule, row.why = None, "UNEXPECTED: no AWS rule explains this difference (a bug on one side)."


# ---------------------------------------------------------------------------------------------
# Output


def _short(arn: str) -> str:
    if arn.startswith("arn:aws:s3:::"):
        return "s3://" + arn[len("arn:aws:s3:::"):]
    parts = arn.split(":")
    if len(parts) >= 6 and parts[2] == "kms":
        return f"kms {parts[4]} {parts[3]} {parts[5][4:12]}.."
    return arn


def key_label(arn: str, world: Any, extras: Extras) -> str:
    names = {m["Arn"]: n for n, m in world.keys.items()}
    names.update({a: n for n, a in extras.keys.items()})
    return names.get(arn, "")


def render_table(rows: list[Row], world: Any, extras: Extras) -> str:
    lines = []
    for i, r in enumerate(rows, 1):
        label = key_label(r.resource, world, extras)
        tag = r.rule or "UNEXPECTED"
        lines.append(f"{i:2}. [{r.kind}] {r.pair[0]} <-> {r.pair[1]}")
        lines.append(f"    resource : {r.resource}" + (f"  ({label})" if label else ""))
        lines.append(f"    ours     : {r.ours.raw:<8} {r.ours.reason}")
        lines.append(f"    prowler  : {r.prowler.raw:<8} {r.prowler.reason}")
        lines.append(f"    why      : {'!!! ' if not r.rule else ''}{tag}: {r.why}")
    return "\n".join(lines)


def render_markdown(rows: list[Row], world: Any, extras: Extras) -> str:
    out = ["| # | pair (ours / Prowler) | resource | ours | Prowler | kind | classification |",
           "|---|---|---|---|---|---|---|"]
    for i, r in enumerate(rows, 1):
        label = key_label(r.resource, world, extras)
        res = f"`{_short(r.resource)}`" + (f" ({label})" if label else "")
        out.append(f"| {i} | {r.pair[0]} / {r.pair[1]} | {res} | {r.ours.raw} | {r.prowler.raw} | {r.kind} | "
                   f"{'**UNEXPECTED**' if not r.rule else r.rule} |")
    return "\n".join(out) + "\n"


def timing_summary(rounds: list[tuple[Timed, Timed, list[ProwlerRun]]]) -> dict[str, dict[str, float]]:
    import statistics

    series: dict[str, list[float]] = {}

    def add(k: str, v: float | None) -> None:
        if v is not None:
            series.setdefault(k, []).append(v)

    for sync, check, runs in rounds:
        add("ours_sync", sync.seconds)
        add("ours_check", check.seconds)
        add("ours_total", sync.seconds + check.seconds)
        add("prowler_total", sum(r.seconds for r in runs))
        for r in runs:
            add(f"prowler_{r.account}", r.seconds)
            add(f"startup_{r.account}", r.startup)
            add(f"scan_{r.account}", r.scan)
    return {k: {"min": round(min(v), 2), "median": round(statistics.median(v), 2), "runs": [round(x, 2) for x in v]}
            for k, v in series.items()}


def _free_port_check() -> None:
    with socket.socket() as s:  # loopback is all we need; fail early if even that is missing
        s.bind(("127.0.0.1", 0))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aws-encryption-bench"
    ap.add_argument("--prowler-venv", type=Path, default=cache / "prowler-venv",
                    help="virtual environment for Prowler (created unless --skip-install)")
    ap.add_argument("--prowler-version", default=PROWLER_VERSION)
    ap.add_argument("--skip-install", action="store_true", help="use the Prowler already in --prowler-venv")
    ap.add_argument("--install-timeout", type=float, default=1800)
    ap.add_argument("--prowler-timeout", type=float, default=900, help="seconds per Prowler run")
    ap.add_argument("--ours-timeout", type=float, default=600)
    ap.add_argument("--services", nargs="+", default=SERVICES, metavar="SERVICE",
                    help="the Prowler services to run (default: %(default)s: every service whose resources our "
                         "sync reads); the comparison of verdicts is on the KMS and S3 pairs either way")
    ap.add_argument("--checks-only", action="store_true",
                    help="run only Prowler's three compared checks instead of --services")
    ap.add_argument("--workdir", type=Path, help="keep outputs here (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--json", type=Path, help="write the comparison as JSON")
    ap.add_argument("--markdown", type=Path, help="write the disagreement table as Markdown")
    ap.add_argument("--timing-runs", type=int, default=1, metavar="N",
                    help="run ours and Prowler N times on the same world and report min and median wall time "
                         "(the comparison uses the first run)")
    args = ap.parse_args(argv)
    if args.timing_runs < 1:
        ap.error("--timing-runs must be at least 1")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="prowler-compare-"))
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    server = None
    try:
        _free_port_check()
        pw = ensure_prowler(args.prowler_venv.expanduser().resolve(), args.prowler_version, args.skip_install,
                            args.install_timeout)
        log(f"Prowler {pw.version} in {pw.venv} (Python {pw.python_version})")
        t0 = time.monotonic()
        server, world, extras = start_world()
        from plugin.demo.server import enable_iam_enforcement
        from plugin.demo.world import COMPUTE, DATA
        enable_iam_enforcement(world.endpoint)
        log(f"world on {world.endpoint} built in {time.monotonic() - t0:.1f} s; IAM enforcement on")

        load_before = os.getloadavg()
        rounds: list[tuple[Timed, Timed, list[ProwlerRun]]] = []
        for i in range(args.timing_runs):
            rdir = workdir if i == 0 else workdir / f"timing-run-{i + 1}"
            rdir.mkdir(parents=True, exist_ok=True)
            log(f"ours: aws-encryption sync + check (run {i + 1}/{args.timing_runs}) ...")
            db_i, report_i, sync_i, check_i = run_ours(world, rdir, args.ours_timeout)
            log(f"ours: sync {sync_i.seconds:.1f} s, check {check_i.seconds:.1f} s")
            runs_i = [run_prowler(pw, world, extras, a, rdir, args.prowler_timeout, args.checks_only, args.services)
                      for a in (DATA, COMPUTE)]
            rounds.append((sync_i, check_i, runs_i))
            if i == 0:
                db, report_path, calls = db_i, report_i, len(server.calls)
        load_after = os.getloadavg()
        sync, check, runs = rounds[0]
    except Abort as e:
        log(f"ERROR: {e}")
        if args.workdir is None and not any(workdir.iterdir()):
            workdir.rmdir()
        else:
            log(f"outputs kept in {workdir}")
        return 2
    finally:
        if server is not None:
            server.stop()

    facts = load_facts(db)
    ours = ours_verdicts(json.loads(report_path.read_text()), facts)
    prow = prowler_verdicts(runs)
    rows, agreed = compare(ours, prow, facts)
    for lst in (rows, agreed):  # stable order: pair, verdicts before coverage, then the resource's name
        lst.sort(key=lambda r: (PAIRS.index(r.pair), r.kind != "verdict",
                                key_label(r.resource, world, extras) or r.resource))
    unexpected = [r for r in rows if not r.rule]

    print(f"Prowler {pw.version} (Python {pw.python_version}) vs aws-encryption on the demo world + comparison "
          f"resources ({world.endpoint}, IAM enforcement on)")
    if pw.install_seconds is not None:
        print(f"Prowler install: {pw.install_seconds:.0f} s")
    what = f"{len(PAIRS)} compared checks" if args.checks_only else "--services " + " ".join(args.services)
    timing = timing_summary(rounds)
    n = len(rounds)
    print(f"Wall time over {n} run(s) (min / median), load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after (other work on the machine inflates these):")
    for label, key in (("Prowler " + what + ", both accounts (one run per account)", "prowler_total"),
                       *[(f"  Prowler, account {a}", f"prowler_{a}") for a in (DATA, COMPUTE)],
                       *[(f"    start-up (process start -> first log line), {a}", f"startup_{a}") for a in (DATA, COMPUTE)],
                       *[(f"    scan (AWS calls + checks), {a}", f"scan_{a}") for a in (DATA, COMPUTE)],
                       ("ours, sync + check, both accounts in one run", "ours_total"),
                       ("  aws-encryption sync", "ours_sync"), ("  aws-encryption check", "ours_check")):
        v = timing.get(key)
        if v:
            print(f"  {label:<66} {v['min']:6.1f} s / {v['median']:6.1f} s")
    where = f"in {workdir}" if (args.workdir or args.keep) else "pass --keep to keep them"
    print(f"Emulator served {calls} calls in the first run. Errors in Prowler's logs ({where}):")
    for r in runs:
        counts: dict[str, int] = {}
        for m in r.errors:
            short = re.sub(r"\s+", " ", re.sub(r"<\?xml.*?<Message>|</Message>.*", " ", m)).strip()[:170]
            counts[short] = counts.get(short, 0) + 1
        for m, n in sorted(counts.items()):
            print(f"  {r.account} x{n}: {m}")
    print()
    for pair in PAIRS:
        n = sum(1 for r in rows if r.pair == pair)
        print(f"  {pair[0]:<28} <-> {pair[1]:<34} agree on {sum(1 for r in agreed if r.pair == pair):2}, "
              f"differ on {n:2} ({sum(1 for r in rows if r.pair == pair and r.kind == 'verdict')} verdict, "
              f"{sum(1 for r in rows if r.pair == pair and r.kind == 'coverage')} coverage)")
    print()
    print("Agreements (ours / Prowler; '-' = not reported):")
    for r in agreed:
        label = key_label(r.resource, world, extras)
        print(f"  {r.pair[0]:<26} {r.ours.raw:<5} / {r.prowler.raw:<5} {_short(r.resource)}"
              + (f" ({label})" if label else ""))
    print()
    print("Differences:")
    print(render_table(rows, world, extras) if rows else "No differences.")
    print()
    if unexpected:
        print(f"!!! {len(unexpected)} UNEXPECTED difference(s): "
              + ", ".join(f"{r.pair[0]} {r.resource}" for r in unexpected))
    else:
        print(f"All {len(rows)} differences are explained by AWS rules (no UNEXPECTED).")

    if args.markdown:
        args.markdown.write_text(render_markdown(rows, world, extras))
    if args.json:
        args.json.write_text(json.dumps({
            "prowler_version": pw.version, "prowler_install_seconds": pw.install_seconds,
            "prowler_mode": what, "timing_runs": n, "timing_seconds": timing,
            "load_average": [load_before[0], load_after[0]],
            "agreements": [{"ours_check": r.pair[0], "prowler_check": r.pair[1], "resource": r.resource,
                            "ours": r.ours.raw, "prowler": r.prowler.raw} for r in agreed],
            "differences": [{"ours_check": r.pair[0], "prowler_check": r.pair[1], "resource": r.resource,
                             "label": key_label(r.resource, world, extras), "account": r.account,
                             "region": r.region, "kind": r.kind, "ours": r.ours.__dict__,
                             "prowler": r.prowler.__dict__, "rule": r.rule, "why": r.why} for r in rows],
        }, indent=2, default=str) + "\n")
    if args.workdir is None and not args.keep and not unexpected:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        log(f"outputs kept in {workdir}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
