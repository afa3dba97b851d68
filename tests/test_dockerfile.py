"""The image is built from pinned inputs and runs as a non-root user (docs/docker.md).

Static checks of the `Dockerfile`, `docker/requirements.lock` and `.dockerignore`: no Docker, no
network. The base image is pinned by digest; the dependencies come from the lock, hash-checked; every
runtime dependency of pyproject.toml is pinned there within its range; the project's own packages are
copied; a user other than root runs the entrypoint.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "docker" / "requirements.lock"
DOCKERIGNORE = ROOT / ".dockerignore"
DOC = ROOT / "docs" / "docker.md"

# The command that writes the lock, as pip-compile records it in the lock's header (it sorts the
# options); docs/docker.md gives it too.
REGENERATE = ("pip-compile --allow-unsafe --generate-hashes --output-file=docker/requirements.lock "
              "--strip-extras pyproject.toml")
PROJECT = "cq-source-aws-encryption"
# What the lock's environment markers are evaluated for: the image (Python 3.11, Linux).
IMAGE_ENV = {"python_version": "3.11", "python_full_version": "3.11.16", "sys_platform": "linux",
             "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
             "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}

DIGEST_REF = re.compile(r"^(?P<image>[\w.\-/]+):(?P<tag>[\w.\-]+)@sha256:(?P<digest>[0-9a-f]{64})$")


# ---------------------------------------------------------------------------------------------
# Readers

def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            name, _, args = full.partition(" ")
            out.append((name.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued instruction"
    return out


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form ENTRYPOINT or CMD."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def from_refs(ins: list[tuple[str, str]]) -> list[str]:
    refs = []
    for name, args in ins:
        if name == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            refs.append(words[0])
    return refs


def pinned_by_digest(ref: str) -> bool:
    return DIGEST_REF.match(ref) is not None


def runtime_user(ins: list[tuple[str, str]]) -> str | None:
    """The user of the last USER instruction before ENTRYPOINT (None: root by default)."""
    user = None
    for name, args in ins:
        if name == "USER":
            user = args.strip()
        if name == "ENTRYPOINT":
            return user
    raise AssertionError("no ENTRYPOINT")


def is_root(user: str | None) -> bool:
    if user is None:
        return True
    name = user.split(":")[0]
    return name in ("root", "0") or name.lstrip("0") == ""


def pip_installs(ins: list[tuple[str, str]]) -> list[list[str]]:
    """The argument lists of every `pip install` in a RUN (split at && and ;)."""
    out = []
    for name, args in ins:
        if name != "RUN":
            continue
        for part in re.split(r"&&|;|\|\|", args):
            words = shlex.split(part)
            for i in range(len(words) - 1):
                if words[i].endswith("pip") and words[i + 1] == "install":
                    out.append(words[i + 2:])
                elif words[i:i + 4] == ["python", "-m", "pip", "install"]:
                    out.append(words[i + 4:])
    return out


def copies(ins: list[tuple[str, str]]) -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY without --from."""
    out = []
    for name, args in ins:
        if name != "COPY":
            continue
        words = args.split()
        if any(w.startswith("--from") for w in words):
            continue
        words = [w for w in words if not w.startswith("--")]
        out.append((words[:-1], words[-1]))
    return out


def parse_lock(text: str) -> dict[str, dict]:
    """canonical name -> {"version", "hashes", "via", "line"}; also "options" -> lines like --index-url."""
    pins: dict[str, dict] = {}
    options: list[str] = []
    current: dict | None = None
    in_via = False
    logical, pending = [], ""
    for raw in text.splitlines():
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        logical.append(pending + raw)
        pending = ""
    for line in logical:
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            body = s[1:].strip()
            if current is None:
                continue
            if body == "via":
                in_via = True
            elif body.startswith("via "):
                current["via"].append(body[4:].strip())
                in_via = False
            elif in_via and s.startswith("#   "):
                current["via"].append(body)
            else:
                in_via = False
            continue
        in_via = False
        if s.startswith("-"):
            options.append(s)
            current = None
            continue
        req_part = s.split(" --hash", 1)[0].strip()
        hashes = re.findall(r"--hash=(\w+):(\S+)", s)
        current = {"line": req_part, "hashes": hashes, "via": []}
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", req_part)
        current["name"] = canonicalize_name(m.group(1)) if m else None
        current["version"] = m.group(2) if m else None
        pins[current["name"] or req_part] = current
    return {"pins": pins, "options": options}


