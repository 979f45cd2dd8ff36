//! The board registry against a real PostgreSQL: importing `deploy/examples/lcjb.toml`,
//! re-importing it and edited versions of it, refusing broken files, and `board show`.
//! Each test gets its own database (`MINUTED_TEST_DATABASE_URL` names the server).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use minuted::registry::{self, BoardView, MemberView, Registry};
use minuted::store::{self, registry::Counts, registry::ImportSummary};
use serde_json::Value;
use sqlx::PgPool;

const BIN: &str = env!("CARGO_BIN_EXE_minuted");

const TABLES: [&str; 8] = [
    "boards",
    "organisations",
    "organisation_domains",
    "members",
    "member_addresses",
    "meetings",
    "agenda_items",
    "events",
];

fn example_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml")
}

fn example_text() -> String {
    std::fs::read_to_string(example_path()).unwrap()
}

fn example() -> Registry {
    registry::load(&example_path()).unwrap_or_else(|err| panic!("{err}"))
}

/// The example as a TOML table, for tests that edit it.
fn example_table() -> toml::Table {
    example_text().parse().unwrap()
}

fn parse_table(table: &toml::Table) -> Registry {
    let text = toml::to_string(table).unwrap();
    registry::parse("edited.toml", &text).unwrap_or_else(|err| panic!("{err}"))
}

fn array<'a>(table: &'a mut toml::Table, key: &str) -> &'a mut Vec<toml::Value> {
    table.get_mut(key).unwrap().as_array_mut().unwrap()
}

fn entry_named<'a>(entries: &'a mut [toml::Value], key: &str, value: &str) -> &'a mut toml::Table {
    entries
        .iter_mut()
        .map(|e| e.as_table_mut().unwrap())
        .find(|e| e.get(key).and_then(|v| v.as_str()) == Some(value))
        .unwrap_or_else(|| panic!("no entry with {key} = {value:?}"))
}

async fn database() -> (String, PgPool) {
    let (url, pool) = support::fresh_database().await;
    store::migrate(&pool).await.unwrap();
    (url, pool)
}

async fn import(pool: &PgPool, reg: &Registry) -> ImportSummary {
    store::registry::import(pool, reg, "test").await.unwrap()
}

async fn show(pool: &PgPool) -> BoardView {
    store::registry::show(pool, None).await.unwrap()
}

/// Every row of every registry table and of the audit log, as JSON, `updated_at`
/// included: equal snapshots mean nothing was written.
async fn snapshot(pool: &PgPool) -> BTreeMap<&'static str, Value> {
    let mut tables = BTreeMap::new();
    for table in TABLES {
        let rows: Value = sqlx::query_scalar(&format!(
            "SELECT COALESCE(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::TEXT), '[]')
             FROM {table} t"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        tables.insert(table, rows);
    }
    tables
}

async fn event_kinds(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT kind FROM events ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn member<'a>(view: &'a BoardView, name: &str) -> &'a MemberView {
    let found: Vec<&MemberView> = view.members.iter().filter(|m| m.name == name).collect();
    assert_eq!(found.len(), 1, "{name} should be shown exactly once");
    found[0]
}

fn addresses(member: &MemberView) -> Vec<&str> {
    member
        .addresses
        .iter()
        .map(|a| a.address.as_str())
        .collect()
}

fn counts(added: usize, updated: usize, deactivated: usize, unchanged: usize) -> Counts {
    Counts {
        added,
        updated,
        deactivated,
        unchanged,
    }
}

