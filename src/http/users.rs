//! The status page's users: passwords hashed with Argon2id, checked in constant work
//! whether or not the name exists.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::store::http_users::{self, UserRow};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a user name is 1 to 64 letters, digits, dots, hyphens, underscores or @")]
    BadName,
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    ShortPassword,
    #[error("failed to hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

/// Checks a user name: what it may contain is what a person types without thinking.
pub fn check_name(name: &str) -> Result<(), UserError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if ok {
        Ok(())
    } else {
        Err(UserError::BadName)
    }
}

/// The Argon2id hash of `password`, in PHC string form.
pub fn hash(password: &str) -> Result<String, UserError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(UserError::ShortPassword);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether `password` matches the stored `hash`.
pub fn matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Adds the user, or sets a new password for an existing one (which ends their
/// sessions); true when added.
pub async fn set_password(
    pool: &PgPool,
    name: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<bool, UserError> {
    check_name(name)?;
    let hashed = hash(password)?;
    let mut conn = pool.acquire().await.map_err(crate::store::Error::from)?;
    Ok(http_users::set(&mut conn, name, &hashed, now).await?)
}

/// The user `name` when `password` is theirs. An unknown name costs the same work as a
/// wrong password, so the answer's timing does not tell which names exist.
pub async fn check(pool: &PgPool, name: &str, password: &str) -> anyhow::Result<Option<UserRow>> {
    let mut conn = pool.acquire().await?;
    let user = http_users::by_name(&mut conn, name).await?;
    let password = password.to_owned();
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matched = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => matches(&password, &hash),
        None => {
            let _ = matches(&password, UNKNOWN_USER_HASH);
            false
        }
    })
    .await?;
    Ok(user.filter(|_| matched))
}

/// A hash of no one's password, checked against when the name is unknown.
const UNKNOWN_USER_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Wm9bh7Jf0s7d7i8pS1Qe7o2h8nYwD4n3lYyX5b3e2Lk";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_kept_as_an_argon2id_hash_that_only_it_matches() {
        let hashed = hash("correct horse battery").unwrap();
        assert!(hashed.starts_with("$argon2id$"), "{hashed}");
        assert!(!hashed.contains("correct horse"));
        assert!(matches("correct horse battery", &hashed));
        assert!(!matches("correct horse batter", &hashed));
        assert!(!matches("correct horse battery", "not a hash"));
        assert!(PasswordHash::new(UNKNOWN_USER_HASH).is_ok());
        assert!(matches!(hash("short"), Err(UserError::ShortPassword)));
    }

    #[test]
    fn user_names_are_plain() {
        for ok in ["shobnam", "s.uddin", "s_uddin-2", "shobnam@lcjb.example"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "two words", "<script>", "a\nb", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
