"""The cross-account picture of the HTML report: which resources are shared with other accounts (or
organisations, AWS services, the public), which key encrypts each, and whether each reader can use
that key. Read from the `*_access_paths` tables (docs/access-paths.md, docs/shared-resources.md), the
keys and aliases, and the organisation's account names; `Report.graph` holds it (set by `check
--format html`), html.py draws it.

What counts as shared: a path row whose reader is outside the resource's account (a role, user or
root of another account, an organisation, an AWS service, the public, a canonical user) and whose
resource side does not refuse it (`bucket_verdict` / `resource_verdict` not `deny` or
`not_allowed`). The S3 `owner` path and rows the sync could not read (`principal_type` `unknown`:
their checks report them as `error`) are left out.

Nodes: owner accounts, resources, keys, readers (accounts, organisations, services, the public).
Edges: owner -> resource (`owns`), resource -> key (`encrypts`), and resource -> reader (`access`),
one per (resource, key, reader) with the worst `key_verdict` of its rows (deny > not_allowed >
unknown > depends > allow > not_needed / not_evaluated) and the rows that make it up.

Size cap: a large organisation shares thousands of resources; only the `max_resources` resources with
the most broken edges (then unknown, then most edges) are kept, and the readers beyond `max_readers`
(fewest broken edges first) are folded into one "more readers" node. `omitted_resources`,
`omitted_edges` and `omitted_readers` say how much was left out; the counts (`total_*`) cover all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

MAX_RESOURCES = 30
MAX_READERS = 30
MAX_DETAILS = 6  # rows named per edge (its tooltip)

# Worst first; a verdict not listed ranks as unknown.
VERDICT_RANK: dict[str, int] = {"deny": 6, "not_allowed": 5, "unknown": 4, "depends": 3, "allow": 2,
                                "not_needed": 1, "not_evaluated": 0}
BROKEN: tuple[str, ...] = ("deny", "not_allowed")

# The S3 table, then the shared resources' (same columns: docs/shared-resources.md).
S3_TABLE = "aws_s3_bucket_access_paths"
SHARED_TABLES: tuple[str, ...] = (
    "aws_secretsmanager_secret_access_paths", "aws_sqs_queue_access_paths", "aws_sns_topic_access_paths",
    "aws_ec2_ebs_snapshot_access_paths", "aws_ec2_image_access_paths", "aws_rds_db_snapshot_access_paths",
    "aws_rds_cluster_snapshot_access_paths", "aws_backup_vault_access_paths")
PATH_TABLES: tuple[str, ...] = (S3_TABLE, *SHARED_TABLES)

_COLUMNS = ("account_id", "resource_arn", "region", "resource_type", "principal", "principal_type",
            "principal_account", "principal_org_id", "principal_label", "access", "resource_verdict",
            "key_reference", "key_arn", "key_type", "key_account_id", "key_verdict")
_S3_SQL = f"""
SELECT account_id, bucket_arn, bucket_region, 'AwsS3Bucket', principal, principal_type, principal_account,
       principal_org_id, principal_label, access, bucket_verdict, NULL, key_arn, key_type, key_account_id,
       key_verdict
FROM {S3_TABLE} WHERE coalesce(path, '') <> 'owner'"""
_SHARED_SQL = """
SELECT account_id, resource_arn, region, resource_type, principal, principal_type, principal_account,
       principal_org_id, principal_label, access, resource_verdict, key_reference, key_arn, key_type,
       key_account_id, key_verdict