#[tokio::test]
async fn importing_the_example_twice_changes_nothing_the_second_time() {
    let (_url, pool) = database().await;
    let reg = example();
    let items: usize = reg.meetings.iter().map(|m| m.items.len()).sum();

    let first = import(&pool, &reg).await;
    assert_eq!(first.board, "lcjb");
    assert_eq!(
        first.organisations,
        counts(reg.organisations.len(), 0, 0, 0)
    );
    assert_eq!(first.members, counts(reg.members.len(), 0, 0, 0));
    assert_eq!(first.meetings, counts(reg.meetings.len(), 0, 0, 0));
    assert_eq!(first.items, counts(items, 0, 0, 0));
    let kinds = event_kinds(&pool).await;
    assert_eq!(kinds.first().map(String::as_str), Some("board.added"));
    assert_eq!(kinds.last().map(String::as_str), Some("board.imported"));
    let added_members = kinds.iter().filter(|k| *k == "member.added").count();
    assert_eq!(added_members, reg.members.len());

    let before = snapshot(&pool).await;
    let second = import(&pool, &reg).await;
    assert_eq!(
        second.organisations,
        counts(0, 0, 0, reg.organisations.len())
    );
    assert_eq!(second.members, counts(0, 0, 0, reg.members.len()));
    assert_eq!(second.meetings, counts(0, 0, 0, reg.meetings.len()));
    assert_eq!(second.items, counts(0, 0, 0, items));
    assert!(!second.changed());
    assert_eq!(
        snapshot(&pool).await,
        before,
        "the second import wrote something"
    );
}

