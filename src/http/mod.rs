//! The daemon's HTTP server (`http.listen`): health for the operator's probes, metrics for
//! Prometheus, and a read-only status page for the secretariat behind a sign-in.
//!
//! | path       | who          | what                                                    |
//! |------------|--------------|---------------------------------------------------------|
//! | `/healthz` | anyone       | 200 while the process runs                              |
//! | `/readyz`  | anyone       | 200 when the database answers and nothing is in alarm, else 503; JSON as `minuted health --json` |
//! | `/metrics` | anyone       | Prometheus text format ([`crate::measure`])             |
//! | `/`        | signed in    | the status page ([`crate::overview`])                    |
//! | `/signin`  | anyone       | the sign-in form; POST signs in (rate-limited)           |
//! | `/signout` | signed in    | POST ends the session                                    |
//!
//! Nothing here changes the board's data: the secretariat acts by email. The server binds
//! before the workers start (a port in use stops start-up with the reason) and stops with
//! them.

pub mod page;
pub mod session;
pub mod users;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{AlertsSettings, HttpSettings};
use crate::domain::zone::Zone;
use crate::health::DatabaseDown;
use crate::overview::Overview;
use crate::shutdown::Shutdown;
use page::Pages;
use session::{Attempts, Session, SessionKey, COOKIE};

/// What every request handler shares.
#[derive(Debug)]
pub struct Server {
    pool: PgPool,
    alerts: AlertsSettings,
    clock: Clock,
    key: SessionKey,
    session_hours: u32,
    attempts: Attempts,
    pages: Pages,
}

impl Server {
    /// `approval_key` is what the session key is derived from.
    pub fn new(
        pool: PgPool,
        http: &HttpSettings,
        alerts: AlertsSettings,
        approval_key: &[u8],
        clock: Clock,
    ) -> anyhow::Result<Server> {
        Ok(Server {
            pool,
            alerts,
            clock,
            key: SessionKey::derive(approval_key),
            session_hours: http.session_hours,
            attempts: Attempts::default(),
            pages: Pages::new().context("the status page's templates do not compile")?,
        })
    }
}

/// Binds `http.listen`, if set.
pub async fn bind(http: &HttpSettings) -> anyhow::Result<Option<TcpListener>> {
    let Some(addr) = http.listen_addr() else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (http.listen)"))?;
    Ok(Some(listener))
}

/// Serves requests on `listener` until `shutdown`.
pub async fn run_until_stopped(
    listener: TcpListener,
    server: Server,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    // The recorder exists before the first scrape, so the workers' timings are kept.
    crate::measure::exporter();
    let address = listener.local_addr()?;
    tracing::info!(%address, "HTTP server listening: /healthz, /readyz, /metrics, and the status page at /");
    let app = router(Arc::new(server));
    let mut stopping = shutdown;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stopping.stopped().await })
    .await
    .context("the HTTP server failed")
}

fn router(server: Arc<Server>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/", get(status_page))
        .route("/search", get(search_page))
        .route("/signin", get(sign_in_form).post(sign_in))
        .route("/signout", axum::routing::post(sign_out))
        .with_state(server)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(server): State<Arc<Server>>) -> Response {
    let now = server.clock.now();
    match crate::health::check(&server.pool, &server.alerts, now).await {
        Ok(health) => {
            let status = if health.ok {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, axum::Json(health)).into_response()
        }
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(DatabaseDown::new(format!("{err:#}"), now)),
        )
            .into_response(),
    }
}

async fn metrics(State(server): State<Arc<Server>>) -> Response {
    let Some(exporter) = crate::measure::exporter() else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "metrics are not available in this process\n",
        )
            .into_response();
    };
    let up = match crate::measure::refresh(&server.pool, server.clock.now()).await {
        Ok(()) => 1.0,
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), "metrics: the database's figures could not be read");
            0.0
        }
    };
    metrics::gauge!("minuted_database_up").set(up);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        exporter.render(),
    )
        .into_response()
}

/// The signed-in user's name, or None.
async fn signed_in(server: &Server, headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let value = session::cookie_value(cookies, COOKIE)?;
    let session = server.key.verify(value, server.clock.now())?;
    let mut conn = server.pool.acquire().await.ok()?;
    let user = crate::store::http_users::by_id(&mut conn, session.user_id)
        .await
        .ok()??;
    (user.password_set_at.timestamp_micros() == session.password_set).then_some(user.name)
}

async fn status_page(State(server): State<Arc<Server>>, headers: HeaderMap) -> Response {
    let Some(user) = signed_in(&server, &headers).await else {
        return Redirect::to("/signin").into_response();
    };
    match render_status(&server, &user).await {
        Ok(html) => page(StatusCode::OK, html),
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "the status page could not be built");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "<!doctype html><title>minuted</title><p>The status page cannot be shown now: the database does not answer. Try again in a minute; the operator's log says more.</p>".to_owned(),
            )
        }
    }
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

