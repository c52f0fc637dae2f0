//! What a discrepancy kind means and what to do about it, for the discrepancy page: read from
//! the table of docs/discrepancies.md, built into the binary, so the page and the document
//! can never say different things.

/// docs/discrepancies.md, built in.
const DOC: &str = include_str!("../../docs/discrepancies.md");

/// One kind's row of the table in docs/discrepancies.md.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindGuide {
    /// Its usual severity, as the table says.
    pub severity: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// Its likely cause in the sync.
    pub cause: &'static str,
    /// What to do.
    pub action: &'static str,
}

/// The row of `kind` (e.g. `missing_on_national`) in the table; `None` for a kind the
/// document does not list (a kind from a newer version).
pub fn kind_guide(kind: &str) -> Option<KindGuide> {
    let head = format!("| `{kind}` |");
    let line = DOC.lines().find(|l| l.starts_with(&head))?;
    let cells: Vec<&'static str> = line
        .trim()
        .trim_matches('|')
        .split(" | ")
        .map(str::trim)
        .collect();
    match cells.as_slice() {
        [_, severity, meaning, cause, action] => Some(KindGuide {
            severity,
            meaning,
            cause,
            action,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::Kind;

    /// Every kind the code opens has its row, with every cell filled.
    #[test]
    fn every_kind_has_its_guide() {
        for kind in Kind::ALL {
            let g = kind_guide(kind.as_str())
                .unwrap_or_else(|| panic!("docs/discrepancies.md lacks a row for {kind:?}"));
            assert!(
                !g.meaning.is_empty() && !g.action.is_empty() && !g.severity.is_empty(),
                "{kind:?}: {g:?}"
            );
        }
        assert!(kind_guide("no_such_kind").is_none());
    }
}