def dockerignore_patterns(text: str) -> list[tuple[bool, re.Pattern]]:
    """(negated, regex) per line, in order; the last matching line decides (Docker's rule)."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        pat = line[1:].strip() if neg else line
        pat = pat.strip("/")
        rx, i = "", 0
        while i < len(pat):
            if pat.startswith("**/", i):
                rx += "(?:.*/)?"
                i += 3
            elif pat.startswith("**", i):
                rx += ".*"
                i += 2
            elif pat[i] == "*":
                rx += "[^/]*"
                i += 1
            elif pat[i] == "?":
                rx += "[^/]"
                i += 1
            else:
                rx += re.escape(pat[i])
                i += 1
        out.append((neg, re.compile(rx + r"\Z")))
    return out


def ignored(path: str, patterns: list[tuple[bool, re.Pattern]]) -> bool:
    """Whether the build context leaves out `path` (a pattern matching a parent directory counts)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    result = False
    for neg, rx in patterns:
        if any(rx.match(p) for p in prefixes):
            result = not neg
    return result


# ---------------------------------------------------------------------------------------------
# Fixtures

@pytest.fixture(scope="module")
def ins() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lock() -> dict:
    return parse_lock(LOCK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def lock_copy_destination(ins: list[tuple[str, str]]) -> str:
    dests = [dest for srcs, dest in copies(ins) if srcs == ["docker/requirements.lock"]]
    assert len(dests) == 1, "the Dockerfile copies docker/requirements.lock once, on its own"
    return dests[0]


# ---------------------------------------------------------------------------------------------
# The base image

def test_base_image_is_pinned_by_a_digest_with_a_readable_tag(ins):
    refs = from_refs(ins)
    assert refs, "no FROM"
    for ref in refs:
        assert pinned_by_digest(ref), f"FROM {ref}: pin it as image:tag@sha256:<64 hex> (docs/docker.md)"


def test_base_python_is_the_one_the_lock_was_compiled_for(ins, pyproject):
    tag = DIGEST_REF.match(from_refs(ins)[-1]).group("tag")
    minor = re.match(r"(\d+\.\d+)", tag)
    assert minor, f"the base image tag {tag} names no Python version"
    header = re.search(r"autogenerated by pip-compile with Python (\d+\.\d+)", LOCK.read_text())
    assert header, "the lock's header names no Python version"
    assert minor.group(1) == header.group(1) == IMAGE_ENV["python_version"]
    assert Version(IMAGE_ENV["python_full_version"]) in SpecifierSet(pyproject["project"]["requires-python"])


def test_docs_give_the_digest_in_use_and_how_to_refresh_it(ins):
    doc = DOC.read_text(encoding="utf-8")
    digest = DIGEST_REF.match(from_refs(ins)[-1]).group("digest")
    assert digest in DOCKERFILE.read_text() and "docker buildx imagetools inspect" in DOCKERFILE.read_text()
    assert "docker buildx imagetools inspect python:3.11-slim-bookworm" in doc
    assert "docker inspect --format '{{index .RepoDigests 0}}'" in doc
    assert "Not verified here" in doc


# ---------------------------------------------------------------------------------------------
# The user

def test_the_entrypoint_runs_as_a_fixed_non_root_uid(ins):
    user = runtime_user(ins)
    assert not is_root(user), f"USER {user!r} before ENTRYPOINT: the image must not run as root"
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and (not gid or gid.isdigit()), \
        f"USER {user}: numeric, so Kubernetes runAsNonRoot can verify it"
    created = " ".join(args for name, args in ins if name == "RUN")
    assert re.search(rf"useradd\b[^&;]*--uid {uid}\b", created), f"no useradd --uid {uid}"
    if gid:
        assert re.search(rf"groupadd\b[^&;]*--gid {gid}\b", created), f"no groupadd --gid {gid}"
    # nothing after ENTRYPOINT switches back
    after = ins[[n for n, _ in ins].index("ENTRYPOINT"):]
    assert not [a for n, a in after if n == "USER"], "USER after ENTRYPOINT"


def test_data_is_the_working_directory_and_belongs_to_the_user(ins):
    user = runtime_user(ins)
    uid = user.split(":")[0]
    workdirs = [a for n, a in ins if n == "WORKDIR"]
    assert workdirs and workdirs[-1] == "/data", "the last WORKDIR is /data (a spec's ./posture.duckdb lands there)"
    runs = " ".join(a for n, a in ins if n == "RUN")
    assert re.search(rf"install -d -o {uid} -g \d+ -m 07\d\d /data\b", runs) or \
        re.search(rf"chown (-R )?{uid}(:\d+)? /data\b", runs), f"/data is not made uid {uid}'s"
    home = [a for n, a in ins if n == "ENV" and a.startswith("HOME=")]
    assert home == ["HOME=/home/app"], "HOME=/home/app for any uid (--user), where ~/.aws is mounted"
    assert re.search(r"useradd\b[^&;]*--home-dir /home/app\b", runs)


def test_entrypoint_and_command_serve_the_plugin_on_7777(ins):
    names = [n for n, _ in ins]
    assert names.count("ENTRYPOINT") == 1 and names.count("CMD") == 1
    entry = exec_form(dict(ins)["ENTRYPOINT"])
    cmd = exec_form(dict(ins)["CMD"])
    assert entry == ["aws-encryption"]
    # `registry: docker` replaces CMD with `serve --network tcp --address 0.0.0.0:7777 ...`
    assert cmd[0] == "serve" and cmd[cmd.index("--address") + 1] == "[::]:7777"
    assert ("EXPOSE", "7777") in ins
    text = DOCKERFILE.read_text()
    assert "docs/security.md" in text and "127.0.0.1:7777:7777" in text  # the port's warning stays


# ---------------------------------------------------------------------------------------------
# Dependencies

def test_dependencies_are_installed_from_the_lock_with_hashes(ins):
    dest = lock_copy_destination(ins)
    installs = pip_installs(ins)
    assert installs, "no pip install"
    targets = {dest, dest.rstrip("/") + "/requirements.lock"}  # COPY to a file, or into a directory
    from_lock = [a for a in installs if "-r" in a and a[a.index("-r") + 1] in targets]
    assert len(from_lock) == 1, "one pip install -r <the copied lock>"
    assert "--require-hashes" in from_lock[0] and "--no-deps" in from_lock[0]
    for args in installs:
        assert "--no-deps" in args, f"pip install {' '.join(args)}: without --no-deps it may fetch unlocked packages"
    project = [a for a in installs if a and a[-1] == "."]
    assert len(project) == 1, "the project is installed once with `pip install --no-deps ... .`"
    assert installs.index(from_lock[0]) < installs.index(project[0]), "the lock is installed before the project"


def test_every_runtime_dependency_is_pinned_within_its_range(lock, pyproject):
    pins = lock["pins"]
    deps = pyproject["project"]["dependencies"]
    assert deps
    for dep in deps:
        req = Requirement(dep)
        if req.marker is not None and not req.marker.evaluate(IMAGE_ENV):
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} ({dep}) is not in docker/requirements.lock; regenerate it: {REGENERATE}"
        version = pins[name]["version"]
        assert req.specifier.contains(version, prereleases=True), \
            f"the lock pins {req.name}=={version}, outside {req.specifier}; regenerate it: {REGENERATE}"


