//! A pull reader: decodes a document straight into the caller's structs,
//! building only what is asked for, so hot paths (webhooks, stored records)
//! skip the `Value` tree. It drives the very grammar code of `parse.rs`.

use super::parse::{utf8, Error, ErrorKind, Parser, MAX_DEPTH};
use super::value::{parse_digits, Value};

/// Reads one JSON document front to back, building only what the caller asks for.
///
/// Every value is consumed by exactly one of [`str`](Reader::str),
/// [`u64`](Reader::u64), [`bool`](Reader::bool), [`value`](Reader::value),
/// [`skip`](Reader::skip), [`object`](Reader::object) or
/// [`array`](Reader::array); then [`finish`](Reader::finish) checks the end.
/// A typed method reports [`ErrorKind::WrongType`] at the value's first byte
/// as soon as that byte shows another type (numbers are scanned first).
/// A callback that consumes no value, or two, makes the read fail with a
/// grammar error (`ExpectedCommaOrEnd` or `ExpectedValue`).
///
/// ```text
/// let mut r = Reader::new(br#"{"id":7,"tags":["a"],"x":{}}"#)?;
/// let (mut id, mut tags) = (None, Vec::new());
/// r.object(|r, key| match key {
///     "id" => r.u64().map(|v| id = v),
///     "tags" => r.array(|r| r.str().map(|t| tags.extend(t))).map(drop),
///     _ => r.skip(),
/// })?;
/// r.finish()?;
/// ```
pub struct Reader<'a> {
    /// The shared cursor and grammar.
    p: Parser<'a>,
    /// Arrays/objects opened by `object`/`array` and not yet closed.
    depth: usize,
    /// Decoded text of keys with escapes, reused between keys.
    scratch: String,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes` (checked as UTF-8 up front, like from_slice; invalid → the same error kind as from_slice gives).
    pub fn new(bytes: &'a [u8]) -> Result<Reader<'a>, Error> {
        Ok(Reader {
            p: Parser::new(utf8(bytes)?),
            depth: 0,
            scratch: String::new(),
        })
    }

    /// Skips whitespace; consumes a `null` (giving `None`), else returns the
    /// byte that starts the next value without consuming it. Bytes that
    /// start no value fail like the parser (`ExpectedValue` or `Eof`).
    fn start(&mut self) -> Result<Option<u8>, Error> {
        match self.p.peek_ws() {
            Some(b'n') => self.p.literal(b"null", Value::Null).map(|_| None),
            Some(c @ (b't' | b'f' | b'"' | b'[' | b'{' | b'-' | b'0'..=b'9')) => Ok(Some(c)),
            _ => Err(self.p.err_or_eof(ErrorKind::ExpectedValue)),
        }
    }

    /// `WrongType` at the current position (the start of the value).
    fn wrong_type(&self) -> Error {
        self.p.err(ErrorKind::WrongType)
    }

    /// Moves past `open` after checking the depth limit exactly as the
    /// parser does, runs `body` one level deeper, and restores the depth.
    fn nested(
        &mut self,
        open: u8,
        body: &mut dyn FnMut(&mut Self) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        match self.start()? {
            None => return Ok(false),
            Some(c) if c == open => {}
            Some(_) => return Err(self.wrong_type()),
        }
        if self.depth >= MAX_DEPTH {
            return Err(self.p.err(ErrorKind::TooDeep));
        }
        self.p.pos += 1;
        self.depth += 1;
        let r = body(self);
        self.depth -= 1;
        r.map(|()| true)
    }

    /// After a member or element: `true` after `,`, `false` after `close`.
    fn next_or_end(&mut self, close: u8) -> Result<bool, Error> {
        match self.p.peek_ws() {
            Some(b',') => {
                self.p.pos += 1;
                Ok(true)
            }
            Some(c) if c == close => {
                self.p.pos += 1;
                Ok(false)
            }
            _ => Err(self.p.err_or_eof(ErrorKind::ExpectedCommaOrEnd)),
        }
    }

    /// Reads an object, calling `f(self, key)` for each member in document
    /// order; `f` must consume that member's value with exactly one of the
    /// value methods (str/u64/bool/value/skip/object/array). Returns
    /// `Ok(false)` without calling `f` if the value is `null`; `WrongType`
    /// if it is neither object nor null. Keys are borrowed from the input
    /// when they contain no escapes, else decoded into a reused buffer.
    /// Duplicate keys are simply reported twice (the caller's last
    /// assignment wins, like serde_json). Errors from `f` are returned as is.
    pub fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, &str) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        // One compiled copy for every caller: the closure is called through `dyn`.
        self.members(&mut f)
    }

    fn members(
        &mut self,
        f: &mut dyn FnMut(&mut Self, &str) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        self.nested(b'{', &mut |r| {
            if r.p.peek_ws() == Some(b'}') {
                r.p.pos += 1;
                return Ok(());
            }
            loop {
                if r.p.peek_ws() != Some(b'"') {
                    return Err(r.p.err_or_eof(ErrorKind::ExpectedString));
                }
                r.p.pos += 1;
                r.scratch.clear();
                let plain = r.p.scan_string(Some(&mut r.scratch))?;
                if r.p.peek_ws() != Some(b':') {
                    return Err(r.p.err_or_eof(ErrorKind::ExpectedColon));
                }
                r.p.pos += 1;
                match plain {
                    Some((a, b)) => {
                        let key = r.p.text(a, b);
                        f(r, key)?;
                    }
                    None => {
                        // Lent out so `f` may use `r`; nested objects that
                        // meet escaped keys meanwhile get their own buffer.
                        let key = std::mem::take(&mut r.scratch);
                        let res = f(r, &key);
                        r.scratch = key;
                        res?;
                    }
                }
                if !r.next_or_end(b'}')? {
                    return Ok(());
                }
            }
        })
    }

    /// As [`object`](Reader::object), for a value that must be an object:
    /// `null` is `WrongType` too (at its first byte), and `f` is never called for it.
    pub fn record(
        &mut self,
        mut f: impl FnMut(&mut Self, &str) -> Result<(), Error>,
    ) -> Result<(), Error> {
        if self.p.peek_ws() == Some(b'n') {
            return Err(self.wrong_type());
        }
        self.members(&mut f).map(drop)
    }

    /// Reads an array, calling `f(self)` for each element (which must
    /// consume it); `Ok(false)` for null; `WrongType` for other values.
    /// Errors from `f` are returned as is.
    pub fn array(
        &mut self,
        mut f: impl FnMut(&mut Self) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        self.elements(&mut f)
    }

    fn elements(
        &mut self,
        f: &mut dyn FnMut(&mut Self) -> Result<(), Error>,
    ) -> Result<bool, Error> {
        self.nested(b'[', &mut |r| {
            if r.p.peek_ws() == Some(b']') {
                r.p.pos += 1;
                return Ok(());
            }
            loop {
                f(r)?;
                if !r.next_or_end(b']')? {
                    return Ok(());
                }
            }
        })
    }

    /// A string (unescaped, owned), or None for null; WrongType for any other value.
    pub fn str(&mut self) -> Result<Option<String>, Error> {
        match self.start()? {
            None => Ok(None),
            Some(b'"') => {
                self.p.pos += 1;
                self.p.string().map(Some)
            }
            Some(_) => Err(self.wrong_type()),
        }
    }

    /// An unsigned integer that fits u64, or None for null; WrongType for other values (including negative, fractional or exponent numbers, or too large).
    /// A number is checked against the grammar before its type.
    pub fn u64(&mut self) -> Result<Option<u64>, Error> {
        match self.start()? {
            None => Ok(None),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.p.pos;
                self.p.scan_number()?;
                let text = self.p.b.get(start..self.p.pos).unwrap_or_default();
                parse_digits(text).map(Some).ok_or(Error {
                    kind: ErrorKind::WrongType,
                    offset: start,
                })
            }
            Some(_) => Err(self.wrong_type()),
        }
    }

    /// A boolean, or None for null; WrongType otherwise.
    pub fn bool(&mut self) -> Result<Option<bool>, Error> {
        match self.start()? {
            None => Ok(None),
            Some(b't') => self.p.literal(b"true", Some(true)),
            Some(b'f') => self.p.literal(b"false", Some(false)),
            Some(_) => Err(self.wrong_type()),
        }
    }

    /// Any value as a `Value` tree (identical to what from_slice would build for it).
    pub fn value(&mut self) -> Result<Value, Error> {
        self.p.value(self.depth)
    }

    /// Any value, validated by the same grammar and depth limit, without building or allocating anything.
    pub fn skip(&mut self) -> Result<(), Error> {
        self.p.skip(self.depth)
    }

    /// After the top-level value: only whitespace may remain (TrailingCharacters otherwise).
    pub fn finish(mut self) -> Result<(), Error> {
        match self.p.peek_ws() {
            None => Ok(()),
            Some(_) => Err(self.p.err(ErrorKind::TrailingCharacters)),
        }
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
