#!/usr/bin/env bash
# Runs the README's walkthrough block as written (make walkthrough; the
# end-to-end suite runs it too, against the test profile's ports).
set -euo pipefail
cd "$(dirname "$0")/.."
sed -n '/^<!-- walkthrough -->$/,/^<!-- \/walkthrough -->$/p' README.md | sed '1,2d;$d' | sed '$d' | bash -euo pipefail
