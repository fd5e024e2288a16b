"""Trains the plate reader (CRNN + CTC, with a region head) and exports it to ONNX.

    python models/train_reader.py --data ../shared/data --out models/out \
        --minutes 30 --threads 1

Training mixes synthetic plates rendered on the fly (models/synth.py) with
the training part of the real crops; a fixed part of each real set, chosen
by a hash of the file name, is held out and only ever evaluated. Prints, and
writes to OUT/metrics.json: exact-plate and character accuracy on the
held-out real US and BR crops and on a fixed synthetic set, and region
accuracy on held-out US crops. Exports OUT/reader.onnx (input `image`:
N x 1 x H x 128 grey in [0, 1], H from --height and written to
reader.json; outputs `chars`: T x N x C log-probabilities for CTC with blank 0 then CHARSET, and `region`: N x R logits over REGIONS).
"""

import argparse
import hashlib
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

import synth

CHARSET = synth.CHARS  # blank is class 0, CHARSET[i] is class i + 1
# New regions are only ever appended, so a reader trained before them
# warm-starts with every earlier region's weights in place: a new country
# goes at the end of EU_ORDER, never in sorted place.
EU_ORDER = ["a", "b", "cz", "d", "dk", "e", "f", "gb", "i", "nl", "p", "pl", "ro", "se"]
assert sorted(EU_ORDER) == sorted(synth.EU_COUNTRIES), "add the new country at the end of EU_ORDER"
REGIONS = ["unknown", "br"] + sorted(synth.US_STATES) + [synth.eu_region(c) for c in EU_ORDER]
H, W = 32, 128
HOLDOUT_PERCENT = 20


def held_out(name):
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 100 < HOLDOUT_PERCENT


def to_tensor(img):
    a = np.asarray(img.convert("L").resize((W, H), Image.BILINEAR), dtype=np.float32) / 255.0
    return torch.from_numpy(a)[None]


def normalize(text):
    return "".join(c for c in text.upper() if c in CHARSET)


def real_set(data, folder, holdout):
    path = os.path.join(data, folder)
    out = []
    with open(os.path.join(path, "labels.tsv")) as f:
        lines = [l.rstrip("\n").split("\t") for l in f if l.strip()]
    # The US list has a header (file, state, plate); the BR list is bare (file, plate).
    header = lines[0] if lines and lines[0][0] == "file" else ["file", "plate"]
    for fields in lines[1:] if header is lines[0] else lines:
        row = dict(zip(header, fields))
        if held_out(row["file"]) != holdout:
            continue
        region = row.get("state", "br" if "br" in folder else "unknown").lower()
        img = Image.open(os.path.join(path, row["file"])).convert("RGB")
        out.append((img, region if region in REGIONS else "unknown", normalize(row["plate"])))
    return out


def backgrounds(data, holdout, max_side=800):
    """Scenes without plates, grey and reduced, split like the crops."""
    folder = os.path.join(data, "backgrounds")
    out = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if held_out(name) != holdout:
            continue
        img = Image.open(os.path.join(folder, name))
        img.draft("L", (max_side, max_side))
        img = img.convert("L")
        img.thumbnail((max_side, max_side))
        out.append(img)
    return out


def negative(rng, scenes):
    """A plate-shaped piece of a scene without plates: windows, signs, grilles,
    text that is not a plate. The reader learns to read nothing there, which
    is what rejects the localizer's false candidates."""
    img = rng.choice(scenes)
    best, best_energy = None, -1.0
    # Half the time the most edged of a few boxes: the localizer proposes
    # exactly such places (rows of windows, grilles, sign lettering).
    for _ in range(8 if rng.random() < 0.5 else 1):
        w = rng.randint(40, max(41, min(320, img.width - 1)))
        h = min(max(8, int(w / rng.uniform(1.8, 4.5))), img.height - 1)
        x, y = rng.randint(0, img.width - w), rng.randint(0, img.height - h)
        crop = img.crop((x, y, x + w, y + h))
        a = np.asarray(crop, dtype=np.float32)
        energy = float(np.abs(np.diff(a, axis=1)).mean())
        if energy > best_energy:
            best, best_energy = crop, energy
    return best.convert("RGB"), "unknown", ""


