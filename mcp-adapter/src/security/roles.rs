//! Who is calling and what they may do: bearer tokens bound to roles, roles to permission groups.

use std::fmt;
use subtle::ConstantTimeEq;

/// A group of tools that a role may or may not use: the Python server's six groups, and one per
/// family it does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// health_check.
    System,
    /// Every list_/get_ tool and list_finding_notes.
    MetadataRead,
    /// import_scan, reimport_scan.
    ScanMgmt,
    /// create_engagement, create_test, reopen_finding.
    EngagementMgmt,
    /// create/update/close findings, notes, tags.
    FindingMgmt,
    /// create_product.
    ProductMgmt,
    /// Creating, expiring and reinstating risk acceptances.
    RiskMgmt,
    /// Closing and tagging many findings in one call.
    BulkTriage,
    /// Figures the server computes from findings (counts, SLA breaches, CWEs, CVEs, time to fix).
    Analytics,
    /// Any GET operation of the DefectDojo API, by operationId.
    Explore,
}

impl Permission {
    /// The group's name as the Python server spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::System => "system",
            Permission::MetadataRead => "metadata_read",
            Permission::ScanMgmt => "scan_mgmt",
            Permission::EngagementMgmt => "engagement_mgmt",
            Permission::FindingMgmt => "finding_mgmt",
            Permission::ProductMgmt => "product_mgmt",
            Permission::RiskMgmt => "risk_mgmt",
            Permission::BulkTriage => "bulk_triage",
            Permission::Analytics => "analytics",
            Permission::Explore => "explore",
        }
    }

    /// Every group, in the role table's order.
    pub const ALL: [Permission; 10] = [
        Permission::System,
        Permission::MetadataRead,
        Permission::Analytics,
        Permission::Explore,
        Permission::ScanMgmt,
        Permission::EngagementMgmt,
        Permission::FindingMgmt,
        Permission::RiskMgmt,
        Permission::BulkTriage,
        Permission::ProductMgmt,
    ];

    /// Whether the group's tools change DefectDojo.
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Permission::System
                | Permission::MetadataRead
                | Permission::Analytics
                | Permission::Explore
        )
    }
}

/// A caller's role; each includes the one below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// system, metadata_read, analytics.
    Reader,
    /// reader + scan_mgmt.
    Scanner,
    /// scanner + engagement_mgmt, finding_mgmt, risk_mgmt, bulk_triage.
    Writer,
    /// everything.
    Admin,
}

impl Role {
    /// Parses `admin`, `writer`, `scanner` or `reader` (case-insensitive).
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Some(Role::Admin),
            "writer" => Some(Role::Writer),
            "scanner" => Some(Role::Scanner),
            "reader" => Some(Role::Reader),
            _ => None,
        }
    }

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Writer => "writer",
            Role::Scanner => "scanner",
            Role::Reader => "reader",
        }
    }

    /// Whether this role holds `permission`: the Python server's table for its six groups;
    /// risk acceptance and bulk triage go with finding triage (writer), and explore, which reads
    /// anything the DefectDojo key can (users, settings), only with admin.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            System | MetadataRead | Analytics => true,
            ScanMgmt => self >= Role::Scanner,
            EngagementMgmt | FindingMgmt | RiskMgmt | BulkTriage => self >= Role::Writer,
            ProductMgmt | Explore => self == Role::Admin,
        }
    }

    /// Every role, least to most.
    pub const ALL: [Role; 4] = [Role::Reader, Role::Scanner, Role::Writer, Role::Admin];
}

/// The identity a call runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Authenticated by a bearer token.
    Authenticated {
        /// Trusted caller id: the `<NAME>` of `MCP_ROLE_<NAME>`, or `admin-legacy` / `reader-legacy`.
        id: String,
        /// The token's role.
        role: Role,
    },
    /// No tokens are configured (stdio, or `REQUIRE_AUTH=false`): open access, shared rate bucket.
    Open,
}

impl Caller {
    /// The trusted caller id for audit records.
    pub fn id(&self) -> &str {
        match self {
            Caller::Authenticated { id, .. } => id,
            Caller::Open => "open-access",
        }
    }

