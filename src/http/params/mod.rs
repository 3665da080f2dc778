//! Reading request parameters the way GitLab (Grape on Rack) reads them.
//!
//! GitLab clients disagree on how to send a trigger: python-gitlab and
//! go-gitlab send JSON, the docs and curl users send multipart forms,
//! gitbeaker puts `token` and `ref` in the query string and variables in a
//! multipart body. Every encoding is first turned into one JSON object of
//! fields (query string first, body fields over it), then read by a single
//! function per endpoint, so the encodings cannot drift apart.
//!
//! Form names nest as Rack nests them: `variables[KEY]=V` makes an object,
//! `variables[][key]=K` an array of objects. Bracketed names are only
//! understood in forms and query strings: a JSON key spelled
//! `variables[KEY]` stays an ignored top-level field, exactly as GitLab
//! ignores it.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::mock::{Controls, CreateRequest, TriggerRequest};
use crate::model::{Variable, VariableType};
use crate::status::PipelineStatus;

use super::error::ApiError;

mod hook;

pub use hook::read_hook;

/// The fields of a request, whatever their encoding.
pub type Fields = Map<String, Value>;

/// The query string's fields with the body's fields over them.
pub async fn request_fields(
    query: &str,
    content_type: Option<&str>,
    body: Bytes,
) -> Result<Fields, ApiError> {
    let mut fields = form_fields(form_urlencoded::parse(query.as_bytes()));
    for (name, value) in body_fields(content_type, body).await? {
        fields.insert(name, value);
    }
    Ok(fields)
}

async fn body_fields(content_type: Option<&str>, body: Bytes) -> Result<Fields, ApiError> {
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

/// Folds form pairs into nested fields. A later pair with the same name
/// wins. Values are moved in, not copied: the decoder hands over a fresh
/// string for any value it had to decode.
fn form_fields<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Fields
where
    K: AsRef<str>,
    V: Into<String>,
{
    let mut root = Value::Object(Fields::new());
    for (name, value) in pairs {
        let name = name.as_ref();
        let value = Value::String(value.into());
        match (name.is_empty(), name.contains('['), &mut root) {
            (true, _, _) => {}
            // Most names are plain; they need no splitting.
            (false, false, Value::Object(fields)) => {
                fields.insert(name.to_owned(), value);
            }
            _ => set_nested(&mut root, &split_name(name), value),
        }
    }
    match root {
        Value::Object(fields) => fields,
        _ => Fields::new(),
    }
}

/// The deepest nesting a form name may ask for; deeper names stay plain
/// keys. Every nested value is walked recursively, so without a bound one
/// long name could exhaust the stack. Rack bounds it too.
const MAX_NAME_DEPTH: usize = 32;

/// `a[b][]` into `["a", "b", ""]`; a name with unbalanced brackets, or
/// nested deeper than [`MAX_NAME_DEPTH`], is one
/// plain key.
fn split_name(name: &str) -> Vec<&str> {
    let Some(open) = name.find('[').filter(|open| *open > 0) else {
        return vec![name];
    };
    let mut keys = vec![&name[..open]];
    let mut rest = &name[open..];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return vec![name];
        };
        keys.push(&inner[..close]);
        rest = &inner[close + 1..];
        if keys.len() > MAX_NAME_DEPTH {
            return vec![name];
        }
    }
    if rest.is_empty() { keys } else { vec![name] }
}

