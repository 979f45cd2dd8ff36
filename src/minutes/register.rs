//! Draft minutes against the attendance register: who the minutes list as present or
//! with apologies, compared with what members answered to the invitation. The approver
//! sees each disagreement in the approval request; nothing is changed by it.

use super::structure::{normalise_key, Person};

/// A member's answer as the register holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub member: String,
    /// `attending`, `apologies` or `tentative`.
    pub response: String,
    /// Who was to attend in their place.
    pub deputy: Option<String>,
}

/// Each way the minutes' attendance and apologies disagree with the register, in words.
pub fn mismatches(attendees: &[Person], apologies: &[Person], register: &[Answer]) -> Vec<String> {
    // Names compared as the minutes' names are matched to the registry.
    let listed = |people: &[Person], name: &str| {
        let wanted = normalise_key(name);
        people.iter().any(|p| normalise_key(&p.name) == wanted)
    };
    let mut found = Vec::new();
    for answer in register {
        let name = &answer.member;
        let present = listed(attendees, name);
        let sent_apologies = listed(apologies, name);
        match answer.response.as_str() {
            "apologies" if present => {
                found.push(format!("{name} is listed as present but sent apologies"));
            }
            "attending" if sent_apologies => {
                found.push(format!(
                    "{name} is listed with apologies but said they would attend"
                ));
            }
            "attending" if !present => {
                found.push(format!(
                    "{name} said they would attend but is not listed as present"
                ));
            }
            _ => {}
        }
        if let Some(deputy) = &answer.deputy {
            if answer.response == "apologies" && !listed(attendees, deputy) {
                found.push(format!(
                    "{deputy} was to attend for {name} but is not listed as present"
                ));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(name: &str) -> Person {
        Person {
            name: name.into(),
            title: None,
            initials: None,
            role: None,
            organisation: None,
        }
    }

    fn answer(member: &str, response: &str, deputy: Option<&str>) -> Answer {
        Answer {
            member: member.into(),
            response: response.into(),
            deputy: deputy.map(str::to_owned),
        }
    }

    #[test]
    fn each_disagreement_with_the_register_is_named() {
        let attendees = [person("Sophie Linden"), person("Lynne Owens")];
        let apologies = [person("Barry Hughes")];
        let register = [
            answer("Sophie Linden", "apologies", None),
            answer("Barry Hughes", "attending", None),
            answer("Kilvinder Vigurs", "attending", None),
            answer("Mark Rowley", "apologies", Some("Lynne Owens")),
            answer("Sadiq Khan", "apologies", Some("Jo Coleman")),
            answer("Lynne Owens", "attending", None),
        ];
        assert_eq!(
            mismatches(&attendees, &apologies, &register),
            vec![
                "Sophie Linden is listed as present but sent apologies",
                "Barry Hughes is listed with apologies but said they would attend",
                "Kilvinder Vigurs said they would attend but is not listed as present",
                "Jo Coleman was to attend for Sadiq Khan but is not listed as present",
            ]
        );
    }
}
