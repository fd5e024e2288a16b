//! The whole daemon's speed: `alpr-node run` (the release binary) on a
//! stream of 1280x720 JPEG frames, with a hotlist to match against and
//! every read stored, signed and sealed. Prints frames per second of
//! recognition end to end, and the CPU the daemon used (so what is left
//! for replication on this machine).
//!
//! `cargo build --release -p alpr-node && cargo bench -p alpr-tests --bench daemon`
//! (`ALPR_BENCH_RATE=15` paces the stream like a 15 frames/s camera, to
//! see the CPU left at a camera's rate; unpaced, the stream goes as fast
//! as recognition takes it.)

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use alpr_sim::scene::{self, Plate};
use alpr_tests::{Daemon, Fixture, ok};

const VEHICLES: usize = 30;
const FRAMES_PER_VEHICLE: usize = 10;

fn scrape(addr: &str) -> String {
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return String::new();
    };
    let _ = write!(s, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// utime + stime of a process, in seconds (Linux /proc).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of stat; after the ")" they are the 12th and 13th.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let f = Fixture::new("car-1");
    // A list of 10,000 plates, one of them on the road.
    let mut list = String::from("plate,region,category,reference\n");
    for i in 0..10_000 {
        list.push_str(&format!(
            "{}{:06},CA,stolen-vehicle,R{i}\n",
            (b'A' + (i % 26) as u8) as char,
            i
        ));
    }
    list.push_str("7ABC123,CA,stolen-vehicle,HIT\n");
    std::fs::write(f.path("list.csv"), list).unwrap();
    f.enroll_as("station-1", "station");
    ok(&[
        "hotlist",
        "publish",
        "--data",
        &f.path("station-1"),
        "--list",
        "bench",
        &f.path("list.csv"),
    ]);
    let station = Daemon::start(&f.path("station-1"), &["--listen", "127.0.0.1:0"]);
    ok(&["sync", "--data", &f.path("car-1"), "--peer", station.addr()]);

    let texts = [
        "7ABC123", "8XYZ001", "5KLM333", "6TRS818", "2MNP004", "4GHJ552",
    ];
    let states = [
        "California",
        "Nevada",
        "Oregon",
        "Arizona",
        "Texas",
        "Oregon",
    ];
    let mut stream = Vec::new();
    for v in 0..VEHICLES {
        let plate = Plate::new(texts[v % texts.len()], states[v % states.len()]);
        for (img, _) in scene::pass(500 + v as u64, &plate, FRAMES_PER_VEHICLE) {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut stream, 90)
                .encode_image(&img)
                .unwrap();
        }
    }
    let frames = VEHICLES * FRAMES_PER_VEHICLE;
    std::fs::write(f.path("stream.mjpeg"), &stream).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics = format!("127.0.0.1:{port}");
    let rate = std::env::var("ALPR_BENCH_RATE")
        .ok()
        .and_then(|r| r.parse::<f64>().ok())
        .map_or(String::new(), |r| format!("rate = {r}\n"));
    let config = f.path("car.toml");
    std::fs::write(
        &config,
        format!(
            "[node]\ndata = \"car-1\"\n[[camera]]\nname = \"front\"\nsource = \"mjpeg\"\npath = \"stream.mjpeg\"\n{rate}[sync]\npeers = [\"{}\"]\nevery_seconds = 5\n[metrics]\nlisten = \"{metrics}\"\n[log]\nlevel = \"warn\"\n",
            station.addr()
        ),
    )
    .unwrap();
    let daemon = Daemon::run(&config);
    let pid = daemon.child.id();
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let mut done = 0.0;
    while t0.elapsed() < Duration::from_secs(600) {
        let text = scrape(&metrics);
        done = metric(&text, "alpr_recognition_seconds_count");
        if done as usize >= frames {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    // Let the last reads commit, then read what was stored.
    std::thread::sleep(Duration::from_secs(2));
    let text = scrape(&metrics);
    let reads = metric(&text, "alpr_reads_stored_total");
    let alerts = metric(&text, "alpr_alerts_raised_total");
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    println!("daemon: {done} of {frames} 1280x720 frames from an MJPEG stream in {wall:.2} s");
    println!(
        "  {:.1} frames/s end to end (decode, recognize, track, match, seal, store)",
        done / wall
    );
    let dropped = metric(&text, "alpr_frames_dropped_total");
    println!(
        "  reads stored {reads}, alerts raised {alerts} (list of 10,001 plates), frames dropped {dropped}"
    );
    println!(
        "  CPU {:.2} s of {:.2} s wall on {cores} cores: {:.0}% of the machine used, {:.0}% left for sync",
        cpu,
        wall,
        100.0 * cpu / (wall * cores),
        100.0 - 100.0 * cpu / (wall * cores)
    );
    let _ = daemon.terminate();
}
