//! Small filters every route is built from: authentication, the request
//! body, the base URL the client used, and handing over shared state.

use std::convert::Infallible;
use std::net::Ipv6Addr;
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, TryStreamExt};
use parking_lot::Mutex;
use warp::{Filter, Rejection};

use super::error::ApiError;

/// The largest request body read; anything longer gets 413. Triggers and
/// scenarios are a few hundred bytes, so a mebibyte leaves room for very
/// large variable sets while keeping a runaway client harmless.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Hands a clone of `value` to the handler.
pub fn with<T: Clone + Send + Sync>(
    value: T,
) -> impl Filter<Extract = (T,), Error = Infallible> + Clone {
    warp::any().map(move || value.clone())
}

/// Passes only requests whose path begins with one of `first` segments,
/// consuming nothing. Put in front of a whole tree of routes, it turns
/// down a request meant elsewhere with one look at the path, instead of
/// one failed match per route in the tree.
pub fn under(
    first: &'static [&'static str],
) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    segment_in(0, first)
}

/// Passes only requests whose path segment at `position` (from 0, among
/// the segments not yet matched) is one of `names`, consuming nothing: the
/// same one look as [`under`], for a subtree told apart further in, such as
/// the `trigger` of `/projects/:id/trigger/pipeline`. A path turned down
/// gets a plain 404 rejection, which any other route's answer outranks.
pub fn segment_in(
    position: usize,
    names: &'static [&'static str],
) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::path::peek()
        .and_then(move |path: warp::path::Peek| {
            let segment = path.segments().nth(position).unwrap_or_default();
            std::future::ready(match names.contains(&segment) {
                true => Ok(()),
                false => Err(warp::reject::not_found()),
            })
        })
        .untuple_one()
}

/// The request's `Content-Type`, if any.
pub fn content_type() -> impl Filter<Extract = (Option<String>,), Error = Rejection> + Clone {
    warp::header::optional::<String>("content-type")
}

/// The scheme and authority the client used (`http://host:port`), from
/// its `Host` header, so `web_url` points back where the client came from,
/// followed by the namespace's base path (`/ns/name`, or nothing at the
/// root) so links lead back into the same namespace.
pub fn base_url(
    settings: &super::Settings,
) -> impl Filter<Extract = (Arc<str>,), Error = Rejection> + Clone + use<> {
    let fallback: Arc<str> = Arc::from(format!("{}{}", settings.public_url, settings.base_path));
    let base_path = settings.base_path.clone();
    let last: Arc<Mutex<Option<LastBase>>> = Arc::default();
    warp::header::optional::<String>("host").map(move |host: Option<String>| {
        let Some(host) = host else {
            return Arc::clone(&fallback);
        };
        let mut last = last.lock();
        if let Some((seen, base)) = &*last
            && *seen == host
        {
            return Arc::clone(base);
        }
        if !is_authority(&host) {
            return Arc::clone(&fallback);
        }
        let base: Arc<str> = Arc::from(format!("http://{host}{base_path}"));
        *last = Some((host, Arc::clone(&base)));
        base
    })
}

/// The last `Host` a [`base_url`] filter saw and the base URL it built: a
/// client sends the same `Host` on every request, so the URL is built once
/// rather than per request.
type LastBase = (String, Arc<str>);

/// Whether a `Host` value is a plain `host[:port]`: a name or IPv4
/// address, or an IPv6 address in brackets, and a port from 0 to 65535, so
/// a crafted header can neither smuggle a path or query into the links the
/// mock prints nor make them URLs a client cannot parse.
fn is_authority(host: &str) -> bool {
    let (host_is_valid, port) = match host.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((address, rest)) => (address.parse::<Ipv6Addr>().is_ok(), rest),
            None => return false,
        },
        None => {
            let (name, rest) = host.split_at(host.find(':').unwrap_or(host.len()));
            (is_host_name(name), rest)
        }
    };
    host_is_valid && (port.is_empty() || port.strip_prefix(':').is_some_and(is_port))
}

