//! Invitations and the attendance register against a real PostgreSQL and the example
//! board: invitations at T−28 to every circulation member, once; a time change sends
//! SEQUENCE 1 and a cancellation SEQUENCE 2; Outlook-style and Gmail-style calendar
//! declines, and plain replies, become the register, each acknowledged in one line.

use super::*;

use minuted::store::attendance;

/// Every invitation queued, by recipient: (to, context).
async fn invitations(pool: &PgPool) -> Vec<(String, Value)> {
    sqlx::query_as("SELECT to_address, context FROM outbox WHERE kind = 'invitation' ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The addresses of every active member who receives circulation.
async fn circulation(pool: &PgPool) -> BTreeSet<String> {
    sqlx::query_scalar(
        "SELECT a.address FROM members m
         JOIN member_addresses a ON a.member_id = m.id AND a.is_primary
         WHERE m.circulation AND m.active",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// The VEVENT's properties of an invitation's calendar, read by an iCalendar parser.
fn event_of(context: &Value) -> (String, Vec<(String, String)>) {
    let text = context["calendar"]["text"].as_str().unwrap();
    let unfolded = icalendar::parser::unfold(text);
    let calendar = icalendar::parser::read_calendar(&unfolded).unwrap();
    let method = calendar
        .properties
        .iter()
        .find(|p| p.name == "METHOD")
        .unwrap()
        .val
        .to_string();
    let event = calendar
        .components
        .iter()
        .find(|c| c.name == "VEVENT")
        .unwrap();
    let properties = event
        .properties
        .iter()
        .map(|p| (p.name.to_string(), p.val.to_string()))
        .collect();
    (method, properties)
}

fn property<'a>(properties: &'a [(String, String)], name: &str) -> &'a str {
    &properties.iter().find(|(n, _)| n == name).unwrap().1
}

/// Imports the example registry with `from` replaced by `to`.
async fn import_changed(pool: &PgPool, changes: &[(&str, &str)]) {
    let mut text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/examples/lcjb.toml"),
    )
    .unwrap();
    for (from, to) in changes {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lcjb.toml");
    std::fs::write(&path, text).unwrap();
    let registry = minuted::registry::load(&path).unwrap();
    minuted::store::registry::import(pool, &registry, "test")
        .await
        .unwrap();
}

#[tokio::test]
async fn invitations_go_once_at_t_minus_28_and_a_change_or_cancellation_sends_the_next_sequence() {
    let (_url, pool) = database().await;
    let clock = Clock::manual(at("2023-11-15T08:59:00Z"));
    let early = pass(&pool, &clock, "a").await;
    assert_eq!(early.invited.total(), 0, "{early:?}");

    clock.set(at("2023-11-15T09:00:00Z"));
    let (a, b) = tokio::join!(pass(&pool, &clock, "a"), pass(&pool, &clock, "b"));
    let everyone = circulation(&pool).await;
    assert_eq!(
        a.invited.invitations + b.invited.invitations,
        everyone.len()
    );
    let sent = invitations(&pool).await;
    let to: BTreeSet<String> = sent.iter().map(|(to, _)| to.clone()).collect();
    assert_eq!(to, everyone);
    assert_eq!(sent.len(), everyone.len(), "nobody is invited twice");
    for (to, context) in &sent {
        let (method, event) = event_of(context);
        assert_eq!(method, "REQUEST");
        assert_eq!(property(&event, "UID"), "lcjb-2023-12-13@board.example");
        assert_eq!(property(&event, "SEQUENCE"), "0");
        assert_eq!(property(&event, "DTSTART"), "20231213T100000");
        assert_eq!(property(&event, "DTEND"), "20231213T120000");
        assert!(property(&event, "LOCATION").starts_with("City Hall"));
        assert_eq!(property(&event, "ATTENDEE"), format!("mailto:{to}"));
        assert_eq!(
            context["when_text"],
            "Wednesday 13 December 2023, 10:00 to 12:00 GMT"
        );
    }
    assert_eq!(pass(&pool, &clock, "a").await.invited.total(), 0);

    // An hour later in the registry: everyone invited gets SEQUENCE 1, saying so.
    import_changed(
        &pool,
        &[(
            "time = \"10:00\"\nend = \"12:00\"",
            "time = \"11:00\"\nend = \"13:00\"",
        )],
    )
    .await;
    let moved = pass(&pool, &clock, "a").await;
    assert_eq!(moved.invited.updates, everyone.len(), "{moved:?}");
    let updates: Vec<(String, Value)> = invitations(&pool).await.split_off(sent.len());
    for (_, context) in &updates {
        let (method, event) = event_of(context);
        assert_eq!(method, "REQUEST");
        assert_eq!(property(&event, "SEQUENCE"), "1");
        assert_eq!(property(&event, "DTSTART"), "20231213T110000");
        assert_eq!(context["changed"], serde_json::json!(["time"]));
    }
    assert_eq!(pass(&pool, &clock, "a").await.invited.total(), 0);

    // Called off: a cancellation to each, and the meeting's jobs send nothing more.
    import_changed(
        &pool,
        &[
            (
                "time = \"10:00\"\nend = \"12:00\"",
                "time = \"11:00\"\nend = \"13:00\"",
            ),
            (
                "papers_deadline = \"2023-12-06\"",
                "papers_deadline = \"2023-12-06\"\ncancelled = true",
            ),
        ],
    )
    .await;
    let cancelled = pass(&pool, &clock, "a").await;
    assert_eq!(
        cancelled.invited.cancellations,
        everyone.len(),
        "{cancelled:?}"
    );
    let last: Vec<(String, Value)> = invitations(&pool).await.split_off(2 * sent.len());
    for (_, context) in &last {
        let (method, event) = event_of(context);
        assert_eq!(method, "CANCEL");
        assert_eq!(property(&event, "SEQUENCE"), "2");
        assert_eq!(property(&event, "STATUS"), "CANCELLED");
    }
    clock.set(at("2023-12-03T09:00:00Z"));
    let later = pass(&pool, &clock, "a").await;
    assert!(later.fired.is_empty(), "{later:?}");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE kind = 'update_request'"
        )
        .await,
        0
    );
}

