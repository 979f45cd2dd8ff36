use super::actions::ACTIVE_COMMITMENT;
use super::actions::BRACKET_OWNER;
use super::actions::DUE;
use super::actions::EXPLICIT_ACTION;
use super::actions::OWNER_LABEL;
use super::actions::PASSIVE_COMMITMENT;
use super::actions::REPORTING_VERB;
use super::actions::TRAILING_ACTION;
use super::actions::X_TO_VERB;
use super::dates::NEXT_MEETING;
use super::dates::YEAR;
use super::items::find_items;
use super::items::item_word_heading;
use super::items::ITEM_WORD;
use super::lines::sentences;
use super::lines::ACTIONS_HEADING;
use super::lines::APOLOGIES_HEADING;
use super::lines::ATTENDEES_HEADING;
use super::lines::BULLET;
use super::lines::NO_APOLOGIES;
use super::people::initials_of;
use super::people::parse_person;
use super::*;
use crate::domain::board::Member;

fn ctx() -> ParseContext {
    ParseContext::default()
}

#[test]
fn every_pattern_compiles() {
    for re in [
        &*BULLET,
        &*ATTENDEES_HEADING,
        &*APOLOGIES_HEADING,
        &*NO_APOLOGIES,
        &*ACTIONS_HEADING,
        &*ITEM_WORD,
        &*YEAR,
        &*NEXT_MEETING,
        &*EXPLICIT_ACTION,
        &*TRAILING_ACTION,
        &*OWNER_LABEL,
        &*BRACKET_OWNER,
        &*X_TO_VERB,
        &*PASSIVE_COMMITMENT,
        &*ACTIVE_COMMITMENT,
        &*DUE,
        &*REPORTING_VERB,
    ] {
        assert_ne!(re.as_str(), "$^");
    }
}

#[test]
fn attendee_lines_in_both_seed_styles_parse() {
    let p = parse_person("Sophie Linden, DMPC (Chair)", &ctx()).unwrap();
    assert_eq!(
        (
            p.name.as_str(),
            p.role.as_deref(),
            p.organisation.as_deref()
        ),
        ("Sophie Linden", Some("Chair"), Some("DMPC"))
    );
    let p = parse_person(
        "Dame Lynne Owens (LO) - Deputy Commissioner of the MPS",
        &ctx(),
    )
    .unwrap();
    assert_eq!(p.name, "Lynne Owens");
    assert_eq!(p.title.as_deref(), Some("Dame"));
    assert_eq!(p.initials.as_deref(), Some("LO"));
    assert_eq!(p.role.as_deref(), Some("Deputy Commissioner of the MPS"));
    let p = parse_person("Will Balakrishnan (WB) - Director, C&P, MOPAC", &ctx()).unwrap();
    assert_eq!(
        (p.role.as_deref(), p.organisation.as_deref()),
        (Some("Director, C&P"), Some("MOPAC"))
    );
    let p = parse_person("Kris Venkatasami (Kris V) - CPS S", &ctx()).unwrap();
    assert_eq!(
        (p.initials.as_deref(), p.organisation.as_deref()),
        (Some("Kris V"), Some("CPS S"))
    );
    let p = parse_person("Diana Luchford, MOPAC CEO", &ctx()).unwrap();
    assert_eq!(
        (p.role.as_deref(), p.organisation.as_deref()),
        (Some("CEO"), Some("MOPAC"))
    );
    let p = parse_person("Cmdr. Nick John, MPS", &ctx()).unwrap();
    assert_eq!(
        (p.name.as_str(), p.title.as_deref()),
        ("Nick John", Some("Cmdr."))
    );
    let p = parse_person("Leah Simms, HMPPS, Probation", &ctx()).unwrap();
    assert_eq!(p.organisation.as_deref(), Some("HMPPS, Probation"));
}

