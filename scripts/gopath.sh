# Sourced by the scripts here (not run): puts go and the Go-installed
# linters on PATH.
#
# Two steps: go itself may be on PATH only once /usr/local/go/bin is.
export PATH="$PATH:/usr/local/go/bin"
# Where go install puts the linters (GOBIN, else the first GOPATH entry's
# bin) comes first, so that the pinned versions installed there run
# rather than others found earlier on PATH.
gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH | cut -d: -f1)/bin"
export PATH="$gobin:$PATH"
