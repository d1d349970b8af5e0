#!/bin/sh
# A Python virtual environment with pyarrow, for the tests that read
# pktmatch's Parquet files with a reader we did not write (pyarrow, the
# Apache Arrow project's C++ implementation).  Prints the environment's
# python on its last line.
#
#   tools/pyarrow-venv.sh [DIR]     (default: target/pyarrow-venv)
#
# Installs from PyPI once (pinned version); later calls only check it.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-target/pyarrow-venv}
version=25.0.1
mkdir -p "$(dirname "$dir")"
# One installer at a time (cargo runs test binaries in parallel).
exec 9>"$dir.lock"
flock 9
if ! "$dir/bin/python" -c "import pyarrow, sys; sys.exit(pyarrow.__version__ != '$version')" 2>/dev/null; then
    python3 -m venv "$dir" >&2
    "$dir/bin/pip" install --quiet --disable-pip-version-check "pyarrow==$version" >&2
fi
echo "$(cd "$dir" && pwd)/bin/python"