#[test]
fn headings_and_sentences_are_not_people() {
    for text in [
        "Item 1 - Welcome",
        "Welcome and introductions",
        "Key information",
        "Publication type: General",
        "MOPAC CEO",
        "The Chair welcomed members.",
        "Contents",
    ] {
        assert!(parse_person(text, &ctx()).is_none(), "{text}");
    }
}

#[test]
fn initials_are_recognised_only_when_they_fit_the_name() {
    assert!(initials_of("DWB", "Debbie Weekes-Bernard"));
    assert!(initials_of("JG", "Jane E Garvan"));
    assert!(initials_of("CSt", "Connie Stygall"));
    assert!(initials_of("Kris V", "Kris Venkatasami"));
    assert!(!initials_of("MPS", "John Smith"));
    assert!(!initials_of("Chair", "Claire Hughes"));
}

#[test]
fn item_headings_keep_their_numbers_as_written() {
    assert_eq!(
        item_word_heading("1. Item 1 - Welcome, minutes and previous actions"),
        Some(("1".into(), "Welcome, minutes and previous actions".into()))
    );
    assert_eq!(
        item_word_heading("Item 2a. Update on the LCJB Serious Case Review task and finish group")
            .map(|x| x.0),
        Some("2a".into())
    );
    assert_eq!(
        item_word_heading("Item 2.b Update from Probation").map(|x| x.0),
        Some("2.b".into())
    );
    assert_eq!(
        item_word_heading("Agenda Item 4: Finance").map(|x| x.1),
        Some("Finance".into())
    );
    let numbers = |text: &str| -> Vec<(String, String)> {
        let mut lines = prepare_lines(text);
        find_items(&mut lines)
            .into_iter()
            .map(|i| (i.number, i.title))
            .collect()
    };
    assert_eq!(
        numbers(
            "3. Performance report\n3.1 The board noted the report.\n4. Finance\n13 December 2023"
        ),
        vec![
            ("3".into(), "Performance report".into()),
            ("4".into(), "Finance".into())
        ]
    );
    assert_eq!(
        numbers("45/23 Minutes of the previous meeting\n46/23 Finance. The accounts were noted."),
        vec![
            ("45/23".into(), "Minutes of the previous meeting".into()),
            ("46/23".into(), "Finance".into())
        ]
    );
    assert_eq!(
        numbers("CSP/23/07: Serious violence duty\nCSP/23/08: Finance")[0].0,
        "CSP/23/07"
    );
    assert_eq!(item_word_heading("12/03/2024 was the date."), None);
}

#[test]
fn next_meeting_dates_resolve_their_year() {
    let text = "The final strategy will be presented in December 2023.\nThe date of the next meeting is Wednesday 13th December.";
    let s = parse(text, &ctx());
    assert_eq!(
        s.next_meeting.unwrap().date,
        NaiveDate::from_ymd_opt(2023, 12, 13)
    );
    let ctx = ParseContext {
        meeting_date: NaiveDate::from_ymd_opt(2023, 11, 20),
        ..ParseContext::default()
    };
    let s = parse("Date of next meeting: 15 January, 10am", &ctx);
    assert_eq!(
        s.next_meeting.unwrap().date,
        NaiveDate::from_ymd_opt(2024, 1, 15)
    );
    let s = parse(
        "Date of next meeting\nTuesday 5 March 2024 at 2pm, City Hall",
        &ParseContext::default(),
    );
    assert_eq!(
        s.next_meeting.unwrap().date,
        NaiveDate::from_ymd_opt(2024, 3, 5)
    );
    let s = parse("Next meeting: 05/03/2024", &ParseContext::default());
    assert_eq!(
        s.next_meeting.unwrap().date,
        NaiveDate::from_ymd_opt(2024, 3, 5)
    );
    let s = parse(
        "Themes to be discussed at the next meeting.",
        &ParseContext::default(),
    );
    assert!(s.next_meeting.is_none());
}

#[test]
fn sentences_split_at_full_stops_but_not_abbreviations() {
    assert_eq!(
        sentences("Dr. Smith spoke. The MPS agreed. e.g. this"),
        vec!["Dr. Smith spoke.", "The MPS agreed. e.g. this"]
    );
}

