//! Users and training (Administrators): the node's users with their roles,
//! training and state; a form to add one; and the edits the node takes one
//! at a time: record training, change the role, reset the password,
//! deactivate or activate, unlock. Whether a name, a password or a date is
//! acceptable is the node's to say; the form only refuses to send what is
//! missing.

use alpr_protocol::control::{
    ControlRequest, ControlResponse, RoleWire, Token, UserEditWire, UserWire,
};

use super::form::{step, turn};
use super::search::parse_time;
use super::{App, Asked, Effect, Key, Screen, SecretField, TextField};

/// Roles in the order the forms cycle them.
pub const ROLES: [RoleWire; 4] = [
    RoleWire::Officer,
    RoleWire::Supervisor,
    RoleWire::Administrator,
    RoleWire::Auditor,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserField {
    #[default]
    Name,
    Role,
    Password,
    Repeat,
    TrainedOn,
    Expires,
}

const USER_FIELDS: [UserField; 6] = [
    UserField::Name,
    UserField::Role,
    UserField::Password,
    UserField::Repeat,
    UserField::TrainedOn,
    UserField::Expires,
];

/// A new user, as typed. The password is asked twice (a typo would lock
/// the user out) and wiped when the form goes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserForm {
    pub name: TextField,
    /// Index into [`ROLES`].
    pub role: usize,
    pub password: SecretField,
    pub repeat: SecretField,
    pub trained_on: TextField,
    pub expires: TextField,
    pub focus: UserField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

/// Both passwords typed and the same, or what is wrong and where.
fn new_password<F: Copy>(
    password: &SecretField,
    repeat: &SecretField,
    fields: (F, F),
) -> Result<String, (F, String)> {
    if password.is_empty() {
        return Err((fields.0, "password: type the new password".into()));
    }
    if password != repeat {
        return Err((fields.1, "repeat: the two passwords differ".into()));
    }
    Ok(password.expose().to_string())
}

impl UserForm {
    pub fn role(&self) -> RoleWire {
        ROLES[self.role % ROLES.len()]
    }

    /// The request the form makes, or what is missing or wrong and the
    /// field to go back to.
    pub fn request(&self, token: Token) -> Result<ControlRequest, (UserField, String)> {
        let name = self.name.value().ok_or((
            UserField::Name,
            "name: type the new user's name".to_string(),
        ))?;
        let password = new_password(
            &self.password,
            &self.repeat,
            (UserField::Password, UserField::Repeat),
        )?;
        let trained_on = parse_time(self.trained_on.value(), false)
            .map_err(|e| (UserField::TrainedOn, format!("trained on: {e}")))?;
        let training_expires = parse_time(self.expires.value(), false)
            .map_err(|e| (UserField::Expires, format!("training expires: {e}")))?;
        Ok(ControlRequest::AddUser {
            token,
            name: name.to_string(),
            role: self.role(),
            password,
            trained_on,
            training_expires,
        })
    }

    fn field(&mut self) -> Option<&mut TextField> {
        match self.focus {
            UserField::Name => Some(&mut self.name),
            UserField::TrainedOn => Some(&mut self.trained_on),
            UserField::Expires => Some(&mut self.expires),
            UserField::Role | UserField::Password | UserField::Repeat => None,
        }
    }
}

/// Which edit the edit form makes (the node takes one edit a request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKind {
    Training,
    Role,
    Password,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditField {
    TrainedOn,
    Expires,
    Role,
    Password,
    Repeat,
}

/// One edit of one user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserEditForm {
    pub name: String,
    pub kind: EditKind,
    pub trained_on: TextField,
    pub expires: TextField,
    /// Index into [`ROLES`].
    pub role: usize,
    pub password: SecretField,
    pub repeat: SecretField,
    pub focus: EditField,
    pub refusal: Option<String>,
    pub waiting: bool,
}

impl UserEditForm {
    fn new(user: &UserWire, kind: EditKind) -> UserEditForm {
        let fields = Self::fields_of(kind);
        UserEditForm {
            name: user.name.clone(),
            kind,
            trained_on: TextField::default(),
            expires: TextField::default(),
            role: ROLES.iter().position(|r| *r == user.role).unwrap_or(0),
            password: SecretField::default(),
            repeat: SecretField::default(),
            focus: fields[0],
            refusal: None,
            waiting: false,
        }
    }

