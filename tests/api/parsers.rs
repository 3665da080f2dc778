//! Properties of request parsing: whatever bytes, content types, headers,
//! path segments and query strings arrive, every route answers a 2xx or a
//! 4xx, never a 5xx, and every 4xx is a JSON object sent as
//! `application/json`.
//!
//! `errors.rs` and `abuse.rs` pin single inputs; this module generates
//! them. The generators lean on the bytes parsers care about (brackets,
//! quotes, `%` escapes that are truncated or not UTF-8, multipart
//! delimiters, numbers past every integer type, instants at the edge of
//! time) so that most cases get past the first check and reach the deeper
//! ones, and the sequence property lets an absurd clock or scenario set up
//! by one request meet the triggers and reads of the next.

use std::fmt;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};
use warp::http::HeaderValue;
use warp::test::RequestBuilder;

use super::support::{TOKEN, TestMock, anonymous};

/// One request, kept as plain data so that a failing case prints exactly
/// what was sent.
#[derive(Clone)]
struct Call {
    method: &'static str,
    path: String,
    token: Option<Vec<u8>>,
    content_type: Option<Vec<u8>>,
    event: Option<Vec<u8>>,
    body: Vec<u8>,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |bytes: &Option<Vec<u8>>| bytes.as_ref().map(|b| b.escape_ascii().to_string());
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("token", &text(&self.token))
            .field("content_type", &text(&self.content_type))
            .field("event", &text(&self.event))
            .field("body", &self.body.escape_ascii().to_string())
            .finish()
    }
}

impl Call {
    /// The request as `warp::test` sends it. The generators only make
    /// paths and header values that are valid on the wire, so a panic here
    /// is a bug of this module, not of the mock.
    fn request(&self) -> RequestBuilder {
        let header = |bytes: &[u8]| HeaderValue::from_bytes(bytes).expect("a valid header value");
        let mut request = anonymous(self.method, &self.path).body(self.body.clone());
        if let Some(token) = &self.token {
            request = request.header("private-token", header(token));
        }
        if let Some(content_type) = &self.content_type {
            request = request.header("content-type", header(content_type));
        }
        if let Some(event) = &self.event {
            request = request.header("x-gitlab-event", header(event));
        }
        request
    }
}

/// Sends `call` and checks the answer: 2xx or 4xx; JSON sent as JSON for
/// anything with a body; an object for every 4xx.
async fn check(mock: &TestMock, call: &Call) -> Result<(), TestCaseError> {
    let answer = mock.send(call.request()).await;
    let body = String::from_utf8_lossy(&answer.raw);
    prop_assert!(
        (200..500).contains(&answer.status),
        "{} for {:?}: {}",
        answer.status,
        call,
        body
    );
    if answer.status == 204 {
        return Ok(());
    }
    prop_assert_eq!(
        answer.content_type.as_deref(),
        Some("application/json"),
        "{} for {:?}: {}",
        answer.status,
        call,
        body
    );
    let shape_ok = match answer.status {
        400.. => answer.body.is_object(),
        _ => !answer.body.is_null(),
    };
    prop_assert!(
        shape_ok,
        "{} body is not the JSON expected for {:?}: {}",
        answer.status,
        call,
        body
    );
    Ok(())
}

/// Runs `calls` in order on one fresh mock that already holds a pipeline
/// (id 1 of project 123), checking each answer.
fn run(calls: Vec<Call>) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mock = TestMock::new();
        mock.trigger(json!({"token": "T", "ref": "main"}))
            .await
            .expect(201);
        for call in &calls {
            check(&mock, call).await?;
        }
        Ok(())
    })
}

/// Pieces of text that mean something to one parser or another.
const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "=",
    "&",
    ";",
    "+",
    " ",
    "null",
    "true",
    "-",
    "0",
    "1e999",
    "-0",
    "%",
    "%2",
    "%zz",
    "%ff",
    "%C3%28",
    "%00",
    "%5B",
    "%5D",
    "token",
    "ref",
    "variables",
    "inputs",
    "scenario_id",
    "terminal_after_seconds",
    "terminal_status",
    "key",
    "value",
    "variable_type",
    "file",
    "[]",
    "[0]",
    "--B",
    "--B--",
    "\r\n",
    "\r\n\r\n",
    "Content-Disposition: form-data; name=",
    "; filename=\"f\"",
    "Content-Type: text/plain",
    "99999999999999999999",
    "9223372036854775808",
    "-9223372036854775809",
    "\u{0}",
    "\u{7f}",
    "é",
    "\u{feff}",
];

