//! Plate text, always normalized, and wildcard patterns over it.

use std::fmt;

/// Longest plate the system stores; real plates are 2-8 characters.
pub const PLATE_LEN_MAX: usize = 10;

/// A plate's text: upper-case A-Z and 0-9 only, 1 to [`PLATE_LEN_MAX`] characters.
///
/// Spaces, dashes and dots that plates print between groups are dropped
/// when parsing, so `"7ab-123"` and `"7AB 123"` are the same plate.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlateText(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlateError {
    #[error("plate is empty")]
    Empty,
    #[error("plate '{text}' is longer than {PLATE_LEN_MAX} characters")]
    TooLong { text: String },
    #[error("plate '{text}' has '{bad}', outside A-Z and 0-9")]
    BadCharacter { text: String, bad: char },
    #[error(
        "pattern '{text}' has '{bad}'; use A-Z, 0-9, '?' for one character and '*' for any run"
    )]
    BadPatternCharacter { text: String, bad: char },
    #[error("pattern '{text}': its fixed characters are not a plate ({why})")]
    PatternFixed { text: String, why: Box<PlateError> },
}

/// What a local hotlist entry lists, as a person types it: a plate, or a
/// wildcard pattern (with `*` or `?`) whose entry plate is its fixed
/// characters. The CLI and the console both take entries this way.
pub fn plate_or_pattern(text: &str) -> Result<(PlateText, Option<String>), PlateError> {
    if !text.contains(['*', '?']) {
        return Ok((PlateText::parse(text)?, None));
    }
    PlatePattern::parse(text)?;
    let fixed: String = text.chars().filter(char::is_ascii_alphanumeric).collect();
    let plate = PlateText::parse(&fixed).map_err(|why| PlateError::PatternFixed {
        text: text.to_string(),
        why: Box::new(why),
    })?;
    Ok((plate, Some(text.trim().to_string())))
}

impl PlateText {
    pub fn parse(text: &str) -> Result<Self, PlateError> {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                ' ' | '-' | '.' | '·' => {}
                c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_uppercase()),
                bad => {
                    return Err(PlateError::BadCharacter {
                        text: text.to_string(),
                        bad,
                    });
                }
            }
        }
        if out.is_empty() {
            return Err(PlateError::Empty);
        }
        if out.len() > PLATE_LEN_MAX {
            return Err(PlateError::TooLong {
                text: text.to_string(),
            });
        }
        Ok(PlateText(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PlateText {
    type Error = PlateError;
    fn try_from(s: String) -> Result<Self, PlateError> {
        PlateText::parse(&s)
    }
}

impl From<PlateText> for String {
    fn from(p: PlateText) -> String {
        p.0
    }
}

impl fmt::Display for PlateText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PlateText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlateText({})", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(u8),
    One,
    Any,
}

/// A wildcard search over plates: `?` is exactly one character, `*` any run (also empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatePattern {
    text: String,
    tokens: Vec<Token>,
}

impl PlatePattern {
    pub fn parse(text: &str) -> Result<Self, PlateError> {
        let mut tokens = Vec::new();
        for c in text.chars() {
            let token = match c {
                ' ' | '-' | '.' => continue,
                '?' => Token::One,
                '*' => {
                    if tokens.last() == Some(&Token::Any) {
                        continue;
                    }
                    Token::Any
                }
                c if c.is_ascii_alphanumeric() => Token::Char(c.to_ascii_uppercase() as u8),
                bad => {
                    return Err(PlateError::BadPatternCharacter {
                        text: text.to_string(),
                        bad,
                    });
                }
            };
            tokens.push(token);
        }
        if tokens.is_empty() {
            return Err(PlateError::Empty);
        }
        Ok(PlatePattern {
            text: text.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, plate: &str) -> bool {
        matches_tokens(&self.tokens, plate.as_bytes())
    }

    /// As [`PlatePattern::matches`], on the plate's ASCII bytes.
    pub fn matches_bytes(&self, plate: &[u8]) -> bool {
        matches_tokens(&self.tokens, plate)
    }
}

/// Iterative glob match with single-star backtracking: linear in practice for plate lengths.
fn matches_tokens(tokens: &[Token], text: &[u8]) -> bool {
    let (mut t, mut s) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while s < text.len() {
        match tokens.get(t) {
            Some(Token::Char(c)) if *c == text[s] => {
                t += 1;
                s += 1;
            }
            Some(Token::One) => {
                t += 1;
                s += 1;
            }
            Some(Token::Any) => {
                star = Some((t, s));
                t += 1;
            }
            _ => match star {
                Some((st, ss)) => {
                    t = st + 1;
                    s = ss + 1;
                    star = Some((st, ss + 1));
                }
                None => return false,
            },
        }
    }
    tokens[t..].iter().all(|tok| *tok == Token::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_separators() {
        assert_eq!(PlateText::parse("7ab-12 3").unwrap().as_str(), "7AB123");
        assert_eq!(
            PlateText::parse("A B!"),
            Err(PlateError::BadCharacter {
                text: "A B!".into(),
                bad: '!'
            })
        );
        assert_eq!(PlateText::parse(" - "), Err(PlateError::Empty));
        assert!(PlateText::parse("ABCDEFGHIJK").is_err());
    }

    #[test]
    fn wildcards() {
        let p = PlatePattern::parse("7ab*").unwrap();
        assert!(p.matches("7AB123"));
        assert!(p.matches("7AB"));
        assert!(!p.matches("17AB"));
        let q = PlatePattern::parse("AB?1*").unwrap();
        assert!(q.matches("ABC1"));
        assert!(q.matches("ABX199"));
        assert!(!q.matches("AB1"));
        assert!(!q.matches("ABCC1"));
        let r = PlatePattern::parse("*12*3").unwrap();
        assert!(r.matches("X12Y3"));
        assert!(r.matches("1213"));
        assert!(!r.matches("1234"));
        assert!(PlatePattern::parse("A%").is_err());
    }
}
