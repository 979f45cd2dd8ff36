//! The registry as filing reads it, kept per (database instance, board) and read again
//! only when the registry version has moved. The filing worker holds one [`Snapshots`]
//! for its life; a command run once makes its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::filings;

/// (database instance, board) to (registry version, snapshot read at it).
type Read = HashMap<(i64, i64), (i64, Arc<filings::Snapshot>)>;

/// Snapshots of the registry by (database instance, board), each with the registry
/// version it was read at.
#[derive(Debug, Default)]
pub struct Snapshots {
    read: Mutex<Read>,
}

impl Snapshots {
    /// The registry of `board_id`, read again only when it has changed since last read.
    pub async fn get(
        &self,
        conn: &mut sqlx::PgConnection,
        board_id: i64,
    ) -> anyhow::Result<Arc<filings::Snapshot>> {
        let version = filings::registry_version(conn).await?;
        self.get_at(conn, board_id, version).await
    }

    /// [`Snapshots::get`] when the registry's (instance, version) has just been read.
    pub async fn get_at(
        &self,
        conn: &mut sqlx::PgConnection,
        board_id: i64,
        (instance, version): (i64, i64),
    ) -> anyhow::Result<Arc<filings::Snapshot>> {
        let kept = self
            .read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&(instance, board_id))
            .cloned();
        if let Some((at, snapshot)) = kept {
            if at == version {
                return Ok(snapshot);
            }
        }
        let snapshot = Arc::new(filings::snapshot(conn, board_id).await?);
        self.read
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert((instance, board_id), (version, snapshot.clone()));
        Ok(snapshot)
    }
}