fn is_host_name(name: &str) -> bool {
    let allowed = |byte: u8| byte.is_ascii_alphanumeric() || b".-_".contains(&byte);
    (1..=253).contains(&name.len()) && name.bytes().all(allowed)
}

fn is_port(digits: &str) -> bool {
    (1..=5).contains(&digits.len())
        && digits.bytes().all(|byte| byte.is_ascii_digit())
        && digits.parse::<u16>().is_ok()
}

/// The whole body, refused with 413 past [`MAX_BODY_BYTES`]. Unlike warp's
/// `content_length_limit`, a body with no `Content-Length` (chunked, or
/// none at all) is read rather than refused with 411.
pub fn body() -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .and_then(|declared: Option<u64>, stream| async move {
            if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
                return Err(warp::reject::custom(ApiError::PayloadTooLarge));
            }
            read_capped(stream).await.map_err(warp::reject::custom)
        })
}

async fn read_capped<S, B>(stream: S) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut collected = BytesMut::new();
    let mut stream = std::pin::pin!(stream);
    while let Some(mut chunk) = stream
        .try_next()
        .await
        .map_err(|error| ApiError::BadRequest(format!("request body cannot be read: {error}")))?
    {
        if collected.len() + chunk.remaining() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            collected.extend_from_slice(piece);
            let read = piece.len();
            chunk.advance(read);
        }
    }
    Ok(collected.freeze())
}

/// Reads and discards the body of a request whose route takes none.
/// Answering before a declared body has arrived would make hyper close
/// the connection, and a client reusing it (python-gitlab after `cancel()`)
/// would find it gone.
pub fn drained() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    body().map(|_| ()).untuple_one()
}

/// The raw query string, empty when there is none (warp's own `raw()`
/// rejects a request without one).
pub fn raw_query() -> impl Filter<Extract = (String,), Error = Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Settings;

    async fn base_for(
        filter: &(impl Filter<Extract = (Arc<str>,)> + Clone + 'static),
        host: &str,
    ) -> String {
        let request = warp::test::request().header("host", host);
        request.filter(filter).await.ok().unwrap().to_string()
    }

    #[tokio::test]
    async fn each_host_gets_its_own_base_url_whatever_came_before() {
        let mut settings = Settings::new("t", "http://fallback:1");
        settings.base_path = Arc::from("/ns/a");
        let filter = base_url(&settings);

        assert_eq!(base_for(&filter, "one:80").await, "http://one:80/ns/a");
        assert_eq!(base_for(&filter, "one:80").await, "http://one:80/ns/a");
        assert_eq!(base_for(&filter, "two").await, "http://two/ns/a");
        assert_eq!(base_for(&filter, "one:80").await, "http://one:80/ns/a");
        assert_eq!(
            base_for(&filter, "bad/path").await,
            "http://fallback:1/ns/a"
        );
        assert_eq!(
            base_for(&filter, "bad/path").await,
            "http://fallback:1/ns/a"
        );
    }

    #[test]
    fn a_host_is_a_name_or_address_and_an_optional_port() {
        for good in [
            "a",
            "a:1",
            "127.0.0.1:65535",
            "[::1]",
            "[::1]:8080",
            "my_host.example",
        ] {
            assert!(is_authority(good), "{good} refused");
        }
        let bad = [
            "",
            "]:[",
            "a:b:c",
            ":::",
            "[",
            "]",
            "[::1",
            "a:",
            ":80",
            "a:1:2",
            "[::1]x",
            "[zz]:1",
            "a:99999999999999999999",
            "a:65536",
            "x/y",
            "a b",
            "a?b",
            "a#b",
            "a@b",
        ];
        for bad in bad {
            assert!(!is_authority(bad), "{bad} accepted");
        }
    }
}
