//! The Maildir source, the embedded default (`./mail/inbox`).
//!
//! `new/` is the queue: a message is read from `new/` and moved to `cur/` only after the
//! transaction that stored it has committed, so a crash in between re-reads it and the
//! database de-duplicates it. `mailbox.after` decides the name in `cur/`: `seen` adds the
//! `S` flag (`NAME:2,S`), `leave` none (`NAME:2,`), and `move:Folder` moves it into the
//! Maildir++ folder `.Folder/cur/` instead. Nothing is ever deleted. Files in `cur/` and
//! `tmp/` are never read: `tmp/` is where a delivering agent writes before its own rename.
//!
//! There is no change notification here: new mail is noticed every `mailbox.poll_seconds`.

use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{parse, Batch, Committed, Content, Fetched, Locator, MailboxSource, SourceError, Wake};
use crate::config::MailboxSettings;
use crate::shutdown::Shutdown;

/// At most this many messages, or [`BATCH_BYTES`], per batch.
const BATCH_MESSAGES: usize = 100;
const BATCH_BYTES: u64 = 8 * 1024 * 1024;
/// The most of an oversized message's header block that is kept.
const MAX_HEADER_BYTES: usize = 1024 * 1024;

pub struct MaildirSource {
    root: PathBuf,
    name: String,
    after: After,
    max_message_bytes: u64,
    poll: Duration,
    /// Files of `new/` listed at the start of this round and not yet read.
    pending: Option<VecDeque<PathBuf>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum After {
    Seen,
    Leave,
    Move(String),
}

impl MaildirSource {
    /// Opens the Maildir at `mailbox.path`, creating `new/`, `cur/` and `tmp/` if missing.
    pub fn open(settings: &MailboxSettings) -> Result<MaildirSource, SourceError> {
        let root = settings.path.clone();
        for sub in ["new", "cur", "tmp"] {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir).map_err(|source| SourceError::Io {
                context: format!("cannot create the Maildir directory {}", dir.display()),
                source,
            })?;
        }
        let absolute = std::fs::canonicalize(&root).map_err(|source| SourceError::Io {
            context: format!("cannot resolve the Maildir {}", root.display()),
            source,
        })?;
        let after = match settings.after.as_str() {
            "leave" => After::Leave,
            other => match other.strip_prefix("move:") {
                Some(folder) => After::Move(folder.to_owned()),
                None => After::Seen,
            },
        };
        Ok(MaildirSource {
            name: format!("maildir:{}", absolute.display()),
            root: absolute,
            after,
            max_message_bytes: settings.max_message_bytes,
            poll: Duration::from_secs(settings.poll_seconds.max(1)),
            pending: None,
        })
    }

    fn list_new(&self) -> Result<VecDeque<PathBuf>, SourceError> {
        let dir = self.root.join("new");
        let entries = std::fs::read_dir(&dir).map_err(|source| SourceError::Io {
            context: format!("cannot list {}", dir.display()),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        // Maildir names start with the delivery time: name order is arrival order.
        files.sort();
        Ok(files.into())
    }

    /// Reads one file: whole, or its header block when over the limit. None when it has
    /// gone (another reader moved it).
    fn read(&self, path: &Path, size: u64) -> Result<Option<Content>, SourceError> {
        let io = |source| SourceError::Io {
            context: format!("cannot read {}", path.display()),
            source,
        };
        let mut file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(io(err)),
        };
        if size > self.max_message_bytes {
            let mut head = Vec::with_capacity(64 * 1024);
            file.by_ref()
                .take(MAX_HEADER_BYTES as u64)
                .read_to_end(&mut head)
                .map_err(io)?;
            head.truncate(parse::header_end(&head));
            return Ok(Some(Content::HeadersOnly { header: head, size }));
        }
        let mut raw = Vec::with_capacity(size as usize);
        file.read_to_end(&mut raw).map_err(io)?;
        Ok(Some(Content::Whole(raw)))
    }

    fn finish_one(&self, path: &Path) -> Result<(), SourceError> {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Ok(());
        };
        // A name already carrying info (`:2,...`) keeps it; otherwise add ours.
        let base = name.split(':').next().unwrap_or(&name).to_owned();
        let (dir, flags) = match &self.after {
            After::Seen => (self.root.join("cur"), "S"),
            After::Leave => (self.root.join("cur"), ""),
            After::Move(folder) => (self.root.join(format!(".{folder}")).join("cur"), "S"),
        };
        if let After::Move(folder) = &self.after {
            for sub in ["cur", "new", "tmp"] {
                let d = self.root.join(format!(".{folder}")).join(sub);
                std::fs::create_dir_all(&d).map_err(|source| SourceError::Io {
                    context: format!("cannot create {}", d.display()),
                    source,
                })?;
            }
        }
        let target = dir.join(format!("{base}:2,{flags}"));
        match std::fs::rename(path, &target) {
            Ok(()) => Ok(()),
            // Moved by someone else since: it was stored, which is what matters.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(SourceError::Io {
                context: format!("cannot move {} to {}", path.display(), target.display()),
                source,
            }),
        }
    }
}

impl MailboxSource for MaildirSource {
    fn mailbox(&self) -> &str {
        &self.name
    }

    async fn next_batch(&mut self) -> Result<Option<Batch>, SourceError> {
        if self.pending.is_none() {
            self.pending = Some(self.list_new()?);
        }
        let mut messages = Vec::new();
        let mut bytes = 0u64;
        while let Some(path) = self.pending.as_mut().and_then(|p| p.front().cloned()) {
            let size = match std::fs::metadata(&path) {
                Ok(meta) => meta.len(),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    self.pending.as_mut().and_then(VecDeque::pop_front);
                    continue;
                }
                Err(source) => {
                    return Err(SourceError::Io {
                        context: format!("cannot stat {}", path.display()),
                        source,
                    })
                }
            };
            let counted = size.min(self.max_message_bytes);
            if !messages.is_empty()
                && (messages.len() >= BATCH_MESSAGES || bytes + counted > BATCH_BYTES)
            {
                break;
            }
            self.pending.as_mut().and_then(VecDeque::pop_front);
            let Some(content) = self.read(&path, size)? else {
                continue;
            };
            bytes += counted;
            let source_ref = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            messages.push(Fetched {
                locator: Locator::File(path),
                source_ref,
                content,
            });
        }
        if messages.is_empty() {
            // This round is over; the next call lists new/ again.
            self.pending = None;
            return Ok(None);
        }
        Ok(Some(Batch {
            source: self.name.clone(),
            folder: "new".to_owned(),
            messages,
            cursor: None,
        }))
    }

    async fn finish(&mut self, done: Committed) -> Result<(), SourceError> {
        for locator in &done.locators {
            if let Locator::File(path) = locator {
                self.finish_one(path)?;
            }
        }
        Ok(())
    }

    async fn wait_for_mail(&mut self, shutdown: &mut Shutdown) -> Result<Wake, SourceError> {
        tokio::select! {
            _ = tokio::time::sleep(self.poll) => Ok(Wake::MaybeNewMail),
            _ = shutdown.stopped() => Ok(Wake::Stopped),
        }
    }

    fn backlog(&self) -> usize {
        self.pending.as_ref().map_or(0, VecDeque::len)
    }

    async fn disconnect(&mut self) {
        self.pending = None;
    }
}