FROM {table}"""

_KEY_TYPE_TEXT = {"aws_managed": "AWS managed", "aws_owned": "AWS owned", "none": "not encrypted",
                  "customer_managed_aws_key_material": "customer managed",
                  "customer_managed_external_key_material": "customer managed, imported material",
                  "customer_managed_custom_key_store": "customer managed, custom key store"}


@dataclass(frozen=True)
class GraphNode:
    id: str
    kind: str      # owner | resource | key | reader
    label: str     # short, shown
    sub: str = ""  # second line, shown
    title: str = ""  # the full text (ARN, description), for the tooltip


@dataclass
class GraphEdge:
    source: str
    target: str
    kind: str               # owns | encrypts | access
    verdict: str = ""       # access: the worst key_verdict of its rows
    key: str = ""           # access: the key node the reader needs
    rows: int = 0           # access: how many path rows
    details: list[str] = field(default_factory=list)  # access: "principal: access -> verdict", at most MAX_DETAILS

    @property
    def broken(self) -> bool:
        return self.kind == "access" and self.verdict in BROKEN


@dataclass
class AccessGraph:
    owners: list[GraphNode] = field(default_factory=list)
    resources: list[GraphNode] = field(default_factory=list)
    keys: list[GraphNode] = field(default_factory=list)
    readers: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)    # the path tables read
    problems: list[str] = field(default_factory=list)  # tables that could not be read
    total_resources: int = 0   # shared resources, before the cap
    total_edges: int = 0       # access edges, before the cap
    total_broken: int = 0      # broken access edges, before the cap
    omitted_resources: int = 0
    omitted_edges: int = 0
    omitted_readers: int = 0   # readers folded into the "more readers" node

    def nodes(self) -> list[GraphNode]:
        return [*self.owners, *self.resources, *self.keys, *self.readers]


def worst(a: str, b: str) -> str:
    return a if VERDICT_RANK.get(a, VERDICT_RANK["unknown"]) >= VERDICT_RANK.get(b, VERDICT_RANK["unknown"]) else b


def load_graph(db_path: str, max_resources: int = MAX_RESOURCES, max_readers: int = MAX_READERS) -> AccessGraph | None:
    """The graph of the posture database at `db_path` (opened read-only, sandboxed); None when it has
    none of the access-path tables (an older file, or a sync that skipped them). Never raises for the
    data: a database that can't be read gives a graph whose `problems` say why (the report is still
    written)."""
    from ..files import CheckError
    from ..runner import open_read_only
    try:
        con = open_read_only(db_path)
    except CheckError as e:
        return AccessGraph(problems=[str(e)])
    try:
        return extract_graph(con, max_resources, max_readers)
    except duckdb.Error as e:
        return AccessGraph(problems=[_first_line(e)])
    finally:
        con.close()


def extract_graph(con: duckdb.DuckDBPyConnection, max_resources: int = MAX_RESOURCES,
                  max_readers: int = MAX_READERS) -> AccessGraph | None:
    present = set(_tables(con))
    tables = [t for t in PATH_TABLES if t in present]
    if not tables:
        return None
    g = AccessGraph(tables=tables)
    rows: list[dict[str, Any]] = []
    for t in tables:
        sql = _S3_SQL if t == S3_TABLE else _SHARED_SQL.format(table=t)
        try:
            rows += [dict(zip(_COLUMNS, r)) for r in con.execute(sql).fetchall()]
        except duckdb.Error as e:
            g.problems.append(f"{t}: {_first_line(e)}")
    aliases = _aliases(con, present)
    keys_info = _keys(con, present)
    names = _account_names(con, present)

    # (resource, key, reader) -> edge; nodes by id.
    access: dict[tuple[str, str, str], GraphEdge] = {}
    resources: dict[str, GraphNode] = {}
    owner_of: dict[str, str] = {}
    key_nodes: dict[str, GraphNode] = {}
    reader_nodes: dict[str, GraphNode] = {}
    for r in rows:
        reader = _reader(r, names)
        if reader is None or (r["resource_verdict"] or "") in ("deny", "not_allowed") or not r["resource_arn"]:
            continue
        arn = str(r["resource_arn"])
        owner = str(r["account_id"] or "")
        resources.setdefault(arn, GraphNode(arn, "resource", _short_arn(arn), _resource_sub(r), arn))
        owner_of.setdefault(arn, owner)
        key = _key_node(r, aliases, keys_info)
        key_nodes.setdefault(key.id, key)
        reader_nodes.setdefault(reader.id, reader)
        verdict = str(r["key_verdict"] or "unknown")
        e = access.get((arn, key.id, reader.id))
        if e is None:
            e = access[(arn, key.id, reader.id)] = GraphEdge(arn, reader.id, "access", verdict, key.id)
        e.verdict = worst(e.verdict, verdict)
        e.rows += 1
        if len(e.details) < MAX_DETAILS:
            e.details.append(f"{r['principal_label'] or r['principal']}: {r['access'] or '?'} -> key {verdict}")

    edges = list(access.values())
    g.total_resources = len(resources)
    g.total_edges = len(edges)
    g.total_broken = sum(1 for e in edges if e.broken)

    # The cap: resources with the most broken, then unknown, then any edges first.
    score: dict[str, list[int]] = {arn: [0, 0, 0] for arn in resources}
    for e in edges:
        s = score[e.source]
        s[0] += e.broken
        s[1] += e.verdict in ("unknown", "depends")
        s[2] += 1
    ranked = sorted(resources, key=lambda a: (-score[a][0], -score[a][1], -score[a][2], a))
    kept = set(ranked[:max(max_resources, 0)])
    g.omitted_resources = len(resources) - len(kept)
    edges = [e for e in edges if e.source in kept]
    g.omitted_edges = g.total_edges - len(edges)

    # Readers beyond the cap (fewest broken edges first) become one node.
    rscore: dict[str, list[int]] = {}
    for e in edges:
        s = rscore.setdefault(e.target, [0, 0])
        s[0] += e.broken
        s[1] += 1
    readers = sorted(rscore, key=lambda rid: (-rscore[rid][0], -rscore[rid][1], rid))
    folded = set(readers[max(max_readers, 1) - 1:]) if len(readers) > max(max_readers, 1) else set()
    if folded:
        g.omitted_readers = len(folded)
        more = GraphNode("more:readers", "reader", f"+{len(folded)} more readers", "folded: see the findings",
                         ", ".join(sorted(reader_nodes[r].label for r in folded)[:50]))
        reader_nodes[more.id] = more
        merged: dict[tuple[str, str, str], GraphEdge] = {}
        for e in edges:
            target = more.id if e.target in folded else e.target
            m = merged.get((e.source, e.key, target))
            if m is None:
                merged[(e.source, e.key, target)] = GraphEdge(e.source, target, "access", e.verdict, e.key, e.rows,
                                                              list(e.details))
            else:
                m.verdict = worst(m.verdict, e.verdict)
                m.rows += e.rows
                m.details = (m.details + e.details)[:MAX_DETAILS]
        edges = list(merged.values())

    used_keys = {e.key for e in edges}
    used_readers = {e.target for e in edges}
    owners = sorted({owner_of[a] for a in kept})
    g.owners = [GraphNode(f"owner:{o}", "owner", o or "(no account)", names.get(o, "") or "owner account", o)
                for o in owners]
    g.resources = [resources[a] for a in ranked if a in kept]
    g.keys = [key_nodes[k] for k in sorted(used_keys)]
    g.readers = [reader_nodes[r] for r in sorted(used_readers)]
    encrypts = sorted({(e.source, e.key) for e in edges})
    g.edges = ([GraphEdge(f"owner:{owner_of[n.id]}", n.id, "owns") for n in g.resources]
               + [GraphEdge(s, k, "encrypts") for s, k in encrypts] + edges)
    return g


# ---------------------------------------------------------------------------------------------

def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT DISTINCT table_name FROM information_schema.tables "
                       "WHERE table_catalog = current_database()").fetchall()
    return [r[0] for r in rows]


def _reader(r: dict[str, Any], names: dict[str, str]) -> GraphNode | None:
    """The reader a path row names, or None when it is not outside the resource's account."""
    ptype = str(r["principal_type"] or "")
    principal = str(r["principal"] or "")
    acct = str(r["principal_account"] or "")
    owner = str(r["account_id"] or "")
    if ptype in ("principal", "account"):
        if not acct or acct == owner:
            return None
        return GraphNode(f"account:{acct}", "reader", acct, names.get(acct, "") or "account", acct)
    if ptype == "organization":
        org = str(r["principal_org_id"] or principal)
        return GraphNode(f"org:{org}", "reader", org, "organisation (every account)", org)
    if ptype == "public":
        return GraphNode("public", "reader", "everyone", "public", "*")
    if ptype == "service":
        return GraphNode(f"service:{principal}", "reader", principal, "AWS service", principal)
    if ptype == "canonical_user":
        if acct and acct == owner:
            return None
        return GraphNode(f"canonical:{principal}", "reader", principal[:12] + ("…" if len(principal) > 12 else ""),
                         "S3 canonical user", principal)
    return None  # unknown: the path could not be read (an error finding says so)


