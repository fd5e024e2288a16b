#!/usr/bin/env bash
# The README's console screenshots, from the real console: runs the demo
# (for a station with reads, peers and lists), serves the station, drives
# `alpr-node console` in tmux, captures each screen with its colours and
# draws it as a PNG into docs/ (alpr-sim screenshot).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d demo/station-1 ] || ./scripts/demo.sh > /dev/null
cargo build --quiet --locked -p alpr-node -p alpr-sim
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/debug/alpr-node
sim=$target/debug/alpr-sim
export ALPR_PASSPHRASE="demo node passphrase"
mkdir -p docs
"$bin" serve --data demo/station-1 > /dev/null 2>&1 &
daemon=$!
t="tmux -L alpr-screenshots"
trap '$t kill-server 2>/dev/null || true; kill $daemon 2>/dev/null || true' EXIT
sleep 1
$t new-session -d -s console -x 80 -y 24 "$bin console --data demo/station-1"
shot() { # name
    sleep 2
    $t capture-pane -e -p -t console > "docs/console-$1.txt"
    "$sim" screenshot --in "docs/console-$1.txt" --out "docs/console-$1.png"
    rm "docs/console-$1.txt"
    echo "docs/console-$1.png"
}
# Keys typed before the console takes the terminal would be cooked by the tty.
for _ in $(seq 50); do $t capture-pane -p -t console | grep -q 'Log in' && break; sleep 0.1; done
$t send-keys -t console chief Tab 'not the password' Enter
shot login-refused
$t send-keys -t console 'staff services 2026' Enter
shot dashboard
$t send-keys -t console v 'returned shift review' Enter
shot live
$t send-keys -t console Escape
sleep 0.5
# A search states its purpose and case; the first result opens with its
# plate crop and overview frame (half-blocks inside tmux).
$t send-keys -t console s '*' Tab Tab Tab Tab Tab Tab Tab 'stolen vehicle follow up' Tab 26-4411
shot search
$t send-keys -t console Enter
shot results
$t send-keys -t console Enter
shot read
# One Escape at a time: an Escape followed at once by a key reads as Alt+key.
esc() { $t send-keys -t console Escape; sleep 0.5; }
esc; esc; esc
$t send-keys -t console h
shot hotlists
esc
$t send-keys -t console a
shot audit
esc
$t send-keys -t console p
shot peers
esc
$t send-keys -t console q