#[tokio::test]
async fn two_imports_at_once_take_turns_and_add_everything_once() {
    let (_url, pool) = database().await;
    let reg = example();
    let (a, b) = tokio::join!(
        store::registry::import(&pool, &reg, "test-a"),
        store::registry::import(&pool, &reg, "test-b")
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let added = |s: &ImportSummary| s.members.added;
    assert_eq!(added(&a) + added(&b), reg.members.len(), "{a:?} {b:?}");
    assert!(
        a.changed() != b.changed(),
        "exactly one import should change rows"
    );
    assert_eq!(show(&pool).await.members.len(), reg.members.len());
}

#[tokio::test]
async fn every_organisation_and_person_named_in_the_seed_minutes_is_shown_exactly_once() {
    let (_url, pool) = database().await;
    import(&pool, &example()).await;
    let view = show(&pool).await;

    // Everyone the two sets of minutes name: both attendance lists, both apologies
    // lists, and "MR" of the early-2023 text (the MPS Commissioner). People who appear in
    // both (Claire Waxman, Will Balakrishnan, Tamara Barnett, Kenny Bowie, Diana Luchford,
    // Kris Venkatasami, Lionel Idan, Kilvinder Vigurs, Sinead Dervin, Ian Bickers, Debbie
    // Weekes-Bernard, Sophie Linden, Althea Loderick) appear once.
    let people = [
        // September 2023, present
        "Sophie Linden",
        "Claire Waxman",
        "Will Balakrishnan",
        "Tamara Barnett",
        "Fiona Murphy",
        "Aisha Graham-Sharif",
        "Tom Dodsworth",
        "Connie Stygall",
        "Matt Twist",
        "Nick John",
        "Andrew Wadey",
        "Leah Simms",
        "Claire Solley",
        "Kris Venkatasami",
        "Jaswant Narwal",
        "Charlie Doyle",
        "Umer Khan",
        "Helen Isaac",
        "Jo Towens",
        "Stephen McAllister",
        "Joseph Kearns",
        "Kate Langley",
        "Henry Smithers",
        "Andrea Simon",
        "Stephen Douglass",
        // September 2023, apologies
        "Diana Luchford",
        "Kenny Bowie",
        "Lionel Idan",
        "Clare Ansdell",
        "Fiona Taylor",
        "Althea Loderick",
        "Kilvinder Vigurs",
        "Jamilla Hinds-Brough",
        "Debbie Weekes-Bernard",
        "Sinead Dervin",
        "Lib Peck",
        "Ian Bickers",
        "Mo Foster",
        // early 2023, present (not already listed)
        "Sadiq Khan",
        "Lynne Owens",
        "Jas Athwal",
        "Gareth Roberts",
        "Doug Flight",
        "Jane E Garvan",
        "Shobnam Islam",
        "Darren Rodwell",
        "Jo Coleman",
        // early 2023, apologies (not already listed)
        "Claudia Sturt",
        "Barry Hughes",
        // early 2023, named in the text only
        "Mark Rowley",
    ];
    for name in people {
        let shown = member(&view, name);
        assert!(shown.active, "{name} should be active");
        assert!(!shown.addresses.is_empty(), "{name} has no address");
    }

    // Initials as the early-2023 minutes print them.
    for (name, initials) in [
        ("Sadiq Khan", "SK"),
        ("Lynne Owens", "LO"),
        ("Kilvinder Vigurs", "KV"),
        ("Kris Venkatasami", "Kris V"),
        ("Debbie Weekes-Bernard", "DWB"),
        ("Claire Waxman", "CW"),
    ] {
        assert_eq!(
            member(&view, name).initials.as_deref(),
            Some(initials),
            "{name}"
        );
    }

    // Every organisation the minutes name, by the short name the registry uses; the
    // aliases the minutes also use are in comments.
    let organisations = [
        "MOPAC",
        "GLA",
        "VCL", // Independent / London Victims' Commissioner
        "MPS",
        "HMPPS Probation",      // "HMPPS, Probation", "NPS"
        "HMPPS London Prisons", // "London Prisons"
        "ADASS",
        "CPS",
        "CPS South", // "CPS S"
        "CPS North", // "CPS N"
        "BTP",
        "CoLP",
        "HMCTS",
        "YJB",
        "EVAW",
        "London Councils",
        "Southwark Council",
        "NHS London", // "NHS England"
        "VRU",
        "MoJ",
        "HMIP",
        "HMIC",
        "DWP",
    ];
    for short in organisations {
        let found = view
            .organisations
            .iter()
            .filter(|o| o.short == short)
            .count();
        assert_eq!(
            found, 1,
            "organisation {short} should be shown exactly once"
        );
    }
    assert_eq!(view.organisations.len(), organisations.len());

    // Roles: the two chairs, a secretariat that can approve.
    assert_eq!(member(&view, "Sadiq Khan").roles, vec!["chair"]);
    assert_eq!(member(&view, "Sophie Linden").roles, vec!["chair"]);
    assert_eq!(
        member(&view, "Sophie Linden").deputy_of.as_deref(),
        Some("Sadiq Khan")
    );
    let secretariat = member(&view, "LCJB Secretariat");
    assert_eq!(secretariat.roles, vec!["secretariat"]);
    assert_eq!(
        addresses(secretariat),
        vec!["lcjb-secretariat@mopac.example"]
    );
    assert!(secretariat.circulation);

    // The meetings and the next one's agenda.
    let refs: Vec<&str> = view
        .meetings
        .iter()
        .map(|m| m.head.meeting_ref.as_str())
        .collect();
    assert_eq!(
        refs,
        vec!["LCJB-2023-02-01", "LCJB-2023-09-20", "LCJB-2023-12-13"]
    );
    let september = &view.meetings[1];
    let numbers: Vec<&str> = september.items.iter().map(|i| i.number.as_str()).collect();
    assert_eq!(numbers, vec!["1", "2", "2a", "2.b", "2.c", "3", "4", "5"]);
    assert_eq!(september.items[3].lead.as_deref(), Some("HMPPS Probation"));
    let december = &view.meetings[2];
    assert_eq!(
        december.head.time.map(|t| t.to_string()).as_deref(),
        Some("10:00:00")
    );
    assert_eq!(
        december
            .head
            .papers_deadline
            .map(|d| d.to_string())
            .as_deref(),
        Some("2023-12-06")
    );
    assert_eq!(december.status, "scheduled");

    let text = registry::render_text(&view);
    assert!(text.contains("LCJB-2023-12-13"), "{text}");
    assert!(text.contains("Kilvinder Vigurs"), "{text}");
}

#[tokio::test]
async fn a_member_removed_from_the_file_is_marked_inactive_and_kept() {
    let (_url, pool) = database().await;
    import(&pool, &example()).await;

    let mut table = example_table();
    array(&mut table, "members")
        .retain(|m| m.get("name").and_then(|v| v.as_str()) != Some("Fiona Murphy"));
    let summary = import(&pool, &parse_table(&table)).await;
    assert_eq!(summary.members.deactivated, 1);
    assert_eq!(summary.members.updated, 0);
    assert_eq!(summary.members.added, 0);

    let view = show(&pool).await;
    let fiona = member(&view, "Fiona Murphy");
    assert!(!fiona.active);
    assert_eq!(addresses(fiona), vec!["fiona.murphy@mopac.example"]);
    let kinds = event_kinds(&pool).await;
    assert_eq!(
        kinds[kinds.len() - 2..],
        ["member.deactivated".to_owned(), "board.imported".to_owned()]
    );

    // Importing the shortened file again is a no-op.
    let before = snapshot(&pool).await;
    let again = import(&pool, &parse_table(&table)).await;
    assert!(!again.changed(), "{again:?}");
    assert_eq!(snapshot(&pool).await, before);
}

#[tokio::test]
async fn a_member_added_back_to_the_file_is_reactivated() {
    let (_url, pool) = database().await;
    let reg = example();
    import(&pool, &reg).await;
    let mut table = example_table();
    array(&mut table, "members")
        .retain(|m| m.get("name").and_then(|v| v.as_str()) != Some("Fiona Murphy"));
    import(&pool, &parse_table(&table)).await;

    let summary = import(&pool, &reg).await;
    assert_eq!(summary.members, counts(0, 1, 0, reg.members.len() - 1));
    let view = show(&pool).await;
    assert!(member(&view, "Fiona Murphy").active);
    let detail: Value = sqlx::query_scalar(
        "SELECT detail FROM events WHERE kind = 'member.reactivated' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(detail["name"], "Fiona Murphy");
    assert_eq!(detail["changes"]["active"]["after"], true);
}

#[tokio::test]
async fn organisations_and_agenda_items_removed_from_the_file_are_deactivated_then_reactivated() {
    let (_url, pool) = database().await;
    let reg = example();
    import(&pool, &reg).await;

    let mut table = example_table();
    array(&mut table, "organisations")
        .retain(|o| o.get("short").and_then(|v| v.as_str()) != Some("DWP"));
    let december = entry_named(array(&mut table, "meetings"), "date", "2023-12-13");
    array(december, "items").retain(|i| i.get("number").and_then(|v| v.as_str()) != Some("5"));
    let summary = import(&pool, &parse_table(&table)).await;
    assert_eq!(summary.organisations.deactivated, 1);
    assert_eq!(summary.items.deactivated, 1);
    // Item 6 moved up a place.
    assert_eq!(summary.items.updated, 1);

    let view = show(&pool).await;
    let dwp = view
        .organisations
        .iter()
        .find(|o| o.short == "DWP")
        .unwrap();
    assert!(!dwp.active);
    assert_eq!(dwp.domains, vec!["dwp.example"]);
    let december = &view.meetings[2];
    let item5 = december.items.iter().find(|i| i.number == "5").unwrap();
    assert!(!item5.active);

    let summary = import(&pool, &reg).await;
    assert_eq!(summary.organisations.updated, 1);
    assert_eq!(summary.items.updated, 2);
    let view = show(&pool).await;
    assert!(view.organisations.iter().all(|o| o.active));
    assert!(view
        .meetings
        .iter()
        .flat_map(|m| &m.items)
        .all(|i| i.active));
}

#[tokio::test]
async fn an_address_moving_between_members_is_handled() {
    let (_url, pool) = database().await;
    let reg = example();
    import(&pool, &reg).await;

    // Two members swap addresses in one import, and a third takes over a shared mailbox
    // from someone who leaves the file: each address must end up with exactly one owner.
    let mut table = example_table();
    let members = array(&mut table, "members");
    entry_named(members, "name", "Fiona Murphy")
        .insert("email".into(), "tom.dodsworth@mopac.example".into());
    entry_named(members, "name", "Tom Dodsworth")
        .insert("email".into(), "fiona.murphy@mopac.example".into());
    let connie = entry_named(members, "name", "Connie Stygall");
    connie.remove("email");
    connie.insert(
        "emails".into(),
        toml::Value::Array(vec![
            "connie.stygall@mopac.example".into(),
            "aisha.graham-sharif@mopac.example".into(),
        ]),
    );
    members.retain(|m| m.get("name").and_then(|v| v.as_str()) != Some("Aisha Graham-Sharif"));
    let summary = import(&pool, &parse_table(&table)).await;
    assert_eq!(summary.members.updated, 3, "{summary:?}");
    assert_eq!(summary.members.deactivated, 1, "{summary:?}");

    let view = show(&pool).await;
    assert_eq!(
        addresses(member(&view, "Fiona Murphy")),
        vec!["tom.dodsworth@mopac.example"]
    );
    assert_eq!(
        addresses(member(&view, "Tom Dodsworth")),
        vec!["fiona.murphy@mopac.example"]
    );
    let connie = member(&view, "Connie Stygall");
    assert_eq!(
        addresses(connie),
        vec![
            "connie.stygall@mopac.example",
            "aisha.graham-sharif@mopac.example"
        ]
    );
    assert!(connie.addresses[0].primary && !connie.addresses[1].primary);
    let aisha = member(&view, "Aisha Graham-Sharif");
    assert!(!aisha.active);
    assert!(aisha.addresses.is_empty());

    let detail: Value = sqlx::query_scalar(
        "SELECT e.detail FROM events e JOIN members m ON m.id = e.subject_id
         WHERE e.kind = 'member.updated' AND m.name = 'Connie Stygall'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        detail["changes"]["addresses"]["moved_from"]["aisha.graham-sharif@mopac.example"],
        "Aisha Graham-Sharif"
    );

    // And back again.
    let summary = import(&pool, &reg).await;
    assert_eq!(summary.members.updated, 4, "{summary:?}");
    let view = show(&pool).await;
    assert_eq!(
        addresses(member(&view, "Aisha Graham-Sharif")),
        vec!["aisha.graham-sharif@mopac.example"]
    );
    assert_eq!(
        addresses(member(&view, "Connie Stygall")),
        vec!["connie.stygall@mopac.example"]
    );
    assert_eq!(
        addresses(member(&view, "Fiona Murphy")),
        vec!["fiona.murphy@mopac.example"]
    );
}

#[tokio::test]
async fn a_changed_field_is_updated_and_recorded_with_before_and_after() {
    let (_url, pool) = database().await;
    import(&pool, &example()).await;
    let updated_at = |name: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>(
                "SELECT updated_at FROM members WHERE name = $1",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let kate_before = updated_at("Kate Langley").await;
    let henry_before = updated_at("Henry Smithers").await;

    let mut table = example_table();
    let members = array(&mut table, "members");
    entry_named(members, "name", "Kate Langley")
        .insert("role".into(), "Head of Innovation, YJB".into());
    let summary = import(&pool, &parse_table(&table)).await;
    assert_eq!(summary.members.updated, 1);

    assert!(updated_at("Kate Langley").await > kate_before);
    assert_eq!(updated_at("Henry Smithers").await, henry_before);
    let detail: Value = sqlx::query_scalar(
        "SELECT detail FROM events WHERE kind = 'member.updated' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(detail["name"], "Kate Langley");
    assert_eq!(detail["changes"]["role"]["before"], "YJB");
    assert_eq!(
        detail["changes"]["role"]["after"],
        "Head of Innovation, YJB"
    );
    let imported: Value = sqlx::query_scalar(
        "SELECT detail FROM events WHERE kind = 'board.imported' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(imported["members"]["updated"], 1);
}

/// Runs `minuted board import FILE` against the test database.
fn board_import(url: &str, file: &Path) -> std::process::Output {
    let dir = file.parent().unwrap();
    Command::new(BIN)
        .args(["board", "import"])
        .arg(file)
        .env_remove("MINUTED_CONFIG")
        .env("DATABASE_URL", url)
        .env("MINUTED__DATA_DIR", dir.join("var"))
        .current_dir(dir)
        .output()
        .unwrap()
}

/// 1-based number of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the text"))
        + 1
}

#[tokio::test]
async fn broken_files_are_refused_naming_the_problem_and_its_place_and_change_nothing() {
    let (url, pool) = database().await;
    import(&pool, &example()).await;
    let before = snapshot(&pool).await;
    let view_before = serde_json::to_value(show(&pool).await).unwrap();

    let base = example_text();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.toml");
    let shown = file.display().to_string();

    let unterminated = format!("{base}\n[[members]\nname = \"Someone Broken\"\n");
    let unknown_key = base.replacen(
        "slug = \"lcjb\"",
        "slug = \"lcjb\"\nmotto = \"Justice for London\"",
        1,
    );
    let unknown_organisation = format!(
        "{base}\n[[members]]\nname = \"Someone New\"\norganisation = \"Interpol\"\n\
         email = \"someone@interpol.example\"\n"
    );
    let same_date =
        format!("{base}\n[[meetings]]\ndate = \"2023-12-13\"\ntitle = \"Extraordinary meeting\"\n");
    let cases = [
        (
            &unterminated,
            format!(
                "{}:{}:10: ",
                shown,
                line_of(&unterminated, "Someone Broken") - 1
            ),
            "invalid table header",
        ),
        (
            &unknown_key,
            format!("{}:{}:1: ", shown, line_of(&unknown_key, "motto =")),
            "unknown field `motto`",
        ),
        (
            &unknown_organisation,
            format!(
                "{}:{}:16: ",
                shown,
                line_of(&unknown_organisation, "\"Interpol\"")
            ),
            "member `Someone New` belongs to an unknown organisation `Interpol`",
        ),
        (
            &same_date,
            format!("{}:{}:8: ", shown, same_date.lines().count() - 1),
            "two meetings on 2023-12-13",
        ),
    ];
    for (text, place, message) in cases {
        std::fs::write(&file, text).unwrap();

        let err = registry::load(&file).expect_err(message);
        let problem = err.to_string();
        assert!(
            problem.starts_with(&place),
            "expected {place}..., got {problem}"
        );
        assert!(
            problem.contains(message),
            "expected {message:?} in {problem}"
        );

        let output = board_import(&url, &file);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{message}: the import succeeded");
        assert!(
            stderr.contains(&place),
            "expected {place} in stderr: {stderr}"
        );
        assert!(
            stderr.contains(message),
            "expected {message:?} in stderr: {stderr}"
        );
        assert!(
            output.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );

        assert_eq!(
            snapshot(&pool).await,
            before,
            "{message}: the database changed"
        );
        assert_eq!(
            serde_json::to_value(show(&pool).await).unwrap(),
            view_before
        );
    }
}

#[tokio::test]
async fn the_import_command_writes_what_the_library_writes() {
    let (url, pool) = database().await;
    let output = board_import(&url, &example_path());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let view = show(&pool).await;
    assert_eq!(view.members.len(), example().members.len());
    let again = store::registry::import(&pool, &example(), "test")
        .await
        .unwrap();
    assert!(!again.changed(), "{again:?}");
}

#[tokio::test]
async fn show_without_any_board_says_how_to_create_one() {
    let (_url, pool) = database().await;
    let err = store::registry::show(&pool, None).await.unwrap_err();
    assert!(matches!(err, store::Error::NotFound(_)), "{err}");
    assert!(
        err.to_string().contains("minuted board import FILE"),
        "{err}"
    );
    let err = store::registry::show(&pool, Some("nope"))
        .await
        .unwrap_err();
    assert!(matches!(err, store::Error::NotFound(_)), "{err}");
}
