//! The "Host" setting: normalised to a Genesys Cloud region's base domain and checked
//! against the known regions, so credentials can only ever travel to Genesys.

use crate::model::Error;

/// Base domains of the Genesys Cloud regions (from the official SDKs' region tables).
pub const REGIONS: &[&str] = &[
    "mypurecloud.com",
    "use2.us-gov-pure.cloud",
    "usw2.pure.cloud",
    "cac1.pure.cloud",
    "sae1.pure.cloud",
    "mxc1.pure.cloud",
    "mypurecloud.ie",
    "euw2.pure.cloud",
    "mypurecloud.de",
    "euc2.pure.cloud",
    "mec1.pure.cloud",
    "aps1.pure.cloud",
    "apse1.pure.cloud",
    "mypurecloud.com.au",
    "mypurecloud.jp",
    "apne2.pure.cloud",
    "apne3.pure.cloud",
    "edee1.eusc-pure.cloud",
];

/// A known region's base domain, e.g. `mypurecloud.de`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region(String);

impl Region {
    /// Accepts `mypurecloud.de`, `https://apps.mypurecloud.de/`, `login.mypurecloud.de/x`, ...
    pub fn parse(host: &str) -> Result<Region, Error> {
        let mut h = host.trim().to_ascii_lowercase();
        for scheme in ["https://", "http://"] {
            if let Some(rest) = h.strip_prefix(scheme) {
                h = rest.to_string();
            }
        }
        if let Some(i) = h.find(['/', '?', '#']) {
            h.truncate(i);
        }
        let h = h.trim_end_matches('.');
        let h = ["apps.", "login.", "api."]
            .iter()
            .find_map(|p| h.strip_prefix(p))
            .unwrap_or(h);
        match REGIONS.iter().find(|r| **r == h) {
            Some(r) => Ok(Region((*r).to_string())),
            None => Err(Error::Config(format!(
                "setting 'host' is not a Genesys Cloud region domain (got {host:?}; expected e.g. mypurecloud.de)"
            ))),
        }
    }

    /// The base domain.
    pub fn domain(&self) -> &str {
        &self.0
    }

    /// `https://login.<domain>`, the OAuth host.
    pub fn login_base(&self) -> String {
        format!("https://login.{}", self.0)
    }

    /// `https://api.<domain>`, the Platform API host.
    pub fn api_base(&self) -> String {
        format!("https://api.{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_host_forms() {
        let cases = [
            ("mypurecloud.de", "mypurecloud.de"),
            ("https://apps.mypurecloud.de/", "mypurecloud.de"),
            ("login.mypurecloud.com", "mypurecloud.com"),
            ("api.cac1.pure.cloud", "cac1.pure.cloud"),
            (
                "HTTPS://Apps.MyPureCloud.IE/directory/#/admin",
                "mypurecloud.ie",
            ),
            ("http://usw2.pure.cloud", "usw2.pure.cloud"),
            ("  mypurecloud.com.au  ", "mypurecloud.com.au"),
            ("apps.edee1.eusc-pure.cloud/", "edee1.eusc-pure.cloud"),
        ];
        for (input, want) in cases {
            assert_eq!(Region::parse(input).unwrap().domain(), want, "{input}");
        }
        let r = Region::parse("mypurecloud.de").unwrap();
        assert_eq!(r.login_base(), "https://login.mypurecloud.de");
        assert_eq!(r.api_base(), "https://api.mypurecloud.de");
    }

    #[test]
    fn rejects_other_hosts() {
        for bad in [
            "",
            "example.com",
            "mypurecloud.de.evil.com",
            "evilmypurecloud.de",
            "127.0.0.1",
            "https://attacker.test/mypurecloud.de",
            "pure.cloud",
        ] {
            assert!(matches!(Region::parse(bad), Err(Error::Config(_))), "{bad}");
        }
    }
}
