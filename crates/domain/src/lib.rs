//! Domain rules of systembruker.
//!
//! Everything in this crate is pure: no I/O, no clocks except where a caller passes
//! one in. Storage and HTTP layers build on these types so that invalid data is
//! rejected at the edge ("parse, don't validate").

pub mod catalogue;
pub mod clients;
pub mod delegation;
pub mod events;
pub mod ids;
pub mod lifecycle;
pub mod party;
pub mod people;
pub mod resource;
pub mod rules;
pub mod selfservice;
pub mod system;
pub mod systemuser;

pub use ids::{IdError, OrgNumber, PartyIdentifier, PersonNumber};
pub use rules::RuleError;
