//! Reads: recognize images, replay a folder, import, search, view, verify.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use alpr_protocol::control::{ControlRequest, ControlResponse, Hit as WireHit, QueryWire};
use alpr_protocol::{ImageKind, PlatePattern, PlateText, Timestamp};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use super::args::{PurposeArgs, SessionArgs, pattern, plate};
use super::output::{Table, count, listing, print_json};
use super::session::{Session, unexpected};
use super::time::{When, format_time, now};
use super::{Outcome, Usage};
use crate::recognize::{PlateRead, RecognizeConfig, Recognizer};
use crate::recorder::READ_BATCH_MAX;
use crate::store::RecordId;

/// `recognize`: read the plates in images; nothing is stored.
#[derive(Debug, Args)]
pub struct RecognizeArgs {
    /// One JSON line per image: file, ms, plates (text, confidence, region, box, candidates).
    #[arg(long)]
    json: bool,
    /// Image files (PNG or JPEG), or folders of them (taken in natural name order).
    #[arg(required = true, value_name = "IMAGE_OR_FOLDER")]
    images: Vec<PathBuf>,
}

#[derive(Debug, Serialize)]
struct PlateJson<'a> {
    text: &'a str,
    confidence: f32,
    char_confidences: Vec<f32>,
    region: Option<&'a str>,
    region_confidence: Option<f32>,
    #[serde(rename = "box")]
    bbox: [u32; 4],
    candidates: Vec<CandidateJson<'a>>,
}

#[derive(Debug, Serialize)]
struct CandidateJson<'a> {
    text: &'a str,
    confidence: f32,
}

#[derive(Debug, Serialize)]
struct ImageJson<'a> {
    file: String,
    /// Recognition time on the decoded frame.
    ms: f64,
    /// Time to read and decode the file.
    decode_ms: f64,
    plates: Vec<PlateJson<'a>>,
}

fn plate_json(p: &PlateRead) -> PlateJson<'_> {
    PlateJson {
        text: &p.text,
        confidence: round3(p.confidence),
        char_confidences: p.char_confidences.iter().map(|c| round3(*c)).collect(),
        region: p.region.as_ref().map(|(r, _)| r.as_str()),
        region_confidence: p.region.as_ref().map(|(_, c)| round3(*c)),
        bbox: p.bbox,
        candidates: p
            .candidates
            .iter()
            .map(|c| CandidateJson {
                text: &c.text,
                confidence: round3(c.confidence),
            })
            .collect(),
    }
}

fn round3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

/// The files to recognize: each file as given, each folder's frames in natural order.
fn image_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            files.extend(crate::replay::frame_files(input)?);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// One line per image, JSON or for people. A file that cannot be read is
/// reported on standard error and skipped; the exit status then says so (65).
pub fn recognize(args: RecognizeArgs) -> Result<Outcome> {
    let files = image_files(&args.images)?;
    // Each image is a still: searched harder than a camera's frames.
    let recognizer = Recognizer::shipped()?.with_config(RecognizeConfig::for_stills());
    let mut out = std::io::stdout().lock();
    let (mut unreadable, mut plates_found) = (0usize, 0usize);
    for path in &files {
        let t0 = Instant::now();
        let frame = match crate::replay::load_frame(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: {e}");
                unreadable += 1;
                continue;
            }
        };
        let t1 = Instant::now();
        let plates = recognizer.recognize(&frame)?;
        plates_found += plates.len();
        let ms = t1.elapsed().as_secs_f64() * 1000.0;
        let decode_ms = (t1 - t0).as_secs_f64() * 1000.0;
        if args.json {
            let line = ImageJson {
                file: path.display().to_string(),
                ms: (ms * 100.0).round() / 100.0,
                decode_ms: (decode_ms * 100.0).round() / 100.0,
                plates: plates.iter().map(plate_json).collect(),
            };
            writeln!(out, "{}", serde_json::to_string(&line)?)?;
        } else if plates.is_empty() {
            writeln!(out, "{}: no plate ({ms:.1} ms)", path.display())?;
        } else {
            for p in &plates {
                let region = p
                    .region
                    .as_ref()
                    .map(|(r, c)| format!(" {r} {:.0}%", c * 100.0))
                    .unwrap_or_default();
                let others: Vec<&str> = p
                    .candidates
                    .iter()
                    .skip(1)
                    .map(|c| c.text.as_str())
                    .collect();
                let [x, y, w, h] = p.bbox;
                writeln!(
                    out,
                    "{}: {} {:.0}%{region} at x {x} y {y}, {w}x{h} ({ms:.1} ms){}",
                    path.display(),
                    p.text,
                    p.confidence * 100.0,
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!(" or {}", others.join(", "))
                    }
                )?;
            }
        }
    }
    if unreadable > 0 {
        bail!(super::BadInput(format!(
            "{} of {} images could not be read",
            unreadable,
            files.len()
        )));
    }
    Ok(if plates_found == 0 {
        Outcome::NothingFound
    } else {
        Outcome::Done
    })
}

