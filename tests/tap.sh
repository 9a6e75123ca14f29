# TAP helpers shared by the test scripts (sourced). `check` keeps the command's output in
# $TMP/check.out, so set TMP before sourcing. A failure's details go on "#   " lines.
n=0
ok()       { n=$((n + 1)); echo "ok $n - $1"; }
not_ok()   { n=$((n + 1)); echo "not ok $n - $1"; shift; (($# == 0)) || printf '%s\n' "$@" | sed 's/^/#   /'; }
skip()     { n=$((n + 1)); echo "ok $n - $1 # SKIP${2:+ $2}"; }
check()    { local name=$1; shift; if "$@" >"$TMP/check.out" 2>&1; then ok "$name"; else not_ok "$name" "$(head -c 2000 "$TMP/check.out")"; fi; }
# The whole script cannot run here (no root, a missing tool): one skipped test, exit 0.
skip_all() { echo "SKIP: $1" >&2; echo "ok 1 - ${SKIP_WHAT:-tests} skipped: $1 # SKIP"; exit 0; }
