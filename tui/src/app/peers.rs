//! The peers and sync screen: each peer the node met, whether a meeting is
//! running, its last sync and last failure, what is pending each way; the
//! addresses the daemon tries; the revoked nodes. Read only: what it shows
//! is the node's (`Peers`), refreshed on `r`.

use alpr_protocol::control::{
    ControlRequest, ControlResponse, PeerAddressWire, PeerWire, RevokedWire,
};

use super::{App, Asked, Effect, Key, Screen};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeersView {
    pub peers: Vec<PeerWire>,
    pub addresses: Vec<PeerAddressWire>,
    pub revoked: Vec<RevokedWire>,
    /// The node answered at least once.
    pub asked: bool,
    pub refusal: Option<String>,
    /// The peer the cursor is on (its last failure is shown in full).
    pub selected: usize,
}

impl App {
    pub(super) fn open_peers(&mut self) -> Vec<Effect> {
        self.screen = Screen::Peers;
        self.ask_peers()
    }

    fn ask_peers(&self) -> Vec<Effect> {
        self.ask(Asked::Peers, |token| ControlRequest::Peers { token })
    }

    pub(super) fn peers_key(&mut self, key: Key) -> Vec<Effect> {
        let v = &mut self.peers;
        match key {
            Key::Esc | Key::Char('q') => {
                self.screen = Screen::Dashboard;
                Vec::new()
            }
            Key::Char('r') => self.ask_peers(),
            Key::Up => {
                v.selected = v.selected.saturating_sub(1);
                Vec::new()
            }
            Key::Down => {
                v.selected = (v.selected + 1).min(v.peers.len().saturating_sub(1));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn peers_answer(&mut self, r: ControlResponse) -> Vec<Effect> {
        let v = &mut self.peers;
        match r {
            ControlResponse::Peers {
                peers,
                addresses,
                revoked,
            } => {
                v.peers = peers;
                v.addresses = addresses;
                v.revoked = revoked;
                v.asked = true;
                v.refusal = None;
                v.selected = v.selected.min(v.peers.len().saturating_sub(1));
            }
            ControlResponse::Error { message, .. } => v.refusal = Some(message),
            other => self.unexpected(&other),
        }
        Vec::new()
    }
}
