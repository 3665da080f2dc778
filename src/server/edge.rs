//! The edge: what happens to every request before and after its route.
//!
//! In order, for each request the edge
//! 1. picks the namespace from the path (`/ns/{name}/…`, or the root) and
//!    takes the prefix off, so the namespace's routes see the same paths
//!    at every base URL;
//! 2. fires an armed fault that matches, which delays the answer, answers
//!    in place of the route, or both;
//! 3. lets the namespace's routes answer;
//! 4. stamps the answer with the namespace's current time (`X-Mock-Now`);
//! 5. writes the request to the namespace's journal.
//!
//! Doing this around the routes rather than inside them keeps every route
//! unaware of namespaces, faults and the journal, and makes all three
//! apply to every route alike, a 404 included.

use std::borrow::Cow;
use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use jiff::Timestamp;
use warp::http::header::CONNECTION;
use warp::http::{HeaderValue, Method, Request, StatusCode, Uri};
use warp::reply::{Reply, Response};

use crate::clock::rfc3339_millis;
use crate::http::{ApiError, MAX_BODY_BYTES};
use crate::mock::{Fault, JournalEntry, Sighting};
use crate::namespaces::{Namespace, NamespaceError, Namespaces, PREFIX};

/// The header that carries the mock's clock on every answer, so a test's
/// log shows virtual time beside each call.
pub const NOW_HEADER: &str = "x-mock-now";

/// The journal's own reads are not journaled: reading the journal must not
/// change what it says.
const JOURNAL_PATH: &str = "/_mock/requests";

/// The service every connection runs; cheap to clone.
#[derive(Clone)]
pub struct Edge {
    namespaces: Arc<Namespaces>,
}

impl Edge {
    pub fn new(namespaces: Arc<Namespaces>) -> Self {
        Self { namespaces }
    }
}

impl hyper::service::Service<Request<Incoming>> for Edge {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let namespaces = Arc::clone(&self.namespaces);
        Box::pin(async move { Ok(answer(&namespaces, request).await) })
    }
}

async fn answer(namespaces: &Namespaces, request: Request<Incoming>) -> Response {
    match enter(namespaces, request) {
        Ok((namespace, request)) => serve(&namespace, request).await,
        Err(error) => {
            let mut response = error.into_response();
            stamp_now(&mut response, namespaces.root().mock().now());
            response
        }
    }
}

/// The namespace a request addresses, and the request as that namespace's
/// routes should see it.
fn enter<B>(
    namespaces: &Namespaces,
    request: Request<B>,
) -> Result<(Arc<Namespace>, Request<B>), ApiError> {
    // hyper also passes on CONNECT's `host:port` and OPTIONS's `*`, which
    // name no route; warp's path filters assume a path and panic on them.
    if !request.uri().path().starts_with('/') {
        return Err(ApiError::BadRequest(
            "the request target must be a path, such as /projects/1/pipelines".into(),
        ));
    }
    let Some(rest) = request.uri().path().strip_prefix(PREFIX) else {
        return Ok((Arc::clone(namespaces.root()), request));
    };
    let (name, inner_path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    if name.is_empty() {
        return Err(ApiError::NoRoute);
    }

    let namespace = namespaces
        .directory()
        .get(name)
        .map_err(|error| match error {
            NamespaceError::InvalidName(_) => ApiError::BadRequest(error.to_string()),
            NamespaceError::TooMany(_) | NamespaceError::Opening(_) => {
                ApiError::Conflict(error.to_string())
            }
            _ => {
                tracing::error!(%error, namespace = name, "cannot open namespace");
                ApiError::Internal
            }
        })?;
    let uri = inner_uri(request.uri(), inner_path)?;
    let (mut parts, body) = request.into_parts();
    parts.uri = uri;
    Ok((namespace, Request::from_parts(parts, body)))
}

/// `uri` with its path replaced by `path` and its query kept.
fn inner_uri(uri: &Uri, path: &str) -> Result<Uri, ApiError> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    path_and_query
        .parse()
        .map_err(|_| ApiError::BadRequest("request path is invalid".into()))
}

/// What the journal needs to know from the request, taken before the
/// route consumes it.
struct Arrival {
    at: Timestamp,
    real_at: Timestamp,
    method: Method,
    path: String,
    query: Option<String>,
}

