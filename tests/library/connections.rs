//! A body the route never read: the answer says the connection closes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::frozen;

/// Sends `head` and `body` on a fresh connection and reads the whole answer
/// (the server closes the connection after it).
fn exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    // Bounded, so a server that kept the connection open fails the test
    // instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unread_body_is_answered_with_connection_close() {
    let gitlab = frozen().await;
    let addr = gitlab.addr();
    let body = vec![b'x'; 50_000];
    let length = body.len();
    let head = move |path: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nPRIVATE-TOKEN: MOCK_SUPER_SECRET\r\n\
             Content-Length: {length}\r\n\r\n"
        )
    };

    let answers = tokio::task::spawn_blocking(move || {
        ["/nothing-here", "/_mock/health", "/ns/ok/nothing"]
            .map(|path| exchange(addr, &head(path), &body))
    })
    .await
    .unwrap();

    for answer in answers {
        let head = answer.to_ascii_lowercase();
        assert!(head.contains("connection: close"), "{answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_body_keeps_the_connection_open() {
    let gitlab = frozen().await;
    let client = reqwest::Client::new();

    let answer = client
        .post(format!("{}/_mock/clock/advance", gitlab.url()))
        .header("PRIVATE-TOKEN", gitlab.token())
        .body(r#"{"seconds": 1}"#)
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), 200);
    assert!(answer.headers().get("connection").is_none());
}
