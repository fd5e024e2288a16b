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
        _ => return None,
    })
}

/// Runs the console against the daemon's control socket until the user
/// quits. `attached` names the node for the title before login.
pub fn run(socket: &Path, attached: &str) -> Result<(), ConsoleError> {
    // Connect before taking the terminal, so a missing daemon is a plain error.
    let mut client = Client::connect(socket)?;
    let mut app = App::new(attached);
    let mut terminal = ratatui::init();
    let result = (|| -> Result<(), ConsoleError> {
        loop {
            terminal.draw(|f| crate::view::draw(f, &app, now()))?;
            if !event::poll(Duration::from_millis(500))? {
                continue;
            }
            let Event::Key(k) = event::read()? else {
                continue;
            };
            if k.kind != KeyEventKind::Press {
                continue;
            }
            let Some(key) = key_of(k.code, k.modifiers) else {
                continue;
            };
            let mut effects: VecDeque<Effect> = app.update(Msg::Key(key)).into();
            while let Some(effect) = effects.pop_front() {
                match effect {
                    Effect::Quit => return Ok(()),
                    Effect::Send(asked, request) => {
                        let answer = client.call(&request).map_err(|e| e.to_string());
                        effects.extend(app.update(Msg::Answer(asked, answer)));
                    }
                }
            }
        }
    })();
    ratatui::restore();
    result
}