/// The most results the search page shows.
const SEARCH_RESULTS: i64 = 30;

async fn search_page(
    State(server): State<Arc<Server>>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<SearchQuery>,
) -> Response {
    if signed_in(&server, &headers).await.is_none() {
        return Redirect::to("/signin").into_response();
    }
    let query = query
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(200)
        .collect::<String>();
    let result = async {
        let mut conn = server.pool.acquire().await?;
        let zone = display_zone(&mut conn).await?;
        if query.is_empty() {
            return server.pages.search("", None, zone);
        }
        let filter = crate::store::search::SearchFilter {
            limit: SEARCH_RESULTS,
            ..Default::default()
        };
        let hits = crate::store::search::search(&mut conn, &query, &filter).await?;
        server.pages.search(&query, Some(&hits), zone)
    }
    .await;
    match result {
        Ok(html) => page(StatusCode::OK, html),
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "the search page could not be built");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "<!doctype html><title>minuted</title><p>Search is not available now: the database does not answer. Try again in a minute.</p>".to_owned(),
            )
        }
    }
}

/// The zone the pages show times in: the board's (the first board's, where one database
/// serves several).
async fn display_zone(conn: &mut sqlx::PgConnection) -> anyhow::Result<Zone> {
    Ok(match crate::store::health::board_ids(conn).await?.first() {
        Some(&board) => crate::store::registry::board_zone(conn, board).await?,
        None => Zone::default(),
    })
}

async fn render_status(server: &Server, user: &str) -> anyhow::Result<String> {
    let now = server.clock.now();
    let mut conn = server.pool.acquire().await?;
    let zone = display_zone(&mut conn).await?;
    let today = zone.local(now).date();
    let overview = Overview::read(&mut conn, None, now, today).await?;
    server.pages.status(&overview, zone, user)
}

async fn sign_in_form(State(server): State<Arc<Server>>) -> Response {
    sign_in_page(&server, StatusCode::OK, None)
}

fn sign_in_page(server: &Server, status: StatusCode, problem: Option<&str>) -> Response {
    match server.pages.sign_in(problem) {
        Ok(html) => page(status, html),
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "the sign-in page could not be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Deserialize)]
struct SignIn {
    name: String,
    password: String,
}

async fn sign_in(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    let client = client_address(peer, &headers);
    let name = form.name.trim();
    if let Some(wait) = server.attempts.wait(name, &client, Instant::now()) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        tracing::warn!(%client, user = name, "status page: sign-in refused, too many failed attempts");
        return sign_in_page(
            &server,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!(
                "Too many failed sign-ins. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            )),
        );
    }
    let user = match users::check(&server.pool, name, &form.password).await {
        Ok(user) => user,
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "status page: sign-in could not be checked");
            return sign_in_page(
                &server,
                StatusCode::SERVICE_UNAVAILABLE,
                Some("Sign-in cannot be checked now: the database does not answer. Try again in a minute."),
            );
        }
    };
    let Some(user) = user else {
        server.attempts.failed(name, &client, Instant::now());
        tracing::warn!(%client, user = name, "status page: sign-in failed");
        return sign_in_page(
            &server,
            StatusCode::UNAUTHORIZED,
            Some("That name and password do not match."),
        );
    };
    server.attempts.succeeded(name);
    let now = server.clock.now();
    if let Ok(mut conn) = server.pool.acquire().await {
        let _ = crate::store::http_users::signed_in(&mut conn, user.id, now).await;
    }
    tracing::info!(%client, user = %user.name, "status page: signed in");
    let max_age = i64::from(server.session_hours) * 3600;
    let value = server.key.sign(&Session {
        user_id: user.id,
        expires_at: now.timestamp() + max_age,
        password_set: user.password_set_at.timestamp_micros(),
    });
    let cookie = format!(
        "{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        secure(&headers)
    );
    with_cookie(Redirect::to("/").into_response(), &cookie)
}

async fn sign_out(headers: HeaderMap) -> Response {
    let cookie = format!(
        "{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        secure(&headers)
    );
    with_cookie(Redirect::to("/signin").into_response(), &cookie)
}

/// `; Secure` when the request reached the reverse proxy over HTTPS.
fn secure(headers: &HeaderMap) -> &'static str {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    if https {
        "; Secure"
    } else {
        ""
    }
}

/// Who is asking: the peer, or behind a reverse proxy on this machine the address it
/// forwarded for.
fn client_address(peer: SocketAddr, headers: &HeaderMap) -> String {
    if peer.ip().is_loopback() {
        if let Some(forwarded) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
        {
            return forwarded.trim().to_owned();
        }
    }
    peer.ip().to_string()
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// An HTML page that is never cached or framed and runs no script.
fn page(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