def _resource_sub(r: dict[str, Any]) -> str:
    t = str(r["resource_type"] or "")
    kind = {"AwsS3Bucket": "S3 bucket", "AwsSecretsManagerSecret": "secret", "AwsSqsQueue": "SQS queue",
            "AwsSnsTopic": "SNS topic", "AwsEc2Snapshot": "EBS snapshot", "AwsEc2Image": "AMI",
            "AwsRdsDbSnapshot": "RDS snapshot", "AwsRdsDbClusterSnapshot": "RDS cluster snapshot",
            "AwsBackupBackupVault": "backup vault"}.get(t, t)
    region = str(r["region"] or "")
    return f"{kind} · {region}" if region else kind


def _short_arn(arn: str) -> str:
    """The resource's name: after the service's prefix (bucket, secret:, snapshot:, backup-vault:)."""
    tail = arn.split(":", 5)[-1] if arn.startswith("arn:") else arn
    if "/" in tail:
        tail = tail.rsplit("/", 1)[-1] or tail
    for prefix in ("secret:", "snapshot:", "cluster-snapshot:", "backup-vault:", "image/"):
        if tail.startswith(prefix):
            tail = tail[len(prefix):]
    return tail or arn


def _key_node(r: dict[str, Any], aliases: dict[str, str], keys: dict[str, tuple[str, str]]) -> GraphNode:
    arn = str(r["key_arn"] or "")
    ref = str(r["key_reference"] or "")
    ktype = str(r["key_type"] or "")
    acct = str(r["key_account_id"] or r["account_id"] or "")
    if arn:
        nid = f"key:{arn}"
        key_id = arn.rsplit("/", 1)[-1]
        label = aliases.get(key_id) or (f"key/{key_id[:8]}…" if len(key_id) > 8 else f"key/{key_id}")
        title = arn
    else:
        what = ref or ktype or "unknown key"
        nid = f"key:{acct}:{r['region'] or ''}:{what}"
        label = ref.split(":alias/", 1)[-1] if ":alias/" in ref else (ref or _KEY_TYPE_TEXT.get(ktype, ktype or "?"))
        if ":alias/" in ref:
            label = "alias/" + label
        title = ref or what
    state, description = keys.get(arn, ("", ""))
    sub = " · ".join(x for x in (_KEY_TYPE_TEXT.get(ktype, ktype), acct,
                                 state if state and state != "Enabled" else "") if x)
    return GraphNode(nid, "key", label, sub, f"{title}{' — ' + description if description else ''}")


