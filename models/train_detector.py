"""Trains the plate detector (a small fully convolutional net, CenterNet style)
on composites and exports it to ONNX.

    python models/train_detector.py --data ../shared/data --out models/out \
        --minutes 40 --threads 1

The detector sees a frame reduced to 384 x 216 grey (a 1280 x 720 frame at
0.3) and predicts, on a grid of stride 8 (48 x 27), a plate-centre heatmap,
the plate's width and height (log of pixels at the reduced size) and the
centre's offset within its cell. Training composites: the training part of
the plate-free scenes (`backgrounds`) with plates pasted at the sizes a road
camera sees them (about 60 to 270 pixels wide at 1280): the training part of
the real US and BR crops and synthetic plates (models/synth.py), rolled,
put in perspective, relit, blurred, noised and JPEG-compressed. Because the
net is fully convolutional it trains on 192 x 112 windows (a quarter of the
work) and runs on whole frames.

With `--real-scenes SHARE`, that share of the windows are cut from the
training part of `scenes-real` (real photos with plate boxes), zoomed so
one of the scene's plates is 14 to 80 pixels wide: real plates at real
aspects (European 4.7:1), real surroundings, far plates. `--init` starts
from a detector.pt or from an exported detector.onnx (its batch norms
folded into the convolutions, so the net trains without them).

Held out, by the same file-name hash as the reader: 20% of the scenes and of
the real crops, for the figures in OUT/detector-metrics.json: recall of
plates in held-out composites, false detections per held-out scene, and
recall of the boxed plates of held-out `scenes-real` photos seen whole at
384 pixels wide (by plate width there).
Exports OUT/detector.onnx (input `image`: N x 1 x 216 x 384 in [0, 1];
output `maps`: N x 5 x 27 x 48 = heat logit, log w, log h, dx, dy) and
OUT/detector.json.
"""

import argparse
import io
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageEnhance, ImageFilter

import synth
from train_reader import held_out

H, W = 216, 384
STRIDE = 8
TRAIN_H, TRAIN_W = 112, 192


def scenes(data, holdout, size=(W * 2, H * 2)):
    folder = os.path.join(data, "backgrounds")
    out = []
    for name in sorted(os.listdir(folder)):
        if held_out(name) != holdout:
            continue
        img = Image.open(os.path.join(folder, name))
        img.draft("L", size)
        out.append(img.convert("L"))
    return out


def real_plates(data, holdout):
    out = []
    for folder in ("plates-real-us", "plates-real-br"):
        path = os.path.join(data, folder)
        for name in sorted(os.listdir(path)):
            if name.endswith(".png") or name.endswith(".jpg"):
                if held_out(name) == holdout:
                    out.append(Image.open(os.path.join(path, name)).convert("L"))
    return out


def real_scenes(data, holdout):
    """`scenes-real` photos (grey) with their boxes (cx, cy, w, h in the photo's pixels)."""
    folder = os.path.join(data, "scenes-real")
    path = os.path.join(folder, "boxes.tsv")
    if not os.path.exists(path):
        return []
    boxes = {}
    with open(path) as f:
        for line in f.read().splitlines()[1:]:
            name, x, y, w, h = line.split("\t")[:5]
            if held_out(name) == holdout:
                x, y, w, h = float(x), float(y), float(w), float(h)
                boxes.setdefault(name, []).append((x + w / 2, y + h / 2, w, h))
    return [(Image.open(os.path.join(folder, name)).convert("L"), b) for name, b in sorted(boxes.items())]


