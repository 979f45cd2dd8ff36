//! Search benchmark: `messages search` over an archive of 100,000 messages (subjects and
//! bodies of 180 words, about one in seven from board mail's vocabulary, so a board word
//! is in about a fifth of the messages; 1 % with an attachment's text), in the same run as a
//! reference: the same words found the way a database without a text index would, an
//! `ILIKE` scan of subject and body. Prints the median, 95th percentile and slowest of
//! each over the same queries.
//!
//! Run it with `scripts/bench-search.sh` (PostgreSQL from the test command).
//! `MINUTED_BENCH_MESSAGES` changes the message count.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_macros)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use minuted::store::search::{search, SearchFilter};

/// Words board mail is made of; each message draws from them at random.
const VOCABULARY: &[&str] = &[
    "update",
    "meeting",
    "board",
    "action",
    "minutes",
    "agenda",
    "item",
    "court",
    "police",
    "probation",
    "prison",
    "victim",
    "witness",
    "service",
    "report",
    "performance",
    "data",
    "backlog",
    "crown",
    "magistrates",
    "hearing",
    "listing",
    "caseload",
    "charge",
    "file",
    "quality",
    "timeliness",
    "recommendation",
    "inspection",
    "plan",
    "funding",
    "budget",
    "pilot",
    "evaluation",
    "partnership",
    "youth",
    "justice",
    "offender",
    "management",
    "remand",
    "custody",
    "bail",
    "sentence",
    "community",
    "order",
    "domestic",
    "abuse",
    "violence",
    "women",
    "girls",
    "strategy",
    "delivery",
    "workforce",
    "recruitment",
    "training",
    "estate",
    "building",
    "closure",
    "capacity",
    "digital",
    "system",
    "video",
    "link",
    "attendance",
    "apologies",
    "deputy",
    "chair",
    "secretariat",
    "paper",
    "deadline",
    "written",
    "summary",
    "risk",
    "issue",
    "progress",
    "complete",
    "owner",
    "london",
    "borough",
    "westminster",
    "harrow",
    "croydon",
    "southwark",
    "camden",
    "mayor",
    "office",
    "policing",
    "crime",
    "prosecution",
    "defence",
    "legal",
    "aid",
    "interpreter",
    "transport",
    "escort",
    "health",
    "mental",
    "liaison",
    "diversion",
    "housing",
    "employment",
    "education",
    "support",
    "outcome",
    "measure",
    "target",
    "quarter",
    "month",
    "year",
    "review",
    "agreed",
    "noted",
    "circulated",
    "discussed",
];

/// What is searched for, as a secretariat would.
const QUERIES: &[&str] = &[
    "domestic abuse pilot",
    "Harrow Crown Court closure",
    "probation caseload",
    "victim witness service",
    "remand custody",
    "\"video link\"",
    "interpreter -transport",
    "youth justice or diversion",
    "recruitment training workforce",
    "evaluation westminster",
];

const RUNS: usize = 5;

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let n: i64 = std::env::var("MINUTED_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (_url, pool) = support::fresh_database().await;
    minuted::store::migrate(&pool).await.unwrap();

    eprintln!("writing {n} messages ...");
    let started = Instant::now();
    fill(&pool, n).await;
    let (text_mb,): (f64,) = sqlx::query_as(
        "SELECT (sum(octet_length(coalesce(subject, '')) + octet_length(coalesce(body_text, '')))
                 + (SELECT coalesce(sum(octet_length(text)), 0) FROM attachments))::FLOAT8
                / 1048576 FROM messages",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    eprintln!(
        "{n} messages, {text_mb:.0} MB of text, written and indexed in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let filter = SearchFilter {
        limit: 20,
        ..SearchFilter::default()
    };
    let mut conn = pool.acquire().await.unwrap();
    // One untimed pass of each, so both start from a warm cache.
    for query in QUERIES {
        search(&mut conn, query, &filter).await.unwrap();
        reference(&mut conn, query).await;
    }
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut found = 0;
    let mut slowest: Vec<Duration> = vec![Duration::ZERO; QUERIES.len()];
    for _ in 0..RUNS {
        for (i, query) in QUERIES.iter().enumerate() {
            let at = Instant::now();
            found += search(&mut conn, query, &filter).await.unwrap().len();
            ours.push(at.elapsed());
            slowest[i] = slowest[i].max(at.elapsed());
            let at = Instant::now();
            reference(&mut conn, query).await;
            theirs.push(at.elapsed());
        }
    }
    println!(
        "search over {n} messages ({text_mb:.0} MB of text), {} queries x {RUNS} runs, 20 results each ({} found on average):",
        QUERIES.len(),
        found / ours.len()
    );
    println!(
        "  minuted messages search (full text, GIN)   {}",
        figures(&mut ours)
    );
    println!(
        "  reference: ILIKE scan of subject and body  {}",
        figures(&mut theirs)
    );
    for (query, took) in QUERIES.iter().zip(&slowest) {
        println!(
            "    slowest {:>8.1} ms  {query}",
            took.as_secs_f64() * 1000.0
        );
    }
}

