//! The feature source's flags, by their names, as the host reads them from its environment:
//! whether the provider is on at all and for which tenants, and host-wide defaults for the
//! message flags (a tenant's own setting overrides them).

use std::collections::HashMap;

/// Environment flag → the tenant setting it gives a default for.
pub const MESSAGE_FLAGS: &[(&str, &str)] = &[
    ("GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE", "handle-bot-messages"),
    (
        "FEATURE_FILTER_UNSUPPORTED_MESSAGES_HANDOVER_PROVIDER",
        "filter-unsupported-messages",
    ),
    (
        "FEATURE_FILTER_EMPTY_MESSAGES_HANDOVER_PROVIDER",
        "filter-empty-messages",
    ),
];

/// The flags of one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flags {
    /// `FEATURE_ENABLE_GENESYS_CLOUD_OM="true"`: the provider at all.
    pub enabled: bool,
    /// `FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST`: `*` or tenant names, comma-separated.
    pub whitelist: Vec<String>,
    /// Tenant settings the message flags give (`"true"`/`"false"`).
    pub defaults: HashMap<String, String>,
    /// `SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK="true"`.
    pub skip_organization_check: bool,
}

impl Flags {
    /// Everything on for every tenant, no defaults: for embedders and tests that configure
    /// the host in code.
    pub fn all_enabled() -> Self {
        Self {
            enabled: true,
            whitelist: vec!["*".into()],
            defaults: HashMap::new(),
            skip_organization_check: false,
        }
    }

    /// The flags as the feature source means them: the provider is off unless
    /// `FEATURE_ENABLE_GENESYS_CLOUD_OM` is `true`, and then on for the tenants its
    /// whitelist names (`*`: all; unset: none).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let on = |name: &str| var(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let whitelist = var("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let defaults = MESSAGE_FLAGS
            .iter()
            .filter_map(|(flag, key)| {
                let v = var(flag)?;
                let v = v.trim().to_ascii_lowercase();
                (v == "true" || v == "false").then(|| (key.to_string(), v))
            })
            .collect();
        Self {
            enabled: on("FEATURE_ENABLE_GENESYS_CLOUD_OM"),
            whitelist,
            defaults,
            skip_organization_check: on("SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK"),
        }
    }

    /// [`Flags::from_vars`] over the process environment.
    pub fn from_env() -> Self {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// Whether the provider is enabled for `tenant`.
    pub fn allows(&self, tenant: &str) -> bool {
        self.enabled && self.whitelist.iter().any(|w| w == "*" || w == tenant)
    }
}

/// A tenant's settings over host-wide defaults (the tenant's own keys win).
pub fn overlay(
    defaults: &HashMap<String, String>,
    tenant: &HashMap<String, String>,
) -> HashMap<String, String> {
    let mut out = defaults.clone();
    out.extend(tenant.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Flags {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Flags::from_vars(|k| m.get(k).cloned())
    }

    #[test]
    fn the_provider_is_off_unless_enabled_and_whitelisted() {
        assert!(!vars(&[]).allows("acme"));
        assert!(!vars(&[("FEATURE_ENABLE_GENESYS_CLOUD_OM", "true")]).allows("acme"));
        let some = vars(&[
            ("FEATURE_ENABLE_GENESYS_CLOUD_OM", "true"),
            ("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST", "globex, acme"),
        ]);
        assert!(some.allows("acme") && some.allows("globex") && !some.allows("initech"));
        let all = vars(&[
            ("FEATURE_ENABLE_GENESYS_CLOUD_OM", "TRUE"),
            ("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST", "*"),
        ]);
        assert!(all.allows("anyone"));
        let off = vars(&[
            ("FEATURE_ENABLE_GENESYS_CLOUD_OM", "false"),
            ("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST", "*"),
        ]);
        assert!(!off.allows("acme"));
    }

    #[test]
    fn the_organization_check_is_skipped_only_when_asked_by_name() {
        assert!(!vars(&[]).skip_organization_check);
        assert!(!Flags::all_enabled().skip_organization_check);
        let skip = "SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK";
        assert!(vars(&[(skip, "true")]).skip_organization_check);
        assert!(vars(&[(skip, " TRUE ")]).skip_organization_check);
        for not in ["false", "1", "yes", ""] {
            assert!(!vars(&[(skip, not)]).skip_organization_check, "{not:?}");
        }
    }

    #[test]
    fn message_flags_are_defaults_a_tenant_overrides() {
        let f = vars(&[
            ("GENESYS_CLOUD_OM_HANDLE_BOT_MESSAGE", "true"),
            ("FEATURE_FILTER_EMPTY_MESSAGES_HANDOVER_PROVIDER", "True"),
            (
                "FEATURE_FILTER_UNSUPPORTED_MESSAGES_HANDOVER_PROVIDER",
                "maybe",
            ),
        ]);
        let tenant = HashMap::from([("filter-empty-messages".to_string(), "false".to_string())]);
        let s = overlay(&f.defaults, &tenant);
        assert_eq!(s["handle-bot-messages"], "true");
        assert_eq!(s["filter-empty-messages"], "false", "the tenant's key wins");
        assert!(
            !s.contains_key("filter-unsupported-messages"),
            "not a boolean: ignored"
        );
    }
}
