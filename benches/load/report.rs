//! The figures of one workload, worked out from the writes and the arrivals, and printed as a
//! block and as rows of a markdown table.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::api::Write;
use crate::receiver::Seen;
use crate::stage::Usage;

/// p50, p90, p99 and max of a set of milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spread {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(mut values: Vec<f64>) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        values.sort_by(f64::total_cmp);
        let at = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
        let max = values[values.len() - 1];
        Self { count: values.len(), p50: at(0.50), p90: at(0.90), p99: at(0.99), max }
    }

    pub fn show(&self) -> String {
        if self.count == 0 {
            return "none".into();
        }
        format!(
            "p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2} ms",
            self.p50, self.p90, self.p99, self.max
        )
    }
}

pub struct Figures {
    pub workload: String,
    pub backend: String,
    pub writes_ok: usize,
    pub writes_per_s: f64,
    pub deliveries: usize,
    pub deliveries_per_s: f64,
    pub request: Spread,
    pub arrival: Spread,
    /// Arrivals before the client had read the write's response: the delivery can win the race.
    pub arrived_first: usize,
    pub missing: usize,
    pub duplicates: usize,
    /// Deliveries whose body named no write of this workload's measured set.
    pub unmatched: usize,
    /// Non-2xx answers by status; `error` for requests that failed below HTTP.
    pub refused: BTreeMap<String, usize>,
    pub usage: Usage,
    /// Workload-specific lines.
    pub notes: Vec<String>,
}

/// What a workload measured: `writes` are the measured set, `per_write` the deliveries each
/// successful one should cause; arrivals of other writes are left out.
pub struct Measured<'a> {
    pub workload: &'a str,
    pub backend: &'a str,
    pub started: Instant,
    pub writes: &'a [Write],
    pub per_write: usize,
    pub seen: &'a Seen,
    pub usage: Usage,
}

impl Measured<'_> {
    pub fn figures(&self) -> Figures {
        let by_n: BTreeMap<usize, &Write> = self.writes.iter().map(|w| (w.n, w)).collect();
        let ok: Vec<&Write> = self.writes.iter().filter(|w| w.ok()).collect();
        let mut refused = BTreeMap::new();
        for w in self.writes.iter().filter(|w| !w.ok()) {
            let key = w.status.map_or_else(|| "error".to_owned(), |s| s.to_string());
            *refused.entry(key).or_insert(0) += 1;
        }
        let mut arrival = Vec::new();
        let (mut unmatched, mut arrived_first) = (0, 0);
        let mut last_arrival = self.started;
        for a in &self.seen.arrivals {
            match a.write.and_then(|n| by_n.get(&n)) {
                Some(w) => {
                    arrival.push(signed_ms(a.at, w.responded));
                    arrived_first += usize::from(a.at < w.responded);
                    last_arrival = last_arrival.max(a.at);
                }
                None => unmatched += 1,
            }
        }
        let deliveries = arrival.len();
        let expected = ok.len() * self.per_write;
        let last_response = ok.iter().map(|w| w.responded).max().unwrap_or(self.started);
        let rate = |n: usize, until: Instant| {
            let secs = until.saturating_duration_since(self.started).as_secs_f64();
            if secs > 0.0 { n as f64 / secs } else { 0.0 }
        };
        Figures {
            workload: self.workload.to_owned(),
            backend: self.backend.to_owned(),
            writes_ok: ok.len(),
            writes_per_s: rate(ok.len(), last_response),
            deliveries,
            deliveries_per_s: rate(deliveries, last_arrival),
            request: Spread::of(ok.iter().map(|w| signed_ms(w.responded, w.sent)).collect()),
            arrival: Spread::of(arrival),
            arrived_first,
            missing: expected.saturating_sub(deliveries),
            duplicates: self.seen.duplicates,
            unmatched: unmatched + self.seen.anonymous,
            refused,
            usage: self.usage,
            notes: Vec::new(),
        }
    }
}

