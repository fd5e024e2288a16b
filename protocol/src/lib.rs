//! The fleet's vocabulary: identities, records, envelopes and every byte format that leaves a process.
//!
//! Invariant: this crate does no I/O, reads no clock and owns no runtime.
//! Time arrives as a [`Timestamp`] argument and randomness as a `CryptoRng`
//! argument, so the node, the simulator and the tests drive it identically.
//! The byte layouts are specified in `protocol/FORMAT.md`; snapshot tests in
//! `tests/format.rs` pin them.

pub mod alert;
pub mod bundle;
pub mod control;
pub mod enrollment;
pub mod envelope;
/// Fuzz target bodies and their seeds, for `fuzz/` and the corpus replay test.
#[doc(hidden)]
pub mod fuzzing;
pub mod hotlist;
pub mod identity;
pub mod keyfile;
pub mod plate;
pub mod policy;
pub mod record;
pub mod replicate;
pub mod time;

pub use enrollment::{
    BundleError, Certificate, CertificateError, EnrollmentBundle, Role, SignedCertificate,
    VerifiedCertificate,
};
pub use envelope::{
    EnvelopeError, Header, RecordKind, SealedRead, Sealer, Trust, VerifiedAlertRecord,
    VerifiedAuditEvent, VerifiedImage, VerifiedRead,
};
pub use identity::{AgencyId, AgencyKey, DataKey, KeyId, NodeId, NodeKey};
pub use keyfile::{KdfParams, KeyFileError, SecretKind, WrappedSecret};
pub use plate::{PlateError, PlatePattern, PlateText};
pub use record::{
    AUDIT_TEXT_BYTES_MAX, AUDIT_USER_BYTES_MAX, Action, AuditBody, AuditEvent, Capture, Fix,
    FixQuality, GpsFix, ImageBody, ImageKind, ImageRef, Location, Outcome, Read, ReadBody, Region,
    bounded_text,
};
pub use time::Timestamp;
