//! The secretariat's daily digest against a real PostgreSQL and the example board: once a
//! day at `digest.time` (08:00 in the board's zone), covering from the last digest, with
//! what arrived and how it was filed and who is still outstanding; never twice a day
//! however many workers pass; nothing on a day with nothing to say.

use super::*;

/// Every digest queued: (to, context), in order.
async fn digests(pool: &PgPool) -> Vec<(String, Value)> {
    sqlx::query_as("SELECT to_address, context FROM outbox WHERE kind = 'digest' ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn secretariat(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT a.address FROM members m
         JOIN member_addresses a ON a.member_id = m.id AND a.is_primary
         WHERE 'secretariat' = ANY(m.roles) AND m.active ORDER BY m.name",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_digest_goes_once_a_day_at_its_time_with_what_arrived_and_who_is_outstanding() {
    // 3 December 09:00: the first pass sends the day's digest (the papers deadline of
    // 6 December is within a week and every organisation is outstanding); then
    // Probation's update is filed on 4 December at 08:00.
    let (_url, pool, clock) = with_probation_update().await;
    let first = digests(&pool).await;
    let secretariat = secretariat(&pool).await;
    assert!(!secretariat.is_empty());
    assert_eq!(
        first.iter().map(|(to, _)| to.clone()).collect::<Vec<_>>(),
        secretariat,
        "3 December's digest, to the secretariat only"
    );
    let outstanding_then: Vec<String> =
        serde_json::from_value(first[0].1["outstanding"]["organisations"].clone()).unwrap();
    assert!(outstanding_then.contains(&"HMPPS Probation".to_owned()));

    clock.set(at("2023-12-04T08:30:00Z"));
    assert_eq!(pass(&pool, &clock, "a").await.digests, 1);
    assert_eq!(pass(&pool, &clock, "b").await.digests, 0, "once a day");
    let all = digests(&pool).await;
    assert_eq!(all.len(), 2 * secretariat.len());
    let today = &all[secretariat.len()].1;
    assert_eq!(today["date_text"], "Monday 4 December 2023");
    assert_eq!(
        today["since_text"], "Sunday 3 December 2023 at 09:00 GMT",
        "from the end of the last digest"
    );
    assert_eq!(today["arrived_summary"], "1 message: 1 written update");
    let arrived = today["arrived"].as_array().unwrap();
    assert_eq!(arrived.len(), 1);
    assert_eq!(
        arrived[0]["subject"],
        "Re: [LCJB 2023-12-13] Item 2.b written update"
    );
    assert_eq!(
        arrived[0]["filed_as"],
        "written update for LCJB-2023-12-13 from HMPPS Probation"
    );
    let outstanding: Vec<String> =
        serde_json::from_value(today["outstanding"]["organisations"].clone()).unwrap();
    let mut expected = expected_organisations(&pool).await;
    expected.retain(|o| o != "HMPPS Probation");
    for organisation in &expected {
        assert!(
            outstanding.contains(organisation),
            "{organisation} in {outstanding:?}"
        );
    }
    assert!(!outstanding.contains(&"HMPPS Probation".to_owned()));
    assert_eq!(
        today["outstanding"]["deadline_text"],
        "Wednesday 6 December 2023"
    );

    // The next day: nothing before 08:00, the digest at 08:00.
    clock.set(at("2023-12-05T07:59:00Z"));
    assert_eq!(pass(&pool, &clock, "a").await.digests, 0);
    clock.set(at("2023-12-05T08:00:00Z"));
    assert_eq!(pass(&pool, &clock, "a").await.digests, 1);
    let last = &digests(&pool).await.last().unwrap().1.clone();
    assert_eq!(
        last["arrived"].as_array().unwrap().len(),
        0,
        "nothing new arrived"
    );
    assert_eq!(last["arrived_summary"], "");
}

#[tokio::test]
async fn a_day_with_nothing_to_say_sends_no_digest_and_is_not_reconsidered() {
    // 1 November: no mail, nothing in triage, nothing failed, and the papers deadline
    // (6 December) is more than a week away.
    let (_url, pool) = database().await;
    let clock = Clock::manual(at("2023-11-01T09:00:00Z"));
    assert_eq!(pass(&pool, &clock, "a").await.digests, 0);
    assert!(digests(&pool).await.is_empty());
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM digests WHERE outbox_id IS NULL"
        )
        .await,
        1,
        "the day was considered once"
    );
    // Mail that arrives later the same day waits for tomorrow's digest.
    deliver(&pool, &clock, &[probation_update("unknown@board.example")]).await;
    assert_eq!(pass(&pool, &clock, "a").await.digests, 0);
    clock.set(at("2023-11-02T08:00:00Z"));
    assert_eq!(pass(&pool, &clock, "a").await.digests, 1);
    let digest = &digests(&pool).await[0].1;
    assert_eq!(digest["arrived"].as_array().unwrap().len(), 1);
    assert!(digest["outstanding"].is_null(), "{}", digest["outstanding"]);
}
