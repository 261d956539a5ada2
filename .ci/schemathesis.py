#!/usr/bin/env python3
"""Runs schemathesis, every check, against the OpenAPI document a real Roster server serves,
on SQLite and on PostgreSQL; exits non-zero on any finding.

    .ci/schemathesis.py [--schemathesis PATH] [--max-examples N] [sqlite] [postgres]

Each backend gets a server of its own (the debug build, `target/debug/roster`) on a fresh
database, with private webhook delivery allowed so that no delivery leaves the machine, and
the fixtures the document cannot conjure: a user's bearer token (another one for
`POST /api/auth/logout`, which revokes it), an organization, and an OAuth app with every scope,
whose client ID and redirect URI the authorization endpoints are given.
"""

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "debug", "roster")
HOOKS = os.path.join(ROOT, ".ci", "schemathesis_hooks.py")
POSTGRES = os.environ.get("ROSTER_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery"
REDIRECT_URI = "https://app.example.com/callback"
# A whole run takes about a minute; one still going after this has stalled (seen: seed 1 on
# SQLite, its coverage phase drawing for ten minutes where seed 2's took 11 s).
RUN_TIMEOUT = 300
SEEDS = (1, 2, 3)
# Further options for schemathesis, from the command line (filters, phases).
EXTRA = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


def psql(url, sql):
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


def fixtures(base):
    """A signed-in owner with an organization and an app, and a token to sign out with."""
    owner = call(base, "POST", "/api/auth/register",
                 {"email": "owner@example.com", "password": PASSWORD, "name": "Owner"})
    leaving = call(base, "POST", "/api/auth/login",
                   {"email": "owner@example.com", "password": PASSWORD})
    call(base, "POST", "/api/auth/register",
         {"email": "member@example.com", "password": PASSWORD, "name": "Member"})
    token = owner["accessToken"]
    org = call(base, "POST", "/api/organizations", {"name": "Schemathesis"}, token)
    scopes = call(base, "GET", "/.well-known/oauth-authorization-server")["scopes_supported"]
    app = call(base, "POST", f"/api/organizations/{org['id']}/oauth-apps",
               {"name": "Schemathesis", "redirectUris": [REDIRECT_URI], "scopes": scopes}, token)
    return token, leaving["accessToken"], app["clientId"]


def config(token, logout_token, client_id):
    """schemathesis.toml: the fixtures, and the values the document cannot describe."""
    pinned = {"client_id": client_id, "redirect_uri": REDIRECT_URI}

    def pins(where):
        return "\n".join(f'"{where}.{name}" = "{value}"' for name, value in pinned.items())

    return f"""
# A fresh Idempotency-Key for each request that carries a well-formed one.
hooks = "{HOOKS}"

[headers]
Authorization = "Bearer {token}"

[generation]
max-examples = {{max_examples}}

# A cursor is opaque: only a previous page's nextCursor is one, which no schema can say.
[parameters]
"query.cursor" = ""

[[operations]]
include-name = "POST /api/auth/logout"
headers = {{ Authorization = "Bearer {logout_token}" }}

# An existing user to add, so that a 404 there means the organization.
[[operations]]
include-name = "POST /api/organizations/{{organizationId}}/members"
[operations.parameters]
"body.email" = "member@example.com"

# The authorization endpoint, for the registered client. Its coverage phase draws bodies
# from the schema alone, without the client, so it runs the other phases only.
[[operations]]
include-name = "GET /api/oauth/authorize"
[operations.parameters]
{pins("query")}

[[operations]]
include-name = "POST /api/oauth/authorize"
phases.coverage.enabled = false
[operations.parameters]
{pins("body")}
"""


def run_backend(backend, schemathesis, max_examples):
    work = tempfile.mkdtemp(prefix=f"roster-schemathesis-{backend}-")
    key = base64.b64encode(os.urandom(32)).decode()
    # The fixtures sign in right after registering, with no inbox to open a verification
    # link from; everything else runs with the production settings.
    env = dict(os.environ, ROSTER_SECRET_KEY=key, RUST_LOG="warn",
               ROSTER_REQUIRE_VERIFIED_EMAIL="false")
    database = None
    if backend == "sqlite":
        url = f"sqlite://{work}/roster.db"
    else:
        database = f"roster_schemathesis_{uuid.uuid4().hex[:12]}"
        psql(POSTGRES, f"CREATE DATABASE {database}")
        url = POSTGRES.rsplit("/", 1)[0] + "/" + database
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [BINARY, "--addr", f"127.0.0.1:{port}", "--database-url", url, "--webhook-allow-private"],
        cwd=work, env=env, stdout=open(os.path.join(work, "server.log"), "w"),
        stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                call(base, "GET", "/api/health")
                break
            except OSError:
                if server.poll() is not None:
                    print(open(os.path.join(work, "server.log")).read(), file=sys.stderr)
                    raise SystemExit(f"the server on {backend} did not start")
                time.sleep(0.1)
        token, logout_token, client_id = fixtures(base)
        config_path = os.path.join(work, "schemathesis.toml")
        with open(config_path, "w") as f:
            f.write(config(token, logout_token, client_id).replace("{max_examples}",
                                                                   str(max_examples)))
        # Hypothesis can stall drawing a string for a pattern under length limits (seen in
        # the coverage phase, the process busy and the server idle): such a run is stopped
        # and the whole run made again with the next seed; all seeds stalling is a failure.
        for seed in SEEDS:
            print(f"== schemathesis on {backend} ({base}, config {config_path}, seed {seed})",
                  flush=True)
            try:
                result = subprocess.run(
                    [schemathesis, "--config-file", config_path, "run",
                     f"{base}/api/openapi.json", "--checks", "all", "--seed", str(seed),
                     "--workers", "2", "--no-color", *EXTRA],
                    cwd=work, timeout=RUN_TIMEOUT)
                return result.returncode
            except subprocess.TimeoutExpired:
                print(f"schemathesis on {backend} did not finish within {RUN_TIMEOUT} s with "
                      f"seed {seed}; running it again with another seed", flush=True)
        return 1
    finally:
        server.terminate()
        server.wait(timeout=40)
        if database:
            psql(POSTGRES, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--schemathesis", default="schemathesis")
    parser.add_argument("--max-examples", type=int, default=25)
    parser.add_argument("backends", nargs="*", default=["sqlite", "postgres"])
    args, extra = parser.parse_known_args()
    # Each run has a working folder of its own, so a path must not depend on this one.
    if os.sep in args.schemathesis:
        args.schemathesis = os.path.abspath(args.schemathesis)
    global EXTRA
    EXTRA = extra
    failed = [b for b in args.backends if run_backend(b, args.schemathesis, args.max_examples)]
    if failed:
        print(f"schemathesis found problems on: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("schemathesis: no findings on " + ", ".join(args.backends))
    return 0


if __name__ == "__main__":
    sys.exit(main())
