//! Recognition figures: reader accuracy on held-out real crops, plate finding
//! on composites and on plate-free scenes, and time per 1280x720 frame.
//!
//!     cargo bench -p alpr-node --bench recognition [-- DATA_DIR] [--stills] [--reader-only | --scenes-only]
//!
//! DATA_DIR (default ../shared/data) holds plates-real-us, plates-real-br and
//! backgrounds; the held-out part of each is chosen exactly as
//! models/train_reader.py chooses it (SHA-256 of the file name, 20%), so
//! these are figures on images no shipped model trained on. Rendered
//! frames come from the simulator. Parts whose data is missing are skipped.

use std::path::{Path, PathBuf};
use std::time::Instant;

use alpr_node::recognize::{Candidate, Detector, Gray, PlateRead, RecognizeConfig, Recognizer};
use alpr_node::track::{TrackConfig, Tracker, edit_distance};
use alpr_protocol::Timestamp;
use alpr_sim::scene::{self, Placement, Plate};
use image::{Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};

const HOLDOUT_PERCENT: u32 = 20;

fn held_out(name: &str) -> bool {
    // int(sha256(name).hexdigest(), 16) % 100, as the training script computes it.
    let digest = Sha256::digest(name.as_bytes());
    let r = digest.iter().fold(0u32, |r, &b| (r * 256 + b as u32) % 100);
    r < HOLDOUT_PERCENT
}

struct Crop {
    file: PathBuf,
    text: String,
    region: Option<String>,
}

fn crops(dir: &Path, br: bool) -> Vec<Crop> {
    let Ok(text) = std::fs::read_to_string(dir.join("labels.tsv")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.first() == Some(&"file") || f.len() < 2 {
            continue;
        }
        let (file, region, plate) = if br {
            (f[0], Some("BR".to_string()), f[1])
        } else {
            (f[0], f.get(1).map(|s| s.to_ascii_uppercase()), f[2])
        };
        if !held_out(file) {
            continue;
        }
        let text: String = plate
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        out.push(Crop {
            file: dir.join(file),
            text,
            region,
        });
    }
    out
}

fn reader_accuracy(recognizer: &Recognizer, name: &str, set: &[Crop]) {
    if set.is_empty() {
        println!("{name}: no data, skipped");
        return;
    }
    let (mut exact, mut exact_o0, mut chars, mut total, mut region_ok, mut region_n) =
        (0, 0, 0, 0, 0, 0);
    let mut misread = Vec::new();
    let mut wrong_region = Vec::new();
    for c in set {
        let img = image::open(&c.file).expect("crop decodes").into_rgb8();
        let read = recognizer.read_crop(&img).expect("read");
        let got = read.text();
        exact += (got == c.text) as usize;
        exact_o0 += same_o0(&got, &c.text) as usize;
        if got != c.text {
            misread.push(format!("{} as {got:?}", c.text));
        }
        total += c.text.len();
        chars += c.text.len().saturating_sub(edit_distance(&got, &c.text));
        if let Some(r) = &c.region {
            region_n += 1;
            let guess = read.region.as_ref().map(|(g, _)| g.as_str());
            if guess == Some(r.as_str()) {
                region_ok += 1;
            } else {
                wrong_region.push(format!("{r} as {}", guess.unwrap_or("none")));
            }
        }
    }
    println!(
        "{name}: {} held-out crops, exact plate {:.1}% (O and 0 as one: {:.1}%), characters {:.1}%, region {:.1}%",
        set.len(),
        100.0 * exact as f64 / set.len() as f64,
        100.0 * exact_o0 as f64 / set.len() as f64,
        100.0 * chars as f64 / total.max(1) as f64,
        100.0 * region_ok as f64 / region_n.max(1) as f64
    );
    println!("  misread: {}", misread.join(", "));
    if !wrong_region.is_empty() {
        wrong_region.sort();
        println!("  region wrong: {}", wrong_region.join(", "));
    }
}

/// Whether two texts are one plate when O and 0 are one character: US
/// plates mostly print them alike and the reader writes 0 for both
/// (models/synth.py, `us_record`), while the real labels write either.
fn same_o0(a: &str, b: &str) -> bool {
    a.replace('O', "0") == b.replace('O', "0")
}