class Reader(nn.Module):
    def __init__(self, batch_norm=True, dropout=0.0, height=None):
        super().__init__()
        height = height or H
        assert height % 16 == 0, "the reader's input height is a multiple of 16"

        def norm(c):
            # A model warm-started from exported weights has its batch norms
            # already folded into the convolutions, so it trains without them.
            return nn.BatchNorm2d(c) if batch_norm else nn.Identity()

        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), norm(cout), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(1, 32), nn.MaxPool2d(2),             # 16 x 64
            *block(32, 64), nn.MaxPool2d(2),            # 8 x 32
            *block(64, 128), *block(128, 128), nn.MaxPool2d((2, 1)),   # 4 x 32
            # A taller input only pools its rows harder here, so every weight
            # carries over between heights (32: 4 rows to 2; 48: 6 to 2).
            *block(128, 192), *block(192, 192), nn.MaxPool2d((height // 16, 1)),  # 2 x 32
            nn.Conv2d(192, 256, (2, 1)), norm(256), nn.ReLU(inplace=True),  # 1 x 32
        )
        # Dropout before the recurrent layer (training only; nothing is
        # exported): the reader learns the real crops by heart otherwise.
        self.dropout = nn.Dropout(dropout)
        self.rnn = nn.LSTM(256, 128, bidirectional=True)
        self.chars = nn.Linear(256, len(CHARSET) + 1)
        self.region = nn.Sequential(nn.Linear(256, 128), nn.ReLU(inplace=True),
                                    nn.Linear(128, len(REGIONS)))

    def forward(self, image):
        f = self.features(image).squeeze(2)     # N x 256 x T
        region = self.region(f.mean(dim=2))
        seq = self.dropout(f).permute(2, 0, 1)  # T x N x 256
        out, _ = self.rnn(seq)
        return F.log_softmax(self.chars(out), dim=2), region


def load_onnx(path, dropout=0.0):
    """A Reader without batch norms holding the weights of an exported reader.onnx.

    The exporter folds each batch norm into its convolution and stores LSTM
    gates in ONNX order (input, output, forget, cell) where PyTorch uses
    (input, forget, cell, output)."""
    import onnx
    from onnx import numpy_helper

    meta = os.path.splitext(path)[0] + ".json"
    if os.path.exists(meta):
        with open(meta) as f:
            known = json.load(f)["regions"]
        assert REGIONS[: len(known)] == known, f"{meta}: its regions are not a prefix of REGIONS"
    graph = onnx.load(path).graph
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    model = Reader(batch_norm=False, dropout=dropout)
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    conv_nodes = [n for n in graph.node if n.op_type == "Conv"]
    assert len(convs) == len(conv_nodes), "reader.onnx has a different architecture"
    for conv, node in zip(convs, conv_nodes):
        conv.weight.data.copy_(weights[node.input[1]])
        conv.bias.data.copy_(weights[node.input[2]])
    lstm = next(n for n in graph.node if n.op_type == "LSTM")
    w, r, b = (weights[name] for name in lstm.input[1:4])
    hidden = r.shape[2]

    def reorder(m):
        i, o, f, c = m.split(hidden, dim=0)
        return torch.cat([i, f, c, o], dim=0)

    for d, suffix in enumerate(["", "_reverse"]):
        getattr(model.rnn, "weight_ih_l0" + suffix).data.copy_(reorder(w[d]))
        getattr(model.rnn, "weight_hh_l0" + suffix).data.copy_(reorder(r[d]))
        getattr(model.rnn, "bias_ih_l0" + suffix).data.copy_(reorder(b[d][:4 * hidden]))
        getattr(model.rnn, "bias_hh_l0" + suffix).data.copy_(reorder(b[d][4 * hidden:]))
    matmul = next(n for n in graph.node if n.op_type == "MatMul")
    model.chars.weight.data.copy_(weights[matmul.input[1]].T)
    model.chars.bias.data.copy_(weights["chars.bias"])
    params = dict(model.named_parameters())
    for k in ("region.0.weight", "region.0.bias", "region.2.weight", "region.2.bias"):
        load_weights(params[k], k, weights[k])
    return model


def load_weights(param, name, value):
    """Copies `value` into `param`. Only the region head's output may be
    shorter: an older reader knew fewer regions, so its rows come first and
    the new regions start silent (no weight, a low bias), keeping the known
    ones' answers until training gives the new ones theirs. Any other shape
    difference is an error."""
    if name.startswith("region.2.") and value.shape[0] < param.shape[0]:
        param.data.zero_()
        param.data[: value.shape[0]].copy_(value)
        if param.dim() == 1:
            param.data[value.shape[0]:] = value.min() - 20.0
    else:
        param.data.copy_(value)


def greedy(log_probs):
    """Best path decoding of T x N x C log-probabilities."""
    best = log_probs.argmax(dim=2).T.tolist()
    texts = []
    for row in best:
        prev, s = 0, []
        for k in row:
            if k != prev and k != 0:
                s.append(CHARSET[k - 1])
            prev = k
        texts.append("".join(s))
    return texts


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, cb in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (ca != cb))
    return d[-1]


