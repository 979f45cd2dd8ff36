//! The identity provider's HTTP endpoints, the one stand-in these tests allow: a token
//! endpoint (client credentials, refresh with rotation, device code), a device-
//! authorization endpoint, and the introspection endpoint the test Dovecot asks about
//! every bearer token (`scripts/test.sh` points Dovecot's `oauth2` passdb at
//! `http://127.0.0.1:$MINUTED_TEST_IDP_PORT/introspect`).
//!
//! One per test process, shared by its tests; each test registers its own client, whose
//! tokens sign in as that test's mailbox user. Tests issue, expire, revoke and take the
//! provider down through [`Idp`]'s methods.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::support;

#[derive(Default)]
struct State {
    /// client_id -> (secret, user its tokens sign in as, expires_in it gets)
    clients: HashMap<String, Client>,
    /// access token -> (user, active)
    access: HashMap<String, (String, bool)>,
    /// refresh token -> (client_id, valid)
    refresh: HashMap<String, (String, bool)>,
    /// device_code -> (client_id, user_code, approved)
    devices: HashMap<String, (String, String, bool)>,
    /// client_id -> whether its token endpoint answers 503
    down: HashMap<String, bool>,
    /// client_id -> access tokens issued (any grant)
    requests: HashMap<String, u32>,
    counter: u64,
}

#[derive(Clone)]
struct Client {
    secret: Option<String>,
    user: String,
    expires_in: i64,
}

#[derive(Clone)]
pub struct Idp {
    state: Arc<Mutex<State>>,
    pub port: u16,
}

static IDP: OnceLock<Idp> = OnceLock::new();