/// `replay`: a folder of frames through recognition and tracking, one read per vehicle.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// The rate the frames were captured at (0.001 to 1000); frame times follow from it.
    #[arg(long, default_value_t = 10.0)]
    fps: f64,
    /// Capture time of the first frame; by default the last frame is now.
    #[arg(long, value_parser = When::parse)]
    start: Option<When>,
    /// The camera name stored with each read.
    #[arg(long, default_value = "replay")]
    camera: String,
    /// Where a fixed camera stands (degrees, WGS 84), stored with every read; needs --lon.
    #[arg(long, requires = "lon", allow_hyphen_values = true)]
    lat: Option<f64>,
    /// Longitude of the fixed camera; needs --lat.
    #[arg(long, requires = "lat", allow_hyphen_values = true)]
    lon: Option<f64>,
    /// How far off that position may be, in meters.
    #[arg(long, default_value_t = 10.0)]
    accuracy_m: f32,
    /// The folder of frames (PNG or JPEG), taken in natural name order (img9 before img10).
    folder: PathBuf,
}

pub fn replay(args: ReplayArgs) -> Result<Outcome> {
    let location = match (args.lat, args.lon) {
        (Some(lat), Some(lon)) => {
            let l = alpr_protocol::record::Location {
                lat,
                lon,
                accuracy_m: args.accuracy_m,
            };
            let ok = (-90.0..=90.0).contains(&lat)
                && (-180.0..=180.0).contains(&lon)
                && args.accuracy_m.is_finite()
                && args.accuracy_m >= 0.0;
            if !ok {
                bail!(Usage(format!(
                    "--lat {lat} --lon {lon} --accuracy-m {} is not a place on Earth",
                    args.accuracy_m
                )));
            }
            Some(l)
        }
        _ => None,
    };
    let files = crate::replay::frame_files(&args.folder)?;
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let response = s.send(ControlRequest::Status { token })?;
    let ControlResponse::Status { valid_from, .. } = response else {
        return Err(unexpected(&response));
    };
    let start = match &args.start {
        Some(t) => t.start(),
        // As if the folder was captured just now: its last frame is now,
        // unless that starts before this node was enrolled.
        None => Timestamp(
            now()
                .0
                .saturating_sub(((files.len() - 1) as f64 * 1000.0 / args.fps.max(0.001)) as i64)
                .max(valid_from.0),
        ),
    };
    let options = crate::replay::ReplayOptions {
        start,
        fps: args.fps,
        camera: args.camera.clone(),
        location,
    };
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut batches = ImportBatches::new(&mut s, args.folder.display().to_string(), 64);
    // Recognition time, measured here from the pipeline's events.
    let (mut started, mut recognize) = (Instant::now(), std::time::Duration::ZERO);
    let on_frame = |event| match event {
        crate::replay::FrameEvent::Decoded { .. } => started = Instant::now(),
        crate::replay::FrameEvent::Recognized { .. } => {
            recognize += started.elapsed();
            bar.inc(1);
        }
    };
    let stats = crate::replay::replay(&files, &options, on_frame, |at, capture| {
        let region = capture
            .region
            .as_ref()
            .map(|r| format!(" {}", r.code))
            .unwrap_or_default();
        bar.suspend(|| {
            println!(
                "read {} {:.0}%{region} at {}",
                capture.plate,
                capture.confidence * 100.0,
                format_time(at)
            )
        });
        batches.push(at, capture)
    })?;
    batches.finish()?;
    bar.finish_and_clear();
    println!(
        "{} frames, {} plate sightings, {} stored; recognition {:.1} ms a frame",
        stats.frames,
        stats.sightings,
        count(stats.reads as u64, "read", "reads"),
        recognize.as_secs_f64() * 1000.0 / stats.frames.max(1) as f64
    );
    s.logout()?;
    Ok(Outcome::Done)
}

