//! The meeting, organisation or action a command was given, checked before the command
//! does anything with it: the spelling that exists (any case), or an error naming the
//! nearest that do (`text::names`), so a typo never reads as "nothing there".

use anyhow::bail;
use sqlx::PgPool;

use crate::store::names;
use crate::text::names::unknown;

/// What kind of name a command takes.
#[derive(Debug, Clone, Copy)]
pub enum Named {
    Meeting,
    Organisation,
    Action,
}

impl Named {
    fn word(self) -> &'static str {
        match self {
            Named::Meeting => "meeting",
            Named::Organisation => "organisation",
            Named::Action => "action",
        }
    }

    /// `given` as it is spelled where it exists; an error with the nearest names when
    /// nothing is called that.
    pub async fn spelled(self, pool: &PgPool, given: &str) -> anyhow::Result<String> {
        let mut conn = pool.acquire().await?;
        let known = match self {
            Named::Meeting => names::meeting_refs(&mut conn).await?,
            Named::Organisation => names::organisation_shorts(&mut conn, None).await?,
            Named::Action => names::action_refs(&mut conn).await?,
        };
        let wanted = given.trim();
        match known.iter().find(|k| k.eq_ignore_ascii_case(wanted)) {
            Some(found) => Ok(found.clone()),
            None => bail!("{}", unknown(self.word(), wanted, &known)),
        }
    }

    /// [`Named::spelled`] for an option that may be absent.
    pub async fn spelled_if_given(
        self,
        pool: &PgPool,
        given: Option<&str>,
    ) -> anyhow::Result<Option<String>> {
        match given {
            Some(given) => Ok(Some(self.spelled(pool, given).await?)),
            None => Ok(None),
        }
    }
}
