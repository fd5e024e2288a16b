//! One line of typed text, bounded: every form of the console is made of them.

/// Longest text one field takes (the node bounds every field again).
pub const FIELD_CHARS_MAX: usize = 256;

/// A text field: printable characters only, at most [`FIELD_CHARS_MAX`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField {
    text: String,
}

impl TextField {
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
}
