//! What the operator and the secretariat see over HTTP, through the real daemon: health
//! and readiness, Prometheus metrics with the figures of what was filed, and the status
//! page signed in to and read in headless Chromium (Debian's `chromium`, driven over the
//! DevTools protocol).

use std::io::Write;
use std::net::TcpListener;
use std::process::Stdio;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::*;

const PASSWORD: &str = "a long secretariat password";

/// A free loopback port (bound, read, released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An agency's update the example board expects, and a member's message nobody can place.
fn inbox(dir: &Path) -> PathBuf {
    let inbox = dir.join("mail/inbox");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(inbox.join(sub)).unwrap();
    }
    std::fs::write(
        inbox.join("new/1.update"),
        "From: Kilvinder Vigurs <kilvinder.vigurs@probation.justice.example>\r\n\
         To: LCJB <lcjb@board.example>\r\n\
         Subject: [LCJB 2023-12-13] Item 2b written update from Probation\r\n\
         Date: Mon, 4 Dec 2023 09:12:00 +0000\r\n\
         Message-ID: <update-1@probation.justice.example>\r\n\r\n\
         All ten HMIP recommendations now have owners; seven are complete.\r\n",
    )
    .unwrap();
    std::fs::write(
        inbox.join("new/2.unplaced"),
        "From: Matt Twist <matt.twist@met.example>\r\n\
         To: LCJB <lcjb@board.example>\r\n\
         Subject: Written update - Items 3 and 4\r\n\
         Date: Mon, 4 Dec 2023 09:20:00 +0000\r\n\
         Message-ID: <thoughts-1@met.example>\r\n\r\n\
         One note covering both items, from the Met.\r\n",
    )
    .unwrap();
    inbox
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The value of a metric line `name` (labels included) in Prometheus text.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} not in the metrics:\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn the_operator_reads_health_and_metrics_and_the_secretariat_signs_in_to_the_status_page() {
    let chromium = std::env::var("MINUTED_TEST_CHROMIUM").expect(
        "MINUTED_TEST_CHROMIUM names Debian's chromium; run the tests with scripts/test.sh",
    );
    let dir = data_dir();
    let inbox = inbox(dir.path());
    let lcjb = repo_file("deploy/examples/lcjb.toml");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let base = format!("http://{listen}");
    // Rehearsed on 4 December 2023: the meeting of 13 December is the next one.
    let env = [
        ("MINUTED__BOARD__FILE", lcjb.to_str().unwrap()),
        ("MINUTED__MAILBOX__PATH", inbox.to_str().unwrap()),
        ("MINUTED__HTTP__LISTEN", listen.as_str()),
        ("MINUTED_CLOCK_START", "2023-12-04T09:30:00Z"),
    ];
    let (mut daemon, _logs) = start_daemon(dir.path(), &env);

    // The status page's user, added while the daemon runs; the password on stdin.
    let mut add = minuted(dir.path())
        .args(["http", "add-user", "shobnam"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // Both messages stored and filed: the update filed, the other in triage.
        let deadline = Instant::now() + Duration::from_secs(60);
        let metrics = loop {
            let (status, text) = get(&format!("{base}/metrics")).await;
            assert_eq!(status, 200);
            if text.contains("minuted_triage_depth 1")
                && text.contains("minuted_messages_filed{kind=\"written_update\"} 1")
            {
                break text;
            }
            assert!(
                Instant::now() < deadline,
                "the messages were not filed:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        assert_eq!(metric(&metrics, "minuted_messages_stored_total"), 2.0);
        assert_eq!(metric(&metrics, "minuted_database_up"), 1.0);
        assert!(metric(&metrics, "minuted_filing_duration_seconds_count") >= 2.0);
        assert!(metric(&metrics, "minuted_ingest_duration_seconds_count") >= 1.0);
        assert!(
            metric(
                &metrics,
                "minuted_mailbox_last_contact_timestamp_seconds{folder=\"INBOX\"}"
            ) > 0.0
        );
        for series in [
            "minuted_outbox_messages{status=\"failed\"}",
            "minuted_sends_total{outcome=\"sent\"}",
            "minuted_schedule_jobs{status=\"pending\"}",
            "minuted_approval_replies_total{result=\"approved\"}",
            "minuted_outbox_oldest_due_age_seconds",
            "minuted_bounces_total",
            "minuted_mailbox_errors_total",
            "minuted_alarms_open",
        ] {
            metric(&metrics, series);
        }

        let (status, body) = get(&format!("{base}/healthz")).await;
        assert_eq!((status, body.as_str()), (200, "ok\n"));
        let (status, body) = get(&format!("{base}/readyz")).await;
        let ready: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(status, 200, "{ready}");
        assert_eq!(ready["ok"], true);
        assert_eq!(ready["triage"]["waiting"], 1);

        // Without a session the page sends the browser to sign in.
        let (status, body) = get(&format!("{base}/")).await;
        assert_eq!(status, 200);
        assert!(body.contains("Sign in"), "{body}");

        let text = signed_in_page_text(&chromium, &base, dir.path()).await;
        assert!(text.contains("signed in as shobnam"), "{text}");
        assert!(text.contains("LCJB-2023-12-13"), "{text}");
        let outstanding = text
            .lines()
            .find(|l| l.starts_with("Outstanding:"))
            .unwrap_or_else(|| panic!("no outstanding line:\n{text}"));
        for organisation in ["MPS", "CPS", "HMCTS"] {
            assert!(outstanding.contains(organisation), "{outstanding}");
        }
        assert!(!outstanding.contains("HMPPS Probation"), "{outstanding}");
        let reported = text
            .lines()
            .find(|l| l.starts_with("Updates reported:"))
            .unwrap();
        assert!(reported.contains("HMPPS Probation"), "{reported}");
        assert!(text.contains("Waiting in triage (1)"), "{text}");
        assert!(text.contains("Written update - Items 3 and 4"), "{text}");
        assert!(text.contains("matt.twist@met.example"), "{text}");

        // A wrong password is refused; after five in a row the name must wait, even with
        // the right password.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let sign_in = |password: &'static str| {
            client
                .post(format!("{base}/signin"))
                .form(&[("name", "shobnam"), ("password", password)])
                .send()
        };
        for _ in 0..5 {
            let refused = sign_in("not the password").await.unwrap();
            assert_eq!(refused.status().as_u16(), 401);
            assert!(refused
                .text()
                .await
                .unwrap()
                .contains("That name and password do not match."));
        }
        let limited = sign_in(PASSWORD).await.unwrap();
        assert_eq!(limited.status().as_u16(), 429);
        assert!(limited.headers().get("set-cookie").is_none());
        assert!(limited
            .text()
            .await
            .unwrap()
            .contains("Too many failed sign-ins. Try again in 15 minutes."));
    });

    let (status, _) = terminate(&mut daemon);
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// Opens the status page in headless Chromium, signs in through its form, and returns
/// the page's text as the browser shows it. With `MINUTED_SCREENSHOT=FILE`, also saves a
/// screenshot of the top of the page, at a phone's width, there.
async fn signed_in_page_text(chromium: &str, base: &str, dir: &Path) -> String {
    let profile = dir.join("chromium");
    let mut browser = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
            "--window-size=420,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {chromium}: {e}"));
    // Its stderr is read to the end (so it never blocks on a full pipe); the line naming
    // the DevTools socket is passed on.
    let stderr = BufReader::new(browser.stderr.take().unwrap());
    let (found, listening) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some((_, url)) = line.split_once("DevTools listening on ") {
                let _ = found.send(url.trim().to_owned());
            }
        }
    });
    let socket = listening
        .recv_timeout(Duration::from_secs(30))
        .expect("chromium did not say where its DevTools listen");
    let (mut ws, _) = tokio_tungstenite::connect_async(socket.as_str())
        .await
        .unwrap();
    let mut devtools = DevTools {
        ws: &mut ws,
        next: 0,
    };
    let target = devtools
        .call(
            "Target.createTarget",
            json!({"url": format!("{base}/")}),
            None,
        )
        .await;
    let session = devtools
        .call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
            None,
        )
        .await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = Some(session.as_str());

    devtools.wait_for(session, "/signin", "Sign in").await;
    devtools
        .evaluate(
            session,
            &format!(
                "document.getElementById('name').value = 'shobnam';
                 document.getElementById('password').value = '{PASSWORD}';
                 document.forms[0].submit(); true"
            ),
        )
        .await;
    let text = devtools.wait_for(session, "/", "Upcoming meetings").await;
    if let Ok(path) = std::env::var("MINUTED_SCREENSHOT") {
        let shot = devtools
            .call("Page.captureScreenshot", json!({"format": "png"}), session)
            .await;
        let png = decode_base64(shot["data"].as_str().unwrap());
        std::fs::write(&path, png).unwrap();
    }
    // The archive, searched from the page's box. The words are in the update's body,
    // which the daemon's indexer reads within seconds of the message being stored: until
    // then the search finds it by its subject only, so search again until it is in.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        devtools
            .evaluate(
                session,
                "document.querySelector('input[name=q]').value = 'HMIP recommendations';
                 document.querySelector('form[action=\"/search\"]').submit(); true",
            )
            .await;
        let found = devtools.wait_for(session, "/search", "best matches").await;
        if found.contains("Item 2b written update from Probation") {
            // The words in context, from the body.
            assert!(
                found.contains("HMIP recommendations now have owners"),
                "{found}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the update was never found by its words: {found}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let _ = browser.kill();
    let _ = browser.wait();
    text
}

struct DevTools<'a, S> {
    ws: &'a mut S,
    next: u64,
}

