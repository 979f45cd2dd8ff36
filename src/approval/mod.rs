//! Approval by reply, the pure parts.
//!
//! - [`token`]: the signed, expiring token in an approval request's Reply-To address,
//!   bound to the revision's hash and the approver.
//! - [`reply`]: the approver's own text out of whatever their mail client wrapped round
//!   it, and the command in it (approve, reject with a reason, undo, or a comment).
//! - [`authresults`]: which `Authentication-Results` fields our own server wrote, and
//!   whether they authenticate the From domain.
//!
//! Nothing here touches the database, the clock or the network: the caller passes the
//! time, the key and the stored request. Recording decisions and single use live in the
//! store.

pub mod authresults;
pub mod reply;
pub mod token;
