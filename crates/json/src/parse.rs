//! Strict RFC 8259 parser producing a [`Value`], accepting what serde_json
//! accepts; bounded nesting so hostile input cannot overflow the
//! stack, and slice copies on the hot paths (string runs, number text).

use std::fmt;

use super::map::Map;
use super::value::{Number, Value};

/// Maximum nesting of arrays/objects; deeper input fails with
/// [`ErrorKind::TooDeep`]. `MAX_DEPTH` levels are accepted (serde_json's
/// limit of the same number already rejects the 128th level).
pub const MAX_DEPTH: usize = 128;

/// What went wrong while parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input ended in the middle of a value.
    Eof,
    /// A value was expected (e.g. after `[`, `:` or `,`, or at the start).
    ExpectedValue,
    /// An object key was not followed by `:`.
    ExpectedColon,
    /// An array element or object entry was not followed by `,` or the
    /// closing bracket.
    ExpectedCommaOrEnd,
    /// An object key (a string) was expected.
    ExpectedString,
    /// A number does not follow the JSON grammar (`01`, `1.`, `.5`, `1e`…).
    InvalidNumber,
    /// An unknown `\` escape or bad hex digits in `\uXXXX`.
    InvalidEscape,
    /// The input is not valid UTF-8.
    InvalidUnicode,
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter,
    /// A `\uXXXX` surrogate escape without its matching pair.
    LoneSurrogate,
    /// Arrays/objects nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Something other than whitespace follows the top-level value.
    TrailingCharacters,
    /// A value of another JSON type than the reader asked for (see
    /// [`Reader`](super::Reader)).
    WrongType,
}

impl ErrorKind {
    /// Short lowercase description used by `Display`.
    fn message(self) -> &'static str {
        match self {
            ErrorKind::Eof => "unexpected end of input",
            ErrorKind::ExpectedValue => "expected value",
            ErrorKind::ExpectedColon => "expected `:`",
            ErrorKind::ExpectedCommaOrEnd => "expected `,` or closing bracket",
            ErrorKind::ExpectedString => "expected string key",
            ErrorKind::InvalidNumber => "invalid number",
            ErrorKind::InvalidEscape => "invalid escape",
            ErrorKind::InvalidUnicode => "invalid UTF-8",
            ErrorKind::ControlCharacter => "control character in string",
            ErrorKind::LoneSurrogate => "lone surrogate in \\u escape",
            ErrorKind::TooDeep => "nesting too deep",
            ErrorKind::TrailingCharacters => "trailing characters",
            ErrorKind::WrongType => "value of the wrong type",
        }
    }
}

/// A parse error: its [`ErrorKind`] and the byte offset where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub(super) kind: ErrorKind,
    pub(super) offset: usize,
}

impl Error {
    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Byte offset into the input where the error was detected.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for Error {
    /// E.g. `expected value at byte 12`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.message())?;
        f.write_str(" at byte ")?;
        fmt::Display::fmt(&self.offset, f)
    }
}

impl std::error::Error for Error {}

/// Parses a JSON document from bytes, which must be valid UTF-8.
pub fn from_slice(b: &[u8]) -> Result<Value, Error> {
    from_str(utf8(b)?)
}

/// `b` as text, or `InvalidUnicode` at the first bad byte.
pub(super) fn utf8(b: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(b).map_err(|e| Error {
        kind: ErrorKind::InvalidUnicode,
        offset: e.valid_up_to(),
    })
}

/// Parses a JSON document; only whitespace may follow the top-level value.
pub fn from_str(s: &str) -> Result<Value, Error> {
    let mut p = Parser::new(s);
    let v = p.value(0)?;
    match p.peek_ws() {
        None => Ok(v),
        Some(_) => Err(p.err(ErrorKind::TrailingCharacters)),
    }
}

/// Cursor over the input; `src` and `b` are the same text. Shared with
/// [`Reader`](super::Reader), so both follow exactly this grammar.
pub(super) struct Parser<'a> {
    src: &'a str,
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
}

/// Index of the first non-digit at or after `i`.
fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

impl<'a> Parser<'a> {
    /// A cursor at the start of `src`.
    pub(super) fn new(src: &'a str) -> Parser<'a> {
        Parser {
            src,
            b: src.as_bytes(),
            pos: 0,
        }
    }

    /// An error of `kind` at the current position.
    pub(super) fn err(&self, kind: ErrorKind) -> Error {
        Error {
            kind,
            offset: self.pos,
        }
    }

    /// `src[a..b]`; callers only pass ASCII-delimited boundaries, so the
    /// empty fallback never happens (it just avoids str-slicing panic code).
    pub(super) fn text(&self, a: usize, b: usize) -> &'a str {
        self.src.get(a..b).unwrap_or_default()
    }

