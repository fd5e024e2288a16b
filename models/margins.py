"""How a reader reads the held-out real US crops when the box around the
plate is not the labelled edge: a little inside it, or with a margin of
scene around the plate, as a detector's box in a frame cuts it.

    python models/margins.py --data ../shared/data models/reader.onnx [/tmp/run/checkpoint.pt ...]

A READER is an exported reader.onnx (its input height read from the
reader.json beside it) or a checkpoint.pt written by train_reader.py. Each
crop is pasted on a scene, cut again with the margins of each row, and
read at 180 x 90 before the reader's own resize. Prints, per reader, the
exact-plate share with O and 0 as one (US plates print them alike) for
each row: margin left and right, margin above and below (shares of the
plate; negative cuts inside it), roll in degrees. models/README.md has
the table this printed for the shipped and the 48-row readers.
"""

import argparse
import json
import os
import random

import torch
from PIL import Image

import train_reader as tr

# (left and right, above and below, roll in degrees)
ROWS = [
    (0.0, 0.0, 0),
    (-0.03, -0.05, 0),
    (0.05, 0.05, 0),
    (0.05, 0.05, 3),
    (0.1, 0.1, 0),
    (0.0, 0.1, 0),
    (0.05, 0.0, 0),
]


def framed(img, scene, mx, my, angle):
    """`img` on `scene`, rolled `angle` degrees about its centre, cut with
    `mx` of its width each side and `my` of its height above and below."""
    w, h = img.size
    cw, ch = int(w * (1 + 2 * max(mx, 0)) + 40), int(h * (1 + 2 * max(my, 0)) + 40)
    canvas = scene.convert("RGB").resize((cw, ch))
    ox, oy = (cw - w) // 2, (ch - h) // 2
    canvas.paste(img, (ox, oy))
    if angle:
        canvas = canvas.rotate(angle, resample=Image.BILINEAR, center=(cw / 2, ch / 2))
    return canvas.crop((round(ox - mx * w), round(oy - my * h), round(ox + w + mx * w), round(oy + h + my * h)))


def load(path):
    """(model, input height) for a reader.onnx or a checkpoint.pt."""
    if path.endswith(".onnx"):
        with open(os.path.splitext(path)[0] + ".json") as f:
            tr.H = json.load(f)["height"]  # load_onnx builds the reader at tr.H
        return tr.load_onnx(path).eval(), tr.H
    state = torch.load(path)
    height = state.get("height", 32)
    model = tr.Reader(batch_norm=state["batch_norm"], height=height)
    model.load_state_dict(state["model"])
    return model.eval(), height


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the shared data folder")
    ap.add_argument("readers", nargs="+", help="reader.onnx or checkpoint.pt files")
    args = ap.parse_args()
    torch.set_num_threads(2)
    items = tr.real_set(args.data, "plates-real-us", True)
    folder = os.path.join(args.data, "backgrounds")
    # The first 50 scenes by name, one drawn per crop with a fixed seed:
    # the table in models/README.md was made with exactly these.
    names = sorted(os.listdir(folder))[:50]
    rng = random.Random(3)
    scenes = [Image.open(os.path.join(folder, rng.choice(names))).convert("RGB") for _ in items]
    print("reader | " + " | ".join(f"{mx:+.2f} x, {my:+.2f} y, {a} deg" for mx, my, a in ROWS))
    for path in args.readers:
        model, height = load(path)
        tr.H = height  # to_tensor resizes to the reader's height
        row = []
        for mx, my, angle in ROWS:
            cut = [(framed(img, scene, mx, my, angle).resize((180, 90), Image.BILINEAR), region, text)
                   for (img, region, text), scene in zip(items, scenes)]
            row.append(f"{100 * tr.evaluate(model, cut)['exact_o0']:.1f}%")
        print(f"{path} ({height} rows) | " + " | ".join(row), flush=True)


if __name__ == "__main__":
    main()