/// A row's plates placed with a known box and text: found (a read's box
/// on the plate), read exactly, read with O and 0 as one, and reads
/// elsewhere.
#[derive(Default)]
struct Tally {
    n: usize,
    found: usize,
    exact: usize,
    exact_o0: usize,
    false_pos: usize,
    /// "TEXT as READ | READ" for each plate not read exactly ("nothing" when no read).
    misread: Vec<String>,
}

/// "TEXT as READ | READ" ("nothing" when no read).
fn misread_as<'a>(text: &str, reads: impl Iterator<Item = &'a str>) -> String {
    let reads: Vec<&str> = reads.collect();
    if reads.is_empty() {
        format!("{text} as nothing")
    } else {
        format!("{text} as {}", reads.join(" | "))
    }
}

impl Tally {
    fn add(&mut self, plates: &[PlateRead], truth: [f32; 4], text: &str) {
        self.n += 1;
        self.found += hits(plates, truth) as usize;
        let exact = plates.iter().any(|p| p.text == text);
        self.exact += exact as usize;
        if !exact {
            self.misread
                .push(misread_as(text, plates.iter().map(|p| p.text.as_str())));
        }
        self.exact_o0 += plates.iter().any(|p| same_o0(&p.text, text)) as usize;
        self.false_pos += plates
            .iter()
            .filter(|p| !hits(std::slice::from_ref(p), truth))
            .count();
    }

    /// "plate found .., read exactly .. (O and 0 as one: ..), false plates .. per `unit`".
    fn summary(&self, unit: &str) -> String {
        let n = self.n.max(1) as f64;
        format!(
            "plate found {:.1}%, read exactly {:.1}% (O and 0 as one: {:.1}%), false plates {:.3} per {unit}",
            100.0 * self.found as f64 / n,
            100.0 * self.exact as f64 / n,
            100.0 * self.exact_o0 as f64 / n,
            self.false_pos as f64 / n
        )
    }
}

/// Pastes `plate` into `frame` centred at `at`, rolled. The plate is first
/// reduced to its size in the frame with the triangle filter, as a sensor
/// integrates light over each pixel (point-sampling a reduced plate would
/// alias the strokes, which no camera does), then drawn with bilinear
/// sampling. No blur, noise or compression is added beyond what the real
/// crop already has, and the reduction is the one the node's own crop
/// uses, so these composites are kinder than a camera frame.
fn paste(frame: &mut RgbImage, plate: &RgbImage, at: Placement) {
    let (s, c) = at.angle_deg.to_radians().sin_cos();
    let height = at.width * plate.height() as f32 / plate.width() as f32;
    let plate = image::imageops::resize(
        plate,
        at.width.round().max(1.0) as u32,
        height.round().max(1.0) as u32,
        image::imageops::FilterType::Triangle,
    );
    let [bx, by, bw, bh] = at.bounds_with_height(height);
    let (pw, ph) = (plate.width() as f32, plate.height() as f32);
    for y in (by as i64).max(0)..((by + bh) as i64).min(frame.height() as i64) {
        for x in (bx as i64).max(0)..((bx + bw) as i64).min(frame.width() as i64) {
            let dx = x as f32 + 0.5 - at.cx;
            let dy = y as f32 + 0.5 - at.cy;
            let u = c * dx + s * dy + pw / 2.0 - 0.5;
            let v = -s * dx + c * dy + ph / 2.0 - 0.5;
            if u < 0.0 || v < 0.0 || u > pw - 1.0 || v > ph - 1.0 {
                continue;
            }
            let (x0, y0) = (u.floor() as u32, v.floor() as u32);
            let (x1, y1) = (
                (x0 + 1).min(plate.width() - 1),
                (y0 + 1).min(plate.height() - 1),
            );
            let (fx, fy) = (u - x0 as f32, v - y0 as f32);
            let px = |xx, yy, k: usize| plate.get_pixel(xx, yy).0[k] as f32;
            let mix = |k| {
                let top = px(x0, y0, k) * (1.0 - fx) + px(x1, y0, k) * fx;
                let bottom = px(x0, y1, k) * (1.0 - fx) + px(x1, y1, k) * fx;
                (top * (1.0 - fy) + bottom * fy).round() as u8
            };
            frame.put_pixel(x as u32, y as u32, Rgb([mix(0), mix(1), mix(2)]));
        }
    }
}