/// `import`: reads recognized elsewhere, from a JSON-lines file.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    session: SessionArgs,
    /// Reads per durable transaction (1 to 4096).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// JSON lines: plate, time (RFC 3339), and optionally camera, confidence, region, lat, lon, crop (a JPEG path).
    file: PathBuf,
}

pub fn import(args: ImportArgs) -> Result<Outcome> {
    if args.batch == 0 || args.batch > READ_BATCH_MAX {
        bail!(Usage(format!("--batch must be 1 to {READ_BATCH_MAX}")));
    }
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let response = s.send(ControlRequest::Status { token })?;
    let ControlResponse::Status {
        valid_from,
        valid_until,
        ..
    } = response
    else {
        return Err(unexpected(&response));
    };
    let reads = crate::import::parse_file(&args.file, |at| {
        if valid_from <= at && at <= valid_until {
            Ok(())
        } else {
            Err(format!(
                "captured at {at}, outside this node's certificate ({valid_from} to {valid_until})"
            ))
        }
    })?;
    let mut batches = ImportBatches::new(&mut s, args.file.display().to_string(), args.batch);
    for (at, capture) in reads {
        batches.push(at, capture)?;
    }
    batches.finish()?;
    s.logout()?;
    Ok(Outcome::Done)
}

/// Image bytes per import request: half a control frame, so a batch always fits.
const IMPORT_BATCH_BYTES_MAX: usize = alpr_protocol::control::FRAME_BYTES_MAX / 2;

/// Reads on their way to the engine, sent in batches bounded by count and
/// bytes (each fits one control frame); every commit is printed.
struct ImportBatches<'a> {
    session: &'a mut Session,
    source: String,
    batch: usize,
    chunk: Vec<(Timestamp, alpr_protocol::Capture)>,
    bytes: usize,
    /// Reads the node already held, over every batch so far.
    skipped: u64,
}

impl<'a> ImportBatches<'a> {
    fn new(session: &'a mut Session, source: String, batch: usize) -> Self {
        ImportBatches {
            session,
            source,
            batch,
            chunk: Vec::new(),
            bytes: 0,
            skipped: 0,
        }
    }

    fn push(&mut self, at: Timestamp, capture: alpr_protocol::Capture) -> Result<()> {
        let size =
            capture.crop_jpeg.len() + capture.overview_jpeg.as_ref().map_or(0, Vec::len) + 256;
        if !self.chunk.is_empty()
            && (self.chunk.len() >= self.batch || self.bytes + size > IMPORT_BATCH_BYTES_MAX)
        {
            self.flush()?;
        }
        self.bytes += size;
        self.chunk.push((at, capture));
        Ok(())
    }