impl<S> DevTools<'_, S>
where
    S: futures::Sink<Message>
        + futures::Stream<Item = tokio_tungstenite::tungstenite::Result<Message>>
        + Unpin,
    <S as futures::Sink<Message>>::Error: std::fmt::Debug,
{
    /// Sends one DevTools command and waits for its result (events are skipped).
    async fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next += 1;
        let id = self.next;
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.ws
            .send(Message::Text(command.to_string().into()))
            .await
            .unwrap();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method}"))
                .unwrap()
                .unwrap();
            let Message::Text(text) = message else {
                continue;
            };
            let reply: Value = serde_json::from_str(&text).unwrap();
            if reply["id"] == json!(id) {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    async fn evaluate(&mut self, session: Option<&str>, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
                session,
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Waits until the page at `path` has loaded with `marker` in its text; its text.
    async fn wait_for(&mut self, session: Option<&str>, path: &str, marker: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state = self
                .evaluate(
                    session,
                    "JSON.stringify([location.pathname, document.readyState, document.body ? document.body.innerText : ''])",
                )
                .await;
            let state: Vec<String> = state
                .as_str()
                .map(|s| serde_json::from_str(s).unwrap())
                .unwrap_or_default();
            if state.len() == 3
                && state[0] == path
                && state[1] == "complete"
                && state[2].contains(marker)
            {
                return state[2].clone();
            }
            assert!(
                Instant::now() < deadline,
                "the browser did not reach {path} showing {marker:?}: {state:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text.bytes().filter(|b| *b != b'=') {
        let Some(value) = ALPHABET.iter().position(|a| *a == byte) else {
            continue;
        };
        buffer = (buffer << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}
