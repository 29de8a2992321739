//! Per-model corrections for what a scanner delivers. SANE's own backends already correct most
//! models (the `fujitsu` and `canon_dr` backends turn duplex backs upright themselves), so the table
//! starts empty and an admin adds the models whose backend does not, in the configuration.

/// What to correct on one model's pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quirks {
    /// The back side of a duplex sheet arrives upside down.
    pub back_rotated_180: bool,
}

/// One line of the table: a vendor and a model prefix, both compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuirkRule {
    /// The vendor as SANE reports it, e.g. `Canon`.
    pub vendor: String,
    /// The start of the model name as SANE reports it, e.g. `DR-C`.
    pub model_prefix: String,
    /// The corrections.
    pub quirks: Quirks,
}

/// The corrections for a device: those of the first rule that matches its vendor and model.
pub fn quirks_for(rules: &[QuirkRule], vendor: &str, model: &str) -> Quirks {
    rules
        .iter()
        .find(|r| {
            r.vendor.eq_ignore_ascii_case(vendor)
                && model.to_ascii_lowercase().starts_with(&r.model_prefix.to_ascii_lowercase())
        })
        .map(|r| r.quirks.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_rule_applies() {
        let rules = vec![
            QuirkRule {
                vendor: "Canon".into(),
                model_prefix: "DR-C".into(),
                quirks: Quirks { back_rotated_180: true },
            },
            QuirkRule { vendor: "Canon".into(), model_prefix: "".into(), quirks: Quirks::default() },
        ];
        assert!(quirks_for(&rules, "CANON", "dr-c225").back_rotated_180);
        assert!(!quirks_for(&rules, "Canon", "DR-M160").back_rotated_180);
        assert!(!quirks_for(&rules, "Fujitsu", "fi-8170").back_rotated_180);
    }
}
