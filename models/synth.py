"""Synthetic license plate crops with known text, for training the reader.

Renders US-style plates (state name band, slogan band, stacked small
characters, stickers, frames, embossing shadow, colored backgrounds, two-line
plates) and Brazilian Mercosul/old-grey plates, then degrades them the way a
road camera does: perspective, blur, noise, glare, night/IR looks, low
resolution, JPEG artefacts. Only fonts installed on the machine are used
(Debian: fonts-dejavu, and any others found), so no third-party image is
needed or shipped.

    python models/synth.py --out /tmp/synth --count 1000 --seed 1

writes PNGs and labels.tsv (file, region, plate). Deterministic from --seed.
"""

import argparse
import glob
import io
import math
import os
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
CHARS = LETTERS + DIGITS

US_STATES = {
    "ak": "ALASKA", "al": "ALABAMA", "ar": "ARKANSAS", "az": "ARIZONA",
    "ca": "California", "co": "COLORADO", "ct": "CONNECTICUT", "de": "DELAWARE",
    "fl": "FLORIDA", "ga": "GEORGIA", "hi": "HAWAII", "ia": "IOWA",
    "id": "IDAHO", "il": "ILLINOIS", "in": "INDIANA", "ks": "KANSAS",
    "ky": "KENTUCKY", "la": "LOUISIANA", "ma": "MASSACHUSETTS", "md": "MARYLAND",
    "me": "MAINE", "mi": "MICHIGAN", "mn": "MINNESOTA", "mo": "MISSOURI",
    "ms": "MISSISSIPPI", "mt": "MONTANA", "nc": "NORTH CAROLINA", "nd": "NORTH DAKOTA",
    "ne": "NEBRASKA", "nh": "NEW HAMPSHIRE", "nj": "NEW JERSEY", "nm": "NEW MEXICO",
    "nv": "NEVADA", "ny": "NEW YORK", "oh": "OHIO", "ok": "OKLAHOMA",
    "or": "OREGON", "pa": "PENNSYLVANIA", "ri": "RHODE ISLAND", "sc": "SOUTH CAROLINA",
    "sd": "SOUTH DAKOTA", "tn": "TENNESSEE", "tx": "TEXAS", "ut": "UTAH",
    "va": "VIRGINIA", "vt": "VERMONT", "wa": "WASHINGTON", "wi": "WISCONSIN",
    "wv": "WEST VIRGINIA", "wy": "WYOMING", "dc": "DISTRICT OF COLUMBIA",
}
SLOGANS = [
    "THE GOLDEN STATE", "LAND OF LINCOLN", "SUNSHINE STATE", "GARDEN STATE",
    "THE EMPIRE STATE", "LIVE FREE OR DIE", "GREAT LAKES", "BIG SKY COUNTRY",
    "FAMOUS POTATOES", "DISCOVER", "DRIVE SAFELY", "IN GOD WE TRUST",
    "CELEBRATING STATEHOOD", "SPORTSMAN'S PARADISE", "THE OCEAN STATE",
    "FIRST IN FLIGHT", "WILD WONDERFUL", "dmv.org", "",
]
US_PATTERNS = ["NLLLNNN", "LLLNNNN", "LLLNNN", "NLLNNN", "NNNLLL", "LLNNNNN",
               "NNNNNN", "LLLLNNN", "NLLLLNN", "LNNNNN", "NNNLNN", "LLNLLN",
               # Every other shape that at least 7 of the real US training
               # labels have (2 to 20 each): short all-digit plates
               # (motorcycles, trailers, county-numbered), letter suffixes.
               "LLNNNN", "NNNN", "LLLNNL", "NNNNLL", "NNNNNNN", "LLNNN", "NNNNN",
               "LNNNNNN", "LLNLNNN"]