    /// `Eof` at the end of input, else `kind`, at the current position.
    pub(super) fn err_or_eof(&self, kind: ErrorKind) -> Error {
        self.err(if self.pos >= self.b.len() {
            ErrorKind::Eof
        } else {
            kind
        })
    }

    /// Skips whitespace and returns the next byte without consuming it.
    pub(super) fn peek_ws(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.pos) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.pos += 1;
        }
        None
    }

    /// Parses one value; `depth` is the number of enclosing arrays/objects.
    pub(super) fn value(&mut self, depth: usize) -> Result<Value, Error> {
        self.walk::<true>(depth)
    }

    /// Checks one value like [`Parser::value`] without allocating.
    pub(super) fn skip(&mut self, depth: usize) -> Result<(), Error> {
        self.walk::<false>(depth).map(drop)
    }

    /// The grammar of one value: builds it if `BUILD`, else only checks it
    /// (returning some scalar and allocating nothing).
    fn walk<const BUILD: bool>(&mut self, depth: usize) -> Result<Value, Error> {
        match self.peek_ws() {
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'"') => {
                self.pos += 1;
                if BUILD {
                    Ok(Value::String(self.string()?))
                } else {
                    self.scan_string(None).map(|_| Value::Null)
                }
            }
            Some(b'[') => self.array::<BUILD>(depth + 1),
            Some(b'{') => self.object::<BUILD>(depth + 1),
            Some(b'-' | b'0'..=b'9') if BUILD => self.number(),
            Some(b'-' | b'0'..=b'9') => self.scan_number().map(|_| Value::Null),
            _ => Err(self.err_or_eof(ErrorKind::ExpectedValue)),
        }
    }

    /// Matches the keyword `word` and returns `v`.
    pub(super) fn literal<T>(&mut self, word: &[u8], v: T) -> Result<T, Error> {
        for &w in word {
            if self.b.get(self.pos) != Some(&w) {
                return Err(self.err_or_eof(ErrorKind::ExpectedValue));
            }
            self.pos += 1;
        }
        Ok(v)
    }

    /// Parses an array; the cursor is on `[`.
    fn array<const BUILD: bool>(&mut self, depth: usize) -> Result<Value, Error> {
        if depth > MAX_DEPTH {
            return Err(self.err(ErrorKind::TooDeep));
        }
        self.pos += 1;
        let mut items = Vec::new();
        if self.peek_ws() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            let v = self.walk::<BUILD>(depth)?;
            if BUILD {
                items.push(v);
            }
            match self.peek_ws() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err_or_eof(ErrorKind::ExpectedCommaOrEnd)),
            }
        }
    }

    /// Parses an object; the cursor is on `{`. Duplicate keys: last wins.
    fn object<const BUILD: bool>(&mut self, depth: usize) -> Result<Value, Error> {
        if depth > MAX_DEPTH {
            return Err(self.err(ErrorKind::TooDeep));
        }
        self.pos += 1;
        let mut entries = Vec::new();
        if self.peek_ws() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(Map::new()));
        }
        loop {
            if self.peek_ws() != Some(b'"') {
                return Err(self.err_or_eof(ErrorKind::ExpectedString));
            }
            self.pos += 1;
            let key = if BUILD {
                self.string()?
            } else {
                self.scan_string(None)?;
                String::new()
            };
            if self.peek_ws() != Some(b':') {
                return Err(self.err_or_eof(ErrorKind::ExpectedColon));
            }
            self.pos += 1;
            let v = self.walk::<BUILD>(depth)?;
            if BUILD {
                entries.push((key, v));
            }
            match self.peek_ws() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(if BUILD {
                        Value::Object(Map::from_entries(entries))
                    } else {
                        Value::Null
                    });
                }
                _ => return Err(self.err_or_eof(ErrorKind::ExpectedCommaOrEnd)),
            }
        }
    }

    /// Parses a number; the cursor is on `-` or a digit.
    fn number(&mut self) -> Result<Value, Error> {
        let b = self.b;
        let start = self.pos;
        let (mantissa_end, exp_sign) = self.scan_number()?;
        let i = self.pos;
        let text = self.text(start, i);
        // Normalise like serde_json's arbitrary_precision: the exponent is
        // written `e` plus an explicit sign. Otherwise the text is verbatim.
        let text = if mantissa_end == i || (b[mantissa_end] == b'e' && exp_sign.is_some()) {
            String::from(text)
        } else {
            let mut s = String::with_capacity(i - start + 1);
            s.push_str(self.text(start, mantissa_end));
            s.push('e');
            s.push(char::from(exp_sign.unwrap_or(b'+')));
            let exp_digits = mantissa_end + 1 + usize::from(exp_sign.is_some());
            s.push_str(self.text(exp_digits, i));
            s
        };
        Ok(Value::Number(Number(text)))
    }

    /// Moves past a number (the cursor is on `-` or a digit), checking the
    /// grammar; returns where the mantissa ends and the exponent's sign.
    pub(super) fn scan_number(&mut self) -> Result<(usize, Option<u8>), Error> {
        let b = self.b;
        let start = self.pos;
        let mut i = start + usize::from(b[start] == b'-');
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(b, i + 1),
            _ => return Err(self.invalid_number(i)),
        }
        if b.get(i) == Some(&b'.') {
            let j = digits(b, i + 1);
            if j == i + 1 {
                return Err(self.invalid_number(j));
            }
            i = j;
        }
        let mantissa_end = i;
        let mut exp_sign = None;
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(&s @ (b'+' | b'-')) = b.get(i) {
                exp_sign = Some(s);
                i += 1;
            }
            let j = digits(b, i);
            if j == i {
                return Err(self.invalid_number(j));
            }
            i = j;
        }
        self.pos = i;
        Ok((mantissa_end, exp_sign))
    }

    /// `InvalidNumber` (or `Eof`) at byte `i`.
    fn invalid_number(&mut self, i: usize) -> Error {
        self.pos = i;
        self.err_or_eof(ErrorKind::InvalidNumber)
    }

    /// Parses the rest of a string; the cursor is just past the opening `"`.
    /// An escape-free string is copied as one slice.
    pub(super) fn string(&mut self) -> Result<String, Error> {
        let mut out = String::new();
        Ok(match self.scan_string(Some(&mut out))? {
            Some((a, b)) => String::from(self.text(a, b)),
            None => out,
        })
    }

    /// Moves past the rest of a string (the cursor is just past the opening
    /// `"`), checking it. Returns its byte range if it has no escapes; else
    /// appends the decoded text to `out` (if given) and returns `None`.
    pub(super) fn scan_string(
        &mut self,
        mut out: Option<&mut String>,
    ) -> Result<Option<(usize, usize)>, Error> {
        let b = self.b;
        let mut escaped = false;
        let mut i = self.pos;
        loop {
            let run = i;
            // Eight bytes at a time while none of them ends the run; then byte by byte.
            while let Some(word) = b.get(i..i + 8).and_then(|c| <[u8; 8]>::try_from(c).ok()) {
                if super::scan::ends_run(u64::from_le_bytes(word)) {
                    break;
                }
                i += 8;
            }
            while let Some(&c) = b.get(i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                i += 1;
            }
            match b.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    if !escaped {
                        return Ok(Some((run, i)));
                    }
                    if let Some(out) = out {
                        out.push_str(self.text(run, i));
                    }
                    return Ok(None);
                }
                Some(b'\\') => {
                    self.pos = i + 1;
                    let ch = self.escape()?;
                    if let Some(out) = out.as_deref_mut() {
                        if !escaped {
                            out.reserve(i - run + 16);
                        }
                        out.push_str(self.text(run, i));
                        out.push(ch);
                    }
                    escaped = true;
                    i = self.pos;
                }
                Some(_) => {
                    self.pos = i;
                    return Err(self.err(ErrorKind::ControlCharacter));
                }
                None => {
                    self.pos = i;
                    return Err(self.err(ErrorKind::Eof));
                }
            }
        }
    }

    /// Decodes one escape; the cursor is just past the `\`.
    fn escape(&mut self) -> Result<char, Error> {
        let c = match self.b.get(self.pos) {
            Some(&c) => c,
            None => return Err(self.err(ErrorKind::Eof)),
        };
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                self.pos += 1;
                return self.unicode();
            }
            _ => return Err(self.err(ErrorKind::InvalidEscape)),
        };
        self.pos += 1;
        Ok(ch)
    }

    /// Decodes `XXXX` (and a following `\uXXXX` low surrogate if needed).
    fn unicode(&mut self) -> Result<char, Error> {
        let hi = self.hex4()?;
        let cp = match hi {
            0xDC00..=0xDFFF => return Err(self.err(ErrorKind::LoneSurrogate)),
            0xD800..=0xDBFF => {
                if self.b.get(self.pos) != Some(&b'\\') {
                    return Err(self.err_or_eof(ErrorKind::LoneSurrogate));
                }
                self.pos += 1;
                if self.b.get(self.pos) != Some(&b'u') {
                    return Err(self.err_or_eof(ErrorKind::LoneSurrogate));
                }
                self.pos += 1;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(self.err(ErrorKind::LoneSurrogate));
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            _ => hi,
        };
        char::from_u32(cp).ok_or_else(|| self.err(ErrorKind::LoneSurrogate))
    }

    /// Reads four hex digits.
    fn hex4(&mut self) -> Result<u32, Error> {
        let mut n = 0;
        for _ in 0..4 {
            let d = match self.b.get(self.pos) {
                Some(&c) => char::from(c).to_digit(16),
                None => return Err(self.err(ErrorKind::Eof)),
            };
            match d {
                Some(d) => n = n * 16 + d,
                None => return Err(self.err(ErrorKind::InvalidEscape)),
            }
            self.pos += 1;
        }
        Ok(n)
    }
}
