//! A stand-in for a system that receives GitLab's webhooks: an HTTP server
//! on 127.0.0.1, port 0, that records every request it is sent and
//! answers with a status the test chooses. Shared by the in-process and
//! the binary tests, each of which uses only part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use serde_json::Value;
use std::sync::Mutex;
use tokio::sync::watch;
use warp::Filter;
use warp::http::HeaderMap;

/// A request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Value,
}

/// An HTTP server on 127.0.0.1 that records what it is sent and answers
/// with a status the test chooses.
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    count: watch::Receiver<usize>,
    pub answer: Arc<AtomicU16>,
}

impl Receiver {
    pub async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(AtomicU16::new(200));
        let (count_tx, count) = watch::channel(0);
        let count_tx = Arc::new(count_tx);

        let (store, status) = (received.clone(), answer.clone());
        let route = warp::post()
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .map(move |headers: HeaderMap, body: bytes::Bytes| {
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let mut received = store.lock().unwrap();
                received.push(Received { headers, body });
                count_tx.send_replace(received.len());
                let code = status.load(Ordering::SeqCst);
                warp::http::StatusCode::from_u16(code).unwrap()
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(warp::serve(route).incoming(listener).run());
        Self {
            url,
            received,
            count,
            answer,
        }
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The `object_attributes.status` of each event, in arrival order.
    pub fn statuses(&self) -> Vec<String> {
        self.all()
            .iter()
            .map(|got| {
                got.body["object_attributes"]["status"]
                    .as_str()
                    .unwrap()
                    .into()
            })
            .collect()
    }

    /// Waits, in real time and at most ten seconds, for `n` requests: for
    /// retries, which pause in real time by design.
    pub async fn wait_for(&self, n: usize) {
        let mut count = self.count.clone();
        tokio::time::timeout(Duration::from_secs(10), count.wait_for(|got| *got >= n))
            .await
            .expect("the receiver was not called in time")
            .unwrap();
    }
}