/// A plate-free scene as a 1280x720 frame.
fn scene_frame(path: &Path) -> RgbImage {
    let bg = image::open(path).expect("scene decodes").into_rgb8();
    image::imageops::resize(&bg, 1280, 720, image::imageops::FilterType::Triangle)
}

fn hits(found: &[PlateRead], truth: [f32; 4]) -> bool {
    let (cx, cy) = (truth[0] + truth[2] / 2.0, truth[1] + truth[3] / 2.0);
    found.iter().any(|p| {
        let [x, y, w, h] = p.bbox.map(|v| v as f32);
        x <= cx && cx <= x + w && y <= cy && cy <= y + h
    })
}

struct Timing(Vec<f64>);

impl Timing {
    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.0.push(t.elapsed().as_secs_f64() * 1000.0);
        out
    }

    fn report(&mut self, name: &str) {
        if self.0.is_empty() {
            return;
        }
        self.0.sort_by(f64::total_cmp);
        let q = |p: f64| self.0[((self.0.len() - 1) as f64 * p).round() as usize];
        println!(
            "{name}: {} frames, median {:.1} ms, p95 {:.1} ms, max {:.1} ms ({:.0} frames/s at the median)",
            self.0.len(),
            q(0.5),
            q(0.95),
            q(1.0),
            1000.0 / q(0.5)
        );
    }
}

fn main() {
    let data = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"));
    let data = if data.is_relative() && !data.exists() {
        // cargo bench runs in the package directory; the default is relative to the workspace.
        Path::new("..").join(&data)
    } else {
        data
    };
    // --stills measures the recognizer as `alpr-node recognize` runs it on
    // photos; FINE_WIDTH=N and FINE_WINDOWS=K with another fine look
    // (`DetectConfig`; a width of 0: none).
    let stills = std::env::args().any(|a| a == "--stills");
    let mut config = if stills {
        RecognizeConfig::for_stills()
    } else {
        RecognizeConfig::default()
    };
    if let Some(w) = std::env::var("FINE_WIDTH")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.detect.fine_width = w;
    }
    if let Some(v) = std::env::var("FINE_WINDOWS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.detect.fine_windows = v;
    }
    let recognizer = Recognizer::shipped()
        .expect("shipped models load")
        .with_config(config);
    let threads = std::env::var("RTEN_NUM_THREADS").unwrap_or_else(|_| "all cores".into());
    println!(
        "recognition bench; data {}; rten threads: {threads}; {}",
        data.display(),
        if stills {
            "as for still photos"
        } else {
            "as for a camera's frames"
        }
    );

    // 1. The reader alone on held-out real crops.
    let us = crops(&data.join("plates-real-us"), false);
    let br = crops(&data.join("plates-real-br"), true);
    reader_accuracy(&recognizer, "reader, real US", &us);
    reader_accuracy(&recognizer, "reader, real BR", &br);
    if std::env::args().any(|a| a == "--reader-only") {
        return;
    }
    inverted_crops(&recognizer, &us);
    real_scenes(&recognizer, &data);
    small_plates(&recognizer);
    if std::env::args().any(|a| a == "--scenes-only") {
        return;
    }

    frames(&recognizer, &data, &us);
    photos(&recognizer, &data, &us);

    // 4. Decoding a PNG frame, for the file replay path.
    let frame = scene::frame(
        1,
        &Plate::new("7ABC123", "California"),
        Placement {
            cx: 640.0,
            cy: 420.0,
            width: 180.0,
            angle_deg: 0.0,
        },
    );
    let mut png = Vec::new();
    frame
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode");
    let mut decode = Timing(Vec::new());
    for _ in 0..20 {
        decode.time(|| image::load_from_memory(&png).expect("decode"));
    }
    decode.report("PNG decode of a 1280x720 frame");
}

/// European registrations as printed (L a letter, N a digit) and the
/// country letters in their EU band.
const EU_LOOKS: [(&str, &str); 8] = [
    ("LL NNNN", "D"),
    ("L LL NNN", "D"),
    ("LL-NNN-LL", "F"),
    ("NNNN LLL", "E"),
    ("LL NNNNN", "PL"),
    ("LL NNNLL", "I"),
    ("N-LLL-NNN", "B"),
    ("LLL NNN", "S"),
];

