#!/usr/bin/env bash
# The whole test suite, from a fresh machine: starts (or installs) the
# services, installs the linters, then for every module in the repo runs
# gofmt, go vet, staticcheck and go test -race, and every fuzz target briefly.
#
#   bash scripts/test.sh            # everything
#   FUZZTIME=0 bash scripts/test.sh # skip the fuzzing pass
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/gopath.sh
export CI="${CI:-}"

# A failing set-up stops here, named: eval of its empty output would go on.
svc=$(bash scripts/services.sh) || { echo "FAIL scripts/services.sh: PostgreSQL and Redis are not running (see its messages above)"; exit 1; }
eval "$svc"
echo "postgres: $OAUTH2_TEST_POSTGRES_URL"
echo "redis:    $OAUTH2_TEST_REDIS_URL ${OAUTH2_TEST_REDIS_CLUSTER_ADDRS:+cluster: $OAUTH2_TEST_REDIS_CLUSTER_ADDRS}"

command -v staticcheck >/dev/null || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
if [ -f scripts/browser.sh ]; then
  browser=$(bash scripts/browser.sh) || { echo "FAIL scripts/browser.sh: no Chromium for the browser tests (see its messages above)"; exit 1; }
  eval "$browser"
fi
if [ -f scripts/gosec.sh ]; then bash scripts/gosec.sh; fi

# The shell scripts that no test runs (bench/redis-callgrind.sh needs
# valgrind) must at least parse.
for f in $(git ls-files '*.sh' .ci/run 2>/dev/null); do
  bash -n "$f" || { echo "FAIL shell syntax: $f"; exit 1; }
done

modules=$(git ls-files '*go.mod' 2>/dev/null | xargs -n1 dirname | sort)
[ -n "$modules" ] || modules=.

fail=0
for m in $modules; do
  echo "=== module $m"
  # Each step is checked on its own: `set -e` does not apply inside a
  # subshell whose status is tested with ||, so a chain is needed.
  (
    cd "$m"
    unformatted=$(gofmt -l $(git ls-files '*.go'))
    if [ -n "$unformatted" ]; then echo "gofmt: $unformatted"; exit 1; fi
    go vet ./... || { echo "FAIL go vet ($m)"; exit 1; }
    staticcheck ./... || { echo "FAIL staticcheck ($m)"; exit 1; }
    go test -race -count=1 -timeout 20m ./...
  ) || fail=1
done

# Allocation guards skip under -race (sync.Pool drops items there), and
# so do the checks of generated tables (sweeps of every rune, 50 s under
# it): run them once without it.
alloc_dirs=$(git grep -l -E 'func Test[A-Za-z]*(Allocations|IsUpToDate)\(' -- '*_test.go' | xargs -r -n1 dirname | sort -u | sed 's|^|./|')
if [ -n "$alloc_dirs" ]; then
  echo "=== allocation guards and generated tables (without -race)"
  go test -count=1 -run 'Allocations$|IsUpToDate$' $alloc_dirs || fail=1
fi

# A count, not a duration: with a duration, Go 1.26's fuzzing coordinator
# sometimes reports its own deadline as a failure ("context deadline
# exceeded", no failing input; golang/go#75804). 20000 inputs take a few
# seconds per target here.
FUZZTIME="${FUZZTIME:-20000x}"
if [ "$FUZZTIME" != 0 ]; then
  echo "=== fuzz ($FUZZTIME each)"
  for pkg in $(go list ./...); do
    for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
      echo "--- $pkg $f"
      # A finding is written to testdata/fuzz and fails the rerun too; a
      # worker that dies for the machine's sake (it happens, rarely, on a
      # loaded 2-core box) does not. Either way the output is shown.
      out=$(mktemp)
      if ! go test -run '^$' -fuzz "^$f\$" -fuzztime "$FUZZTIME" "$pkg" >"$out" 2>&1; then
        tail -n 30 "$out"
        echo "--- $pkg $f again"
        go test -run '^$' -fuzz "^$f\$" -fuzztime "$FUZZTIME" "$pkg" >"$out" 2>&1 || { tail -n 30 "$out"; echo "FAIL fuzz $pkg $f"; fail=1; }
      fi
      rm -f "$out"
    done
  done
fi

if [ "$fail" != 0 ]; then echo "FAIL"; exit 1; fi
echo "all tests passed"