def test_every_pin_is_exact_and_hashed(lock):
    pins = lock["pins"]
    assert len(pins) > 10
    for pin in pins.values():
        assert pin["name"] and pin["version"], f"{pin['line']}: every line of the lock is name==version"
        sha = [h for algo, h in pin["hashes"] if algo == "sha256"]
        assert sha, f"{pin['line']} has no --hash=sha256:"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in sha), f"{pin['line']}: malformed hash"
    # no index or find-links lines: pip's own configuration (PyPI) decides where files come from
    assert not lock["options"], f"options in the lock: {lock['options']} (regenerate with PIP_CONFIG_FILE=/dev/null)"


def test_the_lock_holds_runtime_dependencies_only(lock, pyproject):
    """The packages the lock says the project itself requires are exactly [project].dependencies: no
    extra (test, demo) was compiled in, and no removed dependency lingers."""
    runtime = {canonicalize_name(Requirement(d).name) for d in pyproject["project"]["dependencies"]}
    direct = {name for name, pin in lock["pins"].items() if any(v.startswith(PROJECT) for v in pin["via"])}
    assert direct == runtime, f"lock-only: {sorted(direct - runtime)}, missing: {sorted(runtime - direct)}"
    extras = {canonicalize_name(Requirement(d).name)
              for reqs in pyproject["project"].get("optional-dependencies", {}).values() for d in reqs}
    assert not (extras - runtime) & direct
    assert PROJECT not in lock["pins"], "the project installs from the source tree, not the lock"


