//! The board registry file: who sits on the board, which organisations they come from,
//! which meetings are scheduled and what is on their agendas. `minuted board import FILE`
//! reads it; `minuted board show` prints what the database holds in the same terms.
//!
//! This module owns the file format (parsing with positions, validation, the validated
//! [`Registry`]) and the presentation of a board ([`BoardView`], [`render_text`]). It does
//! not touch the database: `store::registry` writes a `Registry` and reads a `BoardView`.
//!
//! Every problem is reported as `FILE:LINE:COLUMN: message` pointing at the offending
//! value, and all semantic problems are reported at once, so a secretariat fixing a file
//! does not go round the edit-import loop once per mistake.

mod check;
mod model;
mod parse;
mod view;

pub use check::Problem;
pub use model::*;
pub use parse::*;
pub use view::*;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{NaiveDate, NaiveTime};

    use super::check::line_and_column;
    use super::*;
    use crate::domain::board::MeetingHead;

    const MINIMAL: &str = r#"
[board]
slug = "lcjb"
name = "London Criminal Justice Board"
address = "lcjb@board.example"

[[organisations]]
short = "MPS"
name = "Metropolitan Police Service"
domains = ["Met.Example"]

[[organisations]]
short = "MOPAC"
name = "Mayor's Office for Policing and Crime"
domains = ["mopac.example"]

[[members]]
name = "Sophie Linden"
initials = "SL"
role = "Deputy Mayor for Policing and Crime"
organisation = "MOPAC"
email = "Sophie.Linden@mopac.example"
roles = ["chair"]

[[members]]
name = "Lynne Owens"
initials = "LO"
organisation = "MPS"
emails = ["lynne.owens@met.example", "lo@met.example"]
circulation = false
deputy_of = "Sophie Linden"

[[meetings]]
date = "2023-12-13"
time = "10:00"
title = "LCJB"
papers_deadline = "2023-12-06"

[[meetings.items]]
number = "2.b"
title = "Update from Probation"
lead = "MPS"