def evaluate(model, items):
    model.eval()
    exact = exact_o0 = chars = total_chars = region_ok = region_n = false_plates = 0
    with torch.no_grad():
        for i in range(0, len(items), 256):
            part = items[i:i + 256]
            x = torch.stack([to_tensor(img) for img, _, _ in part])
            lp, reg = model(x)
            for (img, region, text), got, r in zip(part, greedy(lp), reg.argmax(1).tolist()):
                exact += got == text
                exact_o0 += got.replace("O", "0") == text.replace("O", "0")
                false_plates += text == "" and len(got) >= 4
                total_chars += len(text)
                chars += max(0, len(text) - edit_distance(got, text))
                if region not in ("unknown",):
                    region_n += 1
                    region_ok += REGIONS[r] == region
    model.train()
    n = max(1, len(items))
    if all(text == "" for _, _, text in items):
        # Negatives: how often the reader reads a plate-length text where there is none.
        return {"n": len(items), "read_nothing": exact / n, "false_plate": false_plates / n}
    # exact_o0: O and 0 taken as one character (synth.us_record).
    return {"n": len(items), "exact": exact / n, "exact_o0": exact_o0 / n,
            "chars": chars / max(1, total_chars),
            "region": region_ok / max(1, region_n)}


def in_context(img, rng, scenes):
    """The crop with a margin of scene around it, as a detector's box that
    is a little loose cuts it: the labelled crops end at the plate's edge,
    and readers that only saw those read 5 to 12 points fewer of them with
    a 5% margin on each side (models/margins.py)."""
    w, h = img.size
    left, right = (int(w * rng.uniform(0, 0.07)) for _ in range(2))
    top, bottom = (int(h * rng.uniform(0, 0.12)) for _ in range(2))
    scene = rng.choice(scenes)
    pw, ph = min(scene.width, w + left + right), min(scene.height, h + top + bottom)
    x, y = rng.randint(0, scene.width - pw), rng.randint(0, scene.height - ph)
    canvas = scene.crop((x, y, x + pw, y + ph)).convert("RGB").resize((w + left + right, h + top + bottom))
    canvas.paste(img, (left, top))
    return canvas


def real_augment(img, rng, strong, scenes=()):
    """A real crop seen anew: degraded as a road camera would, and (strong)
    seen through another sensor's colour response and at another aspect,
    with part of a band cut off or a margin of scene added, as a detector's
    box can."""
    if not strong:
        return synth.degrade(img, rng) if rng.random() < 0.5 else img
    if rng.random() < 0.5:
        r, g, b = (rng.uniform(0.05, 1.0) for _ in range(3))
        total = r + g + b
        img = img.convert("L", (r / total, g / total, b / total, 0)).convert("RGB")
    if scenes and rng.random() < 0.3:
        img = in_context(img, rng, scenes)
    elif rng.random() < 0.5:
        w, h = img.size
        top, bottom = int(h * rng.uniform(0, 0.18)), int(h * rng.uniform(0, 0.15))
        img = img.crop((0, top, w, h - bottom))
    if rng.random() < 0.3:
        w, h = img.size
        img = img.resize((max(8, int(w * rng.uniform(0.7, 1.3))), h), Image.BILINEAR)
    return synth.degrade(img, rng) if rng.random() < 0.8 else img


def batch(rng, real, size, real_share, scenes=(), negative_share=0.0, strong=False, us_share=None):
    """`real` is (US crops, BR crops); `us_share` is how often a real crop is
    drawn from the US ones (None: in proportion to their numbers)."""
    us, br = real
    if us_share is None:
        us_share = len(us) / max(1, len(us) + len(br))
    items = []
    for _ in range(size):
        if scenes and rng.random() < negative_share:
            items.append(negative(rng, scenes))
            continue
        if (us or br) and rng.random() < real_share:
            pool = us if us and (not br or rng.random() < us_share) else br
            img, region, text = rng.choice(pool)
            img = real_augment(img, rng, strong, scenes)
        else:
            img, region, text = synth.sample(rng, art=scenes)
        items.append((img, region, text))
    x = torch.stack([to_tensor(img) for img, _, _ in items])
    targets = torch.tensor([CHARSET.index(c) + 1 for _, _, t in items for c in t], dtype=torch.long)
    lengths = torch.tensor([len(t) for _, _, t in items], dtype=torch.long)
    regions = torch.tensor([REGIONS.index(r) for _, r, _ in items], dtype=torch.long)
    return x, targets, lengths, regions