/// `n` messages: board words (15 %) among 2,000 others drawn with a skew, as words are;
/// 0.5 % say "domestic abuse pilot" and 1 % carry an attachment with its own text.
async fn fill(pool: &sqlx::PgPool, n: i64) {
    let words: Vec<String> = VOCABULARY.iter().map(|w| (*w).to_owned()).collect();
    let step = 10_000;
    let mut from = 1;
    while from <= n {
        let to = (from + step - 1).min(n);
        sqlx::query(
            "INSERT INTO messages (source, received_at, raw_sha256, raw_size, raw, message_id,
                                   from_address, subject, body_text, own_text, status)
             SELECT 'bench', timestamptz '2020-01-01' + g * INTERVAL '17 minutes',
                    sha256(('bench ' || g)::BYTEA), 2000, ''::BYTEA,
                    'bench-' || g || '@bench.example',
                    'person' || (g % 500) || '@agency' || (g % 23) || '.example',
                    (SELECT string_agg(CASE WHEN random() < 0.5
                                            THEN $3[1 + floor(random() * array_length($3, 1))::INT]
                                            ELSE 'term' || floor(2000 * random() ^ 2)::INT END, ' ')
                     FROM generate_series(1, 6) WHERE g > 0),
                    body, body, 'filed'
             FROM generate_series($1::BIGINT, $2::BIGINT) g,
                  LATERAL (SELECT
                      (SELECT string_agg(CASE WHEN random() < 0.15
                                              THEN $3[1 + floor(random() * array_length($3, 1))::INT]
                                              ELSE 'term' || floor(2000 * random() ^ 2)::INT END, ' ')
                       FROM generate_series(1, 180) WHERE g > 0)
                      || CASE WHEN g % 200 = 0 THEN ' the domestic abuse pilot in Westminster' ELSE '' END
                      AS body) b",
        )
        .bind(from)
        .bind(to)
        .bind(&words)
        .execute(pool)
        .await
        .unwrap();
        from = to + 1;
    }
    sqlx::query(
        "WITH made AS (
             INSERT INTO attachments (sha256, size, content, text, text_state)
             SELECT sha256(('attachment ' || m.id)::BYTEA), 0, ''::BYTEA,
                    (SELECT string_agg(CASE WHEN random() < 0.15
                                            THEN $1[1 + floor(random() * array_length($1, 1))::INT]
                                            ELSE 'term' || floor(2000 * random() ^ 2)::INT END, ' ')
                     FROM generate_series(1, 600) WHERE m.id > 0),
                    'done'
             FROM messages m WHERE m.id % 100 = 0
             RETURNING id, sha256)
         INSERT INTO message_attachments (message_id, position, attachment_id, filename, content_type)
         SELECT m.id, 0, made.id, 'update.docx',
                'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
         FROM made JOIN messages m ON sha256(('attachment ' || m.id)::BYTEA) = made.sha256",
    )
    .bind(&words)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE messages")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("VACUUM ANALYZE attachments")
        .execute(pool)
        .await
        .unwrap();
}

/// The reference: every word of the query (quotes and operators dropped) somewhere in the
/// subject or body, newest first, as a database without a text index would find it.
async fn reference(conn: &mut sqlx::PgConnection, query: &str) {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && *w != "or")
        .map(|w| format!("%{w}%"))
        .collect();
    let _: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM messages
         WHERE (SELECT bool_and(coalesce(subject, '') ILIKE w OR coalesce(body_text, '') ILIKE w)
                FROM unnest($1::TEXT[]) w)
         ORDER BY received_at DESC LIMIT 20",
    )
    .bind(&words)
    .fetch_all(conn)
    .await
    .unwrap();
}

fn figures(times: &mut [Duration]) -> String {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
    format!(
        "median {:>8.1} ms   p95 {:>8.1} ms   slowest {:>8.1} ms",
        ms(times[times.len() / 2]),
        ms(p95),
        ms(times[times.len() - 1])
    )
}
