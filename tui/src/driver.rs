//! The terminal and the socket: reads keys, runs each update's effects
//! (one request at a time, answered before the next key), and redraws.

use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;

use alpr_protocol::Timestamp;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use crate::app::{App, Effect, Key, Msg};
use crate::client::{Client, ClientError};

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

fn now() -> Timestamp {
    Timestamp(jiff::Timestamp::now().as_millisecond())
}

fn key_of(code: KeyCode, modifiers: KeyModifiers) -> Option<Key> {
    if modifiers.contains(KeyModifiers::CONTROL) && code == KeyCode::Char('c') {
        return Some(Key::Interrupt);
    }
    Some(match code {
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Esc => Key::Esc,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        _ => return None,
    })
}

/// Live-view frames waiting for the console, at most.
const LIVE_QUEUED_MAX: usize = 64;

/// Opens the live view on a connection of its own and forwards its frames
/// from a thread; dropping the returned stream's twin (shutdown) ends it.
fn subscribe(
    socket: &Path,
    token: alpr_protocol::control::Token,
    purpose: alpr_protocol::control::PurposeWire,
    to_app: std::sync::mpsc::SyncSender<Msg>,
) -> Result<std::os::unix::net::UnixStream, String> {
    use alpr_protocol::control::{ControlRequest, ControlResponse};
    let mut client = Client::connect(socket).map_err(|e| e.to_string())?;
    client.live_timeout().map_err(|e| e.to_string())?;
    match client
        .call(&ControlRequest::Subscribe { token, purpose })
        .map_err(|e| e.to_string())?
    {
        ControlResponse::Subscribed => {}
        ControlResponse::Error { message, .. } => return Err(message),
        _ => return Err("unexpected answer to the live view".into()),
    }
    let closer = client.stream_clone().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        let why = loop {
            match client.next_frame() {
                Ok(ControlResponse::Events { events, missed }) => {
                    if to_app.send(Msg::Live(events, missed)).is_err() {
                        return;
                    }
                }
                Ok(ControlResponse::Error { message, .. }) => break message,
                Ok(_) => break "unexpected frame".to_string(),
                Err(e) => break e.to_string(),
            }
        };
        let _ = to_app.send(Msg::LiveEnded(why));
    });
    Ok(closer)
}

/// Runs a long request on a connection of its own (the session's token
/// serves any connection), passing its progress and then its answer to the
/// model; returns the connection, which `Effect::Cancel` shuts.
fn send_long(
    socket: &Path,
    asked: crate::app::Asked,
    request: alpr_protocol::control::ControlRequest,
    to_app: std::sync::mpsc::SyncSender<Msg>,
) -> Result<std::os::unix::net::UnixStream, String> {
    let mut client = Client::connect(socket).map_err(|e| e.to_string())?;
    let closer = client.stream_clone().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        let progress = to_app.clone();
        let answer = client
            .call_watching(&request, |what, done, total| {
                // Progress may be dropped when the model is behind; the answer is not.
                let _ = progress.try_send(Msg::Progress(asked, what, done, total));
            })
            .map_err(|e| e.to_string());
        let _ = to_app.send(Msg::Answer(asked, answer));
    });
    Ok(closer)
}

/// Runs the console against the daemon's control socket until the user
/// quits. `attached` names the node for the title before login.
pub fn run(
    socket: &Path,
    attached: &str,
    graphics: crate::pictures::Graphics,
) -> Result<(), ConsoleError> {
    // Connect before taking the terminal, so a missing daemon is a plain error.
    let mut client = Client::connect(socket)?;
    let mut app = App::new(attached);
    let (to_app, from_live) = std::sync::mpsc::sync_channel::<Msg>(LIVE_QUEUED_MAX);
    let mut live: Option<std::os::unix::net::UnixStream> = None;
    // The connection of a long request (a verify), to close to cancel it.
    let mut long: Option<std::os::unix::net::UnixStream> = None;
    let mut terminal = ratatui::init();
    // Asked once the terminal is raw: it answers what graphics it has.
    let mut pictures = crate::pictures::Pictures::for_terminal(graphics);
    let result = (|| -> Result<(), ConsoleError> {
        loop {
            terminal.draw(|f| crate::view::draw(f, &app, now(), &mut pictures))?;
            let mut msgs: Vec<Msg> = Vec::new();
            while let Ok(m) = from_live.try_recv() {
                msgs.push(m);
            }
            if event::poll(Duration::from_millis(200))?
                && let Event::Key(k) = event::read()?
                && k.kind == KeyEventKind::Press
                && let Some(key) = key_of(k.code, k.modifiers)
            {
                msgs.push(Msg::Key(key));
            }
            // The clock, after the keys: the idle lock counts from the last one.
            msgs.push(Msg::Tick(now()));
            for msg in msgs {
                let mut effects: VecDeque<Effect> = app.update(msg).into();
                while let Some(effect) = effects.pop_front() {
                    match effect {
                        Effect::Quit => return Ok(()),
                        Effect::Send(asked, request) => {
                            // Drawn first, so a form shows that it waits
                            // ("exporting…") while the node works.
                            terminal.draw(|f| crate::view::draw(f, &app, now(), &mut pictures))?;
                            let answer = client.call(&request).map_err(|e| e.to_string());
                            effects.extend(app.update(Msg::Answer(asked, answer)));
                        }
                        Effect::Subscribe(token, purpose) => {
                            let opened = subscribe(socket, token, purpose, to_app.clone());
                            let msg = match opened {
                                Ok(stream) => {
                                    live = Some(stream);
                                    Msg::LiveOpened(Ok(()))
                                }
                                Err(e) => Msg::LiveOpened(Err(e)),
                            };
                            effects.extend(app.update(msg));
                        }
                        Effect::SendLong(asked, request) => {
                            // One long request at a time: one still running is cancelled.
                            if let Some(s) = long.take() {
                                let _ = s.shutdown(std::net::Shutdown::Both);
                            }
                            match send_long(socket, asked, request, to_app.clone()) {
                                Ok(closer) => long = Some(closer),
                                Err(e) => effects.extend(app.update(Msg::Answer(asked, Err(e)))),
                            }
                        }
                        Effect::Cancel => {
                            if let Some(s) = long.take() {
                                let _ = s.shutdown(std::net::Shutdown::Both);
                            }
                        }
                        Effect::Unsubscribe => {
                            if let Some(s) = live.take() {
                                let _ = s.shutdown(std::net::Shutdown::Both);
                            }
                        }
                        Effect::DrawSeed => {
                            // An audit sample's seed: the one place the console draws
                            // randomness (rand's OS-seeded generator).
                            effects.extend(app.update(Msg::Seed(Ok(rand::random()))));
                        }
                        Effect::Bell => {
                            use std::io::Write;
                            let mut out = std::io::stdout();
                            let _ = out.write_all(b"\x07");
                            let _ = out.flush();
                        }
                    }
                }
            }
        }
    })();
    for s in [live.take(), long.take()].into_iter().flatten() {
        let _ = s.shutdown(std::net::Shutdown::Both);
    }
    ratatui::restore();
    result
}