class Batches(torch.utils.data.IterableDataset):
    """Endless training batches; each data-loader worker renders its own."""

    def __init__(self, real, size, real_share, seed, scenes, negative_share, strong, us_share):
        self.real, self.size, self.real_share, self.seed = real, size, real_share, seed
        self.scenes, self.negative_share, self.strong = scenes, negative_share, strong
        self.us_share = us_share

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = random.Random(self.seed * 1000 + (info.id if info else 0))
        while True:
            yield batch(rng, self.real, self.size, self.real_share, self.scenes, self.negative_share,
                        self.strong, self.us_share)


def save_checkpoint(path, model, ema, batch_norm, step):
    def dump(m, to):
        weights = {k: v.cpu() for k, v in m.state_dict().items()}
        torch.save({"model": weights, "batch_norm": batch_norm, "step": step, "height": H}, to)

    # With averaging, the averaged weights are what a later run starts from.
    dump(ema.module if ema is not None else model, path)
    if ema is not None:
        dump(model, path.replace(".pt", "-trained.pt"))


def main():
    global H
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the shared data folder (plates-real-us, plates-real-br)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--real-share", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--negative-share", type=float, default=0.1,
                    help="share of crops cut from plate-free scenes, labelled with no text")
    ap.add_argument("--workers", type=int, default=0,
                    help="processes rendering synthetic batches (rendering, not the model, bounds a CPU run)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--init", help="start from a reader.onnx (weights) or a checkpoint.pt written by an earlier run")
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate; decays to 1/50 of it by a cosine over the run")
    ap.add_argument("--dropout", type=float, default=0.0, help="dropout before the recurrent layer")
    ap.add_argument("--strong-real", action="store_true",
                    help="augment real crops harder: colour response, cut bands, aspect")
    ap.add_argument("--us-share", type=float,
                    help="how often a real crop is drawn from the US set (default: by the sets' sizes)")
    ap.add_argument("--height", type=int, default=H,
                    help="input height in pixels, a multiple of 16 (the width stays 128); a reader of "
                         "another height warm-starts from this one's weights, since only a pooling differs")
    ap.add_argument("--meta-only", action="store_true",
                    help="only write OUT/reader.json (at --height) for a reader.onnx already there")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="evaluate and export an exponential moving average of the weights with this "
                         "decay (e.g. 0.999); 0 exports the weights as trained")
    args = ap.parse_args()
    # Set before any model or batch exists: to_tensor and Reader read it,
    # and the rendering workers inherit it.
    H = args.height
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)

    # Trained as records write US plates (synth.us_record); the held-out
    # crops keep their labels, and `evaluate` reports both ways.
    us_train = real_set(args.data, "plates-real-us", False)
    if args.meta_only:
        write_meta(args.out, us_train)
        return
    train_real = ([(img, region, synth.us_record(text)) for img, region, text in us_train],
                  real_set(args.data, "plates-real-br", False))
    val = {
        "real_us": real_set(args.data, "plates-real-us", True),
        "real_br": real_set(args.data, "plates-real-br", True),
        # US (now with vanity plates) and Brazilian plates, and European
        # plates apart. The generator changed, so compare runs on one version.
        "synthetic": [synth.sample(random.Random(10_000 + i), eu_share=0.0) for i in range(1000)],
        "synthetic_eu": [synth.sample(random.Random(30_000 + i), br_share=0.0, eu_share=1.0)
                         for i in range(500)],
    }
    train_scenes = backgrounds(args.data, False)
    val_scenes = backgrounds(args.data, True)
    if val_scenes:
        neg_rng = random.Random(20_000)
        val["negatives"] = [negative(neg_rng, val_scenes) for _ in range(1000)]
    if args.init and args.init.endswith(".onnx"):
        model = load_onnx(args.init, args.dropout)
    elif args.init:
        state = torch.load(args.init)
        model = Reader(batch_norm=state["batch_norm"], dropout=args.dropout)  # at --height
        params = dict(model.state_dict(keep_vars=True))
        missing = set(params) - set(state["model"])
        assert not missing, f"{args.init} lacks {sorted(missing)}"
        for k, v in state["model"].items():
            load_weights(params[k], k, v)
    else:
        model = Reader(dropout=args.dropout)
    batch_norm = any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    model = model.to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    # The average of the last thousand or so steps reads better than the
    # weights of any one step: small real sets make single steps noisy.
    ema = None
    if args.ema > 0:
        ema = torch.optim.swa_utils.AveragedModel(
            model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema), use_buffers=True)
    checkpoint = os.path.join(args.out, "checkpoint.pt")
    saved = time.time()
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    start = time.time()
    deadline = start + args.minutes * 60
    step = 0
    loader = iter(torch.utils.data.DataLoader(
        Batches(train_real, args.batch, args.real_share, args.seed, train_scenes, args.negative_share,
                args.strong_real, args.us_share),
        batch_size=None,
        num_workers=args.workers, persistent_workers=args.workers > 0))
    while time.time() < deadline:
        x, targets, lengths, regions = next(loader)
        x, regions = x.to(args.device), regions.to(args.device)
        lp, reg = model(x)
        t = torch.full((x.shape[0],), lp.shape[0], dtype=torch.long)
        loss = ctc(lp.cpu(), targets, t, lengths) + 0.3 * F.cross_entropy(reg, regions)
        # Cosine decay over wall-clock time: a run's length is set in minutes.
        done = min(1.0, (time.time() - start) / max(1.0, deadline - start))
        for group in opt.param_groups:
            group["lr"] = args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * done)))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if ema is not None:
            ema.update_parameters(model)
        step += 1
        if step % 200 == 0:
            print(f"step {step} loss {loss.item():.3f} {time.time() - start:.0f}s", flush=True)
        if time.time() - saved > 300:
            save_checkpoint(checkpoint, model, ema, batch_norm, step)
            saved = time.time()
    save_checkpoint(checkpoint, model, ema, batch_norm, step)
    if ema is not None:
        trained = model.cpu()
        metrics_trained = {name: evaluate(trained, items) for name, items in val.items()}
        print("as trained, before averaging:", json.dumps(metrics_trained), flush=True)
        model = ema.module
    model = model.cpu().eval()
    metrics = {name: evaluate(model, items) for name, items in val.items()}
    metrics["steps"] = step
    if ema is not None:
        metrics["ema_decay"] = args.ema
        metrics["as_trained"] = metrics_trained
    metrics["minutes"] = round((time.time() - start) / 60, 1)
    metrics["parameters"] = sum(p.numel() for p in model.parameters())
    print(json.dumps(metrics, indent=2))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    torch.onnx.export(
        model, torch.zeros(1, 1, H, W), os.path.join(args.out, "reader.onnx"),
        input_names=["image"], output_names=["chars", "region"],
        dynamic_axes={"image": {0: "n"}, "chars": {1: "n"}, "region": {0: "n"}},
        opset_version=17, dynamo=False,
    )
    write_meta(args.out, us_train)


