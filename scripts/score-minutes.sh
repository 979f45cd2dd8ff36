#!/usr/bin/env bash
# Minutes reading, scored: `minuted minutes parse` (release build) over a folder of
# minutes with their expected structure, by that folder's own scorer (`score.py`, as the
# minutes corpus ships it), then over this project's fixtures, annotated by hand, with
# the same scorer. Prints
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
# This project's fixtures against their annotations by hand (NAME.annotated.json, in the
# corpus's format), each document under the name the scorer expects.
annotated="$(mktemp -d)"
trap 'rm -rf "$annotated"' EXIT
for annotation in tests/fixtures/minutes/*.annotated.json; do
    name="$(basename "$annotation" .annotated.json)"
    for document in tests/fixtures/minutes/"$name".*; do
        case "$document" in *.json) continue ;; esac
        cp "$document" "$annotated/$name.txt"
        cp "$annotation" "$annotated/$name.expected.json"
    done
done
echo "== tests/fixtures/minutes (annotated by hand)"
python3 "$corpus/score.py" --dir "$annotated" "$@" -- "$binary" minutes parse {} --json