    /// Whether this caller holds `permission`. Open access holds all, as in the Python server.
    pub fn allows(&self, permission: Permission) -> bool {
        match self {
            Caller::Authenticated { role, .. } => role.allows(permission),
            Caller::Open => true,
        }
    }
}

/// One configured token.
struct TokenEntry {
    token: Vec<u8>,
    caller_id: String,
    role: Role,
}

/// The configured bearer tokens.
#[derive(Default)]
pub struct TokenTable {
    entries: Vec<TokenEntry>,
}

impl fmt::Debug for TokenTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let callers: Vec<String> = self
            .entries
            .iter()
            .map(|e| format!("{}:{}", e.caller_id, e.role.as_str()))
            .collect();
        f.debug_struct("TokenTable")
            .field("callers", &callers)
            .finish()
    }
}

/// Why the token configuration was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenConfigError {
    /// A `MCP_ROLE_<NAME>` value is not `<token>:<role>` with a known role.
    #[error("{var} must be <token>:<role> with role admin, writer, scanner or reader")]
    BadRoleEntry {
        /// The variable's name.
        var: String,
    },
    /// Role variables exist but none parsed and no legacy token is set: no silent open access.
    #[error("MCP_ROLE_* variables are set but none is valid, and no MCP_AUTH_TOKEN/MCP_READ_TOKEN is set; fix them (format <token>:<role>) rather than run without authentication")]
    NoValidRole,
    /// Two entries share one token.
    #[error("{var} reuses a token already bound to another caller; every token must be unique")]
    DuplicateToken {
        /// The variable's name.
        var: String,
    },
    /// A token shorter than the minimum.
    #[error("{var} holds a token shorter than {min} characters; use a long random value (e.g. openssl rand -hex 32)")]
    ShortToken {
        /// The variable's name.
        var: String,
        /// Minimum length.
        min: usize,
    },
}

/// Tokens shorter than this are refused: they could be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

impl TokenTable {
    /// Builds the table from `(name, value)` environment pairs: `MCP_ROLE_<NAME>=<token>:<role>`,
    /// `MCP_AUTH_TOKEN` (admin) and `MCP_READ_TOKEN` (reader).
    pub fn from_env_pairs<'a>(
        vars: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<TokenTable, TokenConfigError> {
        let mut table = TokenTable::default();
        let mut role_vars = 0;
        let mut bad_role: Option<String> = None;
        let mut legacy = Vec::new();
        let mut vars: Vec<(&str, &str)> = vars.into_iter().collect();
        vars.sort();
        for (name, value) in vars {
            if let Some(caller) = name.strip_prefix("MCP_ROLE_") {
                role_vars += 1;
                let parsed = value
                    .rsplit_once(':')
                    .and_then(|(token, role)| Some((token.trim(), Role::parse(role)?)))
                    .filter(|(token, _)| !token.is_empty() && !caller.is_empty());
                match parsed {
                    Some((token, role)) => {
                        table.push(name, token, caller.to_ascii_lowercase(), role)?
                    }
                    None => bad_role = bad_role.or(Some(name.to_string())),
                }
            } else if name == "MCP_AUTH_TOKEN" && !value.trim().is_empty() {
                legacy.push((name, value.trim(), Role::Admin));
            } else if name == "MCP_READ_TOKEN" && !value.trim().is_empty() {
                legacy.push((name, value.trim(), Role::Reader));
            }
        }
        for (name, token, role) in legacy {
            let id = if role == Role::Admin {
                "admin-legacy"
            } else {
                "reader-legacy"
            };
            table.push(name, token, id.to_string(), role)?;
        }
        if let Some(var) = bad_role {
            // One bad entry is a configuration error, never a silently ignored one.
            if table.entries.is_empty() && role_vars > 0 {
                return Err(TokenConfigError::NoValidRole);
            }
            return Err(TokenConfigError::BadRoleEntry { var });
        }
        Ok(table)
    }