/// Bytes no parser would send as well as near-misses built from
/// [`PIECES`], with raw non-UTF-8 bytes among them.
fn any_body() -> impl Strategy<Value = Vec<u8>> {
    let pieces = vec(
        prop_oneof![
            4 => select(PIECES).prop_map(|piece| piece.as_bytes().to_vec()),
            1 => vec(any::<u8>(), 1..4),
        ],
        0..48,
    )
    .prop_map(|pieces| pieces.concat());
    prop_oneof![
        vec(any::<u8>(), 0..256),
        pieces,
        json_value().prop_map(|value| value.to_string().into_bytes()),
    ]
}

/// Names the routes read, so that generated objects reach their checks.
const FIELDS: &[&str] = &[
    "token",
    "ref",
    "variables",
    "inputs",
    "scenario_id",
    "terminal_after_seconds",
    "terminal_status",
    "key",
    "value",
    "variable_type",
    "name",
    "phases",
    "status",
    "seconds",
    "reject",
    "never_complete",
    "project_id",
    "times",
    "at",
    "id",
    "path",
    "default_branch",
    "description",
    "variables[A]",
];

/// Strings that are edge cases of what some field accepts.
const TEXTS: &[&str] = &[
    "",
    " ",
    "main",
    "T",
    "success",
    "failed",
    "running",
    "manual",
    "canceling",
    "created",
    "ref_not_found",
    "no_jobs",
    "env_var",
    "file",
    "a/b",
    "mock/project-5",
    "../..",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999999999Z",
    "-009999-01-01T00:00:00Z",
    "+010000-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-12-03T10:00:00+25:00",
    "2026-12-03",
    "1e999",
    "NaN",
    "-1",
    "\u{0}",
    "é\u{7f}",
];

/// Numbers at and past the edges of every type a field might be read as.
fn absurd_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        select(vec![
            json!(0),
            json!(-1),
            json!(0.0005),
            json!(1e308),
            json!(-1e308),
            json!(9_007_199_254_740_993_i64),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(315_537_897_599_i64),
            json!(f64::MIN_POSITIVE),
        ]),
    ]
}

/// Any JSON, mostly objects keyed by [`FIELDS`] holding absurd values.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        absurd_number(),
        select(TEXTS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        let key = prop_oneof![4 => select(FIELDS).prop_map(String::from), 1 => ".{0,8}"];
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((key, inner), 0..6).prop_map(|pairs| Value::Object(Map::from_iter(pairs))),
        ]
    })
}

/// A header value that is valid on the wire, text or not: visible ASCII,
/// spaces, tabs and bytes above 0x7f.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff], 0..40)
}

/// Every media type the trigger knows, spelt in every way, and others.
fn any_content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    let known = select(vec![
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/x-www-form-urlencoded",
        "APPLICATION/X-WWW-FORM-URLENCODED; charset=latin1",
        "multipart/form-data; boundary=B",
        "multipart/form-data; boundary=\"B\"",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=B; boundary=C",
        "multipart/mixed; boundary=B",
        "",
        ";",
        "text/plain",
    ]);
    prop_oneof![
        1 => Just(None),
        4 => known.prop_map(|text| Some(text.as_bytes().to_vec())),
        1 => header_bytes().prop_map(Some),
    ]
}

/// The right token most of the time, none, or a wrong or unreadable one.
fn any_token() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        12 => Just(Some(TOKEN.as_bytes().to_vec())),
        1 => Just(None),
        1 => "[ -~]{0,24}".prop_map(|text| Some(text.into_bytes())),
        1 => header_bytes().prop_map(Some),
    ]
}

/// An event header: none most of the time, the one the trigger refuses,
/// or any other value.
fn any_event() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        12 => Just(None),
        1 => Just(Some(b"Pipeline Hook".to_vec())),
        1 => "[ -~]{0,24}".prop_map(|text| Some(text.into_bytes())),
        1 => header_bytes().prop_map(Some),
    ]
}

/// A project segment: often one that exists, so that what comes after
/// the project is reached.
fn any_project() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("123".to_owned()),
        1 => Just("jdoe%2Fdemo".to_owned()),
        3 => any_segment(),
    ]
}