def _aliases(con: duckdb.DuckDBPyConnection, present: set[str]) -> dict[str, str]:
    """Key id -> an alias of it (a customer's alias before an AWS one)."""
    if "aws_kms_aliases" not in present:
        return {}
    try:
        rows = con.execute("SELECT target_key_id, alias_name FROM aws_kms_aliases WHERE target_key_id IS NOT NULL "
                           "ORDER BY starts_with(alias_name, 'alias/aws/'), alias_name").fetchall()
    except duckdb.Error:
        return {}
    out: dict[str, str] = {}
    for key_id, name in rows:
        out.setdefault(str(key_id), str(name))
    return out


def _keys(con: duckdb.DuckDBPyConnection, present: set[str]) -> dict[str, tuple[str, str]]:
    """Key ARN -> (key_state, description)."""
    if "aws_kms_keys" not in present:
        return {}
    try:
        rows = con.execute("SELECT arn, key_state, description FROM aws_kms_keys").fetchall()
    except duckdb.Error:
        return {}
    return {str(a): (str(s or ""), str(d or "")) for a, s, d in rows if a}


def _account_names(con: duckdb.DuckDBPyConnection, present: set[str]) -> dict[str, str]:
    if "aws_organizations_accounts" not in present:
        return {}
    try:
        rows = con.execute("SELECT id, name FROM aws_organizations_accounts WHERE id IS NOT NULL").fetchall()
    except duckdb.Error:
        return {}
    return {str(i): str(n or "") for i, n in rows}
