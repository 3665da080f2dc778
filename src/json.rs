//! Writing JSON on the paths every poll and every trigger take.
//!
//! serde_json writes each key and each string through its general string
//! escaper and a handful of buffer calls: about 190 instructions a string
//! in the profile. The pipeline entity has some sixty of them, and a
//! trigger also encodes its variables, its phases and `TRIGGER_PAYLOAD`,
//! which together made encoding the largest step of a trigger after SQLite.
//! Here keys are fixed ASCII names written as they are, URLs are written
//! from their parts without being built first, strings are scanned eight
//! bytes at a time, and a string is handed to serde_json only when it
//! holds a byte JSON must escape. The output is byte for byte what
//! serde_json writes for the same value, which the tests of every user of
//! this module check against serde_json itself.

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::clock::push_rfc3339_millis;

/// One JSON object being written into a buffer; nested objects borrow it.
pub struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> JsonObject<'a> {
    /// Starts an object at the end of `out`.
    pub fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    /// Ends the object.
    pub fn close(self) {
        self.out.push(b'}');
    }

    #[inline]
    pub fn str(&mut self, key: &'static str, value: &str) {
        self.key(key);
        push_string(self.out, value);
    }

    /// A string made of `parts`, written one after the other.
    #[inline]
    pub fn str_of(&mut self, key: &'static str, parts: &[&str]) {
        self.key(key);
        self.out.push(b'"');
        for part in parts {
            push_string_content(self.out, part);
        }
        self.out.push(b'"');
    }

    /// An instant in the mock's spelling, or `null`.
    #[inline]
    pub fn instant(&mut self, key: &'static str, value: Option<Timestamp>) {
        let Some(instant) = value else {
            return self.null(key);
        };
        self.key(key);
        self.out.push(b'"');
        push_rfc3339_millis(self.out, instant);
        self.out.push(b'"');
    }

    #[inline]
    pub fn int(&mut self, key: &'static str, value: i64) {
        self.key(key);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    #[inline]
    pub fn opt_int(&mut self, key: &'static str, value: Option<i64>) {
        match value {
            Some(value) => self.int(key, value),
            None => self.null(key),
        }
    }

    #[inline]
    pub fn bool(&mut self, key: &'static str, value: bool) {
        self.key(key);
        self.out.extend_from_slice(match value {
            true => b"true",
            false => b"false",
        });
    }

    #[inline]
    pub fn null(&mut self, key: &'static str) {
        self.key(key);
        self.out.extend_from_slice(b"null");
    }

    /// A nested object under `key`; it must be closed before this one goes
    /// on.
    #[inline]
    pub fn object(&mut self, key: &'static str) -> JsonObject<'_> {
        self.key(key);
        JsonObject::open(self.out)
    }

    /// A nested object under `key` whose own keys are data, such as
    /// variable names, and so are escaped like any string.
    pub fn map<'v>(
        &mut self,
        key: &'static str,
        entries: impl IntoIterator<Item = (&'v str, &'v str)>,
    ) {
        self.key(key);
        self.out.push(b'{');
        for (index, (name, value)) in entries.into_iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            push_string(self.out, name);
            self.out.push(b':');
            push_string(self.out, value);
        }
        self.out.push(b'}');
    }

    /// `,"key":`, or without the comma for the first. Keys are the callers'
    /// own field names, which need no escaping.
    #[inline]
    fn key(&mut self, key: &'static str) {
        debug_assert!(!any_needs_escape(key.as_bytes()), "{key:?} needs escaping");
        let comma: &[u8] = match self.empty {
            true => b"\"",
            false => b",\"",
        };
        self.empty = false;
        self.out.extend_from_slice(comma);
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }
}

/// A JSON array of objects, one written by `write` for each item.
pub fn push_array_of<T>(
    out: &mut Vec<u8>,
    items: &[T],
    mut write: impl FnMut(&mut JsonObject<'_>, &T),
) {
    out.push(b'[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        let mut object = JsonObject::open(out);
        write(&mut object, item);
        object.close();
    }
    out.push(b']');
}

/// Any JSON value, as `serde_json::to_writer` writes it: compact, keys in
/// the map's own order. Numbers, rare where this is used, are written by
/// serde_json itself.
pub fn push_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::String(text) => push_string(out, text),
        Value::Number(number) => {
            // Writing a number into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, number);
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                push_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => push_map(out, map),
    }
}

/// A map of values as one JSON object; see [`push_value`].
pub fn push_map(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    for (index, (key, value)) in map.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        push_string(out, key);
        out.push(b':');
        push_value(out, value);
    }
    out.push(b'}');
}

