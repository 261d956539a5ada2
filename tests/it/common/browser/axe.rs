//! Accessibility checks with axe-core (vendored as `tests/support/axe.min.js`), run in the page
//! or frame the browser shows.
//!
//! Only the WCAG 2.0, 2.1 and 2.2 level A and AA rules run: those are conformance failures,
//! while axe's "best-practice" rules (one `<main>`, heading order, all text in landmarks) are
//! advice. WCAG 2.2 brings `target-size`: controls smaller than 24×24 px fail, as unstyled
//! buttons do. Violations of impact `critical`, `serious` and `moderate` fail the test; the
//! moderate WCAG rules are real failures too (`meta-viewport` forbidding zoom on a phone, a
//! field with two labels, `lang` mismatches, autoplaying audio). The `minor` ones (deprecated
//! ARIA roles, server-side image maps) are printed and let through.

use serde::Deserialize;
use serde_json::json;

use super::Browser;

const AXE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/axe.min.js"));

const TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/// Impacts that fail `check_accessibility`.
const FAILING: [&str; 3] = ["critical", "serious", "moderate"];

const RUN: &str = r#"
    const [tags, done] = arguments;
    axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] })
        .then((r) => done({ violations: r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map((n) => ({
                target: n.target.flat().join(" "),
                why: [...n.any, ...n.all, ...n.none].map((c) => c.message)[0] ?? "",
            })),
        })) }))
        .catch((e) => done({ error: String(e) }));"#;

/// One broken rule and where on the page.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    pub help_url: String,
    pub nodes: Vec<Node>,
}

/// An element that breaks the rule.
#[derive(Debug, Clone, Deserialize)]
pub struct Node {
    /// A CSS selector for it (through frames and shadow roots, space-separated).
    pub target: String,
    /// What axe found wrong with it, first of its messages.
    pub why: String,
}

impl Violation {
    pub fn targets(&self) -> Vec<&str> {
        self.nodes.iter().map(|n| n.target.as_str()).collect()
    }

    fn fails(&self) -> bool {
        self.impact.as_deref().is_some_and(|i| FAILING.contains(&i))
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let impact = self.impact.as_deref().unwrap_or("unknown");
        writeln!(f, "- {} ({impact}): {}", self.id, self.help)?;
        for node in &self.nodes {
            writeln!(f, "    at {}: {}", node.target, node.why)?;
        }
        writeln!(f, "    see {}", self.help_url)
    }
}

#[derive(Deserialize)]
struct Outcome {
    #[serde(default)]
    violations: Vec<Violation>,
    error: Option<String>,
}

impl Browser {
    /// Every violation of a WCAG 2 A/AA rule on the current page (or frame), of any impact.
    pub async fn accessibility_violations(&self) -> Vec<Violation> {
        // The page keeps axe until it navigates, so it is sent once per page, not per check.
        let present = self.client.execute("return typeof axe !== 'undefined'", vec![]).await;
        if !present.is_ok_and(|v| v == json!(true)) {
            self.client.execute(AXE, vec![]).await.expect("axe-core loads into the page");
        }
        let outcome = self.client.execute_async(RUN, vec![json!(TAGS)]).await.expect("axe runs");
        let outcome: Outcome = serde_json::from_value(outcome).expect("axe's results");
        if let Some(error) = outcome.error {
            panic!("axe-core failed on {}: {error}", self.url().await);
        }
        outcome.violations
    }

    /// Fails the test, listing each one, if the page breaks a WCAG 2 A/AA rule with an impact
    /// of moderate or worse (see the module for why that line).
    pub async fn check_accessibility(&self) {
        let (failing, minor): (Vec<_>, Vec<_>) =
            self.accessibility_violations().await.into_iter().partition(Violation::fails);
        let list = |vs: &[Violation]| vs.iter().map(ToString::to_string).collect::<String>();
        let url = self.url().await;
        if !minor.is_empty() {
            eprintln!("minor accessibility findings on {url}:\n{}", list(&minor));
        }
        assert!(failing.is_empty(), "accessibility violations on {url}:\n{}", list(&failing));
    }
}