    /// Says how many reads were skipped as already stored, once at the end.
    fn finish(mut self) -> Result<()> {
        self.flush()?;
        if self.skipped > 0 {
            println!(
                "{} already stored here or repeated in the input, skipped (the same plate, time, camera and crop)",
                count(self.skipped, "read", "reads")
            );
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let token = self.session.token;
        let response = self.session.send(ControlRequest::Import {
            token,
            source: self.source.clone(),
            reads: std::mem::take(&mut self.chunk),
        })?;
        self.bytes = 0;
        let ControlResponse::Imported {
            first_seq,
            last_seq,
            already_stored,
        } = response
        else {
            return Err(unexpected(&response));
        };
        // Printed only after the commit returned: each line is an acknowledgement.
        let mut stdout = std::io::stdout().lock();
        if first_seq > 0 {
            writeln!(stdout, "committed reads {first_seq}..={last_seq}")?;
        }
        self.skipped += already_stored;
        stdout.flush()?;
        Ok(())
    }
}

/// `search`: stored reads by plate or wildcard pattern, for a stated purpose.
#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    session: SessionArgs,
    #[command(flatten)]
    purpose: PurposeArgs,
    /// A plate (spaces and dashes ignored); the letter O and the digit 0 match each other.
    #[arg(long, value_parser = plate, conflicts_with = "pattern", required_unless_present = "pattern")]
    plate: Option<PlateText>,
    /// With --plate: the exact characters only (O and 0 differ).
    #[arg(long, requires = "plate")]
    exact: bool,
    /// Wildcard: '?' one character, '*' any run, e.g. '7AB*' or 'AB?1*'.
    #[arg(long, value_parser = pattern)]
    pattern: Option<PlatePattern>,
    /// Earliest capture time: 2026-11-28T10:00:00Z, a local 2026-11-28 10:00, or a date (its start).
    #[arg(long, value_parser = When::parse)]
    from: Option<When>,
    /// Latest capture time: 2026-11-28T10:00:00Z, a local 2026-11-28 10:00, or a date (its end).
    #[arg(long, value_parser = When::parse)]
    to: Option<When>,
    /// Reads of this camera only (its name, as reads show it).
    #[arg(long)]
    camera: Option<String>,
    /// Reads of this node only: its name, full id or a unique id prefix.
    #[arg(long)]
    node: Option<String>,
    /// Reads to show, newest first.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// One JSON document (schema alpr-node.search) instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn search(args: SearchArgs) -> Result<Outcome> {
    let query = match (&args.plate, &args.pattern) {
        (Some(p), _) if args.exact => QueryWire::Plate(p.to_string()),
        (Some(p), _) => QueryWire::LookAlike(p.to_string()),
        (None, Some(p)) => QueryWire::Pattern(p.as_str().to_string()),
        (None, None) => bail!(Usage("give --plate or --pattern".into())),
    };
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    let response = s.send(ControlRequest::Search {
        token,
        purpose: args.purpose.wire(),
        query,
        from: args.from.as_ref().map(When::start),
        to: args.to.as_ref().map(When::end),
        limit: args.limit,
        camera: args.camera.clone(),
        node: args.node.clone(),
    })?;
    let ControlResponse::Found { hits, total } = response else {
        return Err(unexpected(&response));
    };
    if args.json {
        let items = hits.iter().map(hit_json).collect();
        print_json(&listing(
            "search",
            total,
            items,
            serde_json::json!({ "shown": hits.len() }),
        ))?;
    } else {
        print_hits(&hits)?;
        let noun = if total == 1 { "read" } else { "reads" };
        println!("{total} matching {noun}, {} shown", hits.len());
    }
    s.logout()?;
    Ok(if total == 0 {
        Outcome::NothingFound
    } else {
        Outcome::Done
    })
}

/// A read as search results and live views print it in JSON.
pub(super) fn read_json(r: &alpr_protocol::control::ReadSummary) -> serde_json::Value {
    serde_json::json!({
        "id": format!("{}/{}", r.origin.short(), r.seq),
        "origin": r.origin.to_hex(),
        "seq": r.seq,
        "time": format_time(r.captured_at),
        "plate": r.plate,
        // Three decimals, as the reader's confidences mean: not f32 noise.
        "confidence": (f64::from(r.confidence) * 1000.0).round() / 1000.0,
        "region": r.region,
        "camera": r.camera,
        "lat": r.location.map(|l| l.0),
        "lon": r.location.map(|l| l.1),
        "fix": fix_json(&r.fix),
        "crop_bytes": r.crop_bytes,
    })
}

/// A read's fix as JSON: its kind, and for a GPS fix what the receiver said.
pub(super) fn fix_json(fix: &alpr_protocol::Fix) -> serde_json::Value {
    match fix {
        alpr_protocol::Fix::Gps(g) => serde_json::json!({
            "kind": "gps",
            "quality": g.quality.name(),
            "satellites": g.satellites,
            "speed_mps": g.speed_mps.map(|v| (f64::from(v) * 100.0).round() / 100.0),
            "heading_deg": g.heading_deg.map(|v| (f64::from(v) * 10.0).round() / 10.0),
            "age_ms": g.age_ms,
        }),
        other => serde_json::json!({ "kind": other.name() }),
    }
}

fn hit_json(hit: &WireHit) -> serde_json::Value {
    match hit {
        WireHit::Read(r) => read_json(r),
        WireHit::Damaged {
            origin,
            seq,
            reason,
        } => serde_json::json!({
            "damaged": RecordId { origin: *origin, seq: *seq }.to_string(),
            "reason": reason,
        }),
    }
}