/// `later - earlier` in milliseconds, negative when `later` came first.
fn signed_ms(later: Instant, earlier: Instant) -> f64 {
    if later >= earlier {
        later.duration_since(earlier).as_secs_f64() * 1000.0
    } else {
        -(earlier.duration_since(later).as_secs_f64() * 1000.0)
    }
}

impl Figures {
    fn cpu_per_delivery(&self, ms: f64) -> String {
        if self.deliveries == 0 {
            return "–".into();
        }
        format!("{:.3}", ms / self.deliveries as f64)
    }

    /// PostgreSQL's transactions and WAL bytes per delivery, and its CPU as a share of the
    /// machine's; `–` on SQLite.
    fn db_work_text(&self) -> String {
        let (Some(work), Some(db_ms)) = (self.usage.db_work, self.usage.db_cpu_ms) else {
            return "–".into();
        };
        if self.deliveries == 0 {
            return "–".into();
        }
        let per = self.deliveries as f64;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let share = db_ms / (self.usage.seconds * 1000.0 * cores) * 100.0;
        format!(
            "{:.2} tx, {:.0} WAL bytes; CPU {share:.0} %",
            work.transactions / per,
            work.wal_bytes / per
        )
    }

    fn refused_text(&self) -> String {
        if self.refused.is_empty() {
            return "none".into();
        }
        let parts: Vec<String> = self.refused.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        parts.join(", ")
    }

    pub fn print(&self) {
        let u = &self.usage;
        println!("== {} on {} ==", self.workload, self.backend);
        println!("  writes:               {} ok, {:.0}/s", self.writes_ok, self.writes_per_s);
        println!(
            "  deliveries:           {} arrived, {:.0}/s",
            self.deliveries, self.deliveries_per_s
        );
        println!("  request latency:      {}", self.request.show());
        println!(
            "  response-to-arrival:  {} ({} arrived before the response was read)",
            self.arrival.show(),
            self.arrived_first
        );
        println!(
            "  missing {}, duplicates {}, unmatched {}; non-2xx: {}",
            self.missing,
            self.duplicates,
            self.unmatched,
            self.refused_text()
        );
        println!(
            "  server RSS:           idle {:.1} MB, peak {:.1} MB",
            u.idle_rss_mb, u.peak_rss_mb
        );
        print!("  CPU per delivery:     server {} ms", self.cpu_per_delivery(u.server_cpu_ms));
        match u.db_cpu_ms {
            Some(db) => println!(", PostgreSQL {} ms", self.cpu_per_delivery(db)),
            None => println!(),
        }
        if self.usage.db_work.is_some() {
            println!("  PostgreSQL per delivery: {}", self.db_work_text());
        }
        for note in &self.notes {
            println!("  {note}");
        }
    }
}

pub fn print_table(all: &[Figures]) {
    println!(
        "\n| workload | backend | writes/s | deliveries/s | request p50 / p99 ms | \
         arrival p50 / p99 / max ms | missing | dup | non-2xx | idle / peak RSS MB | \
         CPU ms/delivery server / db | PostgreSQL per delivery; its CPU share |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for f in all {
        let db = f.usage.db_cpu_ms.map_or("–".to_owned(), |ms| f.cpu_per_delivery(ms));
        let a = &f.arrival;
        let arrival = if a.count == 0 {
            "none".to_owned()
        } else {
            format!("{:.2} / {:.2} / {:.2}", a.p50, a.p99, a.max)
        };
        println!(
            "| {} | {} | {:.0} | {:.0} | {:.2} / {:.2} | {} | {} | {} | {} | {:.1} / {:.1} | {} / {} | {} |",
            f.workload,
            f.backend,
            f.writes_per_s,
            f.deliveries_per_s,
            f.request.p50,
            f.request.p99,
            arrival,
            f.missing,
            f.duplicates,
            f.refused_text(),
            f.usage.idle_rss_mb,
            f.usage.peak_rss_mb,
            f.cpu_per_delivery(f.usage.server_cpu_ms),
            db,
            f.db_work_text()
        );
    }
}
