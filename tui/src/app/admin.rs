//! The administration menu: where an Administrator finds users and
//! training, login limits and retention, holds and evidence, requests and
//! releases, and an Auditor the quarterly audit. The menu itself sends
//! nothing; each screen asks the node for what it shows, and a role the
//! node does not allow sees the node's refusal there.

use super::{App, Effect, Key, Screen};

/// The screens of the menu, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminItem {
    Users,
    Limits,
    Holds,
    Requests,
    Audits,
}

pub const ADMIN_ITEMS: [AdminItem; 5] = [
    AdminItem::Users,
    AdminItem::Limits,
    AdminItem::Holds,
    AdminItem::Requests,
    AdminItem::Audits,
];

impl AdminItem {
    pub fn name(self) -> &'static str {
        match self {
            AdminItem::Users => "Users and training",
            AdminItem::Limits => "Login limits and retention",
            AdminItem::Holds => "Holds and evidence export",
            AdminItem::Requests => "Requests and releases",
            AdminItem::Audits => "Quarterly audit",
        }
    }

    /// What it is for, in a line.
    pub fn about(self) -> &'static str {
        match self {
            AdminItem::Users => "add users, record training, roles, passwords, unlock",
            AdminItem::Limits => "failed logins, lockout, idle lock; how long records are kept",
            AdminItem::Holds => "keep reads past retention for a case; export a case's bundle",
            AdminItem::Requests => "outside requests and their decisions; releases to agencies",
            AdminItem::Audits => "draw a quarter's sample, mark each event, sign the report",
        }
    }
}

/// The menu's state: the item the cursor is on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminMenu {
    pub selected: usize,
}

impl App {
    pub(super) fn open_admin(&mut self) -> Vec<Effect> {
        self.screen = Screen::Admin;
        Vec::new()
    }

    pub(super) fn admin_key(&mut self, key: Key) -> Vec<Effect> {
        let m = &mut self.admin;
        let n = ADMIN_ITEMS.len();
        match key {
            Key::Esc | Key::Char('q') => self.screen = Screen::Dashboard,
            Key::Up | Key::BackTab => m.selected = (m.selected + n - 1) % n,
            Key::Down | Key::Tab => m.selected = (m.selected + 1) % n,
            Key::Enter => {
                let item = ADMIN_ITEMS[m.selected % n];
                return self.open_item(item);
            }
            Key::Char(c) => {
                if let Some(i) = c.to_digit(10).and_then(|d| (d as usize).checked_sub(1))
                    && i < n
                {
                    m.selected = i;
                    return self.open_item(ADMIN_ITEMS[i]);
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn open_item(&mut self, item: AdminItem) -> Vec<Effect> {
        match item {
            AdminItem::Users => self.open_users(),
            AdminItem::Limits => self.open_limits(),
            AdminItem::Holds => self.open_holds(),
            AdminItem::Requests => self.open_requests(),
            AdminItem::Audits => self.open_wizard(false),
        }
    }

    /// The connection failed: no form waits for an answer that will not come.
    pub(super) fn stop_waiting(&mut self) {
        if let Some(f) = &mut self.users.adding {
            f.waiting = false;
        }
        if let Some(f) = &mut self.users.editing {
            f.waiting = false;
        }
        self.limits.waiting = false;
        if let Some(f) = &mut self.holds.placing {
            f.waiting = false;
        }
        if let Some(f) = &mut self.holds.exporting {
            f.waiting = false;
        }
        if let Some(f) = &mut self.requests.registering {
            f.waiting = false;
        }
        if let Some(f) = &mut self.requests.deciding {
            f.waiting = false;
        }
        if let Some(f) = &mut self.requests.releasing {
            f.waiting = false;
        }
        if let Some(f) = &mut self.wizard.drawing {
            f.waiting = false;
        }
        if let Some(m) = &mut self.wizard.marking {
            m.waiting = false;
        }
    }
}
