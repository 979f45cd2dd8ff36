//! Actions added by hand, listed and closed on the command line; who `meetings status`
//! expects to report.

use crate::helpers::*;

#[tokio::test]
async fn actions_added_by_hand_are_listed_with_their_filters_and_as_json() {
    let (url, pool) = database().await;
    let first = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    let second = minuted_ok(
        &url,
        &[
            "actions",
            "add",
            "--meeting",
            "lcjb-2023-09-20",
            "--owner",
            "cps south",
            "--due",
            "2023-12-01",
            "--item",
            "4",
            "Report on the DA initiative",
        ],
    )
    .trim()
    .to_owned();
    assert_eq!(first, "LCJB-A1");
    assert_eq!(second, "LCJB-A2");

    let all = minuted_json(&url, &["actions", "list"]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    let a2 = &all[1];
    assert_eq!(a2["ref"], "LCJB-A2");
    assert_eq!(a2["text"], "Report on the DA initiative");
    assert_eq!(a2["owner"], "CPS South");
    assert_eq!(a2["meeting"], "LCJB-2023-09-20");
    assert_eq!(a2["item"], "4");
    assert_eq!(a2["due"], "2023-12-01");
    assert_eq!(a2["status"], "open");
    assert_eq!(a2["updates"], serde_json::json!([]));
    assert_eq!(all[0]["due"], "next meeting");
    // Due on 1 December 2023 and still open: overdue today, not on 30 November.
    assert_eq!(a2["overdue"], true);
    assert_eq!(all[0]["overdue"], false);
    let before = minuted_json(
        &url,
        &["--clock-start", "2023-11-30T12:00:00Z", "actions", "list"],
    );
    assert_eq!(before[1]["overdue"], false);

    let mps = minuted_json(&url, &["actions", "list", "--owner", "mps"]);
    assert_eq!(mps.as_array().unwrap().len(), 1);
    assert_eq!(mps[0]["ref"], "LCJB-A1");
    let none = minuted_json(&url, &["actions", "list", "--meeting", "LCJB-2023-12-13"]);
    assert_eq!(none, serde_json::json!([]));
    let limited = minuted_json(&url, &["actions", "list", "--limit", "1"]);
    assert_eq!(limited.as_array().unwrap().len(), 1);

    let table = minuted_ok(&url, &["actions", "list"]);
    assert!(
        table.contains("LCJB-A1") && table.contains("Share the custody data"),
        "{table}"
    );
    assert!(table.contains("STATUS"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("LCJB-A2") && l.contains("OVERDUE")),
        "{table}"
    );

    // Closing by hand is recorded as an update and leaves the open list.
    let done = minuted_json(
        &url,
        &[
            "actions",
            "done",
            "LCJB-A1",
            "--by",
            "tamara.barnett@mopac.example",
        ],
    );
    assert_eq!(done["status"], "done");
    assert_eq!(done["updates"][0]["kind"], "done");
    assert_eq!(done["updates"][0]["from"], "tamara.barnett@mopac.example");
    let open = minuted_json(&url, &["actions", "list", "--open"]);
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(open[0]["ref"], "LCJB-A2");
    let again = minuted(&url, &["actions", "drop", "LCJB-A1"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already done"));

    let events: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM events WHERE kind LIKE 'action.%' ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(events, ["action.added", "action.added", "action.done"]);
}

#[tokio::test]
async fn bad_input_to_actions_add_is_a_clear_error_and_adds_nothing() {
    let (url, pool) = database().await;
    let cases: [(&[&str], &str); 5] = [
        (
            &["--meeting", "LCJB-2023-09-20", "--owner", "CPS Sth", "x"],
            "CPS South",
        ),
        (
            &[
                "--meeting",
                "LCJB-2023-09-20",
                "--owner",
                "Fire Brigade",
                "x",
            ],
            "MPS",
        ),
        (
            &["--meeting", "LCJB-2031-01-01", "--owner", "MPS", "x"],
            "no meeting",
        ),
        (
            &[
                "--meeting",
                "LCJB-2023-09-20",
                "--owner",
                "MPS",
                "--item",
                "99",
                "x",
            ],
            "item 99",
        ),
        (
            &["--meeting", "LCJB-2023-09-20", "--owner", "MPS", "  "],
            "empty",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["actions", "add"];
        all.extend_from_slice(args);
        let output = minuted(&url, &all);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM actions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn meetings_status_expects_a_report_from_every_owner_of_an_open_action() {
    let (url, pool) = database().await;
    let btp = add_action(
        &url,
        "LCJB-2023-09-20",
        "BTP",
        "Brief the board on rail crime",
    );
    let mps = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    let closed = add_action(&url, "LCJB-2023-09-20", "CoLP", "Circulate the fraud paper");
    minuted_ok(&url, &["actions", "drop", &closed]);

    let status = minuted_json(&url, &["meetings", "status", "LCJB-2023-12-13"]);
    let expected = status["expected"].as_array().unwrap();
    let of = |short: &str| {
        expected
            .iter()
            .find(|e| e["organisation"] == short)
            .cloned()
    };
    let btp_report = of("BTP").expect("BTP owns an open action");
    assert_eq!(btp_report["actions"], serde_json::json!([btp]));
    assert!(of("MPS").unwrap()["actions"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(mps)));
    assert!(
        of("CoLP").is_none(),
        "a dropped action expects no report: {status}"
    );
    assert!(status["outstanding"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("BTP")));

    // BTP's update filed against the December meeting counts as its report.
    let clock = clock();
    btp_reports(&pool, &clock, &btp).await;
    let (status_of_message, kind, meeting, action, reasons) =
        filing_of(&pool, "btp-1@btp.example").await;
    assert_eq!(
        (status_of_message.as_str(), kind.as_str()),
        ("filed", "action_update"),
        "{reasons}"
    );
    assert_eq!(meeting.as_deref(), Some("LCJB-2023-12-13"));
    assert_eq!(action.as_deref(), Some(btp.as_str()));
    let status = minuted_json(&url, &["meetings", "status", "LCJB-2023-12-13"]);
    assert!(
        !status["outstanding"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("BTP")),
        "{status}"
    );
}

/// BTP's update on action `btp`, from its member, delivered and filed (Message-ID
/// `btp-1@btp.example`).
async fn btp_reports(pool: &sqlx::PgPool, clock: &minuted::clock::Clock, btp: &str) {
    deliver(
        pool,
        clock,
        &[email(
            "Charlie Doyle <charlie.doyle@btp.example>",
            &format!("{btp} update"),
            "btp-1@btp.example",
            None,
            "Update: the rail crime briefing is drafted and will be ready next week.",
        )],
    )
    .await;
}

#[tokio::test]
async fn filing_sees_the_register_as_soon_as_an_action_changes() {
    let (url, pool) = database().await;
    let clock = clock();
    let from = "Nick John <nick.john@met.example>";
    let body = "Update: the uplift posts are being filled.";
    // The first message files before the action exists, and fills the snapshot cache.
    deliver(
        &pool,
        &clock,
        &[email(
            from,
            "LCJB-A1 update",
            "before@met.example",
            None,
            body,
        )],
    )
    .await;
    let (.., reasons) = filing_of(&pool, "before@met.example").await;
    assert!(!reasons.to_string().contains("owned by"), "{reasons}");

    let reference = add_action(&url, "LCJB-2023-09-20", "MPS", "Fill the uplift posts");
    deliver(
        &pool,
        &clock,
        &[email(
            from,
            "LCJB-A1 update",
            "open@met.example",
            None,
            body,
        )],
    )
    .await;
    let (.., reasons) = filing_of(&pool, "open@met.example").await;
    assert!(
        reasons
            .to_string()
            .contains(&format!("{reference} is owned by MPS")),
        "{reasons}"
    );

    minuted_ok(
        &url,
        &[
            "actions",
            "drop",
            &reference,
            "--note",
            "overtaken by events",
        ],
    );
    deliver(
        &pool,
        &clock,
        &[email(
            from,
            "LCJB-A1 update",
            "dropped@met.example",
            None,
            body,
        )],
    )
    .await;
    let (.., reasons) = filing_of(&pool, "dropped@met.example").await;
    assert!(
        reasons
            .to_string()
            .contains(&format!("{reference} is already closed")),
        "{reasons}"
    );
}

#[tokio::test]
async fn render_shows_the_open_actions_the_recipients_organisation_owns() {
    let (url, _pool) = database().await;
    let mps = add_action(&url, "LCJB-2023-09-20", "MPS", "Share the custody data");
    let cps = add_action(
        &url,
        "LCJB-2023-09-20",
        "CPS",
        "Brief the court users group",
    );
    let request = minuted_ok(
        &url,
        &[
            "render",
            "update_request",
            "--meeting",
            "LCJB-2023-12-13",
            "--member",
            "mark.rowley@met.example",
        ],
    );
    assert!(
        request.contains(&format!("{mps}: Share the custody data")),
        "{request}"
    );
    assert!(
        !request.contains(&cps),
        "only the MPS's own actions: {request}"
    );
    let pack = minuted_ok(
        &url,
        &[
            "render",
            "action_pack",
            "--meeting",
            "LCJB-2023-12-13",
            "--member",
            "mark.rowley@met.example",
        ],
    );
    assert!(pack.contains(&mps), "{pack}");
}

#[tokio::test]
async fn meetings_list_shows_every_meeting_with_its_updates_and_minutes() {
    let (url, pool) = database().await;
    let btp = add_action(
        &url,
        "LCJB-2023-09-20",
        "BTP",
        "Brief the board on rail crime",
    );
    btp_reports(&pool, &clock(), &btp).await;
    sqlx::query("UPDATE meetings SET cancelled = true WHERE ref = 'LCJB-2023-02-01'")
        .execute(&pool)
        .await
        .unwrap();

    let list = minuted_json(&url, &["meetings", "list"]);
    let refs: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        ["LCJB-2023-02-01", "LCJB-2023-09-20", "LCJB-2023-12-13"]
    );
    let december = &list[2];
    assert_eq!(december["date"], "2023-12-13");
    assert_eq!(december["time"], "10:00:00");
    assert_eq!(december["papers_deadline"], "2023-12-06");
    assert_eq!(december["cancelled"], false);
    assert_eq!(december["minutes"], serde_json::Value::Null);
    // The same counts as `meetings status`: BTP has reported, the rest are outstanding.
    let status = minuted_json(&url, &["meetings", "status", "LCJB-2023-12-13"]);
    assert_eq!(december["outstanding"], status["outstanding"]);
    assert_eq!(december["reported"], 1);
    assert_eq!(
        december["expected"].as_u64().unwrap() as usize,
        status["expected"].as_array().unwrap().len()
    );
    assert_eq!(list[0]["cancelled"], true);

    let table = minuted_ok(&url, &["meetings", "list"]);
    let line = |reference: &str| {
        table
            .lines()
            .find(|l| l.starts_with(reference))
            .unwrap_or_else(|| panic!("{reference} missing: {table}"))
            .to_owned()
    };
    assert!(table.starts_with("REF "), "{table}");
    let expected = december["expected"].as_u64().unwrap();
    let december = line("LCJB-2023-12-13");
    for word in [
        "2023-12-13",
        "10:00",
        "2023-12-06",
        "scheduled",
        &format!("1 of {expected}"),
        "none",
    ] {
        assert!(december.contains(word), "{word}: {december}");
    }
    assert!(line("LCJB-2023-02-01").contains("cancelled"), "{table}");
}

#[tokio::test]
async fn a_mistyped_meeting_organisation_or_action_names_the_nearest_and_fails() {
    let (url, _pool) = database().await;
    add_action(
        &url,
        "LCJB-2023-09-20",
        "CPS South",
        "Report on the DA initiative",
    );
    let cases: [(&[&str], &str); 10] = [
        (
            &["actions", "list", "--owner", "CPS Sth"],
            "no organisation \"CPS Sth\"; did you mean CPS South?",
        ),
        (
            &["actions", "list", "--owner", "Fire Brigade"],
            "no organisation \"Fire Brigade\"; the organisations are ADASS, BTP,",
        ),
        (
            &["actions", "list", "--meeting", "LCJB-2023-12-31"],
            "no meeting \"LCJB-2023-12-31\"; did you mean LCJB-2023-12-13?",
        ),
        (
            &["actions", "done", "LCJB-A11"],
            "no action \"LCJB-A11\"; did you mean LCJB-A1?",
        ),
        (
            &["actions", "drop", "LCJB-A2"],
            "no action \"LCJB-A2\"; did you mean LCJB-A1?",
        ),
        (
            &["meetings", "status", "2023-09-20"],
            "no meeting \"2023-09-20\"; did you mean LCJB-2023-09-20?",
        ),
        (
            &["meetings", "attendance", "LCJB-2023-12-31"],
            "did you mean LCJB-2023-12-13?",
        ),
        (
            &["schedule", "list", "--meeting", "LCJB-2023-12-31"],
            "did you mean LCJB-2023-12-13?",
        ),
        (
            &["minutes", "show", "LCJB-2023-12-31"],
            "did you mean LCJB-2023-12-13?",
        ),
        (
            &["triage", "file", "1", "--organisation", "mopca"],
            "no organisation \"mopca\"; did you mean MOPAC?",
        ),
    ];
    for (args, expected) in cases {
        let output = minuted(&url, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} printed a result");
    }
    // Any case is the same name.
    let listed = minuted_json(&url, &["actions", "list", "--owner", "cps south"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn actions_list_shows_the_due_words_whole() {
    let (url, pool) = database().await;
    let reference = add_action(&url, "LCJB-2023-09-20", "HMPPS London Prisons", "Report");
    sqlx::query("UPDATE actions SET due = NULL, due_text = 'December 2023' WHERE ref = $1")
        .bind(&reference)
        .execute(&pool)
        .await
        .unwrap();
    let table = minuted_ok(&url, &["actions", "list"]);
    let line = table
        .lines()
        .find(|l| l.starts_with(&reference))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("December 2023"), "{table}");
    assert!(line.contains("HMPPS London Prisons"), "{table}");
    // The columns still line up: the header's DUE sits above the due words.
    let header = table.lines().next().unwrap();
    assert_eq!(header.find("DUE"), line.find("December 2023"), "{table}");
}
