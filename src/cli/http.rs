//! `minuted http add-user NAME`: who may sign in to the status page.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;

use super::{print_text, with_database, HttpCommand};
use crate::clock::Clock;
use crate::config::Loaded;
use crate::http::users;

pub async fn run(command: HttpCommand, loaded: &Loaded) -> anyhow::Result<()> {
    match command {
        HttpCommand::AddUser { name } => {
            users::check_name(&name)?;
            let password = read_password()?;
            let added = with_database(loaded, async |pool| {
                Ok(users::set_password(pool, &name, &password, Clock::System.now()).await?)
            })
            .await?;
            let listen = loaded.settings.http.listen.as_deref();
            print_text(&format!(
                "{} {name}. {}\n",
                if added {
                    "Added status-page user"
                } else {
                    "New password set (earlier sessions ended) for"
                },
                match listen {
                    Some(listen) => format!("They sign in at http://{listen}/ (or through your reverse proxy)."),
                    None => "The HTTP server is off: set http.listen (e.g. \"127.0.0.1:8025\") to serve the page.".to_owned(),
                }
            ))
        }
    }
}

/// The password: asked for twice on a terminal; otherwise one line of standard input.
fn read_password() -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!(
            "Password (at least {} characters): ",
            users::MIN_PASSWORD_CHARS
        ))
        .context("failed to read the password from the terminal")?;
        let again = rpassword::prompt_password("The same password again: ")
            .context("failed to read the password from the terminal")?;
        anyhow::ensure!(
            first == again,
            "the two passwords differ; nothing was changed"
        );
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("failed to read the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    anyhow::ensure!(
        password.chars().count() >= users::MIN_PASSWORD_CHARS,
        "the password must have at least {} characters; nothing was changed",
        users::MIN_PASSWORD_CHARS
    );
    Ok(password)
}