def us_formats(us_train):
    """What the node needs to tell O from 0 on US plates: the states, and
    how often each shape (L for a letter, D for a digit) occurs in the real
    US training labels as labelled. The reader writes 0 (synth.us_record);
    the node writes O where that makes a rare shape a common one, as the
    letter group of a serial plate (355 OCT). See node/src/recognize/format.rs."""
    shapes = {}
    by_state = {}
    for _, region, text in us_train:
        shape = "".join("D" if c.isdigit() else "L" for c in text)
        shapes[shape] = shapes.get(shape, 0) + 1
        # As the reader writes the plate (O as 0): the state's own shapes,
        # which the node weighs with the region head's guess (California's
        # 7ABC123 is nearly its alone).
        written = "".join("D" if c.isdigit() else "L" for c in synth.us_record(text))
        if region == "unknown":
            continue
        counts = by_state.setdefault(region, {})
        counts[written] = counts.get(written, 0) + 1
    return {"regions": sorted(synth.US_STATES), "shapes": dict(sorted(shapes.items())),
            "by_state": {s: dict(sorted(c.items())) for s, c in sorted(by_state.items())}}


def fixed_shapes():
    """Regions whose plates all have one of a few shapes (L a letter, D a
    digit): Brazil's old LLL NNNN and Mercosul LLL N L NN. The node puts a
    character of the wrong kind back to its runner-up of the right kind."""
    return {"br": ["".join("D" if c == "N" else c for c in p) for p in synth.BR_PATTERNS]}


def write_meta(out, us_train):
    """OUT/reader.json: what the node needs besides the weights. `us_train`
    is the real US training set with its labels as they are."""
    with open(os.path.join(out, "reader.json"), "w") as f:
        json.dump({"charset": CHARSET, "regions": REGIONS, "height": H, "width": W,
                   "us_formats": us_formats(us_train), "fixed_shapes": fixed_shapes()}, f)


if __name__ == "__main__":
    main()
