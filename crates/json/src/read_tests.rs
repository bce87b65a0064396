//! Tests of [`Reader`]: differential against `from_slice` on the seeded
//! random documents (and mutations) of `json::tests`, typed reads, keys,
//! depth limits and trailing input.

use super::super::tests::{gen_value, mutate, Rng};
use super::*;
use crate::{from_slice, from_str, to_string};

/// Reads a whole document with `read`, then `finish`.
fn whole<'a, T>(
    b: &'a [u8],
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, Error>,
) -> Result<T, Error> {
    let mut r = Reader::new(b)?;
    let v = read(&mut r)?;
    r.finish()?;
    Ok(v)
}

/// `whole` over text.
fn one<'a, T>(
    s: &'a str,
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, Error>,
) -> Result<T, Error> {
    whole(s.as_bytes(), read)
}

/// The kind of error `read` fails with on `s`.
fn fails<'a, T: std::fmt::Debug>(
    s: &'a str,
    read: impl FnOnce(&mut Reader<'a>) -> Result<T, Error>,
) -> ErrorKind {
    one(s, read).expect_err(s).kind()
}

/// Rebuilds any value through the typed methods only (`value` just for
/// numbers that are not `u64`), choosing the method from the next byte.
fn typed(r: &mut Reader<'_>) -> Result<Value, Error> {
    let start = r.p.peek_ws();
    let at = r.p.pos;
    Ok(match start {
        Some(b'n') => {
            let none = match at % 5 {
                0 => r.str()?.is_none(),
                1 => r.u64()?.is_none(),
                2 => r.bool()?.is_none(),
                3 => !r.object(|_, k| panic!("member {k} of null"))?,
                _ => !r.array(|_| panic!("element of null"))?,
            };
            assert!(none);
            Value::Null
        }
        Some(b't' | b'f') => Value::Bool(r.bool()?.expect("bool")),
        Some(b'"') => Value::String(r.str()?.expect("string")),
        Some(b'[') => {
            let mut items = Vec::new();
            assert!(r.array(|r| {
                items.push(typed(r)?);
                Ok(())
            })?);
            Value::Array(items)
        }
        Some(b'{') => {
            let mut entries = Vec::new();
            assert!(r.object(|r, k| {
                let v = typed(r)?;
                entries.push((k.to_string(), v));
                Ok(())
            })?);
            entries.into_iter().collect()
        }
        Some(b'-' | b'0'..=b'9') => match r.u64() {
            Ok(n) => Value::from(n.expect("number")),
            Err(e) if e.kind() == ErrorKind::WrongType => {
                assert_eq!(e.offset(), at);
                r.p.pos = at;
                let v = r.value()?;
                assert_eq!(v.as_u64(), None, "u64 refused {v}");
                v
            }
            Err(e) => return Err(e),
        },
        _ => r.value()?,
    })
}

/// Reads member `"a"` of an object as a `Value` and skips all others.
fn select_a(r: &mut Reader<'_>) -> Result<Option<Value>, Error> {
    let mut a = None;
    r.object(|r, k| {
        if k == "a" {
            a = Some(r.value()?);
            Ok(())
        } else {
            r.skip()
        }
    })?;
    Ok(a)
}

/// Every way of reading `b` agrees exactly (value or error, kind and
/// offset) with `from_slice`. Returns whether `b` was accepted.
fn agree(b: &[u8]) -> bool {
    let want = from_slice(b);
    let shown = String::from_utf8_lossy(b);
    assert_eq!(whole(b, Reader::value), want, "value() on {shown:?}");
    assert_eq!(
        whole(b, Reader::skip),
        want.clone().map(drop),
        "skip() on {shown:?}"
    );
    assert_eq!(whole(b, typed), want, "typed on {shown:?}");
    let text = b.iter().find(|c| !c.is_ascii_whitespace());
    if text == Some(&b'{') {
        let a = want.clone().map(|v| v.get("a").cloned());
        assert_eq!(whole(b, select_a), a, "select on {shown:?}");
    }
    want.is_ok()
}

#[test]
fn differential_vs_from_slice() {
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let mut counts = [0usize; 2];
    for _ in 0..3000 {
        let mut doc = String::new();
        gen_value(&mut r, 0, &mut doc);
        if r.below(3) == 0 {
            // Give `select_a` an object that has an "a" now and then.
            doc = format!("{{\"b\":1,\"a\":{doc},\"a\":{doc}}}");
        }
        counts[usize::from(!agree(doc.as_bytes()))] += 1;
        for _ in 0..4 {
            let m = mutate(&mut r, doc.as_bytes());
            counts[usize::from(!agree(&m))] += 1;
        }
    }
    assert!(counts[0] > 3000 && counts[1] > 3000, "{counts:?}");
}