/// Bytes that are UTF-8 because only `str`s were written into them.
pub fn into_text(out: Vec<u8>) -> String {
    String::from_utf8(out)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Whether any byte of `text` needs escaping inside a JSON string: a byte
/// below 0x20, a quote or a backslash, the ones serde_json escapes (it
/// leaves everything else, non-ASCII included, as it is).
///
/// The scan is most of what writing a string costs, so it goes eight bytes
/// at a time. The last word overlaps the one before it, and a string
/// shorter than a word is padded with spaces, so no byte is tested alone.
#[inline]
fn any_needs_escape(text: &[u8]) -> bool {
    if text.len() < 8 {
        let mut word = [b' '; 8];
        word[..text.len()].copy_from_slice(text);
        return word_needs_escape(u64::from_le_bytes(word));
    }
    let word_at = |start: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&text[start..start + 8]);
        word_needs_escape(u64::from_le_bytes(word))
    };
    (0..text.len() / 8).any(|index| word_at(index * 8)) || word_at(text.len() - 8)
}

/// Whether a byte of `word` is below 0x20, a quote or a backslash. Each
/// test is the usual one for a zero byte, `(x - 0x01…) & !x & 0x80…`,
/// which is exact for "some byte" though not for which one; below 0x20 is
/// the same test against 0x20 in place of 0x01, exact for bounds up to
/// 0x80.
#[inline]
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    control | quote | backslash != 0
}

/// `text` as a JSON string, quotes included.
#[inline]
fn push_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    push_string_content(out, text);
    out.push(b'"');
}

/// `text` as the inside of a JSON string: copied when nothing in it needs
/// escaping, which is nearly always, and escaped by serde_json otherwise.
#[inline]
fn push_string_content(out: &mut Vec<u8>, text: &str) {
    if !any_needs_escape(text.as_bytes()) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let mut quoted = Vec::with_capacity(text.len() + 8);
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut quoted, text);
    out.extend_from_slice(&quoted[1..quoted.len() - 1]);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The bytes JSON requires escaped inside a string, one at a time.
    fn needs_escape(byte: u8) -> bool {
        byte < 0x20 || byte == b'"' || byte == b'\\'
    }

    fn written(build: impl FnOnce(&mut JsonObject<'_>)) -> String {
        let mut out = Vec::new();
        let mut object = JsonObject::open(&mut out);
        build(&mut object);
        object.close();
        into_text(out)
    }

    #[test]
    fn every_kind_of_value_is_written_as_serde_json_writes_it() {
        // In the order of the keys, which `json!` sorts.
        let text = written(|object| {
            object.instant("at", Some(Timestamp::from_millisecond(1_500).unwrap()));
            object.int("id", -42);
            let mut inner = object.object("inner");
            inner.bool("yes", true);
            inner.close();
            object.instant("never", None);
            object.null("none");
            object.str("plain", "main");
            object.opt_int("some", Some(7));
            object.bool("tag", false);
            object.str_of("url", &["http://h", "/a b", "/-/x"]);
            object.map("vars", [("A\"B", "line\nbreak"), ("é", "\u{1}")]);
        });

        let expected = serde_json::json!({
            "at": "1970-01-01T00:00:01.500Z", "id": -42, "inner": {"yes": true},
            "never": null, "none": null, "plain": "main", "some": 7, "tag": false,
            "url": "http://h/a b/-/x", "vars": {"A\"B": "line\nbreak", "é": "\u{1}"},
        });
        assert_eq!(text, serde_json::to_string(&expected).unwrap());
    }

    #[test]
    fn an_empty_object_map_and_array() {
        assert_eq!(written(|object| object.map("m", [])), r#"{"m":{}}"#);
        assert_eq!(written(|_| {}), "{}");
        let mut out = Vec::new();
        push_array_of(&mut out, &[] as &[u8], |_, _| {});
        assert_eq!(out, b"[]");
    }

    /// Any JSON value, strings and keys drawn from all of Unicode.
    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Bytes next to the three boundaries, and ones that equal them in
        /// their low bits, are drawn as often as any other byte: the word
        /// tests could only go wrong for those.
        #[test]
        fn the_word_scan_finds_exactly_the_bytes_that_need_escaping(
            text in prop::collection::vec(prop_oneof![
                any::<u8>(),
                prop::sample::select(vec![
                    0x00, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xa0,
                    0xa2, 0xdc, 0xff,
                ]),
            ], 0..40),
        ) {
            prop_assert_eq!(any_needs_escape(&text), text.iter().copied().any(needs_escape));
        }

        #[test]
        fn any_string_is_escaped_exactly_as_serde_json_escapes_it(
            parts in prop::collection::vec(any::<String>(), 0..4),
        ) {
            let borrowed: Vec<&str> = parts.iter().map(String::as_str).collect();
            let text = written(|object| object.str_of("s", &borrowed));

            let expected = serde_json::json!({"s": parts.concat()});
            prop_assert_eq!(text, serde_json::to_string(&expected).unwrap());
        }

        #[test]
        fn any_value_is_written_exactly_as_serde_json_writes_it(value in any_value()) {
            let mut out = Vec::new();
            push_value(&mut out, &value);

            prop_assert_eq!(into_text(out), serde_json::to_string(&value).unwrap());
        }
    }
}
