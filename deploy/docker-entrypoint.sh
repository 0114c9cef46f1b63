#!/bin/bash
# Entrypoint of the signpost-node container.
#
#   serve (the default): set the node up on its first start (when the data
#       folder holds no signpost.toml yet), then serve.
#   any other signpost-node command, e.g. `check-config` or `service list`:
#       run it against the data folder.
#   a program in the image, e.g. `bash`: run it.
#
# First-start settings (read only when the folder is still empty):
#   SIGNPOST_INIT_NAME          the hub's name (required)
#   SIGNPOST_PUBLIC_URL         https://your.domain (also used on every start)
#   SIGNPOST_INIT_SPACE         dedicated, pop-up and/or virtual (separate with spaces)
#   SIGNPOST_INIT_GOVERNANCE    community-led, statutory-led or partnership
#   SIGNPOST_INIT_FOCUS         generic or specialised
#   SIGNPOST_INIT_COORDINATION  first-level or second-level
#   SIGNPOST_AGGREGATOR_ENABLED true to set up an aggregator (also used on every start)
#
# The admin token that `init` prints once is written to
# $SIGNPOST_DIR/first-start.txt (readable by the node's user only), not to
# the container's log, which may be kept or shipped elsewhere.
set -euo pipefail
umask 077

dir="${SIGNPOST_DIR:-/data}"
export SIGNPOST_DIR="$dir"

say() {
    echo "signpost: $*" >&2
}

first_start() {
    if [[ -z "${SIGNPOST_INIT_NAME:-}" ]]; then
        say "$dir holds no node yet. Set SIGNPOST_INIT_NAME to your hub's name (and SIGNPOST_PUBLIC_URL to its https:// address) so it can be set up."
        exit 64
    fi
    local args=(init --dir "$dir" --name "$SIGNPOST_INIT_NAME")
    if [[ -n "${SIGNPOST_PUBLIC_URL:-}" ]]; then
        args+=(--url "$SIGNPOST_PUBLIC_URL")
    fi
    local space
    for space in ${SIGNPOST_INIT_SPACE:-}; do
        args+=(--space "$space")
    done
    if [[ -n "${SIGNPOST_INIT_GOVERNANCE:-}" ]]; then
        args+=(--governance "$SIGNPOST_INIT_GOVERNANCE")
    fi
    if [[ -n "${SIGNPOST_INIT_FOCUS:-}" ]]; then
        args+=(--focus "$SIGNPOST_INIT_FOCUS")
    fi
    if [[ -n "${SIGNPOST_INIT_COORDINATION:-}" ]]; then
        args+=(--coordination "$SIGNPOST_INIT_COORDINATION")
    fi
    case "${SIGNPOST_AGGREGATOR_ENABLED:-false}" in
        true | 1) args+=(--aggregator) ;;
    esac
    mkdir -p "$dir"
    local notes="$dir/first-start.txt"
    if ! signpost-node "${args[@]}" >"$notes"; then
        rm -f "$notes"
        say "setting up the node in $dir failed (the reason is above)"
        exit 1
    fi
    say "set up a new node in $dir:"
    grep 'hub id:' "$notes" >&2 || true
    say "its admin token is in $notes, shown only there. Read it once (docker compose exec SERVICE cat $notes),"
    say "keep the token in a password manager, then delete the file (docker compose exec SERVICE rm $notes)."
    say "Back up $dir/hub.key too: it is the hub's identity."
}

command="${1:-serve}"
if [[ $# -gt 0 ]]; then
    shift
fi

case "$command" in
    serve)
        if [[ ! -e "$dir/signpost.toml" ]]; then
            first_start
        fi
        exec signpost-node serve "$@"
        ;;
    signpost-node)
        exec signpost-node "$@"
        ;;
    -*)
        exec signpost-node "$command" "$@"
        ;;
    *)
        if signpost-node "$command" --help >/dev/null 2>&1; then
            exec signpost-node "$command" "$@"
        fi
        exec "$command" "$@"
        ;;
esac