BR_PATTERNS = ["LLLNLNN", "LLLNNNN"]
# Vanity plates: words, names and slogans, with digits standing in for
# letters. Their spelling follows no pattern, so a reader that learned only
# the issued patterns drops or swaps letters in them.
# No word may come from the held-out real plates (the reader shipped in
# November 2026 trained with five that did; models/README.md).
VANITY_WORDS = [
    "GOFAST", "CAMPER", "HIKER", "BIKER", "GARDEN", "OCEAN", "RANGER", "SKIER", "LUVMYDOG",
    "WILDCAT", "GATORS", "GOBLUE", "ROLLTIDE", "MAMABEAR", "PAPA", "NANA", "BIGRED",
    "WOLFPACK", "SURFER", "BEACH", "FISHON", "HOOKED", "DRWHO", "MYRIDE", "VROOM", "ZOOM",
    "TESLA", "JEEPGRL", "KWIK", "QUIET", "WIFEY", "HUBBY", "WAWA", "IOWA", "MOM",
    "DAD", "LUCKY", "FLYING", "PILOT", "NURSE", "COACH", "WXYZ", "JAVA", "PYTHON", "RUST",
]
SUBSTITUTES = {"O": "0", "I": "1", "E": "3", "S": "5", "B": "8", "A": "4", "G": "6", "T": "7"}
# How often a vanity word's letter is spelled with its digit. At 15% the
# reader learned to write 1 for I and 4 for A in real words (NTGUILTY read
# NTGU1LTY, TENKARA read TENKAR4).
SUBSTITUTE_RATE = 0.05
# European plates: the EU band's country letters, the issued patterns (L a
# letter, N a digit), how the plate separates the groups, and its colours.
EU_COUNTRIES = {
    "d": ("D", [], "seals", "white"),  # drawn by eu_plate: district, seals, letters, digits
    "f": ("F", ["LL-NNN-LL"], "dash", "white"),
    "i": ("I", ["LL NNNLL"], "space", "white"),
    "e": ("E", ["NNNN LLL"], "space", "white"),
    "nl": ("NL", ["NN-LLL-N", "N-LLL-NN", "LL-NNN-L", "L-NNN-LL", "LLL-NN-L", "NN-LL-LL"], "dash", "yellow"),
    "b": ("B", ["N-LLL-NNN"], "dash", "red-ink"),
    "pl": ("PL", ["LL NNNNN", "LL NNNNL", "LLL NNNNL", "LLL LNNN"], "space", "white"),
    "a": ("A", ["L NNNNNL", "LL NNNLL", "LL NNNL"], "space", "white"),
    "cz": ("CZ", ["NLN NNNN"], "space", "white"),
    "se": ("S", ["LLL NNN", "LLL NNL"], "space", "white"),
    "p": ("P", ["LL-NN-LL", "NN-LL-NN"], "dash", "white"),
    "ro": ("RO", ["L NNN LLL", "LL NN LLL"], "space", "white"),
    "dk": ("DK", ["LL NN NNN"], "space", "white"),
    "gb": ("UK", ["LLNN LLL"], "space", "white-or-yellow"),
}

COLORS = [  # (background, text)
    ((250, 250, 250), (20, 40, 120)), ((250, 250, 250), (20, 20, 20)),
    ((245, 245, 235), (150, 20, 20)), ((250, 215, 60), (20, 20, 60)),
    ((235, 240, 250), (30, 30, 90)), ((255, 255, 255), (10, 60, 10)),
    ((210, 230, 245), (20, 30, 80)), ((40, 40, 40), (240, 240, 240)),
]


# Narrow bold sans faces close to the plate fonts states use (Debian:
# fonts-liberation, fonts-urw-base35, fonts-roboto-unhinted, fonts-bebas-neue,
# fonts-opendin, fonts-croscore, fonts-freefont-ttf, fonts-league-spartan).
PLATE_FACES = ("LiberationSansNarrow-Bold", "NimbusSansNarrow-Bold", "RobotoCondensed-Bold",
               "BebasNeue-Bold", "OSP-DIN", "Arimo-Bold", "FreeSansBold", "LeagueSpartan-Bold",
               "DejaVuSansCondensed-Bold", "DejaVuSans-Bold", "DejaVuSansMono-Bold")


