//! The email workload's figures: per variant, and as rows of a markdown table.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::report::Spread;

/// Latencies of the successful requests, the others by status, and the time the rounds took.
#[derive(Default)]
pub struct Tally {
    pub ms: Vec<f64>,
    refused: BTreeMap<String, usize>,
    busy: Duration,
    /// CPU time of the server and of PostgreSQL over the rounds, in ms.
    cpu: (f64, Option<f64>),
}

impl Tally {
    /// The tally of one round that started at `started`: each request's status (`None` below
    /// HTTP) and latency, and the CPU time it cost.
    pub fn of(started: Instant, done: Vec<(Option<u16>, f64)>, cpu: (f64, Option<f64>)) -> Self {
        let mut tally = Tally { busy: started.elapsed(), cpu, ..Tally::default() };
        for (status, ms) in done {
            match status {
                Some(s) if (200..300).contains(&s) => tally.ms.push(ms),
                Some(s) => *tally.refused.entry(s.to_string()).or_default() += 1,
                None => *tally.refused.entry("error".into()).or_default() += 1,
            }
        }
        tally
    }

    pub fn add(&mut self, other: Tally) {
        self.ms.extend(other.ms);
        for (status, n) in other.refused {
            *self.refused.entry(status).or_default() += n;
        }
        self.busy += other.busy;
        self.cpu.0 += other.cpu.0;
        self.cpu.1 = match (self.cpu.1, other.cpu.1) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
        };
    }

    /// CPU ms per successful request: the server's, and PostgreSQL's.
    fn cpu_text(&self) -> String {
        let n = self.ms.len().max(1) as f64;
        let db = self.cpu.1.map_or("–".into(), |ms| format!("{:.2}", ms / n));
        format!("{:.2} / {db}", self.cpu.0 / n)
    }

    fn per_s(&self) -> f64 {
        self.ms.len() as f64 / self.busy.as_secs_f64().max(1e-9)
    }

    fn spread(&self) -> Spread {
        Spread::of(self.ms.clone())
    }

    fn refused_text(&self) -> String {
        let parts: Vec<String> = self.refused.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        if parts.is_empty() { "none".into() } else { parts.join(", ") }
    }

    pub fn print(&self, label: &str) {
        println!(
            "    {label:<17} {} ok, {:.0}/s; {}; non-2xx: {}; CPU ms/request server / db {}",
            self.ms.len(),
            self.per_s(),
            self.spread().show(),
            self.refused_text(),
            self.cpu_text()
        );
    }
}

/// How `after` compares with `before`.
pub fn compare(before: &Tally, after: &Tally) -> String {
    let (b, a) = (before.spread(), after.spread());
    let pct = |x: f64, y: f64| (y / x - 1.0) * 100.0;
    format!(
        "difference: p50 {:+.2} ms ({:+.0} %), p99 {:+.2} ms, requests/s {:+.0} %",
        a.p50 - b.p50,
        pct(b.p50, a.p50),
        a.p99 - b.p99,
        pct(before.per_s(), after.per_s())
    )
}

/// One variant's figures, for the table.
pub struct Row {
    pub backend: &'static str,
    pub relay: &'static str,
    pub request: &'static str,
    pub variant: &'static str,
    pub tally: Tally,
}

pub fn print_table(rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    println!(
        "\n| backend | email sent to | request | variant | ok | req/s | p50 / p90 / p99 / max ms \
         | non-2xx | CPU ms/request server / db |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let s = r.tally.spread();
        println!(
            "| {} | {} | {} | {} | {} | {:.0} | {:.2} / {:.2} / {:.2} / {:.2} | {} | {} |",
            r.backend,
            r.relay,
            r.request,
            r.variant,
            r.tally.ms.len(),
            r.tally.per_s(),
            s.p50,
            s.p90,
            s.p99,
            s.max,
            r.tally.refused_text(),
            r.tally.cpu_text()
        );
    }
}