def scene_window(rng, scenes, w, h):
    """A `w x h` window of a real scene, zoomed so one of its plates is 14 to
    80 pixels wide and inside the window, with every boxed plate in it."""
    img, boxes = rng.choice(scenes)
    cx, cy, bw, bh = rng.choice(boxes)
    scale = min(rng.uniform(14, 80) / max(bw, 1.0), 4.0)
    # The window in the photo's pixels: the plate's centre in it, and inside
    # the photo where the photo is large enough.
    vw, vh = max(2, round(w / scale)), max(2, round(h / scale))
    x0 = round(cx - rng.uniform(0.15, 0.85) * vw)
    y0 = round(cy - rng.uniform(0.15, 0.85) * vh)
    if vw <= img.width:
        x0 = min(max(x0, 0), img.width - vw)
    if vh <= img.height:
        y0 = min(max(y0, 0), img.height - vh)
    # Reduced by area, as the node reduces frames; enlarged bilinearly.
    view = img.crop((x0, y0, x0 + vw, y0 + vh)).resize(
        (w, h), Image.BOX if scale < 1 else Image.BILINEAR)
    sx, sy = w / vw, h / vh
    out = [((x - x0) * sx, (y - y0) * sy, pw * sx, ph * sy) for x, y, pw, ph in boxes]
    return view, [b for b in out if 0 <= b[0] < w and 0 <= b[1] < h]


def degrade(rng, canvas):
    """Blur, noise, exposure and JPEG as a road camera's frame has them; values in [0, 1]."""
    if rng.random() < 0.3:
        canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    a = np.asarray(canvas, dtype=np.float32)
    if rng.random() < 0.5:
        a = a + np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, rng.uniform(2, 8), a.shape)
    a = np.clip(a * rng.uniform(0.6, 1.2) + rng.uniform(-30, 30), 0, 255)
    if rng.random() < 0.3:
        buf = io.BytesIO()
        Image.fromarray(a.astype(np.uint8)).save(buf, "JPEG", quality=rng.randint(30, 85))
        a = np.asarray(Image.open(buf), dtype=np.float32)
    return (a / 255.0).astype(np.float32)


def plate_image(rng, reals):
    if reals and rng.random() < 0.5:
        return rng.choice(reals)
    img, _, _ = synth.plate(rng)  # Brazilian, European (long and low) or US
    return img.convert("L")


def place(rng, canvas, plate, width):
    """Pastes `plate` into `canvas` (L) about `width` wide; returns its box (x0, y0, x1, y1)."""
    h = max(4, int(width * plate.height / plate.width * rng.uniform(0.85, 1.15)))
    p = plate.resize((max(6, int(width)), h), Image.BILINEAR)
    p = ImageEnhance.Brightness(p).enhance(rng.uniform(0.5, 1.3))
    p = ImageEnhance.Contrast(p).enhance(rng.uniform(0.6, 1.2))
    angle = rng.uniform(-7, 7)
    mask = Image.new("L", p.size, 255).rotate(angle, expand=True, resample=Image.BILINEAR)
    p = p.rotate(angle, expand=True, resample=Image.BILINEAR)
    x = rng.randint(-p.width // 4, canvas.width - p.width * 3 // 4)
    y = rng.randint(-p.height // 4, canvas.height - p.height * 3 // 4)
    # A bumper or body behind the plate, as on a vehicle, some of the time.
    if rng.random() < 0.5:
        bw, bh = int(p.width * rng.uniform(2, 4)), int(p.height * rng.uniform(1.5, 3))
        bx, by = x + p.width // 2 - bw // 2, y + p.height // 2 - int(bh * rng.uniform(0.3, 0.7))
        tone = rng.randint(10, 240)
        canvas.paste(tone, (bx, by, bx + bw, by + bh))
    canvas.paste(p, (x, y), mask)
    cx, cy = x + p.width / 2, y + p.height / 2
    # The plate's own extent (before rotation grew its bounding box).
    return cx, cy, width, h


def composite(rng, bgs, reals, w, h, plates_max=3):
    bg = rng.choice(bgs)
    # A view of the scene at a random zoom, as if a frame of W x H pixels.
    scale = rng.uniform(0.5, 1.0)
    cw, ch = int(bg.width * scale), int(bg.width * scale * H / W)
    ch = min(ch, bg.height)
    x0, y0 = rng.randint(0, bg.width - cw), rng.randint(0, bg.height - ch)
    frame_scale = W / cw  # scene pixels to detector pixels
    view = bg.crop((x0, y0, x0 + cw, y0 + ch)).resize((W, H), Image.BILINEAR)
    # Then the training window inside it.
    wx, wy = rng.randint(0, W - w), rng.randint(0, H - h)
    canvas = view.crop((wx, wy, wx + w, wy + h))
    boxes = []
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3][: plates_max + 4])):
        width = rng.uniform(18, 80)  # 60 to 270 pixels at 1280
        boxes.append(place(rng, canvas, plate_image(rng, reals), width))
    return degrade(rng, canvas), boxes


