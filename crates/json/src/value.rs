//! The in-memory document model: [`Value`], the key-sorted [`Map`] and the
//! text-preserving [`Number`], plus the conversions, comparisons and indexing
//! that callers use instead of serde_json's.

use std::fmt;
use std::ops::{Index, IndexMut};

use super::map::Map;

/// A JSON value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// JSON `null` (also the default).
    #[default]
    Null,
    /// JSON `true` / `false`.
    Bool(bool),
    /// A JSON number, kept as its text.
    Number(Number),
    /// A JSON string.
    String(String),
    /// A JSON array.
    Array(Vec<Value>),
    /// A JSON object with sorted keys.
    Object(Map),
}

/// Returned by the `Index` impls for missing keys and indexes.
static NULL: Value = Value::Null;

impl Value {
    /// The value under `key` if `self` is an object holding it, else `None`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// Mutable access to the value under `key` if `self` is an object.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.as_object_mut()?.get_mut(key)
    }

    /// The string if `self` is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements if `self` is an array.
    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Mutable elements if `self` is an array.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The map if `self` is an object.
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The mutable map if `self` is an object.
    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The number as `u64` if it is integer text that fits (`1.0` does not).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// The number as `i64` if it is integer text that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// The boolean if `self` is `true` or `false`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Whether `self` is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether `self` is a string.
    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    /// Whether `self` is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// Whether `self` is an array.
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    /// Whether `self` is a number.
    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }

    /// Looks up an RFC 6901 JSON pointer: `""` is the whole document, each
    /// `/token` selects an object key (`~1` = `/`, `~0` = `~`) or an array
    /// index (decimal, no leading zeros).
    pub fn pointer(&self, p: &str) -> Option<&Value> {
        if p.is_empty() {
            return Some(self);
        }
        let mut cur = self;
        for tok in p.strip_prefix('/')?.split('/') {
            let owned;
            let key = if tok.contains('~') {
                owned = unescape_token(tok);
                owned.as_str()
            } else {
                tok
            };
            cur = match cur {
                Value::Object(m) => m.get(key)?,
                Value::Array(a) => a.get(parse_index(key)?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Moves the value out, leaving `Null` in its place.
    pub fn take(&mut self) -> Value {
        std::mem::take(self)
    }
}

/// Undoes the `~1` / `~0` escapes of a JSON pointer token.
fn unescape_token(tok: &str) -> String {
    let mut out = String::with_capacity(tok.len());
    let mut chars = tok.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('~', Some('1')) => {
                chars.next();
                out.push('/');
            }
            ('~', Some('0')) => {
                chars.next();
                out.push('~');
            }
            _ => out.push(c),
        }
    }
    out
}

/// Parses an array index token: decimal digits without a leading zero.
fn parse_index(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() > 1 && b[0] == b'0' {
        return None;
    }
    usize::try_from(parse_digits(b)?).ok()
}

/// Parses non-empty ASCII decimal digits into a `u64`, `None` on overflow.
pub(super) fn parse_digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(n)
}

impl fmt::Display for Value {
    /// Writes compact JSON, byte-identical to `serde_json::to_string`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        super::write::write(self, &mut s);
        f.write_str(&s)
    }
}

impl Index<&str> for Value {
    type Output = Value;
    /// The value under `key`; `Null` when missing or `self` is no object.
    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&NULL)
    }
}

impl Index<&String> for Value {
    type Output = Value;
    /// Same as indexing with `&str`.
    fn index(&self, key: &String) -> &Value {
        &self[key.as_str()]
    }
}

impl Index<usize> for Value {
    type Output = Value;
    /// The element at `i`; `Null` when out of range or `self` is no array.
    fn index(&self, i: usize) -> &Value {
        self.as_array().and_then(|a| a.get(i)).unwrap_or(&NULL)
    }
}

impl IndexMut<&str> for Value {
    /// Mutable access to `key`, for values built in code: `Null` first
    /// becomes an empty object and a missing key is inserted as `Null`.
    ///
    /// # Panics
    /// If `self` is neither `Null` nor an object.
    fn index_mut(&mut self, key: &str) -> &mut Value {
        if self.is_null() {
            *self = Value::Object(Map::new());
        }
        match self {
            Value::Object(m) => m.entry_or_null(key),
            _ => panic!("json: cannot index a non-object value with a string key"),
        }
    }
}

impl IndexMut<&String> for Value {
    /// Same as indexing with `&str`.
    fn index_mut(&mut self, key: &String) -> &mut Value {
        &mut self[key.as_str()]
    }
}

