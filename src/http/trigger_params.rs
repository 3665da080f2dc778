//! Decoding a trigger request from whichever encoding the client chose.
//!
//! GitLab clients disagree on how to send a trigger: python-gitlab and
//! go-gitlab send JSON, the docs and curl users send multipart forms, others
//! send urlencoded forms with `variables[KEY]=VALUE` fields. Every encoding
//! is first turned into one JSON object of fields, then the fields are read
//! by a single function, so the encodings cannot drift apart.
//!
//! Bracketed names are only understood in forms: a JSON key spelled
//! `variables[KEY]` stays an ignored top-level field, exactly as GitLab
//! ignores it.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::mock::TriggerRequest;
use crate::status::PipelineStatus;

use super::error::ApiError;

/// The fields of a request, whatever their encoding.
type Fields = Map<String, Value>;

/// The mock's own reading of a trigger body.
pub async fn decode(content_type: Option<&str>, body: Bytes) -> Result<TriggerRequest, ApiError> {
    let fields = fields(content_type, body).await?;
    read_trigger(&fields)
}

async fn fields(content_type: Option<&str>, body: Bytes) -> Result<Fields, ApiError> {
    let media_type = content_type.map(|value| {
        value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });

    match media_type.as_deref() {
        Some("application/json") => json_fields(&body),
        Some("application/x-www-form-urlencoded") => Ok(form_fields(form_urlencoded::parse(&body))),
        Some("multipart/form-data") => multipart_fields(content_type.unwrap_or(""), body).await,
        None | Some("") => untyped_fields(&body),
        Some(other) => Err(ApiError::UnsupportedMediaType(format!(
            "{other} is not accepted; send JSON, a urlencoded form or multipart/form-data"
        ))),
    }
}

/// A body sent without `Content-Type`: nothing, JSON, or a form.
fn untyped_fields(body: &Bytes) -> Result<Fields, ApiError> {
    match body.iter().find(|byte| !byte.is_ascii_whitespace()) {
        None => Ok(Fields::new()),
        Some(b'{') => json_fields(body),
        Some(_) => Ok(form_fields(form_urlencoded::parse(body))),
    }
}

fn json_fields(body: &Bytes) -> Result<Fields, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Fields::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(ApiError::BadRequest(
            "request body must be a JSON object".into(),
        )),
        Err(error) => Err(ApiError::BadRequest(format!(
            "request body is not valid JSON: {error}"
        ))),
    }
}

/// Folds form pairs into fields; `variables[KEY]=VALUE` pairs become one
/// `variables` object. A later pair with the same name wins.
fn form_fields<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Fields
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut fields = Fields::new();
    for (name, value) in pairs {
        let (name, value) = (name.as_ref(), Value::from(value.as_ref()));
        match variable_name(name) {
            Some(key) => insert_variable(&mut fields, key, value),
            None => {
                fields.insert(name.to_owned(), value);
            }
        }
    }
    fields
}

/// `KEY` out of `variables[KEY]`.
fn variable_name(field: &str) -> Option<&str> {
    field.strip_prefix("variables[")?.strip_suffix(']')
}

fn insert_variable(fields: &mut Fields, key: &str, value: Value) {
    let variables = fields
        .entry("variables")
        .or_insert_with(|| Value::Object(Map::new()));
    if !variables.is_object() {
        *variables = Value::Object(Map::new());
    }
    if let Value::Object(variables) = variables {
        variables.insert(key.to_owned(), value);
    }
}

async fn multipart_fields(content_type: &str, body: Bytes) -> Result<Fields, ApiError> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|error| ApiError::BadRequest(format!("multipart body cannot be read: {error}")))?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);

    let mut pairs = Vec::new();
    let broken = |error: multer::Error| {
        ApiError::BadRequest(format!("multipart body cannot be read: {error}"))
    };
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field.text().await.map_err(broken)?;
        pairs.push((name, value));
    }
    Ok(form_fields(pairs))
}

/// Reads the trigger's fields, checking each one's type.
fn read_trigger(fields: &Fields) -> Result<TriggerRequest, ApiError> {
    required_text(fields, "token")?;
    let git_ref = required_text(fields, "ref")?;

    Ok(TriggerRequest {
        git_ref,
        variables: variables(fields.get("variables"))?,
        scenario_id: optional_integer(fields, "scenario_id")?,
        terminal_after_seconds: optional_integer(fields, "terminal_after_seconds")?,
        terminal_status: optional_status(fields, "terminal_status")?,
    })
}

fn required_text(fields: &Fields, name: &str) -> Result<String, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Err(ApiError::Unprocessable(format!("{name} is missing"))),
        Some(Value::String(text)) if text.is_empty() => {
            Err(ApiError::Unprocessable(format!("{name} is empty")))
        }
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(ApiError::Unprocessable(format!("{name} must be a string"))),
    }
}

fn variables(value: Option<&Value>) -> Result<BTreeMap<String, String>, ApiError> {
    let invalid = || ApiError::Unprocessable("variables must be an object of string values".into());
    let object = match value {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(invalid()),
    };
    object
        .iter()
        .map(|(key, value)| match value {
            Value::String(text) => Ok((key.clone(), text.clone())),
            _ => Err(invalid()),
        })
        .collect()
}

/// An integer sent as a JSON number or, from a form, as decimal text; an
/// empty form field counts as not sent.
fn optional_integer(fields: &Fields, name: &str) -> Result<Option<i64>, ApiError> {
    let integer = match fields.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) if text.is_empty() => return Ok(None),
        Some(Value::Number(number)) => number.as_i64(),
        Some(Value::String(text)) => text.trim().parse().ok(),
        Some(_) => None,
    };
    integer
        .map(Some)
        .ok_or_else(|| ApiError::Unprocessable(format!("{name} must be an integer")))
}

fn optional_status(fields: &Fields, name: &str) -> Result<Option<PipelineStatus>, ApiError> {
    let text = match fields.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) if text.is_empty() => return Ok(None),
        Some(Value::String(text)) => text,
        Some(_) => return Err(ApiError::Unprocessable(format!("{name} must be a string"))),
    };
    text.parse().map(Some).map_err(|_| {
        ApiError::Unprocessable(format!(
            "{name} must be one of: {}",
            PipelineStatus::spellings()
        ))
    })
}
