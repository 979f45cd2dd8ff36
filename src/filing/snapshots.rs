//! The registry as filing reads it, cached per (database instance, board) and read again
//! only when the registry version has moved. Shared by every worker of the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::filings;

/// Snapshots of the registry by (database instance, board), with the registry version
/// they were read at. Shared by every worker of the process.
type SnapshotCache = HashMap<(i64, i64), (i64, Arc<filings::Snapshot>)>;

static SNAPSHOTS: Mutex<Option<SnapshotCache>> = Mutex::new(None);

/// The registry of `board_id`, read again only when it has changed since last read.
pub(super) async fn snapshot(
    conn: &mut sqlx::PgConnection,
    board_id: i64,
) -> anyhow::Result<Arc<filings::Snapshot>> {
    let (instance, version) = filings::registry_version(conn).await?;
    let cached = SNAPSHOTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
        .and_then(|cache| cache.get(&(instance, board_id)).cloned());
    if let Some((at, snapshot)) = cached {
        if at == version {
            return Ok(snapshot);
        }
    }
    let snapshot = Arc::new(filings::snapshot(conn, board_id).await?);
    SNAPSHOTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert((instance, board_id), (version, snapshot.clone()));
    Ok(snapshot)
}
