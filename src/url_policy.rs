//! Which URLs may cross between the user and Genesys: attachment, image and link URLs are
//! opened by the other side's client, so only `https` to a public-looking host passes; a
//! `javascript:`/`data:`/`file:` link or one to a loopback or link-local (metadata) address
//! is dropped instead of being handed on.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether `url` may be passed on: `https://` with a host that is not a loopback,
/// link-local or unspecified address. The host is read as a WHATWG URL parser reads it
/// (userinfo skipped, `\` ends the authority, `0x7f.1` and `2130706433` are IPv4), and
/// anything it cannot read with certainty (percent-encoded or non-ASCII hosts, control
/// characters, a bad port) is refused. Builds with the `loopback-genesys` feature also pass
/// `http://` to exactly `127.0.0.1`, `localhost` or `[::1]` (the local simulator).
pub fn allowed(url: &str) -> bool {
    let Some((scheme, host)) = split(url) else {
        return false;
    };
    if cfg!(feature = "loopback-genesys")
        && scheme == "http"
        && matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]")
    {
        return true;
    }
    scheme == "https" && public(&host)
}

/// The lower-case scheme and host of an absolute `scheme://[userinfo@]host[:port]` URL.
fn split(url: &str) -> Option<(String, String)> {
    if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return None;
    }
    let (scheme, rest) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    let rest = rest.strip_prefix("//")?;
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if host_port.starts_with('[') {
        let end = host_port.find(']')?;
        (&host_port[..=end], &host_port[end + 1..])
    } else {
        match host_port.find(':') {
            Some(i) => (&host_port[..i], &host_port[i..]),
            None => (host_port, ""),
        }
    };
    let port_ok = match port.strip_prefix(':') {
        Some(p) => {
            p.is_empty() || p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
        }
        None => port.is_empty(),
    };
    if !port_ok || host.is_empty() {
        return None;
    }
    Some((scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

/// Whether a lower-case host is neither loopback, link-local nor unspecified, and readable.
fn public(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match v6.parse::<Ipv6Addr>() {
            Ok(ip) => public_v6(ip),
            Err(_) => false,
        };
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return false;
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.is_empty() || name == "localhost" || name.ends_with(".localhost") {
        return false;
    }
    if ends_in_number(name) {
        return ipv4(name).is_some_and(public_v4);
    }
    true
}

fn public_v4(ip: Ipv4Addr) -> bool {
    !(ip.is_loopback() || ip.is_link_local() || ip.octets()[0] == 0)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let link_local = ip.segments()[0] & 0xffc0 == 0xfe80;
    if ip.is_loopback() || ip.is_unspecified() || link_local {
        return false;
    }
    ip.to_ipv4().is_none_or(public_v4)
}

/// WHATWG: a host whose last label is a number is an IPv4 address (or invalid).
fn ends_in_number(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or("");
    let hex = last
        .strip_prefix("0x")
        .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
    hex || (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
}

/// WHATWG IPv4 parsing: 1 to 4 parts, each decimal, octal (leading `0`) or hex (`0x`);
/// the last part fills the remaining bytes.
fn ipv4(name: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for p in &parts {
        if p.is_empty() {
            return None;
        }
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x") {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        let n = if digits.is_empty() {
            0
        } else {
            u64::from_str_radix(digits, radix).ok()?
        };
        numbers.push(n);
    }
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) || *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let mut v = *last;
    for (i, n) in init.iter().enumerate() {
        v += n << (8 * (3 - i));
    }
    Some(Ipv4Addr::from(u32::try_from(v).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_with_a_host_passes() {
        for ok in [
            "https://api-downloads.mypurecloud.de/api/v2/downloads/abc",
            "HTTPS://Files.Example/x.png",
            "https://x/l.pdf",
            "https://files.example:8443/a?b=c#d",
            "https://user:pw@files.example/a",
            "https://8.8.8.8/a",
            "https://[2001:db8::1]:443/a",
            "https://xn--bcher-kva.example/",
        ] {
            assert!(allowed(ok), "{ok}");
        }
        for bad in [
            "http://files.example/x.png",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "javascript://files.example/%0aalert(1)",
            "file:///etc/passwd",
            "data:image/png;base64,iVBORw0KGgo=",
            "ftp://files.example/x",
            "files.example/x.png",
            "//files.example/x.png",
            "/relative/path",
            "",
            "https:",
            "https://",
            "https:///path",
            "https:files.example/x",
            "https:/files.example/x",
            "https://files.example:port/",
            "https://files.example:99999/",
            "https://files .example/",
            " https://files.example/",
            "https://files.example/\n",
            "java\tscript:alert(1)",
            "https://%31%32%37.0.0.1/",
            "https://bücher.example/",
            "https://[::1/",
            "https://[fe80::1%25eth0]/",
            "ht tps://files.example/",
            "1https://files.example/",
        ] {
            assert!(!allowed(bad), "{bad:?}");
        }
    }

    #[test]
    fn loopback_link_local_and_unspecified_hosts_are_refused() {
        for bad in [
            "https://169.254.169.254/latest/meta-data/",
            "https://169.254.0.1/",
            "https://127.0.0.1/",
            "https://127.1.2.3:8443/",
            "https://0.0.0.0/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
            "https://[::1]/",
            "https://[::]/",
            "https://[fe80::1]/",
            "https://[FEBF::1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[::ffff:127.0.0.1]/",
            // Other spellings a WHATWG parser reads as the same addresses.
            "https://2852039166/",
            "https://0xa9.0xfe.0xa9.0xfe/",
            "https://0251.0376.0251.0376/",
            "https://169.254.43518/",
            "https://0x7f.1/",
            "https://127.0.0.1./",
            "https://1.2.3.4.5/",
            "https://1.2.3.09/",
            "https://4294967296/",
        ] {
            assert!(!allowed(bad), "{bad}");
        }
        assert!(allowed("https://[fec0::1]/"));
        assert!(allowed("https://169.255.0.1/"));
        assert!(allowed("https://128.0.0.1/"));
        assert!(allowed("https://1.files.example/"));
        assert!(
            allowed("https://files.123abc/"),
            "a last label that is not a number"
        );
        assert!(
            !allowed("https://files.0x/"),
            "a last label that is a number (0x)"
        );
    }

    #[test]
    fn userinfo_and_backslash_tricks_read_the_real_host() {
        assert!(!allowed("https://evil@169.254.169.254/"));
        assert!(!allowed("https://files.example@127.0.0.1/"));
        assert!(!allowed("https://a@b@[::1]/"));
        assert!(!allowed("https://169.254.169.254\\@files.example/"));
        assert!(!allowed("https://127.0.0.1#@files.example/"));
        assert!(!allowed("https://127.0.0.1?@files.example/"));
        assert!(allowed("https://169.254.169.254@files.example/"));
    }

    #[cfg(not(feature = "loopback-genesys"))]
    #[test]
    fn the_release_build_refuses_plain_http_to_loopback() {
        for bad in [
            "http://127.0.0.1:8080/x.png",
            "http://localhost/x",
            "http://[::1]:1/x",
        ] {
            assert!(!allowed(bad), "{bad}");
        }
    }

    #[cfg(feature = "loopback-genesys")]
    #[test]
    fn the_loopback_build_also_passes_the_local_simulator() {
        for ok in [
            "http://127.0.0.1:8080/x.png",
            "HTTP://localhost/x",
            "http://[::1]:1/x",
        ] {
            assert!(allowed(ok), "{ok}");
        }
        for bad in [
            "http://127.0.0.2/x",
            "http://169.254.169.254/",
            "http://files.example/",
            "http://localhost.files.example/",
        ] {
            assert!(!allowed(bad), "{bad}");
        }
    }
}
