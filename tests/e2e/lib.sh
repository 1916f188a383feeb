# Shared by the end-to-end scripts: run by ctest with the stilts binary as $1 and a scratch
# directory as $2.
set -euo pipefail
STILTS=$1
WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK"
PY=/usr/bin/python3

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_error STATUS PATTERN -- command...: the command must exit with STATUS and print an
# error matching PATTERN (grep -E) on stderr.
expect_error() {
  local want=$1 pattern=$2
  shift 3
  local status=0
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || status=$?
  [ "$status" -eq "$want" ] || fail "'$*' exited $status, expected $want; stderr: $(cat "$WORK/err.txt")"
  grep -Eq -- "$pattern" "$WORK/err.txt" ||
    fail "'$*' printed '$(cat "$WORK/err.txt")', expected /$pattern/"
  echo "ok: $* -> $(head -c 200 "$WORK/err.txt")"
}