    fn push(
        &mut self,
        var: &str,
        token: &str,
        caller_id: String,
        role: Role,
    ) -> Result<(), TokenConfigError> {
        if token.len() < MIN_TOKEN_LEN {
            return Err(TokenConfigError::ShortToken {
                var: var.to_string(),
                min: MIN_TOKEN_LEN,
            });
        }
        if self.entries.iter().any(|e| e.token == token.as_bytes()) {
            return Err(TokenConfigError::DuplicateToken {
                var: var.to_string(),
            });
        }
        self.entries.push(TokenEntry {
            token: token.as_bytes().to_vec(),
            caller_id,
            role,
        });
        Ok(())
    }

    /// True when no token is configured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Finds the caller a presented token belongs to. Every entry is compared in constant time, so
    /// timing tells nothing about which entry or how many bytes matched.
    pub fn authenticate(&self, presented: &str) -> Option<Caller> {
        let presented = presented.as_bytes();
        let mut found: Option<&TokenEntry> = None;
        for entry in &self.entries {
            if bool::from(entry.token.as_slice().ct_eq(presented)) {
                found = Some(entry);
            }
        }
        found.map(|e| Caller::Authenticated {
            id: e.caller_id.clone(),
            role: e.role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: &str = "0123456789abcdef-one";
    const T2: &str = "0123456789abcdef-two";

    #[test]
    fn role_table_matches_the_python_server() {
        use Permission::*;
        let all = [
            System,
            MetadataRead,
            ScanMgmt,
            EngagementMgmt,
            FindingMgmt,
            ProductMgmt,
        ];
        let expect = |role: Role| {
            all.iter()
                .filter(|p| role.allows(**p))
                .copied()
                .collect::<Vec<_>>()
        };
        assert_eq!(expect(Role::Reader), vec![System, MetadataRead]);
        assert_eq!(expect(Role::Scanner), vec![System, MetadataRead, ScanMgmt]);
        assert_eq!(
            expect(Role::Writer),
            vec![System, MetadataRead, ScanMgmt, EngagementMgmt, FindingMgmt]
        );
        assert_eq!(expect(Role::Admin), all.to_vec());
    }

    #[test]
    fn tokens_map_to_callers() {
        let v1 = format!("{T1}:writer");
        let table =
            TokenTable::from_env_pairs([("MCP_ROLE_CI", v1.as_str()), ("MCP_READ_TOKEN", T2)])
                .unwrap();
        assert_eq!(
            table.authenticate(T1),
            Some(Caller::Authenticated {
                id: "ci".into(),
                role: Role::Writer
            })
        );
        assert_eq!(
            table.authenticate(T2),
            Some(Caller::Authenticated {
                id: "reader-legacy".into(),
                role: Role::Reader
            })
        );
        assert_eq!(table.authenticate("nope"), None);
        assert_eq!(table.authenticate(""), None);
    }

    #[test]
    fn bad_configuration_is_refused() {
        assert_eq!(
            TokenTable::from_env_pairs([("MCP_ROLE_X", "tokenonly")]).unwrap_err(),
            TokenConfigError::NoValidRole
        );
        let v = format!("{T1}:superuser");
        assert_eq!(
            TokenTable::from_env_pairs([("MCP_ROLE_X", v.as_str())]).unwrap_err(),
            TokenConfigError::NoValidRole
        );
        let good = format!("{T1}:admin");
        let bad = format!("{T2}:boss");
        assert!(matches!(
            TokenTable::from_env_pairs([
                ("MCP_ROLE_A", good.as_str()),
                ("MCP_ROLE_B", bad.as_str())
            ])
            .unwrap_err(),
            TokenConfigError::BadRoleEntry { .. }
        ));
        assert!(matches!(
            TokenTable::from_env_pairs([("MCP_AUTH_TOKEN", "short")]).unwrap_err(),
            TokenConfigError::ShortToken { .. }
        ));
        assert!(matches!(
            TokenTable::from_env_pairs([("MCP_AUTH_TOKEN", T1), ("MCP_READ_TOKEN", T1)])
                .unwrap_err(),
            TokenConfigError::DuplicateToken { .. }
        ));
    }

    #[test]
    fn debug_never_prints_tokens() {
        let table = TokenTable::from_env_pairs([("MCP_AUTH_TOKEN", T1)]).unwrap();
        assert!(!format!("{table:?}").contains(T1));
    }
}