def fonts():
    found = sorted(glob.glob("/usr/share/fonts/**/*.ttf", recursive=True)
                   + glob.glob("/usr/share/fonts/**/*.otf", recursive=True))
    # Plate fonts are bold, narrow sans: those of PLATE_FACES the machine
    # has, else any upright bold; every font serves the bands.
    plate = [f for f in found if os.path.basename(f).split(".")[0] in PLATE_FACES]
    main = plate or [f for f in found if "Bold" in f and "Oblique" not in f and "Italic" not in f]
    return (main or found), found


MAIN_FONTS, ALL_FONTS = fonts()


def pattern_text(rng, pattern):
    """Fills a pattern: L a letter, N a digit; anything else is kept (a
    separator as the plate prints it)."""
    return "".join(rng.choice(LETTERS) if c == "L" else rng.choice(DIGITS) if c == "N" else c
                   for c in pattern)


def us_record(text):
    """A US plate's text as records write it: one character for O and 0.

    Most states print the letter O and the digit 0 with one glyph, so no
    reader can tell them apart from the plate, and the records we have
    mostly write it 0: of the real US training labels, 28 write 0 where a
    letter stands (CHICAG0, CUST0M, 0BX40699) and 11 write O. A reader
    trained on both learns noise, so the reader writes 0 on US plates, and
    the node gives the letter back where the plate's format calls for one
    (a serial plate's letter group: 355 OCT; node/src/recognize/format.rs)."""
    return text.replace("O", "0")


def vanity_text(rng):
    """A vanity plate's text: a word, sometimes shortened, spelled with
    digits, or with a number added; or free letters and digits."""
    if rng.random() < 0.3:
        return "".join(rng.choice(LETTERS if rng.random() < 0.8 else DIGITS)
                       for _ in range(rng.randint(2, 8)))
    word = rng.choice(VANITY_WORDS)
    if len(word) > 4 and rng.random() < 0.3:  # vowels dropped to fit
        word = word[0] + "".join(c for c in word[1:] if c not in "AEIOU" or rng.random() < 0.4)
    word = "".join(SUBSTITUTES.get(c, c) if rng.random() < SUBSTITUTE_RATE else c for c in word)
    if len(word) < 7 and rng.random() < 0.3:
        number = str(rng.randint(1, 99))
        word = number + word if rng.random() < 0.4 else word + number
    return word[:8]


def fit_font(path, text, box_w, box_h):
    size = box_h
    while size > 6:
        font = ImageFont.truetype(path, size)
        l, t, r, b = font.getbbox(text)
        if r - l <= box_w and b - t <= box_h:
            return font
        size -= 2
    return ImageFont.truetype(path, 6)


