//! The ports over the WASI imports: `wasi:http` for Genesys, `wasi:keyvalue` (store and
//! atomics) for state, `wasi:config` for settings, the wall clock, and `wasi:random` for
//! message and handover ids.

use crate::bindings::wasi::{config, keyvalue};
use crate::ports::{uuid_v4, Clock, Config, Http, HttpRequest, HttpResponse, Kv};
use wasip2::http::types as http;

pub(super) struct WasiHttp;

fn split_url(url: &str) -> Result<(http::Scheme, &str, &str), String> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
        (http::Scheme::Https, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (http::Scheme::Http, r)
    } else {
        return Err("only http(s) URLs are supported".into());
    };
    let i = rest.find('/').unwrap_or(rest.len());
    let path = if i == rest.len() { "/" } else { &rest[i..] };
    Ok((scheme, &rest[..i], path))
}

/// The outgoing request for `req`, with its method, URL and headers set.
fn outgoing(req: &HttpRequest) -> Result<http::OutgoingRequest, String> {
    let (scheme, authority, path) = split_url(&req.url)?;
    let entries: Vec<(String, Vec<u8>)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
        .collect();
    let headers = http::Fields::from_list(&entries).map_err(|e| format!("bad header: {e:?}"))?;
    let out = http::OutgoingRequest::new(headers);
    let method = match req.method {
        "GET" => http::Method::Get,
        "POST" => http::Method::Post,
        "PUT" => http::Method::Put,
        "PATCH" => http::Method::Patch,
        "DELETE" => http::Method::Delete,
        other => http::Method::Other(other.to_string()),
    };
    out.set_method(&method).map_err(|_| "bad method")?;
    out.set_scheme(Some(&scheme)).map_err(|_| "bad scheme")?;
    out.set_authority(Some(authority))
        .map_err(|_| "bad authority")?;
    out.set_path_with_query(Some(path))
        .map_err(|_| "bad path")?;
    Ok(out)
}

/// Connect, first-byte and between-bytes timeouts of one attempt.
fn options(timeout_ms: u64) -> http::RequestOptions {
    let options = http::RequestOptions::new();
    let timeout_ns = timeout_ms.saturating_mul(1_000_000);
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(timeout_ns));
    let _ = options.set_between_bytes_timeout(Some(timeout_ns));
    options
}

fn write_body(body: http::OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    {
        let stream = body
            .write()
            .map_err(|_| "request body stream unavailable")?;
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("write failed: {e:?}"))?;
        }
    }
    http::OutgoingBody::finish(body, None).map_err(|e| format!("finish failed: {e:?}"))
}

fn read_response(resp: http::IncomingResponse) -> Result<HttpResponse, String> {
    let status = resp.status();
    let headers = resp
        .headers()
        .entries()
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect();
    let incoming = resp.consume().map_err(|_| "response body unavailable")?;
    let mut body = Vec::new();
    {
        let stream = incoming
            .stream()
            .map_err(|_| "response stream unavailable")?;
        loop {
            match stream.blocking_read(65_536) {
                Ok(chunk) => body.extend_from_slice(&chunk),
                Err(wasip2::io::streams::StreamError::Closed) => break,
                Err(e) => return Err(format!("read failed: {e:?}")),
            }
        }
    }
    drop(http::IncomingBody::finish(incoming));
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

impl Http for WasiHttp {
    fn send(&self, req: &HttpRequest) -> Result<HttpResponse, String> {
        let out = outgoing(req)?;
        let body = out.body().map_err(|_| "request body unavailable")?;
        let future = wasip2::http::outgoing_handler::handle(out, Some(options(req.timeout_ms)))
            .map_err(|e| format!("request refused: {e:?}"))?;
        write_body(body, &req.body)?;
        future.subscribe().block();
        match future.get() {
            Some(Ok(Ok(resp))) => read_response(resp),
            Some(Ok(Err(e))) => Err(format!("{e:?}")),
            _ => Err("no response".into()),
        }
    }
}

pub(super) struct WasiKv(pub(super) keyvalue::store::Bucket);

pub(super) fn kv_err(e: keyvalue::store::Error) -> String {
    match e {
        keyvalue::store::Error::NoSuchStore => "no such store".into(),
        keyvalue::store::Error::AccessDenied => "access denied".into(),
        keyvalue::store::Error::Other(s) => s,
    }
}

impl Kv for WasiKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.get(key).map_err(kv_err)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.0.set(key, value).map_err(kv_err)
    }
    fn delete(&self, key: &str) -> Result<(), String> {
        self.0.delete(key).map_err(kv_err)
    }
    fn increment(&self, key: &str, delta: u64) -> Result<u64, String> {
        keyvalue::atomics::increment(&self.0, key, delta).map_err(kv_err)
    }
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, String> {
        let found = keyvalue::batch::get_many(&self.0, keys).map_err(kv_err)?;
        if found.len() != keys.len() {
            return Err("get-many answered another number of keys than asked".into());
        }
        let mut values = Vec::with_capacity(found.len());
        for f in found {
            values.push(f.map(|(_, v)| v));
        }
        Ok(values)
    }
    fn delete_many(&self, keys: &[String]) -> Result<(), String> {
        keyvalue::batch::delete_many(&self.0, keys).map_err(kv_err)
    }
}

pub(super) struct WasiConfig;

impl Config for WasiConfig {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        config::store::get(key).map_err(|e| match e {
            config::store::Error::Upstream(s) | config::store::Error::Io(s) => s,
        })
    }
}

pub(super) struct WasiClock;

impl Clock for WasiClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }

    fn new_id(&self) -> String {
        let mut b = [0u8; 16];
        for (d, s) in b
            .iter_mut()
            .zip(wasip2::random::random::get_random_bytes(16))
        {
            *d = s;
        }
        uuid_v4(b)
    }
}