/// A record id segment: often one that the fresh mock holds (pipeline 1,
/// scenario 500, rule 1).
fn any_id() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => select(vec!["1", "500", "0", "1000"]).prop_map(String::from),
        3 => any_segment(),
    ]
}

/// A path segment: ids past every integer type, negative ones, project
/// paths, escapes that are truncated, not hex, or decode to bytes that are
/// not UTF-8.
fn any_segment() -> impl Strategy<Value = String> {
    let known = select(vec![
        "123",
        "1",
        "0",
        "-1",
        "-0",
        "+1",
        "00001",
        "1e3",
        "0x10",
        "9007199254740992",
        "9007199254740993",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "99999999999999999999999999999999",
        "jdoe%2Fdemo",
        "a%2Fb%2Fc",
        "%2F",
        "%2e%2e",
        "..",
        "%",
        "%2",
        "%zz",
        "%ff",
        "%C3%28",
        "%E2%82",
        "%00",
        "%20",
        "%252F",
        "latest",
        "a%2F..",
        "mock%2Fproject-5",
    ]);
    prop_oneof![
        4 => known.prop_map(String::from),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u128>().prop_map(|n| n.to_string()),
        1 => vec(any::<u8>(), 1..12).prop_map(|bytes| percent_encoded(&bytes)),
        1 => "[a-zA-Z0-9._~!$&'()*+,;=:@%-]{1,16}",
    ]
}

/// Every byte as `%XX`.
fn percent_encoded(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("%{byte:02X}")).collect()
}

/// The names the list routes read.
const QUERY_NAMES: &[&str] = &[
    "scope",
    "status",
    "ref",
    "sha",
    "source",
    "username",
    "name",
    "yaml_errors",
    "updated_before",
    "updated_after",
    "created_before",
    "created_after",
    "order_by",
    "sort",
    "page",
    "per_page",
    "project_id",
    "token",
    "page[]",
    "per_page[x]",
];

/// A query string: names the routes read with edge-case values, or raw
/// characters, `%` escapes and separators.
fn any_query() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        any_segment(),
        select(TEXTS).prop_map(|text| form_urlencoded::byte_serialize(text.as_bytes()).collect()),
        select(vec![
            "branches",
            "tags",
            "asc",
            "desc",
            "updated_at",
            "trigger",
            "yes"
        ])
        .prop_map(String::from),
    ];
    let pairs = vec((select(QUERY_NAMES), value), 0..6).prop_map(|pairs| {
        let pairs: Vec<String> = pairs
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        pairs.join("&")
    });
    prop_oneof![
        3 => pairs,
        1 => "[a-zA-Z0-9._~!$&'()*+,;=:@%/?-]{0,32}",
    ]
}

/// `path` under `/api/v4` or bare, as both are served.
fn prefixed(path: String) -> impl Strategy<Value = String> {
    select(vec!["", "/api/v4"]).prop_map(move |prefix| format!("{prefix}{path}"))
}

/// The names a trigger's form fields take, Rack's nesting included.
const FORM_NAMES: &[&str] = &[
    "token",
    "ref",
    "variables[A]",
    "variables[]",
    "variables[][key]",
    "variables[][value]",
    "variables[0][key]",
    "variables[0][variable_type]",
    "inputs[x]",
    "inputs",
    "scenario_id",
    "terminal_after_seconds",
    "terminal_status",
    "variables",
    "ref[]",
];