/// Fills a pattern: L a letter (not I, O or Q, which plates avoid), N a
/// digit; anything else is printed as it is.
fn fill(rng: &mut StdRng, pattern: &str) -> String {
    pattern
        .chars()
        .map(|c| {
            let pool: &[u8] = match c {
                'L' => b"ABCDEFGHJKLMNPRSTUVWXYZ",
                'N' => b"0123456789",
                _ => return c,
            };
            pool[rng.random_range(0..pool.len())] as char
        })
        .collect()
}

/// 200 rendered frames of one vehicle each: the plate found, read exactly,
/// its region named (where `plate` gives one), and plates read elsewhere.
fn rendered(
    recognizer: &Recognizer,
    timing: &mut Timing,
    name: &str,
    seed: u64,
    plate: impl Fn(&mut StdRng) -> (Plate, Option<String>),
    rng: &mut StdRng,
) {
    let (mut found, mut exact, mut region_ok, mut false_pos, n) = (0, 0, 0, 0, 200);
    let mut with_region = false;
    for i in 0..n {
        let (plate, region) = plate(rng);
        with_region |= region.is_some();
        let at = Placement {
            cx: rng.random_range(250.0..1030.0),
            cy: rng.random_range(330.0..600.0),
            width: rng.random_range(90.0..260.0),
            angle_deg: rng.random_range(-6.0..6.0),
        };
        let frame = scene::frame(seed + i, &plate, at);
        let plates = timing.time(|| recognizer.recognize(&frame).expect("recognize"));
        let bounds = plate.bounds(at);
        found += hits(&plates, bounds) as usize;
        let read = plates.iter().find(|p| p.text == plate.registration());
        exact += read.is_some() as usize;
        // BENCH_MISSES=DIR keeps each frame not read exactly, and says what was read where.
        if let (None, Some(dir)) = (read, std::env::var_os("BENCH_MISSES")) {
            let file =
                Path::new(&dir).join(format!("{}-{i:03}.png", name.replace([' ', ','], "-")));
            frame.save(&file).expect("write a missed frame");
            let got: Vec<String> = plates
                .iter()
                .map(|p| format!("{} at {:?}", p.text, p.bbox))
                .collect();
            println!(
                "  missed {} at {bounds:?}: {} ({})",
                plate.registration(),
                got.join(", "),
                file.display()
            );
        }
        region_ok += read
            .is_some_and(|p| region.as_deref() == p.region.as_ref().map(|(r, _)| r.as_str()))
            as usize;
        false_pos += plates
            .iter()
            .filter(|p| !hits(std::slice::from_ref(p), bounds))
            .count();
    }
    let pct = |k: usize| 100.0 * k as f64 / n as f64;
    let regions = if with_region {
        format!(", read with its country {:.1}%", pct(region_ok))
    } else {
        String::new()
    };
    println!(
        "{name}: {n}, plate found {:.1}%, read exactly {:.1}%{regions}, false plates {:.3} per frame",
        pct(found),
        pct(exact),
        false_pos as f64 / n as f64
    );
}

