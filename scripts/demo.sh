#!/usr/bin/env bash
# The README's first command: a small fleet on this machine. An agency
# enrolls a station and two cars; each runs `alpr-node run` as its own
# process on loopback. The cars leave the station with its hotlist, patrol
# out of its range (the project's rendered camera streams go through them:
# plates found and read by the shipped models, one signed, sealed read per
# passing vehicle), one car's read hits the list and the alert is disposed
# of, the cars return and sync, and a search at the station finds both
# cars' reads and the alert.
# Everything lands in ./demo (deleted at the start).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --locked -p alpr-node -p alpr-sim
target=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target/debug/alpr-node
sim=$target/debug/alpr-sim
demo=demo
rm -rf "$demo"
mkdir -p "$demo"

# Demo secrets; a real agency types its own at the prompts or keeps them in 0600 files.
export ALPR_AGENCY_PASSPHRASE="demo agency passphrase"
export ALPR_PASSPHRASE="demo node passphrase"
# Each node's first Administrator, who also runs the demo's searches.
export ALPR_USER=chief ALPR_USER_PASSWORD="staff services 2026" ALPR_NEW_PASSWORD="staff services 2026"
unset ALPR_LOG

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

say() { printf '\n# %s  [%ss]\n' "$*" "$SECONDS"; }
run() {
    echo
    echo "\$ alpr-node $*"
    "$bin" "$@"
}
quiet() { "$bin" "$@" > /dev/null; }
# Waits (up to $2 seconds) until file $1 holds $3 lines matching $4.
wait_for() {
    local file=$1 secs=$2 want=$3 text=$4
    for _ in $(seq $((secs * 10))); do
        [ "$(grep -c -- "$text" "$file" 2>/dev/null || true)" -ge "$want" ] && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$text' in $file:" >&2
    tail -n 20 "$file" >&2
    return 1
}

say "The agency enrolls a station and two cars; each node is initialized from its bundle."
run agency init --dir "$demo/agency"
for n in station-1:station car-12:vehicle car-31:vehicle; do
    name=${n%%:*} role=${n##*:}
    quiet agency enroll --dir "$demo/agency" --name "$name" --role "$role" --out "$demo/$name.enroll"
    run init --enroll "$demo/$name.enroll" --data "$demo/$name" --admin chief --admin-trained-on 2026-01-15
done

say "The station publishes a hotlist (an NCIC-style extract)."
printf 'plate,region,category,reference\n6TRS818,AZ,stolen-vehicle,V2026001\n8XYZ001,NV,stolen-plate,V2026002\n' > "$demo/ncic.csv"
run hotlist publish --data "$demo/station-1" --list ncic-stolen "$demo/ncic.csv"

# node.toml for each: see node.example.toml for every option.
cat > "$demo/station-1.toml" <<EOF
[node]
data = "station-1"
[sync]
listen = "127.0.0.1:0"
[position]
source = "fixed"
lat = 45.5231
lon = -122.6765
[log]
health_every_seconds = 0
EOF
start() { # name
    "$bin" run --config "$demo/$1.toml" > "$demo/$1.out" 2> "$demo/$1.log" &
    pids+=($!)
    wait_for "$demo/$1.out" 30 1 '^running'
}
say "alpr-node run --config demo/station-1.toml   (the station daemon)"
start station-1
station=$(sed -n 's/^replicating on //p' "$demo/station-1.out")
station_pid=${pids[-1]}
echo "station-1 replicates on $station"

# Each car's camera: an MJPEG stream (concatenated JPEGs, as IP cameras
# send them) through a FIFO, rendered by the simulator with known plates.
"$sim" frames --mjpeg --out "$demo/car-12.mjpeg" --frames-per-vehicle 10 \
    --plates 7ABC123:California,5KLM333:Oregon,AB-123-CD:EU-F > /dev/null
"$sim" frames --mjpeg --out "$demo/car-31.mjpeg" --frames-per-vehicle 10 --seed 7 \
    --plates 2MNP004:Texas,6TRS818:Arizona,4GHJ552:Oregon > /dev/null
for car in car-12 car-31; do
    mkfifo "$demo/$car.fifo"
    cat > "$demo/$car.toml" <<EOF
[node]
data = "$car"
[[camera]]
name = "front"
source = "mjpeg"
path = "$car.fifo"
# A live stream at 4 frames a second (a debug build on two cores keeps up): were recognition to
# fall behind, the oldest frame would be dropped (and counted), never the camera blocked.
rate = 4.0
[sync]
peers = ["$station"]
every_seconds = 1
[log]
health_every_seconds = 0
EOF
done
say "alpr-node run --config demo/car-12.toml (and car-31): the cars meet the station and take its hotlist."
start car-12
start car-31
wait_for "$demo/car-12.log" 30 1 'met peer'
wait_for "$demo/car-31.log" 30 1 'met peer'
run hotlist list --data "$demo/car-31"

say "The cars drive out of the station's range (it stops), and patrol: their cameras stream."
kill "$station_pid"
wait "$station_pid" 2>/dev/null || true
cat "$demo/car-12.mjpeg" > "$demo/car-12.fifo" &
cat "$demo/car-31.mjpeg" > "$demo/car-31.fifo" &
wait_for "$demo/car-12.log" 120 3 'stored read'
wait_for "$demo/car-31.log" 120 3 'stored read'
wait_for "$demo/car-31.log" 30 1 'hotlist alert raised'
echo "car-12 stored $(grep -c 'stored read' "$demo/car-12.log") reads, car-31 $(grep -c 'stored read' "$demo/car-31.log") (the log names reads by id, never by plate)"
run status --data "$demo/car-31"

say "car-31's read of 6TRS818 hit the list: the officer sees the alert and confirms it."
run alerts list --data "$demo/car-31" --pending --purpose alert --reason "hotlist hit on patrol"
alert=$("$bin" alerts list --data "$demo/car-31" --pending --json --purpose alert --reason "dispose of a hit" \
    | sed -n 's/^ *"id": "\(.*\)",$/\1/p' | head -n 1)
run alerts show --data "$demo/car-31" "$alert" --purpose alert --reason "check the hit before a stop"
run alerts dispose --data "$demo/car-31" "$alert" --as confirmed

say "The cars return: the station is in range again, and each car syncs on its own."
sed -i "s/^listen = .*/listen = \"$station\"/" "$demo/station-1.toml"
: > "$demo/station-1.out"
start station-1
for _ in $(seq 300); do
    n=$("$bin" search --data "$demo/station-1" --pattern '*' --json --purpose audit --reason "returned shift" 2>/dev/null \
        | grep -c '"plate"' || true)
    [ "$n" -ge 6 ] && break
    sleep 0.2
done
wait_for "$demo/car-31.log" 30 2 'met peer'

say "At the station: both cars' reads, and the alert with its disposition."
run search --data "$demo/station-1" --pattern '*' --purpose investigation --reason "the returned shift" --case 26-0001
run alerts list --data "$demo/station-1" --purpose audit --reason "hits of the shift, at the station"
run status --data "$demo/station-1"

say "Every node stops cleanly on SIGTERM (reads in hand committed, socket removed)."
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
run verify --data "$demo/station-1"