    fn fields_of(kind: EditKind) -> &'static [EditField] {
        match kind {
            EditKind::Training => &[EditField::TrainedOn, EditField::Expires],
            EditKind::Role => &[EditField::Role],
            EditKind::Password => &[EditField::Password, EditField::Repeat],
        }
    }

    pub fn role(&self) -> RoleWire {
        ROLES[self.role % ROLES.len()]
    }

    /// The edit the form makes, or what is missing or wrong and where.
    pub fn edit(&self) -> Result<UserEditWire, (EditField, String)> {
        match self.kind {
            EditKind::Training => {
                let on = parse_time(self.trained_on.value(), false)
                    .map_err(|e| (EditField::TrainedOn, format!("trained on: {e}")))?;
                if on.is_none() {
                    return Err((
                        EditField::TrainedOn,
                        "trained on: type the date the training was completed".into(),
                    ));
                }
                let expires = parse_time(self.expires.value(), false)
                    .map_err(|e| (EditField::Expires, format!("training expires: {e}")))?;
                Ok(UserEditWire::Training { on, expires })
            }
            EditKind::Role => Ok(UserEditWire::Role(self.role())),
            EditKind::Password => new_password(
                &self.password,
                &self.repeat,
                (EditField::Password, EditField::Repeat),
            )
            .map(UserEditWire::Password),
        }
    }
}

