#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs the cross-implementation test between Cardea and Node.js WebCrypto
# in both directions, in a temporary directory removed on exit.
#   webcrypto -> cardea: webcrypto_vectors.mjs writes vectors, and
#                        "crosscheck check" verifies them with Cardea.
#   cardea -> webcrypto: "crosscheck write" writes vectors, and
#                        webcrypto_check.mjs verifies them with WebCrypto.
# Prints one line per case group, the failed cases, and a closing line
# "interop: N passed, M failed". Exits 0 only when nothing failed.
#
# Usage: run-crosscheck.sh CROSSCHECK_BINARY
# Environment: NODE, the Node.js binary (default: node on PATH).
set -u

here=$(cd "$(dirname "$0")" && pwd)
crosscheck=${1:-}
node=${NODE:-node}

if [ -z "$crosscheck" ] || [ ! -x "$crosscheck" ]; then
    echo "run-crosscheck: crosscheck binary missing or not executable:" \
         "'$crosscheck'. Usage: run-crosscheck.sh PATH/TO/crosscheck" >&2
    exit 2
fi
if ! command -v "$node" >/dev/null 2>&1; then
    echo "run-crosscheck: Node.js not found (NODE=$node): install" \
         "Node.js 20 or later, or set NODE to its path, and run again" >&2
    echo "interop: 0 passed, 1 failed"
    exit 1
fi
node_major=$("$node" -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    echo "run-crosscheck: Node.js $("$node" --version) is too old;" \
         "version 20 or later is required" >&2
    echo "interop: 0 passed, 1 failed"
    exit 1
fi

umask 077
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cardea-interop.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Steps that exit non-zero without reporting a failed case (a crash, a
# missing file) count as one failure each, so that they cannot pass.
step_failures=0

run_step() {
    name=$1
    out=$2
    shift 2
    "$@" >"$out" 2>"$tmp/stderr"
    status=$?
    grep -E '^FAIL |^(webcrypto -> cardea|cardea -> webcrypto): ' "$out"
    if [ "$status" -ne 0 ]; then
        reported=$(failed_in "$out")
        echo "FAIL $name: exited with status $status"
        sed 's/^/    /' "$tmp/stderr"
        if [ "$reported" -eq 0 ]; then
            step_failures=$((step_failures + 1))
        fi
    fi
}

group_line='^(webcrypto -> cardea|cardea -> webcrypto): .*: '

# Sums the "N passed" (field 1) or "M failed" (field 2) counts of the
# group lines of a checker's output.
count_in() {
    sed -nE "s/${group_line}([0-9]+) passed, ([0-9]+) failed\$/\\2 \\3/p" \
        "$2" | awk -v f="$1" '{ n += $f } END { print n + 0 }'
}

failed_in() {
    count_in 2 "$1"
}

echo "interop: Node.js $("$node" --version), $(basename "$crosscheck")"

run_step "webcrypto_vectors.mjs" "$tmp/gen-webcrypto.out" \
    "$node" "$here/webcrypto_vectors.mjs" "$tmp/webcrypto.json"
if [ -s "$tmp/webcrypto.json" ]; then
    run_step "crosscheck check" "$tmp/check-cardea.out" \
        "$crosscheck" check "$tmp/webcrypto.json"
fi

run_step "crosscheck write" "$tmp/gen-cardea.out" \
    "$crosscheck" write "$tmp/cardea.json"
if [ -s "$tmp/cardea.json" ]; then
    run_step "webcrypto_check.mjs" "$tmp/check-webcrypto.out" \
        "$node" "$here/webcrypto_check.mjs" "$tmp/cardea.json"
fi

passed=0
failed=$step_failures
for out in "$tmp/check-cardea.out" "$tmp/check-webcrypto.out"; do
    if [ -f "$out" ]; then
        passed=$((passed + $(count_in 1 "$out")))
        failed=$((failed + $(count_in 2 "$out")))
    else
        failed=$((failed + 1))
    fi
done
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi

echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