impl Idp {
    /// The provider of this test process, listening on `MINUTED_TEST_IDP_PORT`.
    pub fn shared() -> Idp {
        IDP.get_or_init(|| {
            let port = support::env_port("MINUTED_TEST_IDP_PORT");
            let idp = Idp {
                state: Arc::new(Mutex::new(State::default())),
                port,
            };
            let serving = idp.clone();
            // Its own runtime on its own thread: each #[tokio::test] has a runtime that
            // ends with the test.
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(serving.serve());
            });
            std::thread::sleep(std::time::Duration::from_millis(100));
            idp
        })
        .clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    pub fn register(&self, client_id: &str, secret: Option<&str>, user: &str, expires_in: i64) {
        self.state.lock().unwrap().clients.insert(
            client_id.to_owned(),
            Client {
                secret: secret.map(str::to_owned),
                user: user.to_owned(),
                expires_in,
            },
        );
    }

    /// Every access token issued to `client_id`'s user stops working.
    pub fn revoke_access(&self, user: &str) {
        let mut state = self.state.lock().unwrap();
        for (owner, active) in state.access.values_mut() {
            if owner == user {
                *active = false;
            }
        }
    }

    /// Every refresh token of `client_id` stops working (consent withdrawn).
    pub fn revoke_grant(&self, client_id: &str) {
        let mut state = self.state.lock().unwrap();
        for (owner, valid) in state.refresh.values_mut() {
            if owner == client_id {
                *valid = false;
            }
        }
    }

    pub fn set_down(&self, client_id: &str, down: bool) {
        self.state
            .lock()
            .unwrap()
            .down
            .insert(client_id.to_owned(), down);
    }

    /// The person enters `user_code` and consents.
    pub fn approve(&self, user_code: &str) -> bool {
        let mut state = self.state.lock().unwrap();
        let mut found = false;
        for (_, code, approved) in state.devices.values_mut() {
            if code == user_code {
                *approved = true;
                found = true;
            }
        }
        found
    }

    /// How many access tokens `client_id` was issued.
    pub fn requests(&self, client_id: &str) -> u32 {
        self.state
            .lock()
            .unwrap()
            .requests
            .get(client_id)
            .copied()
            .unwrap_or(0)
    }

    /// Valid refresh tokens of `client_id`.
    pub fn live_refresh_tokens(&self, client_id: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state
            .refresh
            .iter()
            .filter(|(_, (owner, valid))| owner == client_id && *valid)
            .map(|(t, _)| t.clone())
            .collect()
    }

    async fn serve(self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap_or_else(|e| {
                panic!("the identity provider cannot listen on {}: {e}", self.port)
            });
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let idp = self.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).await.is_err() {
                    return;
                }
                let mut length = 0usize;
                let mut authorization = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        match name.trim().to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "authorization" => authorization = Some(value.trim().to_owned()),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).await.is_err() {
                    return;
                }
                let target = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_owned();
                let (status, json) =
                    idp.answer(&target, &String::from_utf8_lossy(&body), authorization);
                let text = json.to_string();
                let reason = if status == 200 { "OK" } else { "Error" };
                let response = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                let mut stream = reader.into_inner();
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    }

    fn answer(
        &self,
        target: &str,
        body: &str,
        authorization: Option<String>,
    ) -> (u16, serde_json::Value) {
        use serde_json::json;
        let form: HashMap<String, String> = body
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (decode(k), decode(v)))
            .collect();
        let path = target.split('?').next().unwrap_or_default();
        let mut state = self.state.lock().unwrap();
        if path == "/introspect" {
            let token = form
                .get("token")
                .cloned()
                .or_else(|| {
                    authorization.and_then(|a| a.strip_prefix("Bearer ").map(str::to_owned))
                })
                .unwrap_or_default();
            return match state.access.get(&token) {
                Some((user, true)) => (200, json!({"active": true, "username": user})),
                _ => (200, json!({"active": false})),
            };
        }
        let client_id = form.get("client_id").cloned().unwrap_or_default();
        if state.down.get(&client_id).copied().unwrap_or(false) {
            return (503, json!({"error": "temporarily_unavailable"}));
        }
        let Some(client) = state.clients.get(&client_id).cloned() else {
            return (
                400,
                json!({"error": "invalid_client", "error_description": "unknown client"}),
            );
        };
        state.counter += 1;
        let n = state.counter;
        if path == "/device" {
            let device_code = format!("dc-{client_id}-{n}");
            let user_code = format!("CODE{n}");
            state
                .devices
                .insert(device_code.clone(), (client_id, user_code.clone(), false));
            return (
                200,
                json!({
                    "device_code": device_code, "user_code": user_code,
                    "verification_uri": self.url("signin"), "expires_in": 120, "interval": 1,
                }),
            );
        }
        if path != "/token" {
            return (404, json!({"error": "not_found"}));
        }
        let grant = form
            .get("grant_type")
            .map(String::as_str)
            .unwrap_or_default();
        let with_refresh = match grant {
            "client_credentials" => {
                if client.secret.as_deref() != form.get("client_secret").map(String::as_str) {
                    return (
                        401,
                        json!({"error": "invalid_client", "error_description": "wrong secret"}),
                    );
                }
                false
            }
            "refresh_token" => {
                let presented = form.get("refresh_token").cloned().unwrap_or_default();
                match state.refresh.get_mut(&presented) {
                    Some((owner, valid)) if *owner == client_id && *valid => {
                        // Rotation: the presented refresh token is spent.
                        *valid = false;
                        true
                    }
                    _ => {
                        return (
                            400,
                            json!({"error": "invalid_grant", "error_description": "the refresh token is not valid"}),
                        )
                    }
                }
            }
            "urn:ietf:params:oauth:grant-type:device_code" => {
                let code = form.get("device_code").cloned().unwrap_or_default();
                match state.devices.get(&code) {
                    Some((_, _, true)) => {
                        state.devices.remove(&code);
                        true
                    }
                    Some(_) => return (400, json!({"error": "authorization_pending"})),
                    None => return (400, json!({"error": "expired_token"})),
                }
            }
            _ => return (400, json!({"error": "unsupported_grant_type"})),
        };
        *state.requests.entry(client_id.clone()).or_default() += 1;
        let access = format!("at-{client_id}-{n}");
        state
            .access
            .insert(access.clone(), (client.user.clone(), true));
        let mut answer = json!({"access_token": access, "token_type": "Bearer", "expires_in": client.expires_in});
        if with_refresh {
            let refresh = format!("rt-{client_id}-{n}");
            state.refresh.insert(refresh.clone(), (client_id, true));
            answer["refresh_token"] = json!(refresh);
        }
        (200, answer)
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
