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

/// How much work a new password's hash costs. The cost is written into the
/// PHC string, so verification always pays what the hash was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PasswordCost {
    /// Argon2id with the crate's defaults: 19 MiB, 2 passes, OWASP's
    /// recommendation. Every real node hashes with this.
    #[default]
    Standard,
    /// Argon2id at its minimum (8 KiB, 1 pass): for simulated fleets, whose
    /// users and passwords are made up and which log in thousands of times
    /// a run. Nothing a daemon reads or an operator types selects it.
    Simulated,
}

impl PasswordCost {
    fn hasher(self) -> argon2::Argon2<'static> {
        match self {
            PasswordCost::Standard => argon2::Argon2::default(),
            PasswordCost::Simulated => argon2::Argon2::new(
                argon2::Algorithm::Argon2id,
                argon2::Version::V0x13,
                // Invariant: these are argon2's own minimums, always accepted.
                argon2::Params::new(
                    argon2::Params::MIN_M_COST,
                    argon2::Params::MIN_T_COST,
                    argon2::Params::MIN_P_COST,
                    None,
                )
                .unwrap_or_else(|e| unreachable!("argon2 rejected its minimums: {e}")),
            ),
        }
    }
}

/// Argon2id at `cost` with a random 16-byte salt, as a PHC string.
pub fn hash<R: CryptoRng + ?Sized>(password: &str, cost: PasswordCost, rng: &mut R) -> String {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    cost.hasher()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        // Invariant: both costs' parameters and a 16-byte salt are always accepted.
        .unwrap_or_else(|e| unreachable!("argon2 rejected its parameters: {e}"))
}

/// Whether `password` matches a stored PHC hash, at the cost the hash was
/// made with; a malformed hash matches nothing.
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
        let h = hash(
            "correct horse battery",
            PasswordCost::Standard,
            &mut rand::rng(),
        );
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterz", &h));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn a_simulated_hash_verifies_at_its_own_cost() {
        let h = hash(
            "correct horse battery",
            PasswordCost::Simulated,
            &mut rand::rng(),
        );
        assert!(h.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterz", &h));
    }
}