/// Sets `value` at the path `keys` under `target`, Rack's way: `""` means
/// "append to an array", starting a new element when the last one already
/// has the next key.
fn set_nested(target: &mut Value, keys: &[&str], value: Value) {
    let Some((first, rest)) = keys.split_first() else {
        *target = value;
        return;
    };
    if first.is_empty() {
        if !target.is_array() {
            *target = Value::Array(Vec::new());
        }
        let Value::Array(items) = target else { return };
        let reuse_last = match (rest.first(), items.last()) {
            (Some(next), Some(Value::Object(last))) => {
                !next.is_empty() && !last.contains_key(*next)
            }
            _ => false,
        };
        if !reuse_last {
            items.push(if rest.is_empty() {
                Value::Null
            } else {
                Value::Object(Map::new())
            });
        }
        if let Some(last) = items.last_mut() {
            set_nested(last, rest, value);
        }
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else { return };
    // A key already there (the second variable of `variables[…]`) is found
    // without making its name a `String` first.
    if !map.contains_key(*first) {
        map.insert((*first).to_owned(), Value::Null);
    }
    if let Some(slot) = map.get_mut(*first) {
        set_nested(slot, rest, value);
    }
}

async fn multipart_fields(content_type: &str, body: Bytes) -> Result<Fields, ApiError> {
    let broken = |error: multer::Error| {
        ApiError::BadRequest(format!("multipart body cannot be read: {error}"))
    };
    let boundary = multer::parse_boundary(content_type).map_err(broken)?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);

    let mut pairs = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(broken)? {
        let Some(name) = field.name().map(str::to_owned) else {
            return Err(ApiError::BadRequest(
                "multipart body cannot be read: a part has no name, or one that is not UTF-8"
                    .into(),
            ));
        };
        // The bytes as sent, read as UTF-8 the way form bodies are: multer's
        // `text()` would sniff a byte order mark, dropping a leading U+FEFF
        // and reading `FF FE …` as UTF-16, so a value would change.
        let value = field.bytes().await.map_err(broken)?;
        pairs.push((name, String::from_utf8_lossy(&value).into_owned()));
    }
    Ok(form_fields(pairs))
}

/// Checks a trigger's parameters as GitLab's parameter validation does:
/// missing or malformed parameters are one 400 `{"error": …}` listing every
/// problem, in the order GitLab declares them.
pub fn validate_trigger(fields: &Fields) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    required_text(fields, "ref", true, &mut problems);
    required_text(fields, "token", false, &mut problems);
    check_object(fields, "variables", &mut problems);
    check_object(fields, "inputs", &mut problems);
    match problems.is_empty() {
        true => Ok(()),
        false => Err(ApiError::BadRequest(problems.join(", "))),
    }
}

/// Reads a trigger whose parameters [`validate_trigger`] accepted (the
/// handler checks them first, since GitLab's 403 for pipeline hooks comes
/// between the two). Variable values that are not strings get GitLab's
/// second, separate check. The fields, less the token, become the
/// request's `parameters` as they are, without a copy.
pub fn read_trigger(mut fields: Fields) -> Result<TriggerRequest, ApiError> {
    let mut ignored = Vec::new();
    let git_ref = required_text(&fields, "ref", true, &mut ignored).unwrap_or_default();
    let variables = string_map(fields.get("variables"))?;
    let controls = controls(&fields)?;
    let token = required_text(&fields, "token", false, &mut ignored).unwrap_or_default();
    fields.remove("token");
    Ok(TriggerRequest {
        token,
        git_ref,
        variables,
        parameters: fields,
        controls,
    })
}

/// Reads `POST /projects/:id/pipeline`: `ref`, and `variables` as GitLab's
/// list of `{key, value, variable_type}`.
pub fn read_create(fields: &Fields) -> Result<CreateRequest, ApiError> {
    let mut problems = Vec::new();
    let git_ref = required_text(fields, "ref", true, &mut problems);
    let variables = variable_list(fields.get("variables")).unwrap_or_else(|| {
        problems.push("variables is invalid".into());
        Vec::new()
    });
    if !problems.is_empty() {
        return Err(ApiError::BadRequest(problems.join(", ")));
    }
    Ok(CreateRequest {
        git_ref: git_ref.unwrap_or_default(),
        variables,
        controls: controls(fields)?,
    })
}

/// The spellings Grape reads as booleans in a query string or form.
pub const BOOLEANS: &[(&str, bool)] = &[
    ("true", true),
    ("false", false),
    ("1", true),
    ("0", false),
    ("yes", true),
    ("no", false),
];

