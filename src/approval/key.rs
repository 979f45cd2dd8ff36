//! The approval key: `approval.secret` when configured, otherwise a random key made on
//! first use and kept in `data_dir/approval.secret` (mode 0600), so the embedded defaults
//! work and tokens stay valid across restarts.
//!
//! This is the one part of `approval` that touches the file system; it does not sign or
//! verify anything (see [`super::token`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;
use rand::RngCore;

use crate::config::Settings;

/// Where the generated key is kept.
pub fn key_path(settings: &Settings) -> PathBuf {
    settings.data_dir.join("approval.secret")
}

/// The approval key as the daemon's workers hold it: read (or made) the first time it is
/// needed, then kept for the life of the process. While it cannot be had (a data
/// directory that cannot be written), each use that needs it fails with the reason, and
/// the next use tries again.
#[derive(Debug)]
pub struct ApprovalKey {
    secret: Option<Vec<u8>>,
    data_dir: PathBuf,
    key: OnceLock<Vec<u8>>,
}

impl ApprovalKey {
    pub fn new(settings: &Settings) -> ApprovalKey {
        ApprovalKey {
            secret: settings
                .approval
                .secret
                .as_ref()
                .map(|s| s.expose().as_bytes().to_vec()),
            data_dir: settings.data_dir.clone(),
            key: OnceLock::new(),
        }
    }

    pub fn get(&self) -> anyhow::Result<&[u8]> {
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        let key = match &self.secret {
            Some(secret) => secret.clone(),
            None => from_data_dir(&self.data_dir)?,
        };
        Ok(self.key.get_or_init(|| key))
    }
}

/// The key approval tokens are signed with, read (or made) now.
pub fn load_or_create(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    ApprovalKey::new(settings).get().map(<[u8]>::to_vec)
}

/// The key kept in `data_dir`, made there when there is none.
fn from_data_dir(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("approval.secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 32 => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => anyhow::bail!(
            "{} is too short to be an approval key; delete it to make a new one or set approval.secret",
            path.display()
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => {
            return Err(err).with_context(|| format!("cannot read {}", path.display()));
        }
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let key = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(key.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(key.into_bytes())
        }
        // Another process made it first: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Ok(text.trim().as_bytes().to_vec())
        }
        Err(err) => Err(err).with_context(|| format!("cannot create {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn a_key_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = crate::config::load(None, Vec::new()).unwrap().settings;
        settings.data_dir = dir.path().join("data");
        let first = super::load_or_create(&settings).unwrap();
        let second = super::load_or_create(&settings).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(super::key_path(&settings))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