def draw_text_stretched(img, text, font_path, box, color, rng, emboss):
    """Draws text filling `box` (x0, y0, x1, y1), narrowed or stretched as
    plates are. Returns the x range of a double space in the text, if any
    (where a plate puts its logo), else None."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    font = ImageFont.truetype(font_path, max(8, int(h * 1.15)))
    l, t, r, b = font.getbbox(text)
    tw, th = max(1, r - l), max(1, b - t)
    layer = Image.new("L", (tw + 8, th + 8), 0)
    ImageDraw.Draw(layer).text((4 - l, 4 - t), text, font=font, fill=255)
    scale_w = min(w, int(w * rng.uniform(0.8, 1.0)))
    layer = layer.resize((scale_w, h), Image.BILINEAR)
    px = x0 + (w - scale_w) // 2
    if emboss:
        shadow = Image.new("RGB", layer.size, (0, 0, 0))
        img.paste(shadow, (px + 2, y0 + 2), layer.point(lambda v: v // 3))
    solid = Image.new("RGB", layer.size, color)
    img.paste(solid, (px, y0), layer)
    gap = text.find("  ")
    if gap < 0:
        return None
    k = scale_w / (tw + 8)
    a = 4 + font.getlength(text[:gap]) - l
    b = 4 + font.getlength(text[:gap + 2]) - l
    return px + int(a * k), px + int(b * k)


def logo(img, rng, x0, x1, y0, y1, art=()):
    """A state emblem between character groups: a sun, a star, a state
    shape or a small picture."""
    d = ImageDraw.Draw(img)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    r = max(3, min(x1 - x0, y1 - y0) * rng.uniform(0.35, 0.55))
    c = tuple(rng.randint(0, 255) for _ in range(3))
    kind = rng.choice(["sun", "star", "shape", "picture" if art else "shape"])
    if kind == "sun":
        for k in range(8):
            t = k * math.pi / 4
            d.line([(cx, cy), (cx + 1.4 * r * math.cos(t), cy + 1.4 * r * math.sin(t))],
                   fill=c, width=max(1, int(r / 4)))
        d.ellipse([cx - r * 0.6, cy - r * 0.6, cx + r * 0.6, cy + r * 0.6],
                  fill=tuple(rng.randint(0, 255) for _ in range(3)))
    elif kind == "star":
        pts = [(cx + (r if k % 2 == 0 else r * 0.45) * math.sin(k * math.pi / 5),
                cy - (r if k % 2 == 0 else r * 0.45) * math.cos(k * math.pi / 5)) for k in range(10)]
        d.polygon(pts, fill=c)
    elif kind == "shape":
        n = rng.randint(5, 9)
        pts = [(cx + r * rng.uniform(0.6, 1.1) * math.cos(2 * math.pi * k / n),
                cy + r * rng.uniform(0.6, 1.1) * math.sin(2 * math.pi * k / n)) for k in range(n)]
        d.polygon(pts, fill=c)
    else:
        side = int(2 * r)
        pic = rng.choice(art)
        px, py = rng.randint(0, max(0, pic.width - side)), rng.randint(0, max(0, pic.height - side))
        pic = pic.crop((px, py, px + side, py + side)).convert("RGB")
        img.paste(pic, (int(cx - r), int(cy - r)))


def art_background(img, rng, art):
    """A scenic plate: a washed-out picture behind the characters, or in the
    lower part only, as many states print them."""
    w, h = img.size
    scene = rng.choice(art)
    sw = min(scene.width, int(scene.height * w / h))
    sh = int(sw * h / w)
    x, y = rng.randint(0, scene.width - sw), rng.randint(0, scene.height - sh)
    pic = scene.crop((x, y, x + sw, y + sh)).resize((w, h), Image.BILINEAR)
    pic = pic.filter(ImageFilter.GaussianBlur(rng.uniform(0, 2)))
    tint = tuple(rng.randint(60, 255) for _ in range(3))
    pic = Image.merge("RGB", [pic.point(lambda v, t=t: int(v * t / 255)) for t in tint])
    mask = Image.new("L", (w, h), int(255 * rng.uniform(0.25, 0.6)))
    if rng.random() < 0.5:
        top = int(h * rng.uniform(0.4, 0.7))
        mask.paste(0, (0, 0, w, top))
    return Image.composite(pic, img, mask)


def us_plate(rng, art=()):
    w, h = 320, 160
    bg, fg = rng.choice(COLORS)
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    if rng.random() < 0.5:  # a gradient or graphic band behind the text
        for y in range(h):
            k = y / h
            c = tuple(int(bg[i] * (1 - 0.25 * k) + rng.randint(0, 40) * k) for i in range(3))
            d.line([(0, y), (w, y)], fill=c)
    if art and rng.random() < 0.45:
        img = art_background(img, rng, art)
        d = ImageDraw.Draw(img)
    state = rng.choice(list(US_STATES))
    name = US_STATES[state]
    if rng.random() < 0.5:
        name = name.upper()
    band_font = rng.choice(ALL_FONTS)
    f = fit_font(band_font, name, int(w * rng.uniform(0.45, 0.8)), int(h * 0.16))
    l, t, r, b = f.getbbox(name)
    d.text(((w - (r - l)) // 2 - l, int(h * 0.04) - t), name, font=f,
           fill=rng.choice([fg, (180, 20, 20), (20, 20, 120)]))
    slogan = rng.choice(SLOGANS)
    if slogan:
        f = fit_font(rng.choice(ALL_FONTS), slogan, int(w * 0.75), int(h * 0.1))
        l, t, r, b = f.getbbox(slogan)
        d.text(((w - (r - l)) // 2 - l, int(h * 0.86) - t), slogan, font=f, fill=fg)
    text = vanity_text(rng) if rng.random() < 0.15 else pattern_text(rng, rng.choice(US_PATTERNS))
    shown = text
    if rng.random() < 0.5 and len(text) >= 4:  # a separator or an emblem as plates print them
        # A leading digit set apart is a county number (Montana 4-04148A,
        # Wyoming 4 · 475): part of the registration, and easy to drop.
        county = text[0].isdigit() and rng.random() < 0.3
        cut = 1 if county else rng.randint(2, max(2, len(text) - 2))
        shown = text[:cut] + rng.choice([" ", "-", "·", "  ", "  ", "  "]) + text[cut:]
    left = int(w * rng.uniform(0.04, 0.1))
    right = w - int(w * rng.uniform(0.04, 0.1))
    if rng.random() < 0.25:  # stacked small characters at the left (a type code)
        stack = "".join(rng.choice(LETTERS) for _ in range(2))
        f = ImageFont.truetype(rng.choice(MAIN_FONTS), int(h * 0.17))
        for i, ch in enumerate(stack):
            d.text((left, int(h * 0.32) + i * int(h * 0.2)), ch, font=f, fill=fg)
        left += int(w * 0.08)
        # The stacked characters are part of some plates' registration, not all;
        # readers are trained to report the main row only.
    top, bottom = int(h * rng.uniform(0.24, 0.34)), int(h * rng.uniform(0.7, 0.8))
    gap = draw_text_stretched(img, shown, rng.choice(MAIN_FONTS),
                              (left, top, right, bottom), fg, rng, rng.random() < 0.6)
    if gap:
        logo(img, rng, gap[0], gap[1], top, bottom, art)
    for _ in range(rng.randint(0, 2)):  # registration stickers in the corners
        sx = rng.choice([int(w * 0.03), int(w * 0.82)])
        sy = rng.choice([int(h * 0.04), int(h * 0.7)])
        c = tuple(rng.randint(0, 255) for _ in range(3))
        d.rectangle([sx, sy, sx + int(w * 0.14), sy + int(h * 0.2)], fill=c)
        d.text((sx + 4, sy + 2), str(rng.randint(10, 29)), fill=(0, 0, 0))
    if rng.random() < 0.7:  # frame
        d.rectangle([2, 2, w - 3, h - 3], outline=rng.choice([(20, 20, 20), (200, 200, 200), fg]),
                    width=rng.randint(2, 8))
    for x in (int(w * 0.25), int(w * 0.75)):  # bolt holes
        for y in (int(h * 0.1), int(h * 0.9)):
            if rng.random() < 0.5:
                d.ellipse([x - 5, y - 5, x + 5, y + 5], fill=(120, 120, 120))
    return img, state, us_record(text)


def br_plate(rng):
    w, h = 400, 130
    text = pattern_text(rng, rng.choice(BR_PATTERNS))
    mercosul = text[4] in LETTERS
    if mercosul:
        img = Image.new("RGB", (w, h), (250, 250, 250))
        d = ImageDraw.Draw(img)
        d.rectangle([0, 0, w, int(h * 0.2)], fill=(20, 50, 150))
        f = fit_font(rng.choice(ALL_FONTS), "BRASIL", int(w * 0.3), int(h * 0.15))
        d.text((int(w * 0.35), 2), "BRASIL", font=f, fill=(255, 255, 255))
        shown, fg = text, (10, 10, 10)
    else:
        img = Image.new("RGB", (w, h), (190, 190, 190))
        d = ImageDraw.Draw(img)
        f = fit_font(rng.choice(ALL_FONTS), "SP - SAO PAULO", int(w * 0.5), int(h * 0.15))
        d.text((int(w * 0.25), 2), "SP - SAO PAULO", font=f, fill=(20, 20, 20))
        shown, fg = text[:3] + "-" + text[3:], (20, 20, 20)
    draw_text_stretched(img, shown, rng.choice(MAIN_FONTS),
                        (int(w * 0.05), int(h * 0.28), int(w * 0.95), int(h * 0.92)), fg, rng,
                        rng.random() < 0.5)
    d.rectangle([1, 1, w - 2, h - 2], outline=(30, 30, 30), width=3)
    return img, "br", text


def eu_plate(rng):
    """A European plate (520 x 110 mm): the blue EU band at the left with
    the ring of stars and the country letters, the registration in a DIN-like
    face, German seals between the district and the rest, France's and
    Italy's band at the right, Dutch plates and half of British ones yellow."""
    region = rng.choice(list(EU_COUNTRIES))
    code, patterns, separator, look = EU_COUNTRIES[region]
    w, h = 470, 100
    shown = pattern_text(rng, rng.choice(patterns)) if patterns else ""
    text = "".join(c for c in shown if c in CHARS)
    bg, fg = (250, 250, 248), (15, 15, 15)
    if look == "yellow" or (look == "white-or-yellow" and rng.random() < 0.5):
        bg = (250, 205, 20)
    if look == "red-ink":
        fg = (170, 20, 30)
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    band = int(w * 0.085)
    blue = (20, 50, 150)
    with_band = region != "gb" or rng.random() < 0.5
    left = int(w * 0.03)
    if with_band:
        d.rectangle([0, 0, band, h], fill=blue)
        cx, cy, r = band / 2, h * 0.3, band * 0.3
        for k in range(12):  # the ring of stars, as dots
            t = k * math.pi / 6
            x, y = cx + r * math.cos(t), cy + r * math.sin(t)
            d.ellipse([x - 2, y - 2, x + 2, y + 2], fill=(250, 210, 0))
        f = fit_font(rng.choice(MAIN_FONTS), code, int(band * 0.8), int(h * 0.3))
        l, t, r2, b = f.getbbox(code)
        d.text((cx - (r2 - l) / 2 - l, h * 0.58 - t), code, font=f, fill=(255, 255, 255))
        left = band + int(w * 0.02)
    right = w - int(w * 0.03)
    if region in ("f", "i"):  # the right band: a region's number, a year
        d.rectangle([w - band, 0, w, h], fill=blue)
        small = str(rng.randint(1, 95)).zfill(2)
        f = fit_font(rng.choice(MAIN_FONTS), small, int(band * 0.8), int(h * 0.25))
        d.text((w - band + 4, h * 0.6), small, font=f, fill=(255, 255, 255))
        right = w - band - int(w * 0.02)
    if separator == "seals":
        # District (1-3 letters), the seals, then 1-2 letters and 1-4
        # digits: at most 8 characters in all.
        district = pattern_text(rng, "L" * rng.randint(1, 3))
        letters = pattern_text(rng, "L" * rng.randint(1, 2))
        digits = pattern_text(rng, "N" * rng.randint(1, min(4, 8 - len(district) - len(letters))))
        shown, text = district + "   " + letters + " " + digits, district + letters + digits
    # Characters have a fixed width: a short registration is centred with
    # plate showing either side, not stretched across it.
    span = min(right - left, int(len(shown) * w * rng.uniform(0.085, 0.1)))
    left += (right - left - span) // 2
    gap = draw_text_stretched(img, shown, rng.choice(MAIN_FONTS),
                              (left, int(h * 0.12), left + span, int(h * 0.88)), fg, rng, False)
    if gap and separator == "seals":
        x0, x1 = gap
        r = max(3, min((x1 - x0) / 2, h * 0.16))
        cx = (x0 + x1) / 2
        for cy, c in ((h * 0.33, tuple(rng.randint(0, 255) for _ in range(3))), (h * 0.68, (200, 200, 200))):
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=c, outline=(40, 40, 40))
    d.rectangle([1, 1, w - 2, h - 2], outline=fg if region != "dk" else (170, 20, 30), width=3)
    return img, eu_region(region), text


