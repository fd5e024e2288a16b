#!/usr/bin/env bash
# Trains both shipped models and copies them into models/ (outside CI).
#
#   models/train.sh DATA_DIR [READER_MINUTES] [DETECTOR_MINUTES] [WORKERS]
#
# DATA_DIR holds plates-real-us, plates-real-br and backgrounds. On a GPU
# machine use many rendering workers (14 on 16 cores); on a 2-core machine
# 1 worker and one training thread. The reader starts from the shipped
# reader.onnx (warm start); delete that line to train from scratch.
set -euo pipefail
cd "$(dirname "$0")"
data=${1:?usage: models/train.sh DATA_DIR [READER_MINUTES] [DETECTOR_MINUTES] [WORKERS]}
reader_minutes=${2:-40}
detector_minutes=${3:-20}
workers=${4:-1}
out=${OUT:-out}
mkdir -p "$out"
batch=64
[ "$workers" -gt 2 ] && batch=256
python train_detector.py --data "$data" --out "$out" --minutes "$detector_minutes" \
    --workers "$workers" --batch $(( batch / 2 ))
python train_reader.py --data "$data" --out "$out" --minutes "$reader_minutes" \
    --workers "$workers" --batch "$batch" --lr 3e-4 --init reader.onnx \
    --dropout 0.2 --strong-real --real-share 0.5 --ema 0.999
cp "$out"/detector.onnx "$out"/detector.json "$out"/reader.onnx "$out"/reader.json .
cat "$out"/detector-metrics.json "$out"/metrics.json
