//! Pure domain types and the rules that make them valid. Nothing here knows about tokio,
//! sqlx or mail transports; the store and the mail code convert to and from these types.

pub mod address;
pub mod board;
pub mod filing;
pub mod icalendar;
pub mod mail;
pub mod message;
pub mod outbound;
pub mod refs;
pub mod verp;
pub mod zone;