def eu_region(country):
    """The region a reader reports for a European plate: EU- and the
    letters in the plate's band; the United Kingdom, outside the EU, UK."""
    letters = EU_COUNTRIES[country][0].lower()
    return letters if country == "gb" else "eu-" + letters


def perspective(img, rng, amount):
    w, h = img.size
    jitter = lambda s: rng.uniform(-amount, amount) * s
    quad = (jitter(w), jitter(h), jitter(w), h + jitter(h), w + jitter(w), h + jitter(h),
            w + jitter(w), jitter(h))
    return img.transform((w, h), Image.QUAD, quad, Image.BILINEAR, fillcolor=(
        rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)))


def degrade(img, rng):
    img = perspective(img, rng, rng.uniform(0.0, 0.08))
    img = img.rotate(rng.uniform(-6, 6), resample=Image.BILINEAR, expand=False,
                     fillcolor=tuple(rng.randint(0, 255) for _ in range(3)))
    w, h = img.size
    # A crop a detector would hand over: a margin of a few percent, uneven.
    mx, my = int(w * rng.uniform(-0.03, 0.06)), int(h * rng.uniform(-0.03, 0.08))
    img = img.crop((mx, my, w - int(w * rng.uniform(-0.03, 0.06)), h - int(h * rng.uniform(-0.03, 0.08))))
    if rng.random() < 0.3:  # glare
        g = Image.new("L", img.size, 0)
        gd = ImageDraw.Draw(g)
        cx, cy = rng.randint(0, img.width), rng.randint(0, img.height)
        rad = rng.randint(20, 90)
        gd.ellipse([cx - rad, cy - rad, cx + rad, cy + rad], fill=rng.randint(80, 200))
        g = g.filter(ImageFilter.GaussianBlur(rad / 2))
        img = Image.composite(Image.new("RGB", img.size, (255, 255, 255)), img, g)
    if rng.random() < 0.25:  # night / IR: grey, hard contrast, dark
        img = img.convert("L")
        gain = rng.uniform(0.4, 1.4)
        img = img.point(lambda v: max(0, min(255, int((v - 100) * gain * 1.5 + 90))))
        img = img.convert("RGB")
    small = rng.choice([1.0, 1.0, 0.5, 0.35, 0.25])  # far away: few pixels
    if small < 1.0:
        img = img.resize((max(16, int(img.width * small)), max(8, int(img.height * small))),
                         Image.BILINEAR)
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 1.6)))
    if rng.random() < 0.4:  # motion blur, horizontal
        k = rng.choice([3, 5])
        img = img.filter(ImageFilter.BoxBlur(1)) if k == 3 else img.filter(ImageFilter.BoxBlur(2))
    if rng.random() < 0.6:  # sensor noise
        noise = Image.effect_noise(img.size, rng.uniform(5, 30)).convert("RGB")
        img = Image.blend(img, noise, rng.uniform(0.03, 0.15))
    if rng.random() < 0.7:  # JPEG artefacts
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=rng.randint(20, 90))
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


def plate(rng, br_share=0.3, eu_share=0.2, art=()):
    """An undegraded synthetic plate: Brazilian, European or US."""
    k = rng.random()
    if k < br_share:
        return br_plate(rng)
    if k < br_share + eu_share:
        return eu_plate(rng)
    return us_plate(rng, art)


def sample(rng, br_share=0.3, eu_share=0.2, art=()):
    """A degraded synthetic crop. `art`: grey pictures (scenes without
    plates) for scenic plate backgrounds and emblems."""
    img, region, text = plate(rng, br_share, eu_share, art)
    return degrade(img, rng), region, text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--br-share", type=float, default=0.3)
    ap.add_argument("--eu-share", type=float, default=0.2)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    with open(os.path.join(args.out, "labels.tsv"), "w") as labels:
        labels.write("file\tregion\tplate\n")
        for i in range(args.count):
            img, region, text = sample(rng, args.br_share, args.eu_share)
            name = f"s{args.seed}-{i:07d}.png"
            img.save(os.path.join(args.out, name))
            labels.write(f"{name}\t{region}\t{text}\n")


if __name__ == "__main__":
    main()