/// A calendar answer as a client sends it: `METHOD:REPLY` with the member's PARTSTAT.
fn calendar_answer(
    from: (&str, &str),
    subject: &str,
    id: &str,
    attendee: &str,
    body: &str,
) -> Vec<u8> {
    let (name, address) = from;
    format!(
        "From: {name} <{address}>\r\n\
To: LCJB <lcjb@board.example>\r\n\
Subject: {subject}\r\n\
Date: Thu, 16 Nov 2023 10:00:00 +0000\r\n\
Message-ID: <{id}>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
{body}\r\n\
--b1\r\n\
Content-Type: text/calendar; charset=utf-8; method=REPLY\r\n\
\r\n\
BEGIN:VCALENDAR\r\n\
PRODID:-//Test client//EN\r\n\
VERSION:2.0\r\n\
METHOD:REPLY\r\n\
BEGIN:VEVENT\r\n\
UID:lcjb-2023-12-13@board.example\r\n\
SEQUENCE:0\r\n\
DTSTAMP:20231116T100000Z\r\n\
DTSTART;TZID=Europe/London:20231213T100000\r\n\
{attendee}\r\n\
SUMMARY:London Criminal Justice Board\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n\
--b1--\r\n"
    )
    .into_bytes()
}

/// A plain reply to the invitation sent to `address`.
async fn plain_answer(
    pool: &PgPool,
    from: (&str, &str),
    date: &str,
    id: &str,
    body: &str,
) -> Vec<u8> {
    answer_to(pool, "invitation", from, date, id, body).await
}

