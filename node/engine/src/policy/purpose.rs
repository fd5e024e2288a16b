//! The stated purpose every search, view and export needs (policy III.A.2, V.A.3).

use std::fmt;

pub const REASON_LEN_MIN: usize = 4;
pub const REASON_LEN_MAX: usize = 200;
pub const CASE_LEN_MAX: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurposeKind {
    /// A criminal investigation: needs a case number.
    Investigation,
    /// Following up a hotlist alert.
    Alert,
    /// An auditor's review (policy V.A.5).
    Audit,
    /// System administration and maintenance.
    Administration,
}

impl PurposeKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "investigation" => Some(PurposeKind::Investigation),
            "alert" => Some(PurposeKind::Alert),
            "audit" => Some(PurposeKind::Audit),
            "administration" | "admin" => Some(PurposeKind::Administration),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PurposeKind::Investigation => "investigation",
            PurposeKind::Alert => "alert",
            PurposeKind::Audit => "audit",
            PurposeKind::Administration => "administration",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurposeError {
    #[error(
        "a purpose is required (policy III.A.2): investigation, alert, audit or administration, with a reason"
    )]
    Missing,
    #[error("'{0}' is not a purpose: use investigation, alert, audit or administration")]
    UnknownKind(String),
    #[error("the reason must be {REASON_LEN_MIN} to {REASON_LEN_MAX} characters")]
    Reason,
    #[error("an investigation needs a case number (policy V.A.3)")]
    NoCase,
    #[error("case number '{0}' must be 1 to {CASE_LEN_MAX} of A-Z, 0-9, '-', '/', '.'")]
    BadCase(String),
}

/// A stated, checked purpose. Only [`Purpose::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose {
    kind: PurposeKind,
    reason: String,
    case: Option<String>,
}

impl Purpose {
    pub fn parse(
        kind: Option<&str>,
        reason: Option<&str>,
        case: Option<&str>,
    ) -> Result<Self, PurposeError> {
        let kind_text = kind.ok_or(PurposeError::Missing)?;
        let kind = PurposeKind::parse(kind_text)
            .ok_or_else(|| PurposeError::UnknownKind(kind_text.to_string()))?;
        let reason = reason.map(str::trim).unwrap_or("");
        let len = reason.chars().count();
        if !(REASON_LEN_MIN..=REASON_LEN_MAX).contains(&len) || reason.chars().any(char::is_control)
        {
            return Err(PurposeError::Reason);
        }
        let case = match case.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let ok = c.len() <= CASE_LEN_MAX
                    && c.chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '/' | '.'));
                if !ok {
                    return Err(PurposeError::BadCase(c.to_string()));
                }
                Some(c.to_ascii_uppercase())
            }
        };
        if kind == PurposeKind::Investigation && case.is_none() {
            return Err(PurposeError::NoCase);
        }
        Ok(Purpose {
            kind,
            reason: reason.to_string(),
            case,
        })
    }

    pub fn kind(&self) -> PurposeKind {
        self.kind
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }

    pub fn case(&self) -> Option<&str> {
        self.case.as_deref()
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn investigations_need_a_case() {
        assert_eq!(
            Purpose::parse(None, Some("x"), None),
            Err(PurposeError::Missing)
        );
        assert_eq!(
            Purpose::parse(Some("investigation"), Some("stolen car"), None),
            Err(PurposeError::NoCase)
        );
        let p = Purpose::parse(Some("investigation"), Some("stolen car"), Some("26-0001")).unwrap();
        assert_eq!(p.case(), Some("26-0001"));
        assert_eq!(p.to_string(), "investigation: stolen car");
        assert!(Purpose::parse(Some("alert"), Some("hit on 7ABC123"), None).is_ok());
        assert_eq!(
            Purpose::parse(Some("alert"), Some("x"), None),
            Err(PurposeError::Reason)
        );
        assert!(matches!(
            Purpose::parse(Some("curiosity"), Some("just looking"), None),
            Err(PurposeError::UnknownKind(_))
        ));
    }
}