#[test]
fn names_match_the_registry_despite_titles_case_and_hyphens() {
    let members = vec![
        Member {
            name: "Lynne Owens".into(),
            initials: Some("LO".into()),
            organisation: Some("MPS".into()),
            ..Member::default()
        },
        Member {
            name: "Jane E Garvan".into(),
            initials: Some("JG".into()),
            organisation: None,
            ..Member::default()
        },
        Member {
            name: "Debbie Weekes-Bernard".into(),
            initials: Some("DWB".into()),
            organisation: None,
            ..Member::default()
        },
        Member {
            name: "Matt Twist".into(),
            initials: None,
            organisation: None,
            ..Member::default()
        },
    ];
    let person = |name: &str, title: Option<&str>, initials: Option<&str>| Person {
        name: name.into(),
        title: title.map(Into::into),
        initials: initials.map(Into::into),
        ..Person::default()
    };
    let structure = MinutesStructure {
        attendees: vec![
            person("Lynne Owens", Some("Dame"), Some("LO")),
            person("JANE GARVAN", None, None),
            person("Debbie Weekes Bernard", None, None),
            person("M Twist", Some("DAC"), None),
            person("Nobody Known", Some("Cllr"), None),
        ],
        ..MinutesStructure::default()
    };
    let m = match_names(&structure, &members);
    assert_eq!(m.matched.len(), 4, "{m:?}");
    assert_eq!(m.unmatched, vec!["Cllr Nobody Known".to_owned()]);
}

#[test]
fn names_match_the_registry_through_accents_initials_roles_and_organisations() {
    let members = vec![
        Member {
            name: "Zofia Wisniewska".into(),
            initials: Some("ZW".into()),
            organisation: None,
            ..Member::default()
        },
        Member {
            name: "Kris Venkatasami".into(),
            initials: Some("KV".into()),
            organisation: Some("CPS South".into()),
            ..Member::default()
        },
        Member {
            name: "Anne-Marie Clarke".into(),
            initials: None,
            organisation: None,
            ..Member::default()
        },
        Member {
            name: "Sophie Linden".into(),
            initials: Some("SL".into()),
            organisation: Some("MOPAC".into()),
            ..Member::default()
        },
    ];
    let person = |name: &str| Person {
        name: name.into(),
        ..Person::default()
    };
    let structure = MinutesStructure {
        attendees: vec![
            person("Zofia Wiśniewska"),
            person("Kris Venkatasami CPS South"),
            person("Anne Marie Clarke"),
            person("SL"),
            person("Sophie Linden Chair"),
        ],
        apologies: vec![person("Nobody Known")],
        ..MinutesStructure::default()
    };
    let m = match_names(&structure, &members);
    assert_eq!(m.matched.len(), 5, "{m:?}");
    assert_eq!(m.unmatched, vec!["Nobody Known".to_owned()]);
}

#[test]
fn a_report_is_not_an_action_and_written_actions_are_explicit() {
    let text = "Item 1 - Updates\n\
MOPAC updated that the pilot will be extended to two more boroughs.\n\
CPS South reported that the backlog would be cleared by March.\n\
ACTION: MOPAC to circulate the evaluation by October.\n\
HMCTS agreed to share the listing data with the board.\n";
    let parsed = parse(text, &ctx());
    let actions: Vec<(&str, bool)> = parsed
        .actions
        .iter()
        .map(|a| (a.text.as_str(), a.explicit))
        .collect();
    assert!(
        actions
            .iter()
            .all(|(t, _)| !t.contains("pilot will be extended") && !t.contains("backlog")),
        "{actions:?}"
    );
    assert!(actions
        .iter()
        .any(|(t, e)| *e && t.contains("circulate the evaluation")));
    assert!(actions
        .iter()
        .any(|(t, e)| !*e && t.contains("share the listing data")));
}
