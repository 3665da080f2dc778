//! How the binary treats a connection the client keeps open, spoken to over
//! a raw socket so each write is under the test's control.
//!
//! python-gitlab sends `cancel` and `retry` with a `{}` body, and urllib3 2
//! writes the headers and the body separately. GitLab reads the whole
//! request before it answers; a server that answers first must still read
//! the body it was promised, or the client's next request on the same
//! connection finds it closed.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{MockProcess, Scratch, TOKEN};

/// How long the server gets to answer a request whose body has not been
/// sent: a server that reads bodies first never does.
const EARLY_ANSWER: Duration = Duration::from_millis(500);

/// How long a server that answered early gets to show it closed the
/// connection instead of waiting for the body.
const CLOSE_WATCH: Duration = Duration::from_secs(1);

/// One HTTP/1.1 response read off the socket.
#[derive(Debug)]
struct Response {
    status: u16,
    body: Vec<u8>,
}

/// What a read of one response found.
#[derive(Debug)]
enum Outcome {
    Answer(Response),
    /// Nothing arrived before the read timeout.
    Silence,
    /// The server closed the connection.
    Closed,
}

/// Reads one response with a `Content-Length`, leaving any bytes after it
/// in `pending`.
fn read_response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Outcome {
    loop {
        if let Some(response) = take_response(pending) {
            return Outcome::Answer(response);
        }
        let mut buffer = [0u8; 8192];
        match stream.read(&mut buffer) {
            Ok(0) => return Outcome::Closed,
            Ok(read) => pending.extend_from_slice(&buffer[..read]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                assert!(pending.is_empty(), "half a response: {pending:?}");
                return Outcome::Silence;
            }
            Err(error) if error.kind() == ErrorKind::ConnectionReset => return Outcome::Closed,
            Err(error) => panic!("cannot read from the mock: {error}"),
        }
    }
}

/// The first complete response in `pending`, removed from it.
fn take_response(pending: &mut Vec<u8>) -> Option<Response> {
    let end = pending
        .windows(4)
        .position(|window| window == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&pending[..end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {head}"));
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().expect("a length"))
        })
        .unwrap_or(0);
    let start = end + 4;
    if pending.len() < start + length {
        return None;
    }
    let body = pending[start..start + length].to_vec();
    pending.drain(..start + length);
    Some(Response { status, body })
}

fn json_body(response: &Response) -> Value {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {:?}", response.body))
}

/// `POST …/cancel` with `Content-Length: 2` whose `{}` follows only after
/// the server has had its chance to answer: if it answers at once it must
/// keep the connection open, read the two bytes, and answer the `GET` sent
/// next on the same connection, as it does for python-gitlab's `cancel()`
/// followed by `refresh()`.
#[tokio::test]
async fn a_body_sent_after_the_headers_keeps_the_connection() {
    let scratch = Scratch::new("body_after_headers");
    let mock = MockProcess::start(&scratch.db(), &[]);
    let trigger = json!({ "token": "T", "ref": "main" });
    let triggered = mock.post("/projects/5/trigger/pipeline", trigger).await;
    let id = triggered.expect(StatusCode::CREATED)["id"].clone();

    let address = mock.base_url().strip_prefix("http://").expect("plain http");
    let mut stream = TcpStream::connect(address).expect("the mock accepts");
    let head = format!(
        "POST /api/v4/projects/5/pipelines/{id}/cancel HTTP/1.1\r\nHost: {address}\r\n\
         PRIVATE-TOKEN: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
    );
    let get = format!(
        "GET /api/v4/projects/5/pipelines/{id} HTTP/1.1\r\nHost: {address}\r\n\
         PRIVATE-TOKEN: {TOKEN}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("headers sent");
    let mut pending = Vec::new();

    stream.set_read_timeout(Some(EARLY_ANSWER)).unwrap();
    let early = match read_response(&mut stream, &mut pending) {
        Outcome::Answer(response) => Some(response),
        Outcome::Silence => None,
        Outcome::Closed => panic!("the mock closed the connection before it answered"),
    };
    if early.is_some() {
        stream.set_read_timeout(Some(CLOSE_WATCH)).unwrap();
        let after = read_response(&mut stream, &mut pending);
        assert!(
            matches!(after, Outcome::Silence),
            "having answered before the promised 2-byte body arrived, the mock must wait \
             for it; instead: {after:?}"
        );
    }

    stream.write_all(b"{}").expect("body sent");
    stream.write_all(get.as_bytes()).expect("next request sent");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let canceled = match early {
        Some(response) => response,
        None => match read_response(&mut stream, &mut pending) {
            Outcome::Answer(response) => response,
            other => panic!("no answer to the cancel: {other:?}"),
        },
    };
    assert_eq!(canceled.status, 200);
    assert_eq!(json_body(&canceled)["status"], "canceled");
    let polled = match read_response(&mut stream, &mut pending) {
        Outcome::Answer(response) => response,
        other => panic!("the GET after the cancel found no server: {other:?}"),
    };
    assert_eq!(polled.status, 200);
    assert_eq!(json_body(&polled)["status"], "canceled");
}

/// CONNECT's `host:port` and OPTIONS's `*` are request targets HTTP/1.1
/// allows and hyper passes on, but they name no route: each gets a JSON
/// 400, not a dropped connection, and the server goes on answering.
#[tokio::test]
async fn a_request_target_that_is_not_a_path_is_refused_with_json() {
    let scratch = Scratch::new("target_not_a_path");
    let mock = MockProcess::start(&scratch.db(), &[]);
    let address = mock.base_url().strip_prefix("http://").expect("plain http");

    for request_line in ["CONNECT example.com:80 HTTP/1.1", "OPTIONS * HTTP/1.1"] {
        let mut stream = TcpStream::connect(address).expect("the mock accepts");
        stream.set_read_timeout(Some(CLOSE_WATCH)).unwrap();
        let request = format!("{request_line}\r\nHost: {address}\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("request sent");

        let Outcome::Answer(response) = read_response(&mut stream, &mut Vec::new()) else {
            panic!("no answer to {request_line}");
        };
        assert_eq!(response.status, 400, "{request_line}");
        let message = json_body(&response)["error"].as_str().unwrap().to_owned();
        assert!(
            message.contains("must be a path"),
            "{request_line}: {message}"
        );
    }

    mock.get("/projects/5/pipelines")
        .await
        .expect(StatusCode::OK);
    let log = mock.log().join("\n");
    assert!(!log.contains("panicked"), "{log}");
}