#[test]
fn typed_scalars() {
    assert_eq!(one(" 42 ", Reader::u64), Ok(Some(42)));
    assert_eq!(one("0", Reader::u64), Ok(Some(0)));
    assert_eq!(one("18446744073709551615", Reader::u64), Ok(Some(u64::MAX)));
    assert_eq!(one("null", Reader::u64), Ok(None));
    for s in [
        "-1",
        "-0",
        "1.0",
        "1e3",
        "1E+0",
        "18446744073709551616",
        "\"1\"",
        "true",
        "[]",
        "{}",
    ] {
        assert_eq!(fails(s, Reader::u64), ErrorKind::WrongType, "{s}");
    }
    let e = one("[1, 2.5]", |r| r.array(|r| r.u64().map(drop))).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (ErrorKind::WrongType, 4));
    // Bad numbers, bad nulls and non-values fail as in the parser...
    for s in ["-", "1.", "1.x", "01", "1e", "-a", "nul", "", " ]", "}"] {
        assert_eq!(one(s, Reader::u64), Err(from_str(s).unwrap_err()), "{s}");
    }
    for s in ["\"a", "\"\\x\"", "\"\\ud800\"", "nulL", "", ","] {
        assert_eq!(one(s, Reader::str), Err(from_str(s).unwrap_err()), "{s}");
    }
    // ...but another type is refused by its first byte, unread.
    assert_eq!(one(" tru", Reader::u64).unwrap_err().offset(), 1);
    assert_eq!(fails("\"a", Reader::u64), ErrorKind::WrongType);
    assert_eq!(fails("[1,", Reader::str), ErrorKind::WrongType);

    assert_eq!(one(r#""abc""#, Reader::str), Ok(Some("abc".into())));
    assert_eq!(
        one(r#" "a\nb\u00e9\ud83d\ude00" "#, Reader::str),
        Ok(Some("a\nbé😀".into()))
    );
    assert_eq!(one(r#""""#, Reader::str), Ok(Some(String::new())));
    assert_eq!(one("null", Reader::str), Ok(None));
    for s in ["1", "false", "[\"a\"]", "{}"] {
        assert_eq!(fails(s, Reader::str), ErrorKind::WrongType, "{s}");
    }
    assert_eq!(fails(r#""\ud83d""#, Reader::str), ErrorKind::LoneSurrogate);

    assert_eq!(one("true", Reader::bool), Ok(Some(true)));
    assert_eq!(one("\tfalse", Reader::bool), Ok(Some(false)));
    assert_eq!(one("null", Reader::bool), Ok(None));
    for s in ["0", "\"true\"", "[]", "{}"] {
        assert_eq!(fails(s, Reader::bool), ErrorKind::WrongType, "{s}");
    }
    assert_eq!(fails("truE", Reader::bool), ErrorKind::ExpectedValue);
}

#[test]
fn containers_null_and_wrong_type() {
    assert_eq!(
        one("null", |r| r.object(|_, _| panic!("called"))),
        Ok(false)
    );
    assert_eq!(one(" null", |r| r.array(|_| panic!("called"))), Ok(false));
    assert_eq!(one("{ }", |r| r.object(|_, _| panic!("called"))), Ok(true));
    assert_eq!(one("[ ]", |r| r.array(|_| panic!("called"))), Ok(true));
    for s in ["[]", "1", "\"{}\"", "true"] {
        assert_eq!(
            fails(s, |r| r.object(|_, _| Ok(()))),
            ErrorKind::WrongType,
            "{s}"
        );
    }
    for s in ["{}", "1", "\"[]\"", "false"] {
        assert_eq!(
            fails(s, |r| r.array(|_| Ok(()))),
            ErrorKind::WrongType,
            "{s}"
        );
    }
    // A record is an object and nothing else: null is the wrong type, at its first byte.
    assert_eq!(one("{ }", |r| r.record(|_, _| panic!("called"))), Ok(()));
    for s in ["null", "[]", "1", "\"{}\"", "true"] {
        assert_eq!(
            fails(s, |r| r.record(|_, _| Ok(()))),
            ErrorKind::WrongType,
            "{s}"
        );
    }
    assert_eq!(
        one("  null", |r| r.record(|_, _| panic!("called"))),
        Err(Error {
            kind: ErrorKind::WrongType,
            offset: 2
        })
    );
    // An error from the callback comes back unchanged.
    let mine = Error {
        kind: ErrorKind::Eof,
        offset: 999,
    };
    assert_eq!(
        one("{\"a\":1}", |r| r.object(|_, _| Err(mine.clone()))),
        Err(mine.clone())
    );
    assert_eq!(
        one("[[1]]", |r| r
            .array(|r| r.array(|_| Err(mine.clone())).map(drop))),
        Err(mine.clone())
    );
    // Callbacks that consume no value, or two, are grammar errors.
    assert_eq!(
        fails("{\"a\":1}", |r| r.object(|_, _| Ok(()))),
        ErrorKind::ExpectedCommaOrEnd
    );
    assert_eq!(
        fails("[1,2]", |r| r.array(|_| Ok(()))),
        ErrorKind::ExpectedCommaOrEnd
    );
    assert_eq!(
        fails("[1,2]", |r| r.array(|r| r.skip().and_then(|()| r.skip()))),
        ErrorKind::ExpectedValue
    );
    // Grammar errors inside containers match the parser's, offset included.
    for s in [
        "{\"a\" 1}",
        "{1:1}",
        "{\"a\":1,}",
        "[1 2]",
        "[1,]",
        "{\"a\":1",
        "[",
        "{",
    ] {
        let e = one(s, typed).unwrap_err();
        assert_eq!(e, from_str(s).unwrap_err(), "{s}");
    }
}

#[test]
fn keys_escapes_and_duplicates() {
    let doc = r#"{"a\u0062":1, "\n":2, "plain":3, "x\"y":{"\u00e9":4, "z":5}, "plain":6}"#;
    let mut seen = Vec::new();
    let ok = one(doc, |r| {
        r.object(|r, k| {
            if k == "x\"y" {
                r.object(|r, k2| {
                    seen.push((format!("{k}/{k2}"), r.u64()?.unwrap()));
                    Ok(())
                })?;
            } else {
                seen.push((k.to_string(), r.u64()?.unwrap()));
            }
            Ok(())
        })
    });
    assert_eq!(ok, Ok(true));
    let want = [
        ("ab", 1),
        ("\n", 2),
        ("plain", 3),
        ("x\"y/é", 4),
        ("x\"y/z", 5),
        ("plain", 6),
    ];
    let want: Vec<(String, u64)> = want.iter().map(|&(k, v)| (k.to_string(), v)).collect();
    assert_eq!(seen, want);
    // Escape-free keys are borrowed: the scratch buffer is never touched.
    let mut r = Reader::new(br#"{"a":{"b":[{"c":null}]}}"#).unwrap();
    r.skip().unwrap();
    let mut r2 = Reader::new(br#"{"a":{"b":1}}"#).unwrap();
    r2.object(|r, _| r.object(|r, _| r.skip()).map(drop))
        .unwrap();
    assert_eq!(r2.scratch.capacity(), 0);
    r.finish().unwrap();
    r2.finish().unwrap();
}

/// A webhook-like record read field by field.
#[derive(Debug, Default, PartialEq)]
struct Hook {
    id: Option<String>,
    seq: Option<u64>,
    ok: Option<bool>,
    tags: Vec<String>,
    from: Option<String>,
}

#[test]
fn selected_fields_match_the_full_value() {
    let doc = br#"{"extra":{"deep":[1,{"x":"\u0041"}],"n":-1.5e3},"id":"m\u00e9-1",
        "seq":42,"tags":["a","b\n",null],"ok":false,"channel":{"from":{"id":"u7","k":[]}},
        "seq":43,"junk":[true,null,"\"]"]}"#;
    let mut h = Hook::default();
    whole(doc, |r| {
        r.object(|r, k| match k {
            "id" => r.str().map(|v| h.id = v),
            "seq" => r.u64().map(|v| h.seq = v),
            "ok" => r.bool().map(|v| h.ok = v),
            "tags" => r.array(|r| r.str().map(|t| h.tags.extend(t))).map(drop),
            "channel" => r
                .object(|r, k| match k {
                    "from" => r
                        .object(|r, k| match k {
                            "id" => r.str().map(|v| h.from = v),
                            _ => r.skip(),
                        })
                        .map(drop),
                    _ => r.skip(),
                })
                .map(drop),
            _ => r.skip(),
        })
        .map(drop)
    })
    .unwrap();
    let v = from_slice(doc).unwrap();
    let want = Hook {
        id: v["id"].as_str().map(String::from),
        seq: v["seq"].as_u64(),
        ok: v["ok"].as_bool(),
        tags: v["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        from: v
            .pointer("/channel/from/id")
            .and_then(Value::as_str)
            .map(String::from),
    };
    assert_eq!(h, want);
    assert_eq!(h.seq, Some(43));
    assert_eq!(h.id.as_deref(), Some("mé-1"));
    assert_eq!(whole(doc, typed).map(|t| to_string(&t)), Ok(to_string(&v)));
}

/// Opens arrays through `array` callbacks down to `levels`, then reads the
/// rest with `value` if `build`, else `skip`.
fn nest(r: &mut Reader<'_>, levels: usize, build: bool, deepest: &mut usize) -> Result<(), Error> {
    *deepest = (*deepest).max(r.depth);
    if r.depth == levels {
        return if build { r.value().map(drop) } else { r.skip() };
    }
    r.array(|r| nest(r, levels, build, deepest)).map(drop)
}

#[test]
fn depth_limit() {
    let arrays = |n: usize| "[".repeat(n) + &"]".repeat(n);
    let objects = |n: usize| "{\"a\":".repeat(n) + "1" + &"}".repeat(n);
    for n in [MAX_DEPTH, MAX_DEPTH + 1, 100_000] {
        for doc in [arrays(n), objects(n), "[".repeat(n)] {
            let want = from_str(&doc).map(drop);
            assert_eq!(want.is_ok(), n == MAX_DEPTH && doc.ends_with(['}', ']']));
            assert_eq!(one(&doc, Reader::skip), want);
            assert_eq!(one(&doc, Reader::value).map(drop), want);
            assert_eq!(one(&doc, typed).map(drop), want, "typed, {n}");
            if let (Err(e), true) = (&want, n > MAX_DEPTH) {
                let level = if doc.starts_with('{') { 5 } else { 1 };
                assert_eq!(e.kind(), ErrorKind::TooDeep);
                assert_eq!(e.offset(), MAX_DEPTH * level);
            }
        }
        // Callbacks down to every split point, `value` or `skip` for the rest.
        for (split, build) in [0, 1, 64, MAX_DEPTH - 1, MAX_DEPTH]
            .into_iter()
            .flat_map(|split| [(split, false), (split, true)])
        {
            let mut deepest = 0;
            let got = one(&arrays(n), |r| nest(r, split.min(n), build, &mut deepest));
            assert_eq!(got, from_str(&arrays(n)).map(drop), "{n} split {split}");
            assert!(deepest <= MAX_DEPTH);
            if n == MAX_DEPTH {
                // The innermost array is empty: no callback runs inside it.
                assert_eq!(deepest, split.min(MAX_DEPTH - 1));
            }
        }
    }
    // Nothing but callbacks: every level through `array`.
    let mut deepest = 0;
    assert_eq!(
        one(&arrays(MAX_DEPTH), |r| nest(
            r,
            usize::MAX,
            false,
            &mut deepest
        )),
        Ok(())
    );
    assert_eq!(deepest, MAX_DEPTH - 1);
    let e = one(&"[".repeat(100_000), |r| {
        nest(r, usize::MAX, true, &mut deepest)
    })
    .unwrap_err();
    assert_eq!((e.kind(), e.offset()), (ErrorKind::TooDeep, MAX_DEPTH));
}

#[test]
fn finish_and_utf8() {
    assert_eq!(one(" [1] \n\t\r", Reader::skip), Ok(()));
    for (s, at) in [
        ("1 x", 2),
        ("{} }", 3),
        ("\"a\"\"b\"", 3),
        ("null,", 4),
        ("[] []", 3),
    ] {
        let e = one(s, Reader::skip).unwrap_err();
        assert_eq!(
            (e.kind(), e.offset()),
            (ErrorKind::TrailingCharacters, at),
            "{s}"
        );
        assert_eq!(one(s, Reader::value).unwrap_err(), e);
    }
    assert_eq!(fails("truex", Reader::bool), ErrorKind::TrailingCharacters);
    assert_eq!(fails("7 8", Reader::u64), ErrorKind::TrailingCharacters);
    let bad = b"[\"a\xffb\"]";
    assert_eq!(Reader::new(bad).err(), from_slice(bad).err());
    assert_eq!(
        Reader::new(bad).err().map(|e| e.kind()),
        Some(ErrorKind::InvalidUnicode)
    );
    let e = Error {
        kind: ErrorKind::WrongType,
        offset: 3,
    };
    assert_eq!(e.to_string(), "value of the wrong type at byte 3");
}