/// A trigger that is well formed in its encoding, JSON, urlencoded or
/// multipart, with `token` and `ref` and then fields of absurd values, so
/// that the checks after decoding (variables, mock controls, scenarios,
/// the clock) are the ones tried.
fn well_formed_trigger() -> impl Strategy<Value = (Option<Vec<u8>>, Vec<u8>)> {
    let text = prop_oneof![
        select(TEXTS).prop_map(String::from),
        absurd_number().prop_map(|number| number.to_string()),
        ".{0,8}",
    ];
    let pairs = vec((select(FORM_NAMES), text), 0..4).prop_map(|extra| {
        let mut pairs = vec![("token", "T".to_owned()), ("ref", "main".to_owned())];
        pairs.extend(extra);
        pairs
    });
    let json = (
        vec((select(FIELDS), json_value()), 0..4),
        vec((select(FIELDS), absurd_number()), 0..3),
    )
        .prop_map(|(values, numbers)| {
            let mut object = json!({"token": "T", "ref": "main"});
            for (name, value) in values.into_iter().chain(numbers) {
                object[name] = value;
            }
            (
                Some(b"application/json".to_vec()),
                object.to_string().into_bytes(),
            )
        });
    prop_oneof![
        json,
        pairs.clone().prop_map(|pairs| {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (name, value) in pairs {
                form.append_pair(name, &value);
            }
            let content_type = b"application/x-www-form-urlencoded".to_vec();
            (Some(content_type), form.finish().into_bytes())
        }),
        pairs.prop_map(|pairs| {
            let mut body = String::new();
            for (name, value) in pairs {
                body.push_str(&format!(
                    "--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                ));
            }
            body.push_str("--B--\r\n");
            let content_type = b"multipart/form-data; boundary=B".to_vec();
            (Some(content_type), body.into_bytes())
        }),
    ]
}

/// A trigger, or a create, of any body in any content type, with a query
/// string, at any project and (for the webhook form) any ref.
fn trigger_call() -> impl Strategy<Value = Call> {
    let path = (any_project(), any_segment(), 0..4, any_query()).prop_map(
        |(project, git_ref, form, query)| match form {
            0 => format!("/projects/{project}/trigger/pipeline?{query}"),
            1 => format!("/projects/{project}/ref/{git_ref}/trigger/pipeline?{query}"),
            2 => format!("/projects/123/trigger/pipeline?{query}"),
            _ => format!("/projects/{project}/pipeline?{query}"),
        },
    );
    let payload = prop_oneof![(any_content_type(), any_body()), well_formed_trigger()];
    (
        path.prop_flat_map(prefixed),
        any_token(),
        any_event(),
        payload,
    )
        .prop_map(|(path, token, event, (content_type, body))| Call {
            method: "POST",
            path,
            token,
            content_type,
            event,
            body,
        })
}

/// The project hook routes, any project, id, query string and body, in any
/// content type.
fn hook_call() -> impl Strategy<Value = Call> {
    let route =
        (any_project(), any_id(), any_query(), 0..5).prop_map(|(project, hook, query, route)| {
            match route {
                0 => ("POST", format!("/projects/{project}/hooks?{query}")),
                1 => ("POST", format!("/projects/123/hooks?{query}")),
                2 => ("PUT", format!("/projects/{project}/hooks/{hook}?{query}")),
                3 => ("GET", format!("/projects/{project}/hooks/{hook}")),
                _ => ("DELETE", format!("/projects/{project}/hooks/{hook}")),
            }
        });
    let routed = route.prop_flat_map(|(method, path)| (Just(method), prefixed(path)));
    (routed, any_token(), any_content_type(), any_body()).prop_map(
        |((method, path), token, content_type, body)| Call {
            method,
            path,
            token,
            content_type,
            event: None,
            body,
        },
    )
}

/// A GitLab-shaped read, or a write without a body, at any project and
/// pipeline with any query string.
fn read_call() -> impl Strategy<Value = Call> {
    let route = (any_project(), any_id(), any_query(), 0..10).prop_map(
        |(project, pipeline, query, route)| match route {
            0 => ("GET", format!("/projects/{project}/pipelines/{pipeline}")),
            1 => ("GET", format!("/projects/{project}/pipelines?{query}")),
            2 => ("GET", format!("/projects/123/pipelines?{query}")),
            3 => (
                "GET",
                format!("/projects/{project}/pipelines/latest?{query}"),
            ),
            4 => (
                "GET",
                format!("/projects/{project}/pipelines/{pipeline}/variables"),
            ),
            5 => (
                "GET",
                format!("/projects/123/pipelines/{pipeline}/jobs?{query}"),
            ),
            6 => ("GET", format!("/projects/{project}?{query}")),
            7 => (
                "POST",
                format!("/projects/{project}/pipelines/{pipeline}/cancel"),
            ),
            8 => ("POST", format!("/projects/123/pipelines/{pipeline}/retry")),
            _ => (
                "DELETE",
                format!("/projects/{project}/pipelines/{pipeline}"),
            ),
        },
    );
    let routed = route.prop_flat_map(|(method, path)| (Just(method), prefixed(path)));
    (routed, any_token()).prop_map(|((method, path), token)| Call {
        method,
        path,
        token,
        content_type: None,
        event: None,
        body: Vec::new(),
    })
}

/// A JSON object of `base`'s fields, then some of `FIELDS` with any value,
/// so that the route's own checks and its refusal of unknown fields are
/// both reached.
fn object_with(base: impl Strategy<Value = Value>) -> impl Strategy<Value = Vec<u8>> {
    let extra = prop_oneof![
        3 => Just(Vec::new()),
        1 => vec((select(FIELDS), json_value()), 1..3),
    ];
    (base, extra).prop_map(|(mut object, extra)| {
        for (name, value) in extra {
            object[name] = value;
        }
        object.to_string().into_bytes()
    })
}

/// Any value for a field that wants a number: a plain one, an absurd one,
/// or sometimes not a number at all.
fn number_field() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => (0i64..2000).prop_map(Value::from),
        2 => absurd_number(),
        1 => json_value(),
    ]
}