/// Held-out scenes, sorted, as the bench's composites use them.
fn held_out_scenes(data: &Path) -> Vec<PathBuf> {
    let mut scenes: Vec<PathBuf> = std::fs::read_dir(data.join("backgrounds"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    scenes.retain(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(held_out));
    scenes.sort();
    scenes
}

/// Car photos rather than road frames: each held-out US crop filling 20 to
/// 45% of a 4:3 photo's width, on a held-out scene, the photos 640 x 480,
/// 1280 x 960 and 2592 x 1944 in turn (a crop enlarged for the largest is
/// softer than a camera would take it).
fn photos(recognizer: &Recognizer, data: &Path, us: &[Crop]) {
    let scenes = held_out_scenes(data);
    if scenes.is_empty() || us.is_empty() {
        println!("car photos: no data, skipped");
        return;
    }
    // Its own stream: the rows before keep their frames.
    let mut rng = StdRng::seed_from_u64(9);
    const SIZES: [(u32, u32); 3] = [(640, 480), (1280, 960), (2592, 1944)];
    let mut timings: Vec<Timing> = SIZES.iter().map(|_| Timing(Vec::new())).collect();
    let mut tally = Tally::default();
    for (i, crop) in us.iter().enumerate() {
        let (w, h) = SIZES[i % SIZES.len()];
        let bg = image::open(&scenes[i % scenes.len()])
            .expect("scene decodes")
            .into_rgb8();
        let mut photo = image::imageops::resize(&bg, w, h, image::imageops::FilterType::Triangle);
        let plate = image::open(&crop.file).expect("crop decodes").into_rgb8();
        let width = w as f32 * rng.random_range(0.2..0.45);
        let height = width * plate.height() as f32 / plate.width() as f32;
        let at = Placement {
            cx: rng.random_range(width * 0.6..w as f32 - width * 0.6),
            cy: rng.random_range(h as f32 * 0.3 + height..h as f32 - height),
            width,
            angle_deg: rng.random_range(-5.0..5.0),
        };
        paste(&mut photo, &plate, at);
        let truth = at.bounds_with_height(height);
        let plates =
            timings[i % SIZES.len()].time(|| recognizer.recognize(&photo).expect("recognize"));
        tally.add(&plates, truth, &crop.text);
    }
    println!(
        "real US crops in car photos: {} photos, {}",
        tally.n,
        tally.summary("photo")
    );
    println!("  misread: {}", tally.misread.join(", "));
    for ((w, h), mut timing) in SIZES.into_iter().zip(timings) {
        timing.report(&format!("time per {w}x{h} car photo"));
    }
}

/// Plate finding and end-to-end reading on frames, and time per frame.
fn frames(recognizer: &Recognizer, data: &Path, us: &[Crop]) {
    let mut timing = Timing(Vec::new());
    // 2. Rendered frames: vehicles at random distances and rolls, with US
    // plates, then European ones.
    let mut rng = StdRng::seed_from_u64(7);
    rendered(
        recognizer,
        &mut timing,
        "rendered frames",
        1000,
        |rng| {
            let text = fill(rng, "NLLLNNN");
            (Plate::new(&text, "California"), None)
        },
        &mut rng,
    );
    rendered(
        recognizer,
        &mut timing,
        "rendered European frames",
        5000,
        |rng| {
            let (pattern, country) = EU_LOOKS[rng.random_range(0..EU_LOOKS.len())];
            let plate = Plate::european(&fill(rng, pattern), country);
            (plate, Some(format!("EU-{country}")))
        },
        // Its own stream: the frames after these stay as earlier runs drew them.
        &mut StdRng::seed_from_u64(8),
    );

    // 3. Real held-out US crops placed on held-out real scenes, and the scenes alone.
    let scenes = held_out_scenes(data);
    if scenes.is_empty() || us.is_empty() {
        println!("composites on real scenes: no data, skipped");
    } else {
        let (mut tally, mut bg_false) = (Tally::default(), 0);
        // The same frames with every candidate the detector kept read and
        // none refused: separates what the detector misses from what the
        // reader's thresholds refuse.
        let loose = Recognizer::shipped()
            .expect("shipped models load")
            .with_config(RecognizeConfig {
                char_confidence_min: 0.0,
                text_len_min: 0,
                text_len_max: usize::MAX,
                ..*recognizer.config()
            });
        let (mut detected, mut loose_exact) = (0, 0);
        let mut n = 0;
        for (i, path) in scenes.iter().enumerate() {
            let bg = scene_frame(path);
            let alone = timing.time(|| recognizer.recognize(&bg).expect("recognize"));
            bg_false += alone.len();
            let crop = &us[i % us.len()];
            let plate = image::open(&crop.file).expect("crop decodes").into_rgb8();
            let at = Placement {
                cx: rng.random_range(200.0..1080.0),
                cy: rng.random_range(200.0..620.0),
                width: rng.random_range(110.0..260.0),
                angle_deg: rng.random_range(-5.0..5.0),
            };
            let mut frame = bg.clone();
            paste(&mut frame, &plate, at);
            let truth =
                at.bounds_with_height(at.width * plate.height() as f32 / plate.width() as f32);
            let plates = timing.time(|| recognizer.recognize(&frame).expect("recognize"));
            tally.add(&plates, truth, &crop.text);
            let all = loose.recognize(&frame).expect("recognize");
            detected += hits(&all, truth) as usize;
            loose_exact += all.iter().any(|p| p.text == crop.text) as usize;
            n += 1;
        }
        println!(
            "real US crops on real scenes: {n} frames, {}",
            tally.summary("frame")
        );
        println!("  misread: {}", tally.misread.join(", "));
        println!(
            "  the same with no read refused: plate detected {:.1}%, read exactly {:.1}%",
            100.0 * detected as f64 / n as f64,
            100.0 * loose_exact as f64 / n as f64
        );
        println!(
            "real scenes without plates: {n} frames, false plates {:.3} per frame",
            bg_false as f64 / n as f64
        );

        // 3b. Each held-out US crop on a vehicle approaching through a scene:
        // 5 frames at 10 frames/s, 110 to 260 px wide, tracked into reads.
        let mut approaching = Timing(Vec::new());
        let (mut vehicles, mut exact, mut exact_o0, mut one_right, mut wrong) = (0, 0, 0, 0, 0);
        let mut misread = Vec::new();
        for (i, crop) in us.iter().enumerate() {
            let bg = scene_frame(&scenes[i % scenes.len()]);
            let plate = image::open(&crop.file).expect("crop decodes").into_rgb8();
            let (cx, cy) = (
                rng.random_range(300.0..980.0),
                rng.random_range(250.0..450.0),
            );
            let angle_deg = rng.random_range(-4.0..4.0);
            let mut tracker: Tracker<()> = Tracker::new(TrackConfig::default());
            let mut done = Vec::new();
            for k in 0..5 {
                let at = Placement {
                    cx,
                    cy: cy + 30.0 * k as f32,
                    width: 110.0 + 37.5 * k as f32,
                    angle_deg,
                };
                let mut frame = bg.clone();
                paste(&mut frame, &plate, at);
                let plates = approaching.time(|| recognizer.recognize(&frame).expect("recognize"));
                let sightings = plates.into_iter().map(|p| (p, ())).collect();
                done.extend(tracker.observe(Timestamp(k * 100), sightings));
            }
            done.extend(tracker.finish());
            vehicles += 1;
            let right = done.iter().filter(|r| r.text == crop.text).count();
            exact += (right > 0) as usize;
            exact_o0 += done.iter().any(|r| same_o0(&r.text, &crop.text)) as usize;
            one_right += (right == 1 && done.len() == 1) as usize;
            wrong += done.len() - right;
            if right == 0 {
                misread.push(misread_as(&crop.text, done.iter().map(|r| r.text.as_str())));
            }
        }
        println!(
            "real US crops on approaching vehicles: {vehicles} vehicles x 5 frames, tracked read exact {:.1}% (O and 0 as one: {:.1}%; exactly one read, and right: {:.1}%), {:.2} wrong reads per vehicle",
            100.0 * exact as f64 / vehicles as f64,
            100.0 * exact_o0 as f64 / vehicles as f64,
            100.0 * one_right as f64 / vehicles as f64,
            wrong as f64 / vehicles as f64
        );
        println!("  misread: {}", misread.join(", "));
        approaching.report("time per 1280x720 frame with an approaching plate");
    }
    timing.report("time per 1280x720 frame (recognize on a decoded frame)");
}

/// A plate boxed by hand in a real scene.
struct Boxed {
    truth: [f32; 4],
}

/// The held-out boxes of `scenes-real` (the same SHA-256 rule on the
/// file name), grouped by scene, sorted.
fn real_scene_boxes(dir: &Path) -> Vec<(PathBuf, Vec<Boxed>)> {
    let Ok(text) = std::fs::read_to_string(dir.join("boxes.tsv")) else {
        return Vec::new();
    };
    let mut scenes: std::collections::BTreeMap<String, Vec<Boxed>> = Default::default();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let [file, x, y, w, h, ..] = f[..] else {
            continue;
        };
        if !held_out(file) {
            continue;
        }
        let v = |s: &str| s.parse::<f32>().expect("boxes.tsv: a number");
        scenes.entry(file.to_string()).or_default().push(Boxed {
            truth: [v(x), v(y), v(w), v(h)],
        });
    }
    scenes
        .into_iter()
        .map(|(file, boxes)| (dir.join(file), boxes))
        .collect()
}

/// A hand box at least this many times as wide as tall is a long plate
/// (European 520 x 110 mm is 4.7:1; a US plate 2:1).
const WIDE_PLATE: f32 = 3.2;

/// Plate widths as the figures group them (pixels of the scene).
const WIDTHS: [(&str, f32); 4] = [
    ("under 40 px", 40.0),
    ("40-70 px", 70.0),
    ("70-120 px", 120.0),
    ("over 120 px", f32::INFINITY),
];

fn width_group(w: f32) -> usize {
    WIDTHS.iter().position(|&(_, top)| w < top).unwrap_or(3)
}

/// Whether a detector box is the plate boxed by hand: its centre inside the
/// hand box and its width within half to twice the hand box's.
fn boxes_plate(c: &Candidate, truth: [f32; 4]) -> bool {
    let [x, y, w, h] = truth;
    (x..=x + w).contains(&c.cx)
        && (y..=y + h).contains(&c.cy)
        && (0.5 * w..=2.0 * w).contains(&c.width)
}

/// The share of the hand box's width inside the detector's box.
fn coverage(c: &Candidate, truth: [f32; 4]) -> f32 {
    let [x, _, w, _] = truth;
    let (l, r) = (c.cx - c.width / 2.0, c.cx + c.width / 2.0);
    ((r.min(x + w) - l.max(x)).max(0.0) / w.max(1.0)).clamp(0.0, 1.0)
}

/// The detector and the whole recognizer on the held-out real scenes of
/// `scenes-real` (boxes, no text): recall by plate width, how much of the
/// plate's width the box covers, false detections, plates read (a reported
/// read on the box; its text cannot be checked) and time per scene.
fn real_scenes(recognizer: &Recognizer, data: &Path) {
    let scenes = real_scene_boxes(&data.join("scenes-real"));
    if scenes.is_empty() {
        println!("real scenes with boxes: no data, skipped");
        return;
    }
    let detector = Detector::shipped().expect("shipped detector");
    let config = recognizer.config().detect;
    let (mut n, mut found, mut read) = ([0usize; 4], [0usize; 4], [0usize; 4]);
    let (mut cover, mut aspect) = (Vec::new(), Vec::new());
    let (mut false_det, mut boxes) = (0, 0);
    let mut detect_time = Timing(Vec::new());
    let mut recognize_time = Timing(Vec::new());
    for (path, plates) in &scenes {
        let frame = image::open(path).expect("scene decodes").into_rgb8();
        let gray = Gray::from_rgb(&frame);
        let candidates = detect_time.time(|| detector.detect(&gray, &config).expect("detect"));
        let reads = recognize_time.time(|| recognizer.recognize(&frame).expect("recognize"));
        for b in plates {
            boxes += 1;
            let g = width_group(b.truth[2]);
            n[g] += 1;
            let best = candidates
                .iter()
                .filter(|c| boxes_plate(c, b.truth))
                .max_by(|a, c| coverage(a, b.truth).total_cmp(&coverage(c, b.truth)));
            if let Some(c) = best {
                found[g] += 1;
                let wide = b.truth[2] >= WIDE_PLATE * b.truth[3];
                cover.push((wide, coverage(c, b.truth)));
                aspect.push((
                    wide,
                    c.width / c.height.max(1.0),
                    b.truth[2] / b.truth[3].max(1.0),
                ));
            }
            read[g] += hits(&reads, b.truth) as usize;
        }
        false_det += candidates
            .iter()
            .filter(|c| !plates.iter().any(|b| boxes_plate(c, b.truth)))
            .count();
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "real scenes (scenes-real, held out): {} scenes, {boxes} boxed plates",
        scenes.len()
    );
    let all = |v: [usize; 4]| v.iter().sum::<usize>();
    for (g, (name, _)) in WIDTHS.iter().enumerate() {
        println!(
            "  plates {name}: {} plates, detected {:.1}%, read (a reported plate on the box) {:.1}%",
            n[g],
            pct(found[g], n[g]),
            pct(read[g], n[g])
        );
    }
    println!(
        "  all: detected {:.1}%, read {:.1}%; false detections {:.2} per scene (unboxed distant plates count as false)",
        pct(all(found), boxes),
        pct(all(read), boxes),
        false_det as f64 / scenes.len() as f64
    );
    let q = |v: &mut Vec<f32>, p: f64| {
        v.sort_by(f32::total_cmp);
        v[((v.len() - 1) as f64 * p).round() as usize]
    };
    for (name, wide) in [
        ("plates boxed under 3.2:1", false),
        ("long plates (3.2:1 and longer, European)", true),
    ] {
        let mut c: Vec<f32> = cover.iter().filter(|x| x.0 == wide).map(|x| x.1).collect();
        if c.is_empty() {
            continue;
        }
        let mut found_aspect: Vec<f32> =
            aspect.iter().filter(|x| x.0 == wide).map(|x| x.1).collect();
        let mut true_aspect: Vec<f32> =
            aspect.iter().filter(|x| x.0 == wide).map(|x| x.2).collect();
        let whole = c.iter().filter(|&&v| v >= 0.95).count();
        println!(
            "  {name}, {} detected: box covers the plate's width, median {:.1}%, p10 {:.1}%; 95% or more on {:.1}%; aspect median {:.2} (boxed by hand {:.2})",
            c.len(),
            100.0 * q(&mut c, 0.5),
            100.0 * q(&mut c, 0.1),
            pct(whole, c.len()),
            q(&mut found_aspect, 0.5),
            q(&mut true_aspect, 0.5)
        );
    }
    detect_time.report("time per real scene, detector alone");
    recognize_time.report("time per real scene, recognize");
}

/// Rendered plates 50 to 60 pixels wide, far down a 1920 x 1080 road:
/// found and read, and time per 1920 x 1080 frame.
fn small_plates(recognizer: &Recognizer) {
    let mut rng = StdRng::seed_from_u64(11);
    let mut timing = Timing(Vec::new());
    let mut detect_time = Timing(Vec::new());
    let detector = Detector::shipped().expect("shipped detector");
    let (mut found, mut exact, n) = (0, 0, 100);
    for i in 0..n {
        let text = fill(&mut rng, "NLLLNNN");
        let plate = Plate::new(&text, "California");
        let at = Placement {
            cx: rng.random_range(200.0..1720.0),
            cy: rng.random_range(500.0..950.0),
            width: rng.random_range(50.0..60.0),
            angle_deg: rng.random_range(-3.0..3.0),
        };
        let frame = scene::frame_sized(2000 + i, &plate, at, (1920, 1080));
        let plates = timing.time(|| recognizer.recognize(&frame).expect("recognize"));
        let gray = Gray::from_rgb(&frame);
        detect_time
            .time(|| detector.detect(&gray, &recognizer.config().detect))
            .expect("detect");
        found += hits(&plates, plate.bounds(at)) as usize;
        exact += plates.iter().any(|p| p.text == text) as usize;
    }
    println!(
        "rendered plates 50-60 px wide in 1920x1080 frames: {n}, found {:.1}%, read exactly {:.1}%",
        100.0 * found as f64 / n as f64,
        100.0 * exact as f64 / n as f64
    );
    timing.report("time per 1920x1080 frame");
    detect_time.report("time per 1920x1080 frame, detector alone");
}

/// The held-out real US crops inverted, light characters on a dark plate,
/// read with and without the node's inverted second read.
fn inverted_crops(recognizer: &Recognizer, set: &[Crop]) {
    if set.is_empty() {
        return;
    }
    let plain = Recognizer::shipped()
        .expect("shipped models load")
        .with_config(RecognizeConfig {
            invert_dark: false,
            ..*recognizer.config()
        });
    let (mut with, mut without) = (0, 0);
    for c in set {
        let mut img = image::open(&c.file).expect("crop decodes").into_rgb8();
        image::imageops::invert(&mut img);
        let read = |r: &Recognizer| same_o0(&r.read_crop(&img).expect("read").text(), &c.text);
        with += read(recognizer) as usize;
        without += read(&plain) as usize;
    }
    println!(
        "reader, real US crops inverted (light on dark): exact plate, O and 0 as one, {:.1}% (without the inverted read: {:.1}%)",
        100.0 * with as f64 / set.len() as f64,
        100.0 * without as f64 / set.len() as f64
    );
}