/// A plain reply to the latest email of `kind` sent to `address`.
async fn answer_to(
    pool: &PgPool,
    kind: &str,
    from: (&str, &str),
    date: &str,
    id: &str,
    body: &str,
) -> Vec<u8> {
    let (name, address) = from;
    let (message_id, reply_token): (String, String) = sqlx::query_as(
        "SELECT message_id, reply_token FROM outbox WHERE kind = $1 AND to_address = $2
         ORDER BY id DESC LIMIT 1",
    )
    .bind(kind)
    .bind(address)
    .fetch_one(pool)
    .await
    .unwrap();
    format!(
        "From: {name} <{address}>\r\n\
To: LCJB <lcjb+{reply_token}@board.example>\r\n\
Subject: RE: Invitation: London Criminal Justice Board, Wednesday 13 December 2023\r\n\
Date: {date}\r\n\
Message-ID: <{id}>\r\n\
In-Reply-To: <{message_id}>\r\nReferences: <{message_id}>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
{body}\r\n\
\r\n\
-----Original Message-----\r\n\
From: LCJB <lcjb@board.example>\r\n\
Subject: Invitation: London Criminal Justice Board\r\n\
\r\n\
You are invited.\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn calendar_declines_and_plain_replies_become_the_register_and_each_is_acknowledged() {
    let (url, pool) = database().await;
    let clock = Clock::manual(at("2023-11-15T09:00:00Z"));
    pass(&pool, &clock, "a").await;
    clock.set(at("2023-11-16T10:05:00Z"));
    let outlook = calendar_answer(
        ("Mark Rowley", "mark.rowley@met.example"),
        "Declined: Invitation: London Criminal Justice Board, Wednesday 13 December 2023, 10:00 to 12:00 GMT",
        "outlook-decline@met.example",
        "ATTENDEE;PARTSTAT=DECLINED;CN=\"Mark Rowley\":mailto:mark.rowley@met.example",
        "I am away that week.",
    );
    let gmail = calendar_answer(
        ("Kilvinder Vigurs", "kilvinder.vigurs@probation.justice.example"),
        "Declined: London Criminal Justice Board @ Wed 13 Dec 2023 10am - 12pm (GMT) (kilvinder.vigurs@probation.justice.example)",
        "gmail-decline@probation.justice.example",
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED;CN=Kilvinder \r\n Vigurs;X-NUM-GUESTS=0:mailto:kilvinder.vigurs@probation.justice.example",
        "Kilvinder Vigurs has declined this invitation.",
    );
    let deputy = plain_answer(
        &pool,
        ("Sadiq Khan", "sadiq.khan@london.example"),
        "Thu, 16 Nov 2023 10:01:00 +0000",
        "mayor-apologies@london.example",
        "Apologies, Sophie will attend for me",
    )
    .await;
    let coming = plain_answer(
        &pool,
        ("Lynne Owens", "lynne.owens@met.example"),
        "Thu, 16 Nov 2023 10:02:00 +0000",
        "lo-attends@met.example",
        "I'll attend.\r\n\r\nLynne",
    )
    .await;
    let unclear = plain_answer(
        &pool,
        ("Matt Twist", "matt.twist@met.example"),
        "Thu, 16 Nov 2023 10:03:00 +0000",
        "mt-question@met.example",
        "Is there parking at City Hall?",
    )
    .await;
    deliver(&pool, &clock, &[outlook, gmail, deputy, coming, unclear]).await;

    // Sent after the meeting had started: recorded, and marked late.
    clock.set(at("2023-12-13T10:31:00Z"));
    let late = plain_answer(
        &pool,
        ("Sophie Linden", "sophie.linden@mopac.example"),
        "Wed, 13 Dec 2023 10:30:00 +0000",
        "sl-late@mopac.example",
        "Apologies, I can't make it today.",
    )
    .await;
    deliver(&pool, &clock, &[late]).await;

    let mut conn = pool.acquire().await.unwrap();
    let view = attendance::attendance_view(&mut conn, MEETING)
        .await
        .unwrap();
    let line = |name: &str| {
        view.members
            .iter()
            .find(|m| m.member == name)
            .unwrap_or_else(|| panic!("{name} in {view:#?}"))
    };
    let mark = line("Mark Rowley");
    assert_eq!(mark.response.as_deref(), Some("apologies"));
    assert_eq!(mark.deputy.as_deref(), Some("Lynne Owens"));
    assert_eq!(mark.deputy_source.as_deref(), Some("registry"));
    assert_eq!(mark.via.as_deref(), Some("calendar"));
    let kilvinder = line("Kilvinder Vigurs");
    assert_eq!(kilvinder.response.as_deref(), Some("apologies"));
    assert_eq!(kilvinder.deputy, None);
    let sadiq = line("Sadiq Khan");
    assert_eq!(sadiq.response.as_deref(), Some("apologies"));
    assert_eq!(sadiq.deputy.as_deref(), Some("Sophie Linden"));
    assert_eq!(sadiq.deputy_source.as_deref(), Some("reply"));
    assert_eq!(sadiq.via.as_deref(), Some("words"));
    assert_eq!(line("Lynne Owens").response.as_deref(), Some("attending"));
    let sophie = line("Sophie Linden");
    assert_eq!(sophie.response.as_deref(), Some("apologies"));
    assert!(sophie.late);
    assert_eq!(
        sophie.reason.as_deref(),
        Some("Apologies, I can't make it today.")
    );
    assert_eq!(line("Matt Twist").response, None);
    assert!(!mark.late);
    assert_eq!((view.attending, view.apologies), (1, 4));

    // Each answer is acknowledged in one line; the question is told what would work.
    let acknowledged: Vec<(String, Value)> = sqlx::query_as(
        "SELECT to_address, context FROM outbox WHERE kind = 'attendance_recorded' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let said = |address: &str| {
        acknowledged
            .iter()
            .find(|(to, _)| to == address)
            .map(|(_, c)| c["recorded"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no acknowledgement to {address}: {acknowledged:?}"))
    };
    assert_eq!(acknowledged.len(), 5, "{acknowledged:?}");
    assert!(said("mark.rowley@met.example").contains("Lynne Owens, your deputy in the registry"));
    assert!(
        said("sadiq.khan@london.example").contains("with Sophie Linden attending in your place")
    );
    assert_eq!(
        said("lynne.owens@met.example"),
        "Recorded: you will attend the meeting on Wednesday 13 December 2023."
    );
    let help: Option<Value> = sqlx::query_scalar(
        "SELECT context FROM outbox WHERE kind = 'reply_help' AND to_address = 'matt.twist@met.example'",
    )
    .fetch_optional(&pool)
    .await
    .unwrap();
    let filed: Vec<(String, String, Value)> = sqlx::query_as(
        "SELECT f.kind, f.disposition, f.reasons FROM filings f
         JOIN messages m ON m.id = f.message_id
         WHERE m.from_address = 'matt.twist@met.example' AND f.current",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let help = help.unwrap_or_else(|| panic!("no answer to the question: {filed:?}"));
    assert!(
        help["would_work"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == "Apologies"),
        "{help}"
    );

    // The command line shows the same register.
    let shown = String::from_utf8(minuted_ok(&url, &["meetings", "attendance", MEETING])).unwrap();
    assert!(shown.contains("attending: 1; apologies: 4"), "{shown}");
    assert!(
        shown.contains("deputy Lynne Owens (registry, proposed)"),
        "{shown}"
    );
    assert!(shown.contains("late: after the meeting started"), "{shown}");
    let json: Value = serde_json::from_slice(&minuted_ok(
        &url,
        &["meetings", "attendance", MEETING, "--json"],
    ))
    .unwrap();
    assert_eq!(json["apologies"], 4);

    // A reply to what was recorded corrects it.
    clock.set(at("2023-11-17T09:05:00Z"));
    let change = answer_to(
        &pool,
        "attendance_recorded",
        (
            "Kilvinder Vigurs",
            "kilvinder.vigurs@probation.justice.example",
        ),
        "Fri, 17 Nov 2023 09:00:00 +0000",
        "kv-change@probation.justice.example",
        "I will attend after all.",
    )
    .await;
    deliver(&pool, &clock, &[change]).await;
    let view = attendance::attendance_view(&mut conn, MEETING)
        .await
        .unwrap();
    let kilvinder = view
        .members
        .iter()
        .find(|m| m.member == "Kilvinder Vigurs")
        .unwrap();
    assert_eq!(kilvinder.response.as_deref(), Some("attending"));
}

#[tokio::test]
async fn a_deputy_attending_in_a_members_place_gets_that_meetings_pack() {
    let (_url, pool) = database().await;
    // Sam Okafor deputises for Kilvinder Vigurs and does not receive circulation.
    import_changed(
        &pool,
        &[(
            "[[members]]\nname = \"Clare Ansdell\"",
            "[[members]]\nname = \"Sam Okafor\"\norganisation = \"HMPPS Probation\"\n\
             email = \"sam.okafor@probation.justice.example\"\ncirculation = false\n\
             deputy_of = \"Kilvinder Vigurs\"\n\n[[members]]\nname = \"Clare Ansdell\"",
        )],
    )
    .await;
    let clock = Clock::manual(at("2023-11-15T09:00:00Z"));
    pass(&pool, &clock, "a").await;
    let invited: Vec<String> = invitations(&pool)
        .await
        .into_iter()
        .map(|(to, _)| to)
        .collect();
    assert!(!invited.contains(&"sam.okafor@probation.justice.example".to_owned()));
    clock.set(at("2023-11-16T10:05:00Z"));
    let apologies = plain_answer(
        &pool,
        (
            "Kilvinder Vigurs",
            "kilvinder.vigurs@probation.justice.example",
        ),
        "Thu, 16 Nov 2023 10:01:00 +0000",
        "kv-apologies@probation.justice.example",
        "Sending my apologies - Sam Okafor will attend in my place",
    )
    .await;
    deliver(&pool, &clock, &[apologies]).await;

    clock.set(at("2023-12-06T17:00:00Z"));
    pass(&pool, &clock, "a").await;
    let (token, approver, request_id) = pack_requests(&pool)
        .await
        .into_iter()
        .find(|(_, a, _)| a == "lcjb-secretariat@mopac.example")
        .unwrap();
    clock.set(at("2023-12-06T17:30:00Z"));
    let outcome = answer(
        &pool,
        &clock,
        reply(
            &approver,
            &token,
            &request_id,
            "ok-deputy@mopac.example",
            "APPROVE",
        ),
    )
    .await;
    assert!(
        matches!(outcome, ReplyOutcome::PackApproved { .. }),
        "{outcome:?}"
    );
    let packs = sent_to(&pool, "meeting_pack").await;
    assert!(
        packs.contains(&"sam.okafor@probation.justice.example".to_owned()),
        "{packs:?}"
    );
    assert!(packs.contains(&"kilvinder.vigurs@probation.justice.example".to_owned()));
}

#[tokio::test]
async fn the_secretariat_is_told_once_when_apologies_put_the_quorum_at_risk() {
    let (_url, pool) = database().await;
    let everyone = circulation(&pool).await.len();
    // Quorate with all but one member: a second apology puts it at risk.
    let quorum = format!(
        "timezone = \"Europe/London\"\nquorum_members = {}",
        everyone - 1
    );
    import_changed(&pool, &[("timezone = \"Europe/London\"", &quorum)]).await;
    let clock = Clock::manual(at("2023-11-15T09:00:00Z"));
    pass(&pool, &clock, "a").await;
    clock.set(at("2023-11-16T10:05:00Z"));
    let first = plain_answer(
        &pool,
        (
            "Kilvinder Vigurs",
            "kilvinder.vigurs@probation.justice.example",
        ),
        "Thu, 16 Nov 2023 10:01:00 +0000",
        "kv-q@probation.justice.example",
        "Apologies",
    )
    .await;
    deliver(&pool, &clock, &[first]).await;

    // Three days before at 09:00, one apology leaves it quorate.
    clock.set(at("2023-12-10T09:00:00Z"));
    assert_eq!(pass(&pool, &clock, "a").await.quorum_warnings, 0);

    clock.set(at("2023-12-10T10:05:00Z"));
    let second = plain_answer(
        &pool,
        ("Barry Hughes", "barry.hughes@cps.example"),
        "Sun, 10 Dec 2023 10:01:00 +0000",
        "bh-q@cps.example",
        "I can't make it, sorry.",
    )
    .await;
    deliver(&pool, &clock, &[second]).await;
    assert_eq!(pass(&pool, &clock, "a").await.quorum_warnings, 1);
    assert_eq!(pass(&pool, &clock, "b").await.quorum_warnings, 0);

    let warnings: Vec<(String, Value)> = sqlx::query_as(
        "SELECT to_address, context FROM outbox WHERE kind = 'quorum_warning' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let secretariat: Vec<String> = sqlx::query_scalar(
        "SELECT a.address FROM members m JOIN member_addresses a ON a.member_id = m.id AND a.is_primary
         WHERE 'secretariat' = ANY(m.roles) AND m.active ORDER BY m.name, m.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let to: Vec<String> = warnings.iter().map(|(to, _)| to.clone()).collect();
    assert_eq!(to, secretariat);
    let context = &warnings[0].1;
    assert_eq!(context["quorum_text"], format!("{} members", everyone - 1));
    assert_eq!(
        context["expected_text"],
        format!("{} members", everyone - 2)
    );
    assert_eq!(
        context["apologies"],
        serde_json::json!(["Barry Hughes", "Kilvinder Vigurs"])
    );
}