async fn serve(namespace: &Namespace, request: Request<Incoming>) -> Response {
    let (request, body_read) = tracked(request);
    let mock = namespace.mock();
    let arrival = Arrival {
        at: mock.now(),
        real_at: Timestamp::now(),
        method: request.method().clone(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(String::from),
    };

    let fault = mock.faults().fire(arrival.method.as_str(), &arrival.path);
    let uri = request.uri().clone();
    let mut response = match &fault {
        Some(fault) => answer_with_fault(fault, namespace, request).await,
        None => namespace.serve(request).await,
    };
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        add_allow(&mut response, namespace, &uri).await;
    }

    stamp_now(&mut response, mock.now());
    if !body_read.load(Ordering::Acquire) {
        // hyper closes a connection whose request body was left unread, as
        // on a 404, a 405 or a 401 that came before the body; saying so
        // lets a keep-alive client open a new one instead of failing on
        // the closed one.
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    if !(arrival.method == Method::GET && is_journal_path(&arrival.path)) {
        mock.journal()
            .record(journal_entry(arrival, &response, fault.as_ref()));
    }
    response
}

fn is_journal_path(path: &str) -> bool {
    path.strip_suffix('/').unwrap_or(path) == JOURNAL_PATH
}

/// The request with its body wrapped to tell, through the flag, whether
/// it was read to its end; a request without a body counts as read.
fn tracked(request: Request<Incoming>) -> (Request<TrackedBody>, Arc<AtomicBool>) {
    let (parts, body) = request.into_parts();
    let finished = Arc::new(AtomicBool::new(body.is_end_stream()));
    let body = TrackedBody {
        inner: body,
        finished: Arc::clone(&finished),
    };
    (Request::from_parts(parts, body), finished)
}

/// A request body that raises a flag once its last frame has been read.
pub struct TrackedBody {
    inner: Incoming,
    finished: Arc<AtomicBool>,
}

impl hyper::body::Body for TrackedBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(context);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.finished.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Waits out the fault's delay, then answers with its status, or lets the
/// route answer when it has none.
async fn answer_with_fault(
    fault: &Fault,
    namespace: &Namespace,
    request: Request<TrackedBody>,
) -> Response {
    tracing::info!(id = fault.id, path = %request.uri().path(), "fault fired");
    if let Some(delay) = fault.spec.delay_ms {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let Some(status) = fault.spec.status else {
        return namespace.serve(request).await;
    };

    // Read the body the client sent before answering: hyper closes a
    // connection whose request was not read to its end, and a client that
    // reuses it, as every keep-alive client does, would find it gone.
    let body = http_body_util::Limited::new(request.into_body(), MAX_BODY_BYTES);
    let _ = body.collect().await;
    fault_response(fault, status)
}

fn fault_response(fault: &Fault, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = fault.spec.body.clone().unwrap_or_else(|| {
        let reason = status.canonical_reason().unwrap_or("Fault");
        serde_json::json!({ "message": format!("{} {reason}", status.as_u16()) })
    });

    let mut response = warp::reply::with_status(warp::reply::json(&body), status).into_response();
    if let Some(seconds) = fault.spec.retry_after {
        response.headers_mut().insert("retry-after", seconds.into());
    }
    response
}

/// The methods a route may be asked about.
const METHODS: [Method; 4] = [Method::GET, Method::POST, Method::PUT, Method::DELETE];

/// Adds the `Allow` header a 405 owes the client (RFC 9110). Only the routes
/// know which methods a path has, so they are asked: the same path with
/// each method, without credentials, query or body. Every route checks its
/// path, then its method, then the credentials or (the trigger) the
/// parameters, before it reads or changes anything, so such a probe is
/// refused before it has an effect, and only a 405 means the method is
/// not there. A 405 is rare, so its four extra passes cost nothing that
/// matters.
async fn add_allow(response: &mut Response, namespace: &Namespace, uri: &Uri) {
    let mut allowed = Vec::new();
    for method in &METHODS {
        let probe = Request::builder()
            .method(method.clone())
            .uri(uri.path())
            .body(http_body_util::Empty::<Bytes>::new());
        let Ok(probe) = probe else { continue };
        let answer = namespace.serve(probe).await;
        if answer.status() != StatusCode::METHOD_NOT_ALLOWED {
            allowed.push(method.as_str());
        }
    }
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert("allow", value);
    }
}

fn stamp_now(response: &mut Response, now: Timestamp) {
    if let Some(value) = now_header(now) {
        response.headers_mut().insert(NOW_HEADER, value);
    }
}

thread_local! {
    /// The last `X-Mock-Now` value this thread printed. Requests arrive many
    /// to a millisecond, and a frozen clock shows one instant for as long as
    /// it stays frozen, so printing each anew was about 4% of a poll's work.
    static LAST_NOW: RefCell<Option<(Timestamp, HeaderValue)>> = const { RefCell::new(None) };
}

/// `now` in the mock's spelling, as a header value.
fn now_header(now: Timestamp) -> Option<HeaderValue> {
    LAST_NOW.with_borrow_mut(|last| {
        if let Some((instant, value)) = last
            && *instant == now
        {
            return Some(value.clone());
        }
        let value = HeaderValue::from_str(&rfc3339_millis(now)).ok()?;
        *last = Some((now, value.clone()));
        Some(value)
    })
}

fn journal_entry(arrival: Arrival, response: &Response, fault: Option<&Fault>) -> JournalEntry {
    JournalEntry {
        id: 0,
        at: arrival.at,
        real_at: arrival.real_at,
        method: method_name(&arrival.method),
        path: arrival.path,
        query: arrival.query,
        status_code: response.status().as_u16(),
        sighting: response
            .extensions()
            .get::<Sighting>()
            .copied()
            .unwrap_or_default(),
        fault_id: fault.map(|fault| fault.id),
    }
}

/// The method's name, without a copy for the ones HTTP defines.
fn method_name(method: &Method) -> Cow<'static, str> {
    static KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    let known = KNOWN.iter().find(|known| *known == method);
    match known {
        Some(known) => Cow::Borrowed(known.as_str()),
        None => Cow::Owned(method.as_str().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_now_header_follows_the_instant_it_is_given() {
        let first = Timestamp::from_millisecond(1_800_000_000_000).unwrap();
        let later = Timestamp::from_millisecond(1_800_000_000_001).unwrap();

        for (instant, expected) in [
            (first, "2027-01-15T08:00:00.000Z"),
            (first, "2027-01-15T08:00:00.000Z"),
            (later, "2027-01-15T08:00:00.001Z"),
            (first, "2027-01-15T08:00:00.000Z"),
        ] {
            assert_eq!(now_header(instant).unwrap(), expected);
        }
    }

    #[test]
    fn a_method_http_does_not_define_keeps_its_name() {
        assert!(matches!(method_name(&Method::GET), Cow::Borrowed("GET")));
        let custom = Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(method_name(&custom), "PURGE");
    }
}
