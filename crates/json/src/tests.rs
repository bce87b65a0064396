//! Unit tests for every parser/writer rule and the public API, plus a
//! differential fuzz test against serde_json (`arbitrary_precision`) on
//! seeded random documents and byte-level mutations of them.

use super::*;
use crate::json;

fn ok(s: &str) -> Value {
    from_str(s).unwrap_or_else(|e| panic!("{s:?} rejected: {e}"))
}

fn kind(s: &str) -> ErrorKind {
    from_str(s).expect_err(s).kind()
}

fn rt(s: &str) -> String {
    to_string(&ok(s))
}

#[test]
fn literals_and_whitespace() {
    assert_eq!(ok(" \t\n\rnull \n"), Value::Null);
    assert_eq!(ok("true"), true);
    assert_eq!(ok("false"), false);
    assert_eq!(kind("nul"), ErrorKind::Eof);
    assert_eq!(kind("nulL"), ErrorKind::ExpectedValue);
    assert_eq!(kind(""), ErrorKind::Eof);
    assert_eq!(kind("   "), ErrorKind::Eof);
    assert_eq!(kind("\u{c}1"), ErrorKind::ExpectedValue);
    assert_eq!(kind("NaN"), ErrorKind::ExpectedValue);
    assert_eq!(kind("Infinity"), ErrorKind::ExpectedValue);
    assert_eq!(kind("/*c*/1"), ErrorKind::ExpectedValue);
    assert_eq!(kind("1 2"), ErrorKind::TrailingCharacters);
    assert_eq!(kind("{} x"), ErrorKind::TrailingCharacters);
    assert_eq!(from_str("[1,]").unwrap_err().offset(), 3);
    assert_eq!(kind("[1,]"), ErrorKind::ExpectedValue);
    assert_eq!(kind("{\"a\":1,}"), ErrorKind::ExpectedString);
    assert_eq!(kind("{\"a\" 1}"), ErrorKind::ExpectedColon);
    assert_eq!(kind("{1:1}"), ErrorKind::ExpectedString);
    assert_eq!(kind("[1 2]"), ErrorKind::ExpectedCommaOrEnd);
    assert_eq!(kind("[1"), ErrorKind::Eof);
    assert_eq!(kind("{\"a\":1"), ErrorKind::Eof);
}

#[test]
fn numbers() {
    for s in [
        "0",
        "-0.0",
        "1",
        "-1",
        "10",
        "1.5",
        "-0.25",
        "1e+5",
        "1e-5",
        "123456789012345678901234567890",
    ] {
        assert_eq!(rt(s), s);
    }
    // serde_json (arbitrary_precision) normalisation.
    assert_eq!(rt("-0"), "-0");
    assert_eq!(rt("1E5"), "1e+5");
    assert_eq!(rt("1e5"), "1e+5");
    assert_eq!(rt("2.5E-3"), "2.5e-3");
    for s in [
        "01", "-01", "1.", ".5", "1e", "1e+", "-", "+1", "1.e5", "00", "-a", "0x1",
    ] {
        assert!(from_str(s).is_err(), "{s} accepted");
    }
    assert_eq!(kind("1."), ErrorKind::Eof);
    assert_eq!(kind("1.x"), ErrorKind::InvalidNumber);
    assert_eq!(kind("01"), ErrorKind::TrailingCharacters);
    assert_eq!(ok("18446744073709551615").as_u64(), Some(u64::MAX));
    assert_eq!(ok("18446744073709551616").as_u64(), None);
    assert_eq!(ok("-9223372036854775808").as_i64(), Some(i64::MIN));
    assert_eq!(ok("-9223372036854775809").as_i64(), None);
    assert_eq!(ok("9223372036854775807").as_i64(), Some(i64::MAX));
    assert_eq!(ok("9223372036854775808").as_i64(), None);
    assert_eq!(ok("-1").as_u64(), None);
    assert_eq!(ok("1.0").as_u64(), None);
    assert_eq!(ok("1e2").as_i64(), None);
    assert_eq!(Number::from(0u64).as_str(), "0");
    assert_eq!(Number::from(i64::MIN).as_str(), "-9223372036854775808");
    assert_eq!(Number::from(u64::MAX).to_string(), "18446744073709551615");
    assert_eq!(Number::from(42u32).as_str(), "42");
    assert_eq!(Number::from(7usize).as_str(), "7");
}