[[meetings.items]]
number = 4
title = "AOB"
"#;

    fn parse_ok(text: &str) -> Registry {
        match parse("t.toml", text) {
            Ok(registry) => registry,
            Err(err) => panic!("expected a valid registry, got:\n{err}"),
        }
    }

    fn problems(text: &str) -> Vec<String> {
        match parse("t.toml", text) {
            Ok(_) => panic!("expected problems, the registry was accepted"),
            Err(err) => err.problems().iter().map(Problem::to_string).collect(),
        }
    }

    /// `MINIMAL` with `from` replaced by `to` (exactly once).
    fn edited(from: &str, to: &str) -> String {
        assert_eq!(
            MINIMAL.matches(from).count(),
            1,
            "edit target {from:?} not unique"
        );
        MINIMAL.replacen(from, to, 1)
    }

    #[test]
    fn a_valid_file_parses_into_a_registry() {
        let reg = parse_ok(MINIMAL);
        assert_eq!(reg.board.slug, "lcjb");
        assert_eq!(reg.board.address.as_str(), "lcjb@board.example");
        assert_eq!(reg.organisations[0].domains, vec!["met.example"]);
        let sophie = &reg.members[0];
        assert_eq!(sophie.addresses[0].as_str(), "sophie.linden@mopac.example");
        assert_eq!(sophie.roles, vec![MemberRole::Chair]);
        assert!(sophie.circulation);
        let lynne = &reg.members[1];
        assert_eq!(lynne.roles, vec![MemberRole::Member]);
        assert_eq!(
            lynne.primary_address().map(|a| a.as_str()),
            Some("lynne.owens@met.example")
        );
        assert_eq!(lynne.addresses.len(), 2);
        assert!(!lynne.circulation);
        assert_eq!(lynne.deputy_of.as_deref(), Some("Sophie Linden"));
        let meeting = &reg.meetings[0];
        assert_eq!(meeting.date, NaiveDate::from_ymd_opt(2023, 12, 13).unwrap());
        assert_eq!(meeting.time, NaiveTime::from_hms_opt(10, 0, 0));
        assert_eq!(
            meeting.papers_deadline,
            NaiveDate::from_ymd_opt(2023, 12, 6)
        );
        assert_eq!(meeting.items[0].number, "2.b");
        assert_eq!(meeting.items[0].lead.as_deref(), Some("MPS"));
        assert_eq!(meeting.items[1].number, "4");
    }

    #[test]
    fn meeting_refs_are_the_upper_case_slug_and_the_date() {
        let cases = [
            ("lcjb", (2023, 12, 13), "LCJB-2023-12-13"),
            ("lcjb", (2024, 1, 5), "LCJB-2024-01-05"),
            ("north-east-2", (2023, 9, 20), "NORTH-EAST-2-2023-09-20"),
        ];
        for (slug, (y, m, d), expected) in cases {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(Registry::meeting_ref(slug, date), expected);
        }
    }

    #[test]
    fn toml_native_dates_and_times_are_accepted() {
        let text = edited(
            "date = \"2023-12-13\"\ntime = \"10:00\"",
            "date = 2023-12-13\ntime = 10:00:00",
        );
        let reg = parse_ok(&text);
        assert_eq!(
            reg.meetings[0].date,
            NaiveDate::from_ymd_opt(2023, 12, 13).unwrap()
        );
        assert_eq!(reg.meetings[0].time, NaiveTime::from_hms_opt(10, 0, 0));
    }

    #[test]
    fn email_and_emails_combine_with_email_first_and_repeats_dropped() {
        let text = edited(
            "emails = [\"lynne.owens@met.example\", \"lo@met.example\"]",
            "email = \"lo@met.example\"\nemails = [\"LO@met.example\", \"lynne.owens@met.example\"]",
        );
        let reg = parse_ok(&text);
        let addresses: Vec<&str> = reg.members[1]
            .addresses
            .iter()
            .map(|a| a.as_str())
            .collect();
        assert_eq!(addresses, vec!["lo@met.example", "lynne.owens@met.example"]);
    }

    #[test]
    fn roles_are_deduplicated_in_order() {
        let text = edited(
            "roles = [\"chair\"]",
            "roles = [\"secretariat\", \"chair\", \"secretariat\"]",
        );
        let reg = parse_ok(&text);
        assert_eq!(
            reg.members[0].roles,
            vec![MemberRole::Secretariat, MemberRole::Chair]
        );
    }

    #[test]
    fn toml_errors_name_the_file_line_and_column() {
        // (edit, expected "LINE:COLUMN", fragment of the message)
        let cases = [
            (
                "name = \"London Criminal Justice Board\"",
                "name = \"London",
                "4:15",
                "invalid basic string",
            ),
            (
                "slug = \"lcjb\"",
                "slug = \"lcjb\"\ncolour = \"blue\"",
                "4:1",
                "unknown field `colour`",
            ),
            (
                "circulation = false",
                "circulation = \"no\"",
                "30:15",
                "invalid type",
            ),
            ("initials = \"SL\"", "initials = 5", "19:12", "invalid type"),
            (
                "[[meetings]]",
                "[[meetings]",
                "33:11",
                "invalid table header; expected `.`, `]]`",
            ),
            (
                "title = \"AOB\"",
                "title = \"AOB\"\nowner = \"MPS\"",
                "47:1",
                "unknown field `owner`",
            ),
            (
                "domains = [\"Met.Example\"]",
                "domains = \"met.example\"",
                "10:11",
                "invalid type",
            ),
        ];
        let mut failures = Vec::new();
        for (from, to, position, fragment) in cases {
            let text = edited(from, to);
            let err = parse("reg/lcjb.toml", &text).expect_err(to);
            let shown = err.to_string();
            if !matches!(err, RegistryError::Syntax(_))
                || !shown.starts_with(&format!("reg/lcjb.toml:{position}: "))
                || !shown.contains(fragment)
                || shown.contains('\n')
            {
                failures.push(format!(
                    "{to:?}: expected {position} {fragment:?}, got {shown}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn a_missing_board_table_is_a_syntax_error() {
        let err = parse("t.toml", "[[organisations]]\nshort = \"A\"\nname = \"A\"\n").unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("t.toml:1:1: "), "{shown}");
        assert!(shown.contains("missing field `board`"), "{shown}");
    }

    #[test]
    fn semantic_errors_name_the_problem_and_its_position() {
        // (edit from, edit to, expected "LINE:COLUMN: message fragment")
        let cases: &[(&str, &str, &str)] = &[
            ("slug = \"lcjb\"", "slug = \"LCJB\"", "3:8: invalid board slug `LCJB`"),
            ("slug = \"lcjb\"", "slug = \"-x\"", "3:8: invalid board slug `-x`"),
            ("slug = \"lcjb\"", "slug = \"\"", "3:8: invalid board slug ``"),
            ("address = \"lcjb@board.example\"", "address = \"lcjb\"", "5:11: invalid email address \"lcjb\" for the board address: the address has no `@`"),
            ("name = \"London Criminal Justice Board\"", "name = \" \"", "4:8: the board name must not be empty"),
            ("address = \"lcjb@board.example\"", "address = \"lcjb@board.example\"\ntimezone = \"Europe/Lundun\"", "6:12: unknown time zone `Europe/Lundun`"),
            ("short = \"MOPAC\"", "short = \"MPS\"", "13:9: duplicate organisation short name `MPS` (first at line 8)"),
            ("domains = [\"mopac.example\"]", "domains = [\"met.example\"]", "15:12: domain `met.example` already belongs to organisation `MPS` (line 10)"),
            ("domains = [\"mopac.example\"]", "domains = [\"mopac.example\", \"MOPAC.example\"]", "15:29: domain `mopac.example` is listed twice for `MOPAC`"),
            ("domains = [\"mopac.example\"]", "domains = [\"mopac\"]", "15:12: invalid domain \"mopac\" for organisation `MOPAC`: the domain `mopac` has no dot"),
            ("organisation = \"MOPAC\"", "organisation = \"GLA\"", "21:16: member `Sophie Linden` belongs to an unknown organisation `GLA`"),
            ("organisation = \"MOPAC\"", "organisation = \"Mopac\"", "(did you mean `MOPAC`?)"),
            ("email = \"Sophie.Linden@mopac.example\"", "email = \"sophie linden@mopac.example\"", "22:9: invalid email address \"sophie linden@mopac.example\" for member `Sophie Linden`: the address contains a space"),
            ("email = \"Sophie.Linden@mopac.example\"", "email = \"sophie.linden@mopac\"", "22:9: invalid email address \"sophie.linden@mopac\" for member `Sophie Linden`: the domain `mopac` has no dot"),
            ("email = \"Sophie.Linden@mopac.example\"", "email = \"a\\r\\nBcc: x@y.example\"", "22:9: invalid email address \"a\\r\\nBcc: x@y.example\" for member `Sophie Linden`: the address contains a line break"),
            ("email = \"Sophie.Linden@mopac.example\"\n", "", "18:8: member `Sophie Linden` has no email address"),
            ("emails = [\"lynne.owens@met.example\", \"lo@met.example\"]", "emails = [\"sophie.linden@MOPAC.example\"]", "29:11: address `sophie.linden@mopac.example` of `Lynne Owens` is already the address of `Sophie Linden` (line 22)"),
            ("name = \"Lynne Owens\"", "name = \"Sophie Linden\"", "26:8: duplicate member name `Sophie Linden` (first at line 18)"),
            ("initials = \"LO\"", "initials = \"SL\"", "27:12: initials `SL` of `Lynne Owens` are already used by `Sophie Linden` (line 19)"),
            ("roles = [\"chair\"]", "roles = [\"chair\", \"president\"]", "23:19: invalid role `president` for member `Sophie Linden`: use chair, secretariat, member or observer"),
            ("roles = [\"chair\"]", "roles = []", "23:9: member `Sophie Linden` has an empty `roles` list"),
            ("deputy_of = \"Sophie Linden\"", "deputy_of = \"Sadiq Khan\"", "31:13: `deputy_of` of `Lynne Owens` names `Sadiq Khan`, who is not a member in this file"),
            ("deputy_of = \"Sophie Linden\"", "deputy_of = \"Lynne Owens\"", "31:13: member `Lynne Owens` cannot be their own deputy"),
            ("date = \"2023-12-13\"", "date = \"13/12/2023\"", "34:8: invalid meeting date \"13/12/2023\": expected a date written YYYY-MM-DD"),
            ("date = \"2023-12-13\"", "date = \"2023-02-30\"", "34:8: invalid meeting date \"2023-02-30\""),
            ("date = \"2023-12-13\"", "date = 2023-12-13T10:00:00", "34:8: invalid meeting date 2023-12-13T10:00:00"),
            ("time = \"10:00\"", "time = \"25:00\"", "35:8: invalid meeting time \"25:00\": expected HH:MM"),
            ("time = \"10:00\"", "time = \"10am\"", "35:8: invalid meeting time \"10am\""),
            ("papers_deadline = \"2023-12-06\"", "papers_deadline = \"2023-12-14\"", "37:19: papers deadline 2023-12-14 is after the meeting on 2023-12-13"),
            ("papers_deadline = \"2023-12-06\"", "papers_deadline = \"soon\"", "37:19: invalid papers deadline \"soon\""),
            ("number = 4", "number = \"2.b\"", "45:10: duplicate item number `2.b` in meeting 2023-12-13 (first at line 40)"),
            ("number = 4", "number = 4.5", "45:10: item number must be text as written on the agenda, like \"2.b\", not a float"),
            ("number = 4", "number = \"\"", "45:10: an item number must not be empty"),
            ("lead = \"MPS\"\n\n", "lead = \"CPS\"\n\n", "42:8: item 2.b of meeting 2023-12-13 is led by an unknown organisation `CPS`"),
            ("title = \"AOB\"", "title = \"\"", "46:9: an item's title must not be empty"),
        ];
        let mut failures = Vec::new();
        for (from, to, expected) in cases {
            let text = edited(from, to);
            let found = problems(&text);
            if !found
                .iter()
                .any(|p| p.starts_with("t.toml:") && p.contains(expected))
            {
                failures.push(format!(
                    "edit {to:?}: expected {expected:?}, got {found:#?}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn two_meetings_on_the_same_date_are_refused() {
        let text = format!(
            "{MINIMAL}\n[[meetings]]\ndate = \"2023-12-13\"\ntitle = \"Extraordinary LCJB\"\n"
        );
        let found = problems(&text);
        assert_eq!(
            found,
            vec!["t.toml:49:8: two meetings on 2023-12-13: the other is at line 34; a board meets at most once a day"]
        );
    }

    #[test]
    fn every_semantic_problem_is_reported_in_file_order() {
        let text = MINIMAL
            .replacen("organisation = \"MOPAC\"", "organisation = \"GLA\"", 1)
            .replacen("lead = \"MPS\"", "lead = \"HMCTS\"", 1)
            .replacen("deputy_of = \"Sophie Linden\"", "deputy_of = \"Nobody\"", 1)
            .replacen("slug = \"lcjb\"", "slug = \"LC JB\"", 1);
        let err = parse("t.toml", &text).unwrap_err();
        let lines: Vec<(usize, usize)> =
            err.problems().iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(lines, vec![(3, 8), (21, 16), (31, 13), (42, 8)]);
        assert_eq!(err.to_string().lines().count(), 4, "{err}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = edited(
            "name = \"Metropolitan Police Service\"",
            "name = \"Metropolitan Police Service\" # café’s\nbogus = 1",
        );
        let err = parse("t.toml", &text).unwrap_err();
        assert!(err.to_string().starts_with("t.toml:10:1: "), "{err}");
        assert_eq!(line_and_column("é’x\nab", 5), (1, 3));
        assert_eq!(line_and_column("é’x\nab", 8), (2, 2));
        assert_eq!(line_and_column("ab", 99), (1, 3));
    }

    #[test]
    fn load_names_the_file_it_could_not_read() {
        let err = load(Path::new("/nonexistent/registry.toml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/registry.toml: cannot read"),
            "{err}"
        );
    }

    #[test]
    fn the_example_registry_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml");
        let reg = match load(&path) {
            Ok(reg) => reg,
            Err(err) => panic!("{err}"),
        };
        assert_eq!(reg.board.slug, "lcjb");
        assert!(reg
            .members
            .iter()
            .any(|m| m.roles.contains(&MemberRole::Secretariat)));
        assert!(reg
            .members
            .iter()
            .any(|m| m.roles.contains(&MemberRole::Chair)));
        assert!(reg
            .meetings
            .iter()
            .any(|m| Registry::meeting_ref(&reg.board.slug, m.date) == "LCJB-2023-12-13"));
    }

    #[test]
    fn render_text_shows_every_section_and_marks_inactive_rows() {
        let view = BoardView {
            slug: "lcjb".into(),
            name: "London Criminal Justice Board".into(),
            address: "lcjb@board.example".into(),
            timezone: "Europe/London".into(),
            organisations: vec![
                OrganisationView {
                    short: "MPS".into(),
                    name: "Metropolitan Police Service".into(),
                    domains: vec!["met.example".into()],
                    active: true,
                },
                OrganisationView {
                    short: "NPS".into(),
                    name: "National Probation Service".into(),
                    domains: vec![],
                    active: false,
                },
            ],
            members: vec![MemberView {
                name: "Lynne Owens".into(),
                initials: Some("LO".into()),
                role: Some("Deputy Commissioner".into()),
                organisation: Some("MPS".into()),
                addresses: vec![AddressView {
                    address: "lynne.owens@met.example".into(),
                    primary: true,
                    status: "bouncing".into(),
                }],
                roles: vec!["member".into()],
                circulation: true,
                deputy_of: None,
                active: true,
            }],
            meetings: vec![MeetingView {
                head: MeetingHead {
                    meeting_ref: "LCJB-2023-12-13".into(),
                    date: NaiveDate::from_ymd_opt(2023, 12, 13).unwrap(),
                    time: NaiveTime::from_hms_opt(10, 0, 0),
                    title: "LCJB".into(),
                    papers_deadline: NaiveDate::from_ymd_opt(2023, 12, 6),
                },
                status: "scheduled".into(),
                items: vec![ItemView {
                    number: "2.b".into(),
                    title: "Update from Probation".into(),
                    lead: Some("MPS".into()),
                    active: true,
                }],
            }],
        };
        let text = render_text(&view);
        let expected = "\
London Criminal Justice Board (lcjb) <lcjb@board.example>, times in Europe/London

Organisations: 2 (1 inactive)
SHORT  NAME                         DOMAINS      ACTIVE
MPS    Metropolitan Police Service  met.example  yes
NPS    National Probation Service                no

Members: 1
NAME         INITIALS  ORGANISATION  ROLES   CIRCULATION  ADDRESSES                           DEPUTY OF  ACTIVE  ROLE
Lynne Owens  LO        MPS           member  yes          lynne.owens@met.example (bouncing)             yes     Deputy Commissioner

Meetings: 1

LCJB-2023-12-13  2023-12-13 10:00  LCJB  [scheduled, papers by 2023-12-06]
  ITEM  LEAD  ACTIVE  TITLE
  2.b   MPS   yes     Update from Probation
";
        assert_eq!(text, expected);
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["meetings"][0]["ref"], "LCJB-2023-12-13");
        assert_eq!(json["meetings"][0]["time"], "10:00:00");
    }
}