/// A required string; numbers are coerced as Grape coerces them.
fn required_text(
    fields: &Fields,
    name: &str,
    non_blank: bool,
    problems: &mut Vec<String>,
) -> Option<String> {
    let text = match fields.get(name) {
        None | Some(Value::Null) => {
            problems.push(format!("{name} is missing"));
            if non_blank {
                problems.push(format!("{name} is empty"));
            }
            return None;
        }
        Some(Value::String(text)) if !text.chars().any(char::is_control) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::Bool(flag)) => flag.to_string(),
        Some(_) => {
            problems.push(format!("{name} is invalid"));
            return None;
        }
    };
    if non_blank && text.trim().is_empty() {
        problems.push(format!("{name} is empty"));
        return None;
    }
    Some(text)
}

/// Notes a problem when `name` is present and not an object, without
/// copying it.
fn check_object(fields: &Fields, name: &str, problems: &mut Vec<String>) {
    if let Some(value) = fields.get(name)
        && !matches!(value, Value::Null | Value::Object(_))
    {
        problems.push(format!("{name} is invalid"));
    }
}

/// Trigger variables must map strings to strings; GitLab checks this after
/// the parameters, with its own message. [`validate_trigger`] has already
/// refused `variables` that are present and not an object. The request's
/// parameters keep their own copy, for `TRIGGER_PAYLOAD`.
fn string_map(variables: Option<&Value>) -> Result<BTreeMap<String, String>, ApiError> {
    let Some(Value::Object(variables)) = variables else {
        return Ok(BTreeMap::new());
    };
    variables
        .iter()
        .map(|(key, value)| match value {
            Value::String(text) => Ok((key.clone(), text.clone())),
            _ => Err(ApiError::InvalidVariables),
        })
        .collect()
}

/// GitLab's variable list, from a JSON array, `variables[][key]` fields or
/// `variables[0][key]` fields. Values are coerced to strings as Grape does.
fn variable_list(value: Option<&Value>) -> Option<Vec<Variable>> {
    let items: Vec<&Value> = match value {
        None | Some(Value::Null) => return Some(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Object(indexed)) if indexed.keys().all(|k| k.parse::<usize>().is_ok()) => {
            let mut pairs: Vec<(usize, &Value)> = indexed
                .iter()
                .map(|(k, v)| (k.parse().unwrap_or(0), v))
                .collect();
            pairs.sort_by_key(|(index, _)| *index);
            pairs.into_iter().map(|(_, value)| value).collect()
        }
        Some(_) => return None,
    };
    items.into_iter().map(variable_item).collect()
}

fn variable_item(item: &Value) -> Option<Variable> {
    let object = item.as_object()?;
    // Outer `None`: a value that is no scalar; inner `None`: not sent.
    let text = |name: &str| match object.get(name) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(text)) => Some(Some(text.clone())),
        Some(Value::Number(number)) => Some(Some(number.to_string())),
        Some(Value::Bool(flag)) => Some(Some(flag.to_string())),
        Some(_) => None,
    };
    let variable_type = match text("variable_type")?.as_deref() {
        None | Some("env_var") => VariableType::EnvVar,
        Some("file") => VariableType::File,
        Some(_) => return None,
    };
    let key = text("key")??;
    let value = text("value")?.unwrap_or_default();
    Some(Variable {
        key,
        value,
        variable_type,
    })
}

/// The mock-only fields; any that is malformed is a 422.
fn controls(fields: &Fields) -> Result<Controls, ApiError> {
    Ok(Controls {
        scenario_id: optional_integer(fields, "scenario_id")?,
        terminal_after_seconds: optional_integer(fields, "terminal_after_seconds")?,
        terminal_status: optional_status(fields, "terminal_status")?,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rack_nesting() {
        let fields = form_fields([
            ("variables[][key]", "A"),
            ("variables[][value]", "1"),
            ("variables[][key]", "B"),
            ("variables[][value]", "2"),
            ("inputs[x]", "y"),
            ("plain", "p"),
            ("odd[", "q"),
        ]);
        assert_eq!(
            Value::Object(fields),
            serde_json::json!({
                "variables": [{"key": "A", "value": "1"}, {"key": "B", "value": "2"}],
                "inputs": {"x": "y"}, "plain": "p", "odd[": "q",
            })
        );
    }
}