def test_the_lock_header_names_the_regenerate_command():
    lines = LOCK.read_text(encoding="utf-8").splitlines()
    header = "\n".join(lines[:lines.index(next(ln for ln in lines if not ln.startswith("#")))])
    assert f"#    {REGENERATE}" in header, f"the lock's header does not give `{REGENERATE}`"
    assert REGENERATE in DOC.read_text(encoding="utf-8"), "docs/docker.md does not give the lock's command"
    assert REGENERATE in DOCKERFILE.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The project's files

def test_the_project_packages_are_copied(ins, pyproject):
    setuptools = pyproject["tool"]["setuptools"]
    package_dir = setuptools.get("package-dir", {})
    tops = set()
    for package in setuptools["packages"]:
        if package in package_dir:
            path = package_dir[package]
        else:
            path = package.replace(".", "/")
        assert (ROOT / path).is_dir(), path
        tops.add(path.split("/")[0])
    assert tops == {"plugin", "queries"}
    copied = {s.rstrip("/") for srcs, _ in copies(ins) for s in srcs}
    missing = tops - copied
    assert not missing, f"the Dockerfile does not COPY {sorted(missing)}"
    readme = pyproject["project"].get("readme")
    for f in ["pyproject.toml", readme, "docker/requirements.lock"]:
        assert f in copied, f"the Dockerfile does not COPY {f}"
    for s in copied:
        assert (ROOT / s).exists(), f"COPY {s}: no such file in the repository"


def test_dockerignore_keeps_what_the_image_needs_and_drops_local_state(ins):
    patterns = dockerignore_patterns(DOCKERIGNORE.read_text(encoding="utf-8"))
    needed = ["pyproject.toml", "README.md", "docker/requirements.lock"]
    for src in ("plugin", "queries"):
        needed += [str(p.relative_to(ROOT)) for p in (ROOT / src).rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts]
    left_out = [p for p in needed if ignored(p, patterns)]
    assert not left_out, f".dockerignore leaves out files the image needs: {left_out[:5]}"
    for local in [".venv/bin/python", ".git/HEAD", "posture.duckdb", "data/posture.duckdb",
                  "examples/x/posture.duckdb.wal", "plugin/__pycache__/x.pyc", "build/lib/x.py",
                  "tests/test_x.py", ".aws/credentials"]:
        assert ignored(local, patterns), f".dockerignore lets {local} into the build context"


# ---------------------------------------------------------------------------------------------
# The checks above reject what they are meant to reject

def test_the_checks_reject_bad_inputs():
    assert not pinned_by_digest("python:3.11-slim")
    assert not pinned_by_digest("python@sha256:" + "a" * 64)  # no tag for readers
    assert not pinned_by_digest("python:3.11-slim@sha256:" + "a" * 63)
    assert pinned_by_digest("python:3.11-slim-bookworm@sha256:" + "0f" * 32)

    assert is_root(runtime_user(instructions("FROM x\nENTRYPOINT [\"a\"]\n")))
    assert is_root(runtime_user(instructions("FROM x\nUSER root\nENTRYPOINT [\"a\"]\n")))
    assert is_root(runtime_user(instructions("FROM x\nUSER 0:0\nENTRYPOINT [\"a\"]\n")))
    assert is_root(runtime_user(instructions("FROM x\nENTRYPOINT [\"a\"]\nUSER 10001\n")))
    assert not is_root(runtime_user(instructions("FROM x\nUSER 10001:10001\nENTRYPOINT [\"a\"]\n")))

    bad = parse_lock("--index-url https://example.invalid/simple\nfoo==1.0\n    # via bar\nbaz>=2 \\\n"
                     "    --hash=sha256:" + "1" * 64 + "\n")
    assert bad["options"] == ["--index-url https://example.invalid/simple"]
    assert bad["pins"]["foo"]["hashes"] == [] and bad["pins"]["foo"]["via"] == ["bar"]
    assert bad["pins"]["baz>=2"]["name"] is None

    run = instructions("FROM x\nRUN pip install -r /tmp/r.txt && pip install --no-deps .\n")
    assert pip_installs(run) == [["-r", "/tmp/r.txt"], ["--no-deps", "."]]

    pats = dockerignore_patterns("plugin\n*.duckdb\n!keep.duckdb\n")
    assert ignored("plugin/x.py", pats) and ignored("a.duckdb", pats) and not ignored("keep.duckdb", pats)
    assert not ignored("sub/a.duckdb", pats)  # Docker anchors patterns at the context's root