/// Any value for a field that wants a string.
fn text_field() -> impl Strategy<Value = Value> {
    prop_oneof![3 => select(TEXTS).prop_map(Value::from), 1 => json_value()]
}

/// One of `choices` most of the time, any string field otherwise.
fn one_of(choices: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![3 => select(choices).prop_map(Value::from), 1 => text_field()]
}

/// Every status's spelling, for fields that want one.
const STATUSES: &[&str] = &[
    "success",
    "failed",
    "canceled",
    "skipped",
    "manual",
    "running",
    "pending",
    "created",
    "scheduled",
    "canceling",
    "preparing",
    "waiting_for_resource",
    "waiting_for_callback",
];

/// `POST /_mock/clock/freeze`: instants from now to the end of time.
fn freeze_body() -> impl Strategy<Value = Vec<u8>> {
    const INSTANTS: &[&str] = &[
        "2026-12-03T10:00:00Z",
        "2026-12-03T10:00:00.001Z",
        "2027-01-01T00:00:00+14:00",
        "9999-12-30T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59.999999999Z",
    ];
    object_with(one_of(INSTANTS).prop_map(|at| json!({ "at": at })))
}

/// `POST /_mock/clock/advance`: steps from nothing to past the end of time,
/// or to the next transition, alone or beside a step.
fn advance_body() -> impl Strategy<Value = Vec<u8>> {
    let step = number_field().prop_map(|seconds| json!({ "seconds": seconds }));
    let next = (json_value(), proptest::option::of(number_field())).prop_map(|(next, seconds)| {
        match seconds {
            Some(seconds) => json!({ "to_next_transition": next, "seconds": seconds }),
            None => json!({ "to_next_transition": next }),
        }
    });
    object_with(prop_oneof![3 => step, 1 => next])
}

/// `POST /_mock/scenarios` and `PUT /_mock/scenarios/:id`: the seed's
/// shape, phases, or a refusal, each with absurd values.
fn scenario_body() -> impl Strategy<Value = Vec<u8>> {
    let flag = prop_oneof![3 => any::<bool>().prop_map(Value::from), 1 => json_value()];
    let seed = (number_field(), number_field(), one_of(STATUSES), flag).prop_map(
        |(id, after, status, never)| {
            json!({
                "scenario_id": id, "name": "s", "terminal_after_seconds": after,
                "terminal_status": status, "never_complete": never,
            })
        },
    );
    let phase = (one_of(STATUSES), number_field())
        .prop_map(|(status, seconds)| json!({"status": status, "seconds": seconds}));
    let phased = (number_field(), vec(phase, 0..4), one_of(STATUSES)).prop_map(
        |(id, phases, status)| {
            json!({"scenario_id": id, "name": "p", "terminal_status": status, "phases": phases})
        },
    );
    let refusal = (number_field(), one_of(&["ref_not_found", "no_jobs"]))
        .prop_map(|(id, reject)| json!({"scenario_id": id, "name": "r", "reject": reject}));
    object_with(prop_oneof![seed, phased, refusal])
}

/// A scenario's changes: any subset of its fields.
fn scenario_changes() -> impl Strategy<Value = Vec<u8>> {
    let fields = select(vec![
        "name",
        "terminal_after_seconds",
        "terminal_status",
        "never_complete",
        "phases",
        "reject",
    ]);
    let value = prop_oneof![
        number_field(),
        text_field(),
        Just(json!([{"status": "pending", "seconds": 9_223_372_036_854_775_807_i64}])),
        Just(json!([{"status": "running", "seconds": null}, {"status": "created"}])),
    ];
    vec((fields, value), 0..4).prop_map(|pairs| {
        let object: Map<String, Value> = pairs.into_iter().map(|(k, v)| (k.into(), v)).collect();
        Value::Object(object).to_string().into_bytes()
    })
}