fn print_hits(hits: &[WireHit]) -> Result<()> {
    let mut table = Table::new(&[
        "CAPTURED", "PLATE", "CONF", "REGION", "CAMERA", "READ", "PLACE",
    ])
    .right(&["CONF"]);
    let mut damaged = Vec::new();
    for hit in hits {
        match hit {
            WireHit::Read(r) => table.row(vec![
                format_time(r.captured_at),
                r.plate.clone(),
                format!("{:.0}%", r.confidence * 100.0),
                r.region.clone().unwrap_or_else(|| "-".into()),
                r.camera.clone(),
                format!("{}/{}", r.origin.short(), r.seq),
                r.location
                    .map_or("-".into(), |(lat, lon)| format!("{lat:.5},{lon:.5}")),
            ]),
            WireHit::Damaged {
                origin,
                seq,
                reason,
            } => damaged.push(format!(
                "DAMAGED {}: {reason}",
                RecordId {
                    origin: *origin,
                    seq: *seq
                }
            )),
        }
    }
    let mut out = std::io::stdout().lock();
    if !table.is_empty() {
        table.print(&mut out)?;
    }
    for line in damaged {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `view`: one read, for a stated purpose; its plate crop and overview frame to files.
#[derive(Debug, Args)]
pub struct ViewArgs {
    #[command(flatten)]
    session: SessionArgs,
    #[command(flatten)]
    purpose: PurposeArgs,
    /// The read: ORIGIN/SEQ, ORIGIN being the node id or a unique prefix of it (as search prints).
    #[arg(long)]
    read: String,
    /// Write the plate crop (JPEG) here.
    #[arg(long, value_name = "FILE")]
    crop_out: Option<PathBuf>,
    /// Write the overview frame (JPEG) here: a second access, audited as a view of the image.
    #[arg(long, value_name = "FILE")]
    overview_out: Option<PathBuf>,
    /// One JSON document (schema alpr-node.view) instead of a table.
    #[arg(long)]
    json: bool,
}

fn write_image(path: &Path, jpeg: &[u8], what: &str) -> Result<Option<String>> {
    if jpeg.is_empty() {
        println!("no {what} to write: past its retention, withheld, or never taken");
        return Ok(None);
    }
    std::fs::write(path, jpeg).with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(path.display().to_string()))
}

pub fn view(args: ViewArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let id = s.record_id(&args.read)?;
    let token = s.token;
    let response = s.send(ControlRequest::ViewRead {
        token,
        purpose: args.purpose.wire(),
        origin: id.origin,
        seq: id.seq,
    })?;
    let ControlResponse::Read { read, crop_jpeg } = response else {
        return Err(unexpected(&response));
    };
    let hit = WireHit::Read(read);
    if !args.json {
        print_hits(std::slice::from_ref(&hit))?;
    }
    let crop_file = match &args.crop_out {
        Some(path) => write_image(path, &crop_jpeg, "plate crop")?,
        None => None,
    };
    let overview_file = match &args.overview_out {
        Some(path) => {
            let response = s.send(ControlRequest::ViewImage {
                token,
                purpose: args.purpose.wire(),
                origin: id.origin,
                seq: id.seq,
                kind: ImageKind::Overview,
            })?;
            let ControlResponse::Image { jpeg } = response else {
                return Err(unexpected(&response));
            };
            write_image(path, &jpeg, "overview frame")?
        }
        None => None,
    };
    if args.json {
        let mut doc = hit_json(&hit);
        if let Some(fields) = doc.as_object_mut() {
            fields.insert("crop_file".into(), crop_file.into());
            fields.insert("overview_file".into(), overview_file.into());
        }
        print_json(&super::output::document("view", doc))?;
    } else {
        for (what, file) in [("plate crop", crop_file), ("overview frame", overview_file)] {
            if let Some(file) = file {
                println!("{what} written to {file}");
            }
        }
    }
    s.logout()?;
    Ok(Outcome::Done)
}

/// `verify`: every stored record's signature and seal, every audit chain, the indexes.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    session: SessionArgs,
}

pub fn verify(args: VerifyArgs) -> Result<Outcome> {
    let mut s = Session::open(&args.session)?;
    let token = s.token;
    // On a terminal, a bar says how far the check is (hidden otherwise).
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let response = s.send_watching(ControlRequest::Verify { token }, |what, done, total| {
        bar.set_message(format!("checking {what}"));
        bar.set_length(total.unwrap_or(done));
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let ControlResponse::Verified {
        reads,
        images,
        audit_events,
        failures,
        cancelled: _,
    } = response
    else {
        return Err(unexpected(&response));
    };
    for f in &failures {
        println!("FAIL {f}");
    }
    println!(
        "checked {}, {} and {}: {}",
        count(reads, "read", "reads"),
        count(images, "image", "images"),
        count(audit_events, "audit event", "audit events"),
        count(failures.len() as u64, "failure", "failures"),
    );
    s.logout()?;
    Ok(if failures.is_empty() {
        Outcome::Done
    } else {
        Outcome::Damaged
    })
}
