#!/usr/bin/env bash
# Minutes reading, scored: `minuted minutes parse` (release build) over a folder of
# minutes with their expected structure, by that folder's own scorer (`score.py`, as the
# minutes corpus ships it), then over this project's fixtures with the same scorer. Prints
# each document's F1 for attendees, apologies and items, whether the next meeting is
# right, and the mean. A measure, not a test: it is not part of the test command.
#
#   scripts/score-minutes.sh                       # ../shared/corpus/minutes
#   scripts/score-minutes.sh DIR [--show]          # any folder with score.py beside
#                                                  # NAME.txt + NAME.expected.json
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${1:-../shared/corpus/minutes}"
shift || true
if [ ! -f "$corpus/score.py" ]; then
    echo "score-minutes: no score.py in $corpus (give the minutes corpus folder)" >&2
    exit 2
fi
cargo build --release --locked --quiet
binary="$PWD/target/release/minuted"
echo "== $corpus"
python3 "$corpus/score.py" "$@" -- "$binary" minutes parse {} --json
echo "== tests/fixtures/minutes (plain-text fixtures)"
python3 "$corpus/score.py" --dir tests/fixtures/minutes "$@" -- "$binary" minutes parse {} --json