/// `POST /_mock/rules`.
fn rule_body() -> impl Strategy<Value = Vec<u8>> {
    let scenario = prop_oneof![
        3 => select(vec![0, 1, 500, 1007]).prop_map(Value::from),
        1 => number_field(),
    ];
    let rule = (number_field(), text_field(), scenario, number_field()).prop_map(
        |(project_id, git_ref, scenario_id, times)| {
            json!({
                "project_id": project_id, "ref": git_ref, "token": "T",
                "variables": {"A": "1"}, "scenario_id": scenario_id, "times": times,
            })
        },
    );
    object_with(rule)
}

/// `POST /_mock/projects`.
fn project_body() -> impl Strategy<Value = Vec<u8>> {
    let paths = &[
        "acme/deploy-bot",
        "a/b/c",
        "g/p-1",
        "jdoe/demo",
        "mock/project-5",
    ];
    let project = (number_field(), one_of(paths), text_field())
        .prop_map(|(id, path, branch)| json!({"id": id, "path": path, "default_branch": branch}));
    object_with(project)
}

/// A body shaped for its route three times in four, anything otherwise.
fn shaped(body: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![3 => body, 1 => any_body()]
}

/// `method path` with a body from `body`.
fn at(
    method: &'static str,
    path: &'static str,
    body: impl Strategy<Value = Vec<u8>> + 'static,
) -> BoxedStrategy<(&'static str, String, Vec<u8>)> {
    body.prop_map(move |body| (method, path.to_owned(), body))
        .boxed()
}

/// `method prefix/:id` with any id and a body from `body`.
fn at_id(
    method: &'static str,
    prefix: &'static str,
    body: impl Strategy<Value = Vec<u8>> + 'static,
) -> BoxedStrategy<(&'static str, String, Vec<u8>)> {
    (any_id(), body)
        .prop_map(move |(id, body)| (method, format!("{prefix}/{id}"), body))
        .boxed()
}

/// A `/_mock` route with a body shaped for it (or not), any id segment and
/// any query string.
fn control_call() -> impl Strategy<Value = Call> {
    let none = || Just(Vec::new());
    let listing = any_query()
        .prop_map(|query| ("GET", format!("/_mock/pipelines?{query}"), Vec::new()))
        .boxed();
    let deliveries = any_query()
        .prop_map(|query| {
            (
                "GET",
                format!("/_mock/hooks/deliveries?{query}"),
                Vec::new(),
            )
        })
        .boxed();
    let route = prop_oneof![
        at("POST", "/_mock/clock/freeze", shaped(freeze_body())),
        at("POST", "/_mock/clock/advance", shaped(advance_body())),
        at("POST", "/_mock/clock/resume", shaped(Just(b"{}".to_vec()))),
        at("GET", "/_mock/clock", none()),
        at("POST", "/_mock/scenarios", shaped(scenario_body())),
        at_id("PUT", "/_mock/scenarios", shaped(scenario_changes())),
        at_id("DELETE", "/_mock/scenarios", none()),
        at("POST", "/_mock/rules", shaped(rule_body())),
        at_id("DELETE", "/_mock/rules", none()),
        at("POST", "/_mock/projects", shaped(project_body())),
        listing,
        deliveries,
        at_id("DELETE", "/_mock/pipelines", none()),
        at("POST", "/_mock/reset", shaped(none())),
    ];
    let content_type = prop_oneof![
        3 => Just(Some(b"application/json".to_vec())),
        1 => any_content_type(),
    ];
    (route, any_token(), content_type).prop_map(|((method, path, body), token, content_type)| {
        Call {
            method,
            path,
            token,
            content_type,
            event: None,
            body,
        }
    })
}