#[test]
fn strings() {
    assert_eq!(ok(r#""abc""#), "abc");
    assert_eq!(ok(r#""\"\\\/\b\f\n\r\t""#), "\"\\/\u{8}\u{c}\n\r\t");
    assert_eq!(ok(r#""\u00e9\u4E2D""#), "é中");
    assert_eq!(ok(r#""x\ud83d\ude00y""#), "x😀y");
    assert_eq!(ok("\"é😀\u{7f}\""), "é😀\u{7f}");
    assert_eq!(kind(r#""\ud83d""#), ErrorKind::LoneSurrogate);
    assert_eq!(kind(r#""\ud83dx""#), ErrorKind::LoneSurrogate);
    assert_eq!(kind(r#""\ud83d\n""#), ErrorKind::LoneSurrogate);
    assert_eq!(kind(r#""\ud83d\u0041""#), ErrorKind::LoneSurrogate);
    assert_eq!(kind(r#""\ude00""#), ErrorKind::LoneSurrogate);
    assert_eq!(kind(r#""\x""#), ErrorKind::InvalidEscape);
    assert_eq!(kind(r#""\u12g4""#), ErrorKind::InvalidEscape);
    assert_eq!(kind(r#""\u12"#), ErrorKind::Eof);
    assert_eq!(kind("\"a\nb\""), ErrorKind::ControlCharacter);
    assert_eq!(kind("\"a\u{0}\""), ErrorKind::ControlCharacter);
    assert_eq!(kind("\"abc"), ErrorKind::Eof);
    let e = from_slice(b"\"a\xffb\"").unwrap_err();
    assert_eq!((e.kind(), e.offset()), (ErrorKind::InvalidUnicode, 2));
    assert_eq!(from_slice(b"[\"\xc3\xa9\"]").unwrap()[0], "é");
}

#[test]
fn writer_escapes() {
    let s = "\"\\/\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}é😀<>&'";
    let mut out = String::new();
    write_str(s, &mut out);
    assert_eq!(
        out,
        "\"\\\"\\\\/\\n\\r\\t\\b\\f\\u0000\\u001f\u{7f}é😀<>&'\""
    );
    assert_eq!(out, serde_json::to_string(s).unwrap());
    let v = json!({"k\n": [null, true, false, "", {}], "a": []});
    assert_eq!(
        v.to_string(),
        "{\"a\":[],\"k\\n\":[null,true,false,\"\",{}]}"
    );
    assert_eq!(to_vec(&v), v.to_string().into_bytes());
    let mut buf = String::from("x=");
    write(&v["a"], &mut buf);
    assert_eq!(buf, "x=[]");
}

#[test]
fn objects_sorted_and_duplicates() {
    let v = ok(r#"{"b":1,"a":2,"c":{"z":0,"y":1},"b":3}"#);
    assert_eq!(to_string(&v), r#"{"a":2,"b":3,"c":{"y":1,"z":0}}"#);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["a", "b", "c"]);
    // Many unsorted keys with duplicates: last one wins.
    let mut src = String::from("{");
    for i in 0..200 {
        src.push_str(&format!("\"k{}\":{i},", (i * 37) % 50));
    }
    src.push_str("\"end\":0}");
    let v = ok(&src);
    let m = v.as_object().unwrap();
    assert_eq!(m.len(), 51);
    assert_eq!(v["k0"], 150);
    assert!(m.keys().zip(m.keys().skip(1)).all(|(a, b)| a < b));
    assert_eq!(ok("\"\u{e9}\"").as_str(), Some("é"));
}

#[test]
fn map_api() {
    let mut m = Map::with_capacity(4);
    assert!(m.is_empty());
    assert_eq!(m.insert("b".into(), json!(1)), None);
    assert_eq!(m.insert("a".into(), json!(2)), None);
    assert_eq!(m.insert("b".into(), json!(3)), Some(json!(1)));
    assert_eq!(m.len(), 2);
    assert!(m.contains_key("a") && !m.contains_key("c"));
    *m.get_mut("a").unwrap() = json!("x");
    assert_eq!(m.get("a"), Some(&json!("x")));
    for (_, v) in m.iter_mut() {
        *v = Value::Null;
    }
    assert!(m.values().all(Value::is_null));
    m.extend([("c".to_string(), json!(true)), ("0".to_string(), json!(0))]);
    let order: Vec<&str> = (&m).into_iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(order, ["0", "a", "b", "c"]);
    assert_eq!(m.iter().next_back().map(|e| e.0.as_str()), Some("c"));
    assert_eq!(m.remove("a"), Some(Value::Null));
    assert_eq!(m.remove("a"), None);
    let owned: Vec<(String, Value)> = m.clone().into_iter().collect();
    assert_eq!(owned.len(), 3);
    let m2: Map = owned.into_iter().rev().collect();
    assert_eq!(m2, m);
    let v: Value = vec![("z".to_string(), json!(1)), ("y".to_string(), json!(2))]
        .into_iter()
        .collect();
    assert_eq!(v.to_string(), r#"{"y":2,"z":1}"#);
    assert_eq!(Map::new(), Map::default());
}

#[test]
fn value_api() {
    let mut v = ok(r#"{"a":{"b":[10,"s",{"c/d":1,"e~f":2,"":3}]},"n":-5,"t":true}"#);
    assert_eq!(v.get("n").and_then(Value::as_i64), Some(-5));
    assert_eq!(v["n"], -5i64);
    assert_eq!(v["n"], -5);
    assert_eq!(v["a"]["b"][0], 10u64);
    assert_eq!(v["a"]["b"][0], 10);
    assert_eq!(v["a"]["b"][1], "s".to_string());
    assert_eq!(v["t"], true);
    assert!(v["missing"].is_null() && v["a"]["b"][99].is_null() && v["n"]["x"].is_null());
    assert!(v[0].is_null());
    assert!(v["a"].is_object() && v["a"]["b"].is_array() && v["n"].is_number());
    assert!(v["a"]["b"][1].is_string() && !v["a"].is_string());
    assert_eq!(v.pointer(""), Some(&v));
    assert_eq!(v.pointer("/a/b/0"), Some(&json!(10)));
    assert_eq!(v.pointer("/a/b/2/c~1d"), Some(&json!(1)));
    assert_eq!(v.pointer("/a/b/2/e~0f"), Some(&json!(2)));
    assert_eq!(v.pointer("/a/b/2/"), Some(&json!(3)));
    for p in ["a", "/a/b/00", "/a/b/+1", "/a/b/3", "/x", "/n/0", "/a/b/-1"] {
        assert_eq!(v.pointer(p), None, "{p}");
    }
    assert_eq!(v.get_mut("t").map(|t| t.take()), Some(json!(true)));
    assert!(v["t"].is_null());
    v["a"]["new"]["deep"] = json!([1]);
    v["a"]["b"][0] = json!(11);
    let key = String::from("k");
    v[&key] = json!("v");
    assert_eq!(v[&key], "v");
    assert_eq!(v.pointer("/a/new/deep/0"), Some(&json!(1)));
    assert_eq!(v["a"]["b"][0].as_u64(), Some(11));
    v.as_array_mut().map(Vec::clear);
    v.as_object_mut().unwrap().remove("n");
    assert_eq!(v.get("n"), None);
    assert_eq!(Value::default(), Value::Null);
    assert_eq!(json!("x").as_str(), Some("x"));
    assert_eq!(json!(true).as_bool(), Some(true));
    assert_eq!(json!([1]).as_array().map(Vec::len), Some(1));
}

#[test]
#[should_panic(expected = "non-object")]
fn index_mut_panics_on_non_object() {
    let mut v = json!(1);
    v["a"] = json!(2);
}

#[test]
fn from_impls() {
    let s = String::from("s");
    let items = [1u8, 2];
    assert_eq!(Value::from(true), true);
    assert_eq!(Value::from("a"), "a");
    assert_eq!(Value::from(&s), "s");
    assert_eq!(Value::from(s.clone()), "s");
    assert_eq!(Value::from(1u8).to_string(), "1");
    assert_eq!(Value::from(2u16).to_string(), "2");
    assert_eq!(Value::from(3u32).to_string(), "3");
    assert_eq!(Value::from(u64::MAX).to_string(), "18446744073709551615");
    assert_eq!(Value::from(5usize).to_string(), "5");
    assert_eq!(Value::from(-6i32).to_string(), "-6");
    assert_eq!(Value::from(i64::MIN).to_string(), "-9223372036854775808");
    assert_eq!(Value::from(Number::from(9u64)), 9);
    assert_eq!(Value::from(Map::new()).to_string(), "{}");
    assert_eq!(Value::from(vec!["a", "b"]).to_string(), r#"["a","b"]"#);
    assert_eq!(Value::from(&items[..]).to_string(), "[1,2]");
    assert_eq!(Value::from(Some(1u64)), 1);
    assert_eq!(Value::from(None::<u64>), Value::Null);
    assert_eq!(Value::from(&json!([1])), json!([1]));
    let arr: Value = (1..=3u64).map(Value::from).collect();
    assert_eq!(arr.to_string(), "[1,2,3]");
}

#[test]
fn json_macro() {
    let name = "x";
    let n = 3u64;
    let list = vec![1u64, 2];
    let v = json!({
        "null": null, "t": true, "f": false,
        "num": 1, "neg": -2, "expr": n + 1, "name": name,
        "arr": [null, true, false, [], {}, [1, [2]], {"k": "v"}, n, ],
        "obj": {"inner": {"deeper": list}},
        (format!("dyn{}", n)): "key expr",
        "opt": Some("o"), "none": None::<u64>,
    });
    assert_eq!(
        v.to_string(),
        r#"{"arr":[null,true,false,[],{},[1,[2]],{"k":"v"},3],"dyn3":"key expr","expr":4,"f":false,"name":"x","neg":-2,"none":null,"null":null,"num":1,"obj":{"inner":{"deeper":[1,2]}},"opt":"o","t":true}"#
    );
    assert_eq!(json!(null), Value::Null);
    assert_eq!(json!([]), Value::Array(vec![]));
    assert_eq!(json!({}), Value::Object(Map::new()));
    assert_eq!(json!([1, 2,]).to_string(), "[1,2]");
    assert_eq!(json!("s"), "s");
    let key = String::from("k");
    assert_eq!(json!({ key.as_str(): 1 }).to_string(), r#"{"k":1}"#);
}

#[test]
fn depth_limit() {
    let nest = |n: usize, o: &str, c: &str| o.repeat(n) + &c.repeat(n);
    assert!(from_str(&nest(MAX_DEPTH, "[", "]")).is_ok());
    assert!(from_str(&nest(MAX_DEPTH, "{\"a\":", "}").replace(":}", ":1}")).is_ok());
    assert_eq!(kind(&nest(MAX_DEPTH + 1, "[", "]")), ErrorKind::TooDeep);
    assert_eq!(
        kind(&nest(MAX_DEPTH + 1, "{\"a\":", "}")),
        ErrorKind::TooDeep
    );
    assert_eq!(kind(&"[".repeat(100_000)), ErrorKind::TooDeep);
    assert_eq!(kind(&nest(100_000, "[", "]")), ErrorKind::TooDeep);
    assert_eq!(kind(&"[{\"a\":".repeat(50_000)), ErrorKind::TooDeep);
}

#[test]
fn error_display() {
    let e = from_str("[1, 2, ]").unwrap_err();
    assert_eq!(e.to_string(), "expected value at byte 7");
    assert_eq!(e.clone(), e);
    let _: &dyn std::error::Error = &e;
}

/// xorshift64* PRNG, seeded, so failures are reproducible.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub(super) fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

fn gen_ws(r: &mut Rng, out: &mut String) {
    if r.below(4) == 0 {
        out.push_str(r.pick(&[" ", "\t", "\n", "\r", "  \n "]));
    }
}

fn gen_digits(r: &mut Rng, out: &mut String, max: usize) {
    for _ in 0..1 + r.below(max) {
        out.push(char::from(b'0' + r.below(10) as u8));
    }
}

fn gen_number(r: &mut Rng, out: &mut String) {
    if r.below(3) == 0 {
        out.push('-');
    }
    if r.below(4) == 0 {
        out.push('0');
    } else {
        out.push(char::from(b'1' + r.below(9) as u8));
        let max = r.pick(&[2, 8, 19, 25]);
        gen_digits(r, out, max);
    }
    if r.below(3) == 0 {
        out.push('.');
        gen_digits(r, out, 6);
    }
    if r.below(4) == 0 {
        out.push_str(r.pick(&["e", "E", "e+", "E-", "e-", "E+"]));
        gen_digits(r, out, 3);
    }
}

fn gen_string(r: &mut Rng, out: &mut String, key: bool) {
    out.push('"');
    if key && r.below(2) == 0 {
        out.push_str(r.pick(&["a", "b", "id", "é", "\\u0061", "A", ""]));
    } else {
        for _ in 0..r.below(8) {
            let piece = r.pick(&[
                "a",
                "Z",
                " ",
                "/",
                "\u{7f}",
                "é",
                "中",
                "😀",
                "𝄞",
                "\\\"",
                "\\\\",
                "\\/",
                "\\b",
                "\\f",
                "\\n",
                "\\r",
                "\\t",
                "\\u0000",
                "\\u001F",
                "\\u00e9",
                "\\uFFFF",
                "\\ud83d\\ude00",
                "\\uD834\\uDD1E",
                "\\u2028",
                "<",
                "'",
            ]);
            out.push_str(piece);
        }
    }
    out.push('"');
}

pub(super) fn gen_value(r: &mut Rng, depth: usize, out: &mut String) {
    gen_ws(r, out);
    let kinds = if depth > 5 { 5 } else { 8 };
    match r.below(kinds) {
        0 => out.push_str(r.pick(&["null", "true", "false"])),
        1 | 2 => gen_number(r, out),
        3 | 4 => gen_string(r, out, false),
        5 | 6 => {
            out.push('{');
            for i in 0..r.below(6) {
                if i > 0 {
                    out.push(',');
                }
                gen_ws(r, out);
                gen_string(r, out, true);
                gen_ws(r, out);
                out.push(':');
                gen_value(r, depth + 1, out);
            }
            gen_ws(r, out);
            out.push('}');
        }
        _ => {
            out.push('[');
            for i in 0..r.below(6) {
                if i > 0 {
                    out.push(',');
                }
                gen_value(r, depth + 1, out);
            }
            gen_ws(r, out);
            out.push(']');
        }
    }
    gen_ws(r, out);
}

pub(super) fn mutate(r: &mut Rng, doc: &[u8]) -> Vec<u8> {
    let mut b = doc.to_vec();
    for _ in 0..1 + r.below(3) {
        let at = r.below(b.len() + 1);
        match r.below(5) {
            0 => b.truncate(at),
            1 if at < b.len() => b[at] ^= 1 << r.below(8),
            2 if at < b.len() => {
                b.remove(at);
            }
            3 => {
                let s = r.pick(&["\\ud800", "\\udc00", "\\u", "01", "1.", "e", "[]", "\"\""]);
                b.splice(at..at, s.bytes());
            }
            _ => {
                let bytes = b"\"\\,]}[{:0-.e \x00\xff\x1f\x7f\xc3";
                b.insert(at, r.pick(bytes));
            }
        }
    }
    b
}

/// Both parsers must agree on accept/reject, and accepted input must write
/// identically; accepted output must re-parse to an equal value.
fn check(input: &[u8], counts: &mut [usize; 2]) {
    let ours = from_slice(input);
    let theirs = serde_json::from_slice::<serde_json::Value>(input);
    let shown = String::from_utf8_lossy(input);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => {
            let text = to_string(a);
            assert_eq!(text, serde_json::to_string(b).unwrap(), "input {shown:?}");
            assert_eq!(&ok(&text), a, "round trip of {shown:?}");
            counts[0] += 1;
        }
        (Err(_), Err(_)) => counts[1] += 1,
        _ => panic!("disagree on {shown:?}: ours {ours:?}, serde_json {theirs:?}"),
    }
}

#[test]
fn differential_vs_serde_json() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut counts = [0usize; 2];
    for _ in 0..4000 {
        let mut doc = String::new();
        gen_value(&mut r, 0, &mut doc);
        check(doc.as_bytes(), &mut counts);
        for _ in 0..4 {
            let m = mutate(&mut r, doc.as_bytes());
            check(&m, &mut counts);
        }
    }
    assert!(counts[0] > 4000 && counts[1] > 4000, "{counts:?}");
}
