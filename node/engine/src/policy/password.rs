//! Passwords (policy V.A.2): strength rules, Argon2id hashing, verification.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::CryptoRng;

pub const PASSWORD_LEN_MIN: usize = 8;
pub const PASSWORD_LEN_MAX: usize = 128;

const BANNED: &str = include_str!("banned-passwords.txt");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password is shorter than {PASSWORD_LEN_MIN} characters")]
    TooShort,
    #[error("password is longer than {PASSWORD_LEN_MAX} characters")]
    TooLong,
    #[error("password is on the list of banned passwords")]
    Banned,
    #[error("password must not contain the user name")]
    ContainsName,
}

/// Checks a new password against the rules; `name` is the user it is for.
pub fn check_strength(name: &str, password: &str) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if len < PASSWORD_LEN_MIN {
        return Err(PasswordError::TooShort);
    }
    if len > PASSWORD_LEN_MAX {
        return Err(PasswordError::TooLong);
    }
    let lower = password.to_lowercase();
    let banned = BANNED
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|b| b.to_lowercase() == lower);
    if banned {
        return Err(PasswordError::Banned);
    }
    if !name.is_empty() && lower.contains(&name.to_lowercase()) {
        return Err(PasswordError::ContainsName);
    }
    Ok(())
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes, OWASP's recommendation), PHC string.
pub fn hash<R: CryptoRng + ?Sized>(password: &str, rng: &mut R) -> String {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    argon2::Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Invariant: the default parameters and a 16-byte salt are always accepted.
        .unwrap_or_else(|e| unreachable!("argon2 rejected its defaults: {e}"))
}

/// Whether `password` matches a stored PHC hash; a malformed hash matches nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(
            check_strength("jsmith", "short"),
            Err(PasswordError::TooShort)
        );
        assert_eq!(
            check_strength("jsmith", "Password123"),
            Err(PasswordError::Banned)
        );
        assert_eq!(
            check_strength("jsmith", "xxJSmith-2026"),
            Err(PasswordError::ContainsName)
        );
        assert!(check_strength("jsmith", "correct horse battery").is_ok());
    }

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery", &mut rand::rng());
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterz", &h));
        assert!(!verify("anything", "not a hash"));
    }
}
