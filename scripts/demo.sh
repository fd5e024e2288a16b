#!/usr/bin/env bash
# The README's first command: make an agency and a car, replay a folder of
# camera frames through the car (plates found and read by the shipped
# models, one read per passing vehicle, signed and sealed), search the
# reads, and verify the database.
# Everything lands in ./demo (delete it to start over).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --locked -p alpr-node -p alpr-sim
bin=target/debug/alpr-node
sim=target/debug/alpr-sim
demo=demo
rm -rf "$demo"
mkdir -p "$demo"

# Demo secrets; a real agency types its own at the prompts or keeps them in 0600 files.
export ALPR_AGENCY_PASSPHRASE="demo agency passphrase"
export ALPR_PASSPHRASE="demo car passphrase"
# The car's first Administrator, who also runs the demo's searches.
export ALPR_USER=chief ALPR_USER_PASSWORD="staff services 2026" ALPR_NEW_PASSWORD="staff services 2026"

run() {
    echo
    echo "\$ alpr-node $*"
    "$bin" "$@"
}

run agency init --dir "$demo/agency"
run agency enroll --dir "$demo/agency" --name car-12 --role vehicle --out "$demo/car-12.enroll"
run init --enroll "$demo/car-12.enroll" --data "$demo/car-12" --admin chief --admin-trained-on 2026-01-15

# Sample frames: the simulator renders vehicles passing a rear camera, with
# plates of known text (no third-party image involved).
echo
echo "\$ alpr-sim frames --out $demo/frames --plates ..."
"$sim" frames --out "$demo/frames" --frames-per-vehicle 10 \
    --plates 7ABC123:California,8XYZ001:Nevada,7ABD991:California,5KLM333:Oregon,6TRS818:Arizona,AB-123-CD:EU-F
echo
echo "# A debug build: a release build (cargo build --release) recognizes a"
echo "# 1280x720 frame in about 25 ms on 2 cores (models/README.md)."
run recognize "$demo/frames/frame-00003.png"
run replay --data "$demo/car-12" --camera rear "$demo/frames"
run search --data "$demo/car-12" --pattern '7AB*' --purpose alert --reason "partial plate from a BOLO"
run search --data "$demo/car-12" --plate '7abc-123' --purpose investigation --reason "stolen vehicle" --case 26-0001
echo
echo "# Without a purpose the node refuses, and documents the refusal:"
run search --data "$demo/car-12" --plate '7abc-123' || true
run verify --data "$demo/car-12"

# A station comes within reach: the car's shift goes up over QUIC, every
# read verified at the station, and the station's hotlist comes down.
run agency enroll --dir "$demo/agency" --name station-1 --role station --out "$demo/station-1.enroll"
run init --enroll "$demo/station-1.enroll" --data "$demo/station-1" --admin chief --admin-trained-on 2026-01-15
printf 'plate,region,category,reference\n7ABC123,CA,stolen-vehicle,V2026001\n8XYZ001,CA,stolen-plate,V2026002\n' > "$demo/ncic.csv"
run hotlist publish --data "$demo/station-1" --list ncic-stolen "$demo/ncic.csv"
echo
echo "\$ alpr-node serve --data $demo/station-1 --listen 127.0.0.1:0 &"
"$bin" serve --data "$demo/station-1" --listen 127.0.0.1:0 > "$demo/station.out" 2> "$demo/station.log" &
station=$!
trap 'kill $station 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '^replicating on ' "$demo/station.out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/^replicating on //p' "$demo/station.out")
run sync --data "$demo/car-12" --peer "$addr"
run hotlist list --data "$demo/car-12"
echo
echo "# The list names plates the car read before it had the list: retro-hits,"
echo "# pending until an officer disposes of them."
run alerts list --data "$demo/car-12" --purpose alert --reason "hotlist hits of the shift"
alert=$("$bin" alerts list --data "$demo/car-12" --pending --json --purpose alert --reason "dispose of a hit" \
    | sed -n 's/^ *"id": "\(.*\)",$/\1/p' | head -n 1)
run alerts show --data "$demo/car-12" "$alert" --purpose alert --reason "check the hit before a stop"
run alerts dispose --data "$demo/car-12" "$alert" --as confirmed
run sync --data "$demo/car-12" --peer "$addr"
run alerts list --data "$demo/station-1" --purpose audit --reason "hits of car-12's shift, at the station"
run search --data "$demo/station-1" --pattern '7AB*' --purpose alert --reason "the car's shift, now at the station"
kill $station
wait $station 2>/dev/null || true