/// Every route that reads the caller's token, with its method and ids the
/// fresh mock holds.
const TOKEN_ROUTES: &[(&str, &str)] = &[
    ("POST", "/projects/123/trigger/pipeline"),
    ("POST", "/api/v4/projects/123/ref/main/trigger/pipeline"),
    ("POST", "/projects/123/pipeline"),
    ("GET", "/api/v4/projects/123/pipelines/1"),
    ("GET", "/projects/123/pipelines"),
    ("GET", "/projects/123/pipelines/latest"),
    ("GET", "/projects/123/pipelines/1/variables"),
    ("GET", "/projects/123/pipelines/1/jobs"),
    ("POST", "/projects/123/pipelines/1/cancel"),
    ("POST", "/projects/123/pipelines/1/retry"),
    ("DELETE", "/api/v4/projects/123/pipelines/1"),
    ("GET", "/projects/123"),
    ("GET", "/user"),
    ("GET", "/projects/123/triggers"),
    ("POST", "/projects/123/triggers"),
    ("DELETE", "/projects/123/triggers/1"),
    ("GET", "/projects/123/hooks"),
    ("POST", "/api/v4/projects/123/hooks"),
    ("GET", "/projects/123/hooks/1"),
    ("PUT", "/projects/123/hooks/1"),
    ("DELETE", "/projects/123/hooks/1"),
    ("GET", "/_mock/hooks/deliveries"),
    ("GET", "/_mock/scenarios"),
    ("POST", "/_mock/scenarios"),
    ("PUT", "/_mock/scenarios/500"),
    ("DELETE", "/_mock/scenarios/500"),
    ("GET", "/_mock/pipelines"),
    ("DELETE", "/_mock/pipelines/1"),
    ("GET", "/_mock/clock"),
    ("POST", "/_mock/clock/freeze"),
    ("POST", "/_mock/clock/advance"),
    ("POST", "/_mock/clock/resume"),
    ("POST", "/_mock/reset"),
    ("GET", "/_mock/rules"),
    ("POST", "/_mock/rules"),
    ("DELETE", "/_mock/rules/1"),
    ("GET", "/_mock/projects"),
    ("POST", "/_mock/projects"),
];

/// A `PRIVATE-TOKEN` that is a valid header value but not text: a byte
/// above 0x7f somewhere in it.
fn unreadable_token() -> impl Strategy<Value = Vec<u8>> {
    (header_bytes(), 0x80u8..=0xff, header_bytes()).prop_map(|(mut before, odd, after)| {
        before.push(odd);
        before.extend(after);
        before
    })
}

/// Sends `method path` with an unreadable token and expects the README's
/// 400 naming the header, whatever other route shares the path.
fn check_unreadable_token(
    method: &'static str,
    path: &str,
    token: Vec<u8>,
) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let call = Call {
        method,
        path: path.to_owned(),
        token: Some(token),
        content_type: None,
        event: None,
        body: Vec::new(),
    };
    let answer = runtime.block_on(async { TestMock::new().send(call.request()).await });
    let expected = json!({"error": "private-token header is invalid"});
    prop_assert_eq!(
        (answer.status, &answer.body),
        (400, &expected),
        "for {:?}",
        call
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any body in any content type, at any project, ref and query string:
    /// the trigger and the create answer 2xx or a JSON 4xx.
    #[test]
    fn triggers_survive_any_request(call in trigger_call()) {
        run(vec![call])?;
    }

    /// Any body, id and query on the control routes, clock moves to the
    /// edge of time included.
    #[test]
    fn control_routes_survive_any_request(call in control_call()) {
        run(vec![call])?;
    }

    /// Any body, project, id and query on the project hook routes.
    #[test]
    fn hook_routes_survive_any_request(call in hook_call()) {
        run(vec![call])?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A token that is not text is a 400 naming the header on every route
    /// that reads it, as the README says, never the 405 of a route that
    /// shares the path with another method, nor a 401.
    #[test]
    fn unreadable_tokens_are_400_on_every_route(
        (method, path) in select(TOKEN_ROUTES),
        token in unreadable_token(),
    ) {
        check_unreadable_token(method, path, token)?;
    }

    /// Any project and pipeline segment and any query string, on every
    /// GitLab-shaped read and on cancel, retry and delete.
    #[test]
    fn reads_survive_any_path_and_query(call in read_call()) {
        run(vec![call])?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Requests of every kind in a row on one mock, so a clock frozen at
    /// the end of time, an absurd scenario or a deleted preset set up by one
    /// request meets the triggers, polls and lists that follow.
    #[test]
    fn sequences_of_requests_survive(
        calls in vec(prop_oneof![trigger_call(), read_call(), control_call()], 1..12),
    ) {
        run(calls)?;
    }
}