def targets(boxes, w, h):
    gw, gh = w // STRIDE, h // STRIDE
    heat = np.zeros((gh, gw), np.float32)
    reg = np.zeros((4, gh, gw), np.float32)
    mask = np.zeros((gh, gw), np.float32)
    ys, xs = np.mgrid[0:gh, 0:gw]
    for cx, cy, bw, bh in boxes:
        gx, gy = cx / STRIDE, cy / STRIDE
        ix, iy = int(gx), int(gy)
        if not (0 <= ix < gw and 0 <= iy < gh):
            continue
        sigma = max(0.5, bw / STRIDE / 6)
        g = np.exp(-((xs - gx + 0.5) ** 2 + (ys - gy + 0.5) ** 2) / (2 * sigma * sigma))
        heat = np.maximum(heat, g)
        heat[iy, ix] = 1.0
        reg[:, iy, ix] = (math.log(bw), math.log(bh), gx - ix, gy - iy)
        mask[iy, ix] = 1.0
    return heat, reg, mask


class Detector(nn.Module):
    def __init__(self, batch_norm=True):
        super().__init__()

        def conv(cin, cout, stride=1, dilation=1):
            norm = [nn.BatchNorm2d(cout)] if batch_norm else []
            return [nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation),
                    *norm, nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *conv(1, 16, 2),            # /2
            *conv(16, 32, 2),           # /4
            *conv(32, 32),
            *conv(32, 64, 2),           # /8
            *conv(64, 64),
            *conv(64, 64, dilation=2),
            *conv(64, 64, dilation=4),  # context about a plate's width and more
        )
        self.head = nn.Conv2d(64, 5, 1)
        nn.init.constant_(self.head.bias[0:1], -4.0)  # few cells hold a plate

    def forward(self, image):
        return self.head(self.body(image))


