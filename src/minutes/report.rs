//! What `minuted minutes parse` (and later `minutes show`) print: a summary of a
//! revision's structure for people, and the same as JSON for scripts.
//!
//! This module owns that presentation only; parsing is [`super::structure`], storage is
//! elsewhere.

use serde::Serialize;

use super::structure::{MinutesStructure, NameMatches, Person};

/// The structure of one set of minutes as the command line shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct MinutesReport {
    /// Meeting ref (`LCJB-2023-12-13`), when the minutes are a stored revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The document read, for `minutes parse`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    pub attendees: Vec<Person>,
    pub apologies: Vec<Person>,
    pub items: Vec<ItemSummary>,
    pub actions: Vec<ActionSummary>,
    /// The date (`2023-12-13`) when the minutes give one, else what they say (`TBC`).
    pub next_meeting: Option<String>,
    /// The sentence stating the next meeting.
    pub next_meeting_text: Option<String>,
    /// Attendees and apologies not in the registry (empty without a registry).
    pub unmatched: Vec<String>,
    /// Whether names were checked against a registry (a stored revision always is).
    #[serde(default)]
    pub registry_checked: bool,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ItemSummary {
    pub number: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ActionSummary {
    pub text: String,
    pub owner: Option<String>,
    pub item: Option<String>,
    pub due: Option<String>,
    pub explicit: bool,
}

impl MinutesReport {
    /// The report of `structure`. Its actions are the candidates an approval request
    /// numbers: explicit ones (`Action:` lines, action tables) first, then those found in
    /// the text, each group in document order.
    pub fn new(structure: &MinutesStructure, matches: Option<&NameMatches>) -> Self {
        let next = structure.next_meeting.as_ref();
        let mut actions: Vec<ActionSummary> = structure
            .actions
            .iter()
            .map(|action| ActionSummary {
                text: action.text.clone(),
                owner: action.owner.clone(),
                item: action.item.clone(),
                due: action.due.clone(),
                explicit: action.explicit,
            })
            .collect();
        actions.sort_by_key(|a| !a.explicit);
        MinutesReport {
            meeting: None,
            revision: None,
            status: None,
            file: None,
            format: None,
            attendees: structure.attendees.clone(),
            apologies: structure.apologies.clone(),
            items: structure
                .items
                .iter()
                .map(|item| ItemSummary {
                    number: item.number.clone(),
                    title: item.title.clone(),
                })
                .collect(),
            actions,
            next_meeting: next.map(|n| {
                n.date
                    .map_or_else(|| n.text.clone(), |d| d.format("%Y-%m-%d").to_string())
            }),
            next_meeting_text: next.map(|n| n.text.clone()),
            unmatched: matches.map(|m| m.unmatched.clone()).unwrap_or_default(),
            registry_checked: matches.is_some(),
        }
    }

    /// A summary for people.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        let mut head = Vec::new();
        if let Some(meeting) = &self.meeting {
            head.push(meeting.clone());
        }
        if let Some(revision) = self.revision {
            head.push(format!("revision {revision}"));
        }
        if let Some(status) = &self.status {
            head.push(status.clone());
        }
        if let Some(file) = &self.file {
            let format = self.format.as_deref().unwrap_or("?");
            head.push(format!("{file} ({format})"));
        }
        if !head.is_empty() {
            line(head.join(", "));
        }
        let registry = if self.registry_checked {
            format!("{} not in the registry", self.unmatched.len())
        } else {
            "names not checked (no registry: --board FILE or board.file)".to_owned()
        };
        line(format!(
            "{} attendees, {} apologies, {} items, {} actions, {registry}",
            self.attendees.len(),
            self.apologies.len(),
            self.items.len(),
            self.actions.len(),
        ));
        line(format!(
            "next meeting: {}",
            match (&self.next_meeting, &self.next_meeting_text) {
                (Some(date), Some(text)) if date != text => format!("{date} ({text})"),
                (Some(date), _) => date.clone(),
                _ => "not stated".to_owned(),
            }
        ));
        for (heading, people) in [
            ("Attendees", &self.attendees),
            ("Apologies", &self.apologies),
        ] {
            line(String::new());
            line(format!("{heading} ({})", people.len()));
            for person in people {
                line(format!("  {}", describe(person)));
            }
        }
        line(String::new());
        line(format!("Items ({})", self.items.len()));
        for item in &self.items {
            line(format!("  {:<6} {}", item.number, item.title));
        }
        line(String::new());
        line(format!("Actions ({})", self.actions.len()));
        for (number, action) in (1..).zip(&self.actions) {
            let mut text = format!(
                "  {number:>2}. {}[{}] {}: {}",
                if action.explicit {
                    ""
                } else {
                    "(found in the text) "
                },
                action.item.as_deref().unwrap_or("-"),
                action.owner.as_deref().unwrap_or("no owner"),
                action.text
            );
            if let Some(due) = &action.due {
                text.push_str(&format!(" (due {due})"));
            }
            line(text);
        }
        if !self.unmatched.is_empty() {
            line(String::new());
            line(format!("Not in the registry ({})", self.unmatched.len()));
            for name in &self.unmatched {
                line(format!("  {name}"));
            }
        }
        out
    }
}

fn describe(person: &Person) -> String {
    let mut text = match &person.title {
        Some(title) => format!("{title} {}", person.name),
        None => person.name.clone(),
    };
    if let Some(initials) = &person.initials {
        text.push_str(&format!(" ({initials})"));
    }
    let details: Vec<&str> = [person.role.as_deref(), person.organisation.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !details.is_empty() {
        text.push_str(&format!(" - {}", details.join(", ")));
    }
    text
}