impl IndexMut<usize> for Value {
    /// Mutable access to element `i`.
    ///
    /// # Panics
    /// If `self` is not an array or `i` is out of range.
    fn index_mut(&mut self, i: usize) -> &mut Value {
        match self {
            Value::Array(a) => &mut a[i],
            _ => panic!("json: cannot index a non-array value with an integer"),
        }
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, o: &str) -> bool {
        self.as_str() == Some(o)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, o: &&str) -> bool {
        self.as_str() == Some(*o)
    }
}

impl PartialEq<String> for Value {
    fn eq(&self, o: &String) -> bool {
        self.as_str() == Some(o.as_str())
    }
}

impl PartialEq<bool> for Value {
    fn eq(&self, o: &bool) -> bool {
        self.as_bool() == Some(*o)
    }
}

impl PartialEq<Value> for str {
    fn eq(&self, o: &Value) -> bool {
        o == self
    }
}

impl PartialEq<Value> for &str {
    fn eq(&self, o: &Value) -> bool {
        o == *self
    }
}

impl PartialEq<Value> for String {
    fn eq(&self, o: &Value) -> bool {
        o == self
    }
}

impl PartialEq<Value> for bool {
    fn eq(&self, o: &Value) -> bool {
        o == self
    }
}

/// `PartialEq` between `Value` and integer types, both directions.
macro_rules! int_eq {
    ($($t:ty => $as:ident),*) => {$(
        impl PartialEq<$t> for Value {
            fn eq(&self, o: &$t) -> bool {
                self.$as().is_some_and(|n| <$t>::try_from(n) == Ok(*o))
            }
        }
        impl PartialEq<Value> for $t {
            fn eq(&self, o: &Value) -> bool {
                o == self
            }
        }
    )*};
}
int_eq!(u64 => as_u64, u32 => as_u64, usize => as_u64, i64 => as_i64, i32 => as_i64);

/// Text of a JSON number; see the module docs for how it is normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number(pub(super) String);

impl Number {
    /// The value if the text is a non-negative integer that fits a `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        parse_digits(self.0.as_bytes())
    }

    /// The value if the text is an integer that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0.as_bytes() {
            [b'-', rest @ ..] => 0i64.checked_sub_unsigned(parse_digits(rest)?),
            b => i64::try_from(parse_digits(b)?).ok(),
        }
    }

    /// The number's JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Integer text of a magnitude and sign, written without `fmt`.
    fn from_parts(mut n: u64, negative: bool) -> Number {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut s = String::with_capacity(21 - i);
        if negative {
            s.push('-');
        }
        s.extend(buf[i..].iter().map(|&d| char::from(d)));
        Number(s)
    }
}

impl fmt::Display for Number {
    /// Writes the number's JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `From<unsigned/signed integer>` for `Number` and `Value`.
macro_rules! int_from {
    ($($t:ty => $conv:expr),*) => {$(
        impl From<$t> for Number {
            fn from(n: $t) -> Number {
                #[allow(clippy::redundant_closure_call)]
                let (mag, neg) = ($conv)(n);
                Number::from_parts(mag, neg)
            }
        }
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Number(Number::from(n))
            }
        }
    )*};
}
int_from!(
    u8 => |n| (u64::from(n), false),
    u16 => |n| (u64::from(n), false),
    u32 => |n| (u64::from(n), false),
    u64 => |n| (n, false),
    usize => |n| (n as u64, false),
    i8 => |n: i8| (n.unsigned_abs() as u64, n < 0),
    i16 => |n: i16| (n.unsigned_abs() as u64, n < 0),
    i32 => |n: i32| (n.unsigned_abs() as u64, n < 0),
    i64 => |n: i64| (n.unsigned_abs(), n < 0),
    isize => |n: isize| (n.unsigned_abs() as u64, n < 0)
);

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::String(s.clone())
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::Number(n)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}

impl From<&Value> for Value {
    fn from(v: &Value) -> Value {
        v.clone()
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Clone + Into<Value>> From<&[T]> for Value {
    fn from(v: &[T]) -> Value {
        Value::Array(v.iter().cloned().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl FromIterator<Value> for Value {
    fn from_iter<I: IntoIterator<Item = Value>>(it: I) -> Value {
        Value::Array(it.into_iter().collect())
    }
}

impl FromIterator<(String, Value)> for Value {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(it: I) -> Value {
        Value::Object(it.into_iter().collect())
    }
}