def load_onnx(path):
    """A Detector without batch norms holding the weights of an exported
    detector.onnx (the exporter folds each batch norm into its convolution)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(path).graph
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    model = Detector(batch_norm=False)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    nodes = [n for n in graph.node if n.op_type == "Conv"]
    assert len(convs) == len(nodes), "detector.onnx has a different architecture"
    for conv, node in zip(convs, nodes):
        conv.weight.data.copy_(weights[node.input[1]])
        conv.bias.data.copy_(weights[node.input[2]])
    return model


def loss_fn(out, heat, reg, mask):
    # CenterNet's focal loss on the heatmap, L1 on the box at plate centres.
    p = torch.sigmoid(out[:, 0]).clamp(1e-4, 1 - 1e-4)
    pos = (heat >= 1.0).float()
    neg = 1 - pos
    pos_loss = -(torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_loss = -(torch.log(1 - p) * p ** 2 * (1 - heat) ** 4 * neg).sum()
    n = pos.sum().clamp(min=1)
    box = (F.l1_loss(out[:, 1:], reg, reduction="none").sum(1) * mask).sum() / n
    return (pos_loss + neg_loss) / n + 0.5 * box


def batch(rng, bgs, reals, size, scenes=(), scene_share=0.0):
    xs, hs, rs, ms = [], [], [], []
    for _ in range(size):
        if scenes and rng.random() < scene_share:
            view, boxes = scene_window(rng, scenes, TRAIN_W, TRAIN_H)
            a = degrade(rng, view)
        else:
            a, boxes = composite(rng, bgs, reals, TRAIN_W, TRAIN_H)
        heat, reg, mask = targets(boxes, TRAIN_W, TRAIN_H)
        xs.append(a[None])
        hs.append(heat)
        rs.append(reg)
        ms.append(mask)
    return (torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(hs)),
            torch.from_numpy(np.stack(rs)), torch.from_numpy(np.stack(ms)))


class Batches(torch.utils.data.IterableDataset):
    def __init__(self, bgs, reals, size, seed, scenes=(), scene_share=0.0):
        self.bgs, self.reals, self.size, self.seed = bgs, reals, size, seed
        self.scenes, self.scene_share = scenes, scene_share

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = random.Random(self.seed * 1000 + (info.id if info else 0))
        while True:
            yield batch(rng, self.bgs, self.reals, self.size, self.scenes, self.scene_share)


def detect(maps, threshold):
    """Peaks of the heatmap above `threshold` (3 x 3 local maxima) as (cx, cy, w, h, score)."""
    heat = torch.sigmoid(maps[0])
    peaks = (heat == F.max_pool2d(heat[None, None], 3, 1, 1)[0, 0]) & (heat > threshold)
    out = []
    for iy, ix in peaks.nonzero().tolist():
        lw, lh, dx, dy = maps[1:, iy, ix].tolist()
        out.append(((ix + dx) * STRIDE, (iy + dy) * STRIDE, math.exp(lw), math.exp(lh),
                    heat[iy, ix].item()))
    return out


def evaluate(model, val_bgs, val_reals, threshold=0.3, n=300):
    model.eval()
    rng = random.Random(12345)
    found = total = false = 0
    with torch.no_grad():
        for i in range(n):
            a, boxes = composite(rng, val_bgs, val_reals, W, H)
            dets = detect(model(torch.from_numpy(a[None, None]))[0], threshold)
            for cx, cy, bw, bh in boxes:
                if not (0 <= cx < W and 0 <= cy < H):
                    continue
                total += 1
                found += any(abs(d[0] - cx) < bw / 2 and abs(d[1] - cy) < bh / 2 for d in dets)
            false += sum(not any(abs(d[0] - cx) < bw / 2 and abs(d[1] - cy) < bh / 2
                                 for cx, cy, bw, bh in boxes) for d in dets)
        scenes_false = 0
        for bg in val_bgs:
            a = np.asarray(bg.resize((W, H), Image.BILINEAR), dtype=np.float32) / 255.0
            scenes_false += len(detect(model(torch.from_numpy(a[None, None]))[0], threshold))
    model.train()
    return {"composites": n, "plates": total, "recall": found / max(1, total),
            "false_per_composite": false / n, "scenes": len(val_bgs),
            "false_per_scene": scenes_false / max(1, len(val_bgs)), "threshold": threshold}


def evaluate_real(model, scenes, threshold=0.3):
    """Recall of held-out `scenes-real` plates, each photo seen whole at W
    pixels wide (as the node's first pass sees it), by plate width in the
    photo, and how much of the boxed width the found box covers."""
    model.eval()
    groups = {"under 40": [0, 0], "40-70": [0, 0], "70-120": [0, 0], "over 120": [0, 0]}
    cover = []
    with torch.no_grad():
        for img, boxes in scenes:
            s = W / img.width
            h = max(STRIDE * 2, int(round(img.height * s / STRIDE)) * STRIDE)
            a = np.asarray(img.resize((W, h), Image.BOX), dtype=np.float32) / 255.0
            dets = detect(model(torch.from_numpy(a[None, None]))[0], threshold)
            for cx, cy, bw, bh in boxes:
                g = "under 40" if bw < 40 else "40-70" if bw < 70 else "70-120" if bw < 120 else "over 120"
                groups[g][1] += 1
                hit = [d for d in dets if abs(d[0] / s - cx) < bw / 2 and abs(d[1] / s - cy) < bh / 2
                       and 0.5 * bw <= d[2] / s <= 2 * bw]
                if hit:
                    groups[g][0] += 1
                    d = max(hit, key=lambda d: d[4])
                    l, r = d[0] / s - d[2] / s / 2, d[0] / s + d[2] / s / 2
                    cover.append(max(0.0, min(r, cx + bw / 2) - max(l, cx - bw / 2)) / bw)
    model.train()
    out = {g: round(f / max(1, n), 3) for g, (f, n) in groups.items()}
    out["plates"] = sum(n for _, n in groups.values())
    out["coverage_median"] = round(float(np.median(cover)), 3) if cover else None
    return out


def save(model, out):
    """detector.pt, and beside it whether the net has batch norms (a net
    loaded from ONNX has them folded away)."""
    path = os.path.join(out, "detector.pt")
    torch.save(model.state_dict(), path)
    has_bn = any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    with open(path + ".kind", "w") as f:
        f.write("bn" if has_bn else "nobn")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--init", help="start from a detector.pt written by an earlier run, or a detector.onnx")
    ap.add_argument("--real-scenes", type=float, default=0.0,
                    help="share of training windows cut from scenes-real photos")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train_bgs, val_bgs = scenes(args.data, False), scenes(args.data, True)
    train_reals, val_reals = real_plates(args.data, False), real_plates(args.data, True)
    train_scenes, val_scenes = real_scenes(args.data, False), real_scenes(args.data, True)
    print(f"{len(train_scenes)} training scenes-real photos, {len(val_scenes)} held out", flush=True)
    if args.init and args.init.endswith(".onnx"):
        model = load_onnx(args.init)
    else:
        kind = args.init + ".kind" if args.init else None
        batch_norm = not (kind and os.path.exists(kind) and open(kind).read() == "nobn")
        model = Detector(batch_norm=batch_norm)
        if args.init:
            model.load_state_dict(torch.load(args.init))
    model = model.to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    loader = iter(torch.utils.data.DataLoader(
        Batches(train_bgs, train_reals, args.batch, args.seed, train_scenes, args.real_scenes),
        batch_size=None,
        num_workers=args.workers, persistent_workers=args.workers > 0))
    start = time.time()
    deadline = start + args.minutes * 60
    step = 0
    while time.time() < deadline:
        x, heat, reg, mask = (t.to(args.device) for t in next(loader))
        done = min(1.0, (time.time() - start) / max(1.0, deadline - start))
        for group in opt.param_groups:
            group["lr"] = args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * done)))
        loss = loss_fn(model(x), heat, reg, mask)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.3f} {time.time() - start:.0f}s", flush=True)
        if step % 1000 == 0:
            save(model, args.out)
            if val_scenes:
                print("held-out scenes-real:", evaluate_real(model, val_scenes), flush=True)
    model = model.cpu().eval()
    save(model, args.out)
    metrics = {t: evaluate(model, val_bgs, val_reals, t) for t in (0.2, 0.3, 0.5)}
    if val_scenes:
        metrics["scenes_real"] = evaluate_real(model, val_scenes)
    metrics["steps"] = step
    metrics["minutes"] = round((time.time() - start) / 60, 1)
    metrics["parameters"] = sum(p.numel() for p in model.parameters())
    print(json.dumps(metrics, indent=2))
    with open(os.path.join(args.out, "detector-metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    torch.onnx.export(
        model, torch.zeros(1, 1, H, W), os.path.join(args.out, "detector.onnx"),
        input_names=["image"], output_names=["maps"],
        # Any input size: the node keeps a frame's aspect, searches it at
        # coarser scales for plates too wide for the first, and zooms in.
        dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "maps": {0: "n", 2: "gh", 3: "gw"}},
        opset_version=17, dynamo=False,
    )
    with open(os.path.join(args.out, "detector.json"), "w") as f:
        json.dump({"height": H, "width": W, "stride": STRIDE}, f)


if __name__ == "__main__":
    main()
