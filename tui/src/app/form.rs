//! One line of typed text, bounded: every form of the console is made of
//! them. A password field is one that is never drawn and is wiped from
//! memory; and two helpers every form shares: moving the focus, turning a
//! choice.

use alpr_protocol::control::ControlRequest;
use zeroize::Zeroizing;

use super::{Asked, Effect};

/// Longest text one field takes (the node bounds every field again).
pub const FIELD_CHARS_MAX: usize = 256;

/// A text field: printable characters only, at most [`FIELD_CHARS_MAX`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField {
    text: String,
}

impl TextField {
    /// A field that starts with `text` (its printable characters, bounded).
    pub fn new(text: &str) -> TextField {
        TextField {
            text: text
                .chars()
                .filter(|c| !c.is_control())
                .take(FIELD_CHARS_MAX)
                .collect(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text without surrounding blanks; None when that is empty.
    pub fn value(&self) -> Option<&str> {
        Some(self.text.trim()).filter(|t| !t.is_empty())
    }

    /// Takes a typed character or a backspace; says whether it was one.
    pub fn edit(&mut self, key: super::Key) -> bool {
        match key {
            super::Key::Backspace => {
                self.text.pop();
                true
            }
            super::Key::Char(c) if !c.is_control() => {
                if self.text.chars().count() < FIELD_CHARS_MAX {
                    self.text.push(c);
                }
                true
            }
            _ => false,
        }
    }

    pub fn clear(&mut self) {
        self.text.clear();
    }
}

/// A password as typed: bounded like a [`TextField`], never drawn (the
/// view shows one dot a character) and wiped from memory when dropped.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretField {
    text: Zeroizing<String>,
}

impl std::fmt::Debug for SecretField {
    // The derived one would print the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretField({} characters)", self.chars())
    }
}

impl SecretField {
    /// How many characters are typed (what the view may show of it).
    pub fn chars(&self) -> usize {
        self.text.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The password itself, for the request that carries it.
    pub(crate) fn expose(&self) -> &str {
        &self.text
    }

    /// As [`TextField::edit`].
    pub fn edit(&mut self, key: super::Key) -> bool {
        match key {
            super::Key::Backspace => {
                self.text.pop();
                true
            }
            super::Key::Char(c) if !c.is_control() => {
                if self.text.chars().count() < FIELD_CHARS_MAX {
                    self.text.push(c);
                }
                true
            }
            _ => false,
        }
    }
}

/// The field `by` places from `at` in a form's order, around the ends.
pub(crate) fn step<F: Copy + PartialEq>(fields: &[F], at: F, by: isize) -> F {
    let i = fields.iter().position(|f| *f == at).unwrap_or(0) as isize;
    let n = fields.len().max(1) as isize;
    fields
        .get((i + by).rem_euclid(n) as usize)
        .copied()
        .unwrap_or(at)
}

/// Turns a choice of `n` options with ← → or Space; says whether the key
/// was one of those.
pub(crate) fn turn(at: &mut usize, n: usize, key: super::Key) -> bool {
    let n = n.max(1);
    match key {
        super::Key::Left => *at = (*at + n - 1) % n,
        super::Key::Right | super::Key::Char(' ') => *at = (*at + 1) % n,
        _ => return false,
    }
    true
}

/// A whole number typed in a field: None when the field is empty, what
/// is wrong (naming the field) when it is not a number.
pub(crate) fn number<T: std::str::FromStr>(
    field: &TextField,
    name: &str,
) -> Result<Option<T>, String> {
    match field.value() {
        None => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| {
            let shown: String = t.chars().take(20).collect();
            format!("{name}: '{shown}' is not a whole number")
        }),
    }
}

/// What Enter does in a form: sends the request the form made, or puts
/// the form's focus on the field that is missing or wrong and says why.
/// `state` is the form's focus, refusal and waiting flag.
pub(crate) fn submit<F>(
    made: Result<ControlRequest, (F, String)>,
    asked: Asked,
    state: (&mut F, &mut Option<String>, &mut bool),
) -> Vec<Effect> {
    let (focus, refusal, waiting) = state;
    match made {
        Ok(request) => {
            *refusal = None;
            *waiting = true;
            vec![Effect::Send(asked, request)]
        }
        Err((field, e)) => {
            *focus = field;
            *refusal = Some(e);
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Key;

    #[test]
    fn a_field_takes_printable_text_up_to_its_bound() {
        let mut f = TextField::default();
        for c in "ab\u{7}c".chars() {
            f.edit(Key::Char(c));
        }
        assert_eq!(f.as_str(), "abc");
        f.edit(Key::Backspace);
        assert_eq!(f.value(), Some("ab"));
        for _ in 0..1000 {
            f.edit(Key::Char('x'));
        }
        assert_eq!(f.as_str().chars().count(), FIELD_CHARS_MAX);
        assert!(!f.edit(Key::Enter));
        f.clear();
        assert_eq!(f.value(), None);
    }

    #[test]
    fn a_password_field_never_shows_in_debug_output() {
        let mut p = SecretField::default();
        for c in "hunter2".chars() {
            p.edit(Key::Char(c));
        }
        assert_eq!(p.expose(), "hunter2");
        assert_eq!(format!("{p:?}"), "SecretField(7 characters)");
    }

    #[test]
    fn focus_steps_around_and_choices_turn() {
        let fields = [1, 2, 3];
        assert_eq!(step(&fields, 3, 1), 1);
        assert_eq!(step(&fields, 1, -1), 3);
        let mut at = 0;
        assert!(turn(&mut at, 3, Key::Left));
        assert_eq!(at, 2);
        assert!(turn(&mut at, 3, Key::Char(' ')));
        assert_eq!(at, 0);
        assert!(!turn(&mut at, 3, Key::Char('x')));
        let mut f = TextField::default();
        assert_eq!(number::<u32>(&f, "size"), Ok(None));
        f.edit(Key::Char('x'));
        assert_eq!(
            number::<u32>(&f, "size"),
            Err("size: 'x' is not a whole number".into())
        );
    }
}