/// A change asked from the list, awaiting `y`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserConfirm {
    /// Activate (true) or deactivate the user.
    Active(String, bool),
    Unlock(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsersView {
    pub users: Vec<UserWire>,
    pub asked: bool,
    pub selected: usize,
    /// The node refused the list.
    pub refusal: Option<String>,
    pub adding: Option<UserForm>,
    pub editing: Option<UserEditForm>,
    pub confirm: Option<UserConfirm>,
    /// What the change in flight does, said once the node has done it.
    sent: Option<String>,
}

impl App {
    pub(super) fn open_users(&mut self) -> Vec<Effect> {
        self.screen = Screen::Users;
        self.ask_users()
    }

    fn ask_users(&mut self) -> Vec<Effect> {
        self.ask(Asked::Users, |token| ControlRequest::ListUsers { token })
    }

    pub(super) fn users_key(&mut self, key: Key) -> Vec<Effect> {
        let Some(token) = self.token() else {
            return Vec::new();
        };
        if self.users.adding.is_some() {
            return self.user_form_key(token, key);
        }
        if self.users.editing.is_some() {
            return self.user_edit_key(token, key);
        }
        let v = &mut self.users;
        if let Some(c) = v.confirm.take() {
            if key != Key::Char('y') {
                return Vec::new();
            }
            return match c {
                UserConfirm::Active(name, active) => {
                    v.sent = Some(format!(
                        "user {name} {}",
                        if active { "activated" } else { "deactivated" }
                    ));
                    vec![Effect::Send(
                        Asked::EditUser,
                        ControlRequest::EditUser {
                            token,
                            name,
                            edit: UserEditWire::Active(active),
                        },
                    )]
                }
                UserConfirm::Unlock(name) => {
                    v.sent = Some(format!(
                        "{name} unlocked: failed logins cleared on this node"
                    ));
                    vec![Effect::Send(
                        Asked::UnlockUser,
                        ControlRequest::UnlockUser { token, name },
                    )]
                }
            };
        }
        let selected = v.users.get(v.selected);
        match key {
            Key::Esc | Key::Char('q') => self.screen = Screen::Admin,
            Key::Up => v.selected = v.selected.saturating_sub(1),
            Key::Down => v.selected = (v.selected + 1).min(v.users.len().saturating_sub(1)),
            Key::Char('r') => return self.ask_users(),
            Key::Char('n') => v.adding = Some(UserForm::default()),
            Key::Char(c @ ('t' | 'o' | 'p')) => {
                if let Some(u) = selected {
                    let kind = match c {
                        't' => EditKind::Training,
                        'o' => EditKind::Role,
                        _ => EditKind::Password,
                    };
                    v.editing = Some(UserEditForm::new(u, kind));
                }
            }
            Key::Char('x') => {
                if let Some(u) = selected {
                    v.confirm = Some(UserConfirm::Active(u.name.clone(), !u.active));
                }
            }
            Key::Char('u') => match selected {
                // Only a lockout or failed logins on this node have anything to clear.
                Some(u) if u.locked_until.is_some() || u.failures > 0 => {
                    v.confirm = Some(UserConfirm::Unlock(u.name.clone()));
                }
                Some(u) => {
                    self.notice = Some(format!(
                        "{} is not locked out and has no failed logins on this node",
                        u.name
                    ));
                }
                None => {}
            },
            _ => {}
        }
        Vec::new()
    }

    fn user_form_key(&mut self, token: Token, key: Key) -> Vec<Effect> {
        let v = &mut self.users;
        let Some(f) = &mut v.adding else {
            return Vec::new();
        };
        if f.waiting {
            return Vec::new();
        }
        match key {
            Key::Esc => v.adding = None,
            Key::Tab | Key::Down => f.focus = step(&USER_FIELDS, f.focus, 1),
            Key::BackTab | Key::Up => f.focus = step(&USER_FIELDS, f.focus, -1),
            Key::Enter => match f.request(token) {
                Ok(request) => {
                    f.refusal = None;
                    f.waiting = true;
                    v.sent = Some(format!(
                        "user {} ({}) added",
                        f.name.value().unwrap_or(""),
                        f.role().name()
                    ));
                    return vec![Effect::Send(Asked::AddUser, request)];
                }
                Err((field, e)) => {
                    f.focus = field;
                    f.refusal = Some(e);
                }
            },
            key => {
                let edited = match f.focus {
                    UserField::Role => turn(&mut f.role, ROLES.len(), key),
                    UserField::Password => f.password.edit(key),
                    UserField::Repeat => f.repeat.edit(key),
                    _ => f.field().is_some_and(|t| t.edit(key)),
                };
                // What was refused is being mended: the refusal goes.
                if edited {
                    f.refusal = None;
                }
            }
        }
        Vec::new()
    }

    fn user_edit_key(&mut self, token: Token, key: Key) -> Vec<Effect> {
        let v = &mut self.users;
        let Some(f) = &mut v.editing else {
            return Vec::new();
        };
        if f.waiting {
            return Vec::new();
        }
        let fields = UserEditForm::fields_of(f.kind);
        match key {
            Key::Esc => v.editing = None,
            Key::Tab | Key::Down => f.focus = step(fields, f.focus, 1),
            Key::BackTab | Key::Up => f.focus = step(fields, f.focus, -1),
            Key::Enter => match f.edit() {
                Ok(edit) => {
                    f.refusal = None;
                    f.waiting = true;
                    let what = match &edit {
                        UserEditWire::Training { .. } => "training recorded".to_string(),
                        UserEditWire::Role(r) => format!("now {}", r.name()),
                        UserEditWire::Password(_) => "password reset".to_string(),
                        UserEditWire::Active(_) => "changed".to_string(),
                    };
                    v.sent = Some(format!("user {}: {what}", f.name));
                    return vec![Effect::Send(
                        Asked::EditUser,
                        ControlRequest::EditUser {
                            token,
                            name: f.name.clone(),
                            edit,
                        },
                    )];
                }
                Err((field, e)) => {
                    f.focus = field;
                    f.refusal = Some(e);
                }
            },
            key => {
                let edited = match f.focus {
                    EditField::TrainedOn => f.trained_on.edit(key),
                    EditField::Expires => f.expires.edit(key),
                    EditField::Role => turn(&mut f.role, ROLES.len(), key),
                    EditField::Password => f.password.edit(key),
                    EditField::Repeat => f.repeat.edit(key),
                };
                if edited {
                    f.refusal = None;
                }
            }
        }
        Vec::new()
    }

    pub(super) fn users_answer(&mut self, asked: Asked, r: ControlResponse) -> Vec<Effect> {
        let v = &mut self.users;
        match (asked, r) {
            (Asked::Users, ControlResponse::Users(users)) => {
                v.users = users;
                v.asked = true;
                v.refusal = None;
                v.selected = v.selected.min(v.users.len().saturating_sub(1));
            }
            (Asked::AddUser | Asked::EditUser | Asked::UnlockUser, ControlResponse::Done) => {
                v.adding = None;
                v.editing = None;
                self.notice = v.sent.take();
                return self.ask_users();
            }
            (Asked::Users, ControlResponse::Error { message, .. }) => v.refusal = Some(message),
            (_, ControlResponse::Error { message, .. }) => {
                v.sent = None;
                let form = match asked {
                    Asked::AddUser => v.adding.as_mut().map(|f| (&mut f.refusal, &mut f.waiting)),
                    _ => v.editing.as_mut().map(|f| (&mut f.refusal, &mut f.waiting)),
                };
                match form {
                    Some((refusal, waiting)) => {
                        *waiting = false;
                        *refusal = Some(message);
                    }
                    None => self.notice = Some(format!("refused: {message}")),
                }
            }
            (_, other) => {
                self.stop_waiting();
                self.unexpected(&other);
            }
        }
        Vec::new()
    }
}
