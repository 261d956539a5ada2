//! The workloads, each on a stage of its own so that its peak RSS and CPU are its own.

use std::time::Duration;

use crate::api::{Api, Write};
use crate::report::{Figures, Measured};
use crate::server::Backend;
use crate::stage::{Settings, Stage, Window};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Writes to one organization with one webhook, closed loop.
    SteadyOne,
    /// The same spread over 64 organizations with one webhook each.
    #[value(name = "steady-64")]
    Steady64,
    /// One write at a time at a fixed low rate: latency when nothing queues.
    Light,
    /// Writes to one organization with many webhooks, closed loop.
    Fanout,
    /// A fixed offered rate of writes to one organization with many webhooks.
    FanoutRate,
    /// Deliveries of a quiet organization while a noisy one's hang on a tarpit.
    Noisy,
    /// The application's events published with a server key to one organization with one
    /// webhook, closed loop.
    Publish,
    /// Invites and password resets with and without an email queued (figures of its own).
    Email,
}

impl Workload {
    pub const ALL: [Workload; 8] = [
        Self::SteadyOne,
        Self::Steady64,
        Self::Light,
        Self::Fanout,
        Self::FanoutRate,
        Self::Noisy,
        Self::Publish,
        Self::Email,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::SteadyOne => "steady-one",
            Self::Steady64 => "steady-64",
            Self::Light => "light",
            Self::Fanout => "fanout",
            Self::FanoutRate => "fanout-rate",
            Self::Noisy => "noisy",
            Self::Publish => "publish",
            Self::Email => "email",
        }
    }
}

/// Sizes the command line may override; `None` is each workload's own default.
pub struct Sizes {
    pub writes: Option<usize>,
    pub rate: Option<f64>,
    pub seconds: f64,
    pub webhooks: usize,
}

const LIGHT_RATE: f64 = 100.0;
const FANOUT_RATE: f64 = 20.0;
const NOISY_WEBHOOKS: usize = 20;
const NOISY_WRITES: usize = 30;
const QUIET_WRITES: usize = 20;
/// Quiet writes a second: spread over a few seconds, all while the noisy attempts hang.
const QUIET_RATE: f64 = 4.0;
/// A quiet delivery later than this after its write counts as late.
const QUIET_DEADLINE: Duration = Duration::from_secs(30);

pub async fn run(
    workload: Workload,
    backend: Backend,
    settings: &Settings,
    sizes: &Sizes,
) -> anyhow::Result<Figures> {
    let webhooks = match workload {
        Workload::Fanout | Workload::FanoutRate => sizes.webhooks,
        Workload::Noisy => NOISY_WEBHOOKS,
        _ => 1,
    };
    let stage = Stage::start(settings, backend, webhooks).await?;
    let run = Run { stage: &stage, workload, backend, sizes };
    let result = match workload {
        Workload::SteadyOne => run.closed(1, 1, 10_000).await,
        Workload::Steady64 => run.closed(64, 1, 10_000).await,
        Workload::Light => run.rated(1, LIGHT_RATE, 2_000, false).await,
        Workload::Fanout => run.closed(1, webhooks, 1_000).await,
        Workload::FanoutRate => {
            let rate = sizes.rate.unwrap_or(FANOUT_RATE);
            run.rated(webhooks, rate, (rate * sizes.seconds).round() as usize, true).await
        }
        Workload::Noisy => run.noisy().await,
        Workload::Publish => run.publish(10_000).await,
        Workload::Email => Err(anyhow::anyhow!("the email workload is run by email::run")),
    };
    let stopped = stage.stop().await;
    let figures = result?;
    stopped?;
    Ok(figures)
}

struct Run<'a> {
    stage: &'a Stage,
    workload: Workload,
    backend: Backend,
    sizes: &'a Sizes,
}

impl Run<'_> {
    /// `orgs` organizations, each with `webhooks` webhooks at `path` on the receiver.
    async fn organizations(
        &self,
        api: &Api,
        orgs: usize,
        webhooks: usize,
        url: &str,
    ) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::with_capacity(orgs);
        for i in 0..orgs {
            let id = api.organization(&format!("Load {} {i}", self.workload.name())).await?;
            api.webhooks(&id, &format!("{url}/{i}"), webhooks).await?;
            ids.push(id);
        }
        Ok(ids)
    }

    /// Closed loop: the stage's number of writes in flight, round-robin over the organizations.
    async fn closed(&self, orgs: usize, webhooks: usize, writes: usize) -> anyhow::Result<Figures> {
        self.closed_with(&self.stage.api, orgs, webhooks, writes).await
    }

    async fn closed_with(
        &self,
        api: &Api,
        orgs: usize,
        webhooks: usize,
        writes: usize,
    ) -> anyhow::Result<Figures> {
        let ids = self.organizations(api, orgs, webhooks, &self.stage.receiver.url).await?;
        let writes = self.sizes.writes.unwrap_or(writes);
        let window = self.stage.window().await;
        let done = api.closed_loop(&ids, 0, writes, self.stage.in_flight).await;
        Ok(self.finish(window, &done, webhooks, self.stage.drain).await)
    }

    /// Closed loop of published events: one organization, one webhook subscribed to them.
    async fn publish(&self, writes: usize) -> anyhow::Result<Figures> {
        let key = self.stage.server_key()?;
        let api = self.stage.api.publishing(&key).await?;
        let mut figures = self.closed_with(&api, 1, 1, writes).await?;
        figures.notes.push("writes are events published with a server key".into());
        Ok(figures)
    }

    /// Open loop at `rate` writes a second to one organization.
    async fn rated(
        &self,
        webhooks: usize,
        rate: f64,
        writes: usize,
        overlap: bool,
    ) -> anyhow::Result<Figures> {
        let ids =
            self.organizations(&self.stage.api, 1, webhooks, &self.stage.receiver.url).await?;
        let writes = self.sizes.writes.unwrap_or(writes);
        let window = self.stage.window().await;
        let done = self.stage.api.open_loop(&ids, 0, writes, rate, overlap).await;
        let mut figures = self.finish(window, &done, webhooks, self.stage.drain).await;
        figures.notes.push(format!("offered {rate} writes/s × {webhooks} webhooks"));
        Ok(figures)
    }

    /// Writes to the noisy organization (webhooks on the tarpit), then, while those attempts
    /// hang, one at a time to the quiet one; only the quiet writes are measured.
    async fn noisy(&self) -> anyhow::Result<Figures> {
        let noisy =
            self.organizations(&self.stage.api, 1, NOISY_WEBHOOKS, &self.stage.tarpit.url).await?;
        let quiet = self.organizations(&self.stage.api, 1, 1, &self.stage.receiver.url).await?;
        let window = self.stage.window().await;
        let api = &self.stage.api;
        let loud = api.closed_loop(&noisy, 0, NOISY_WRITES, self.stage.in_flight).await;
        let calm = api.open_loop(&quiet, NOISY_WRITES, QUIET_WRITES, QUIET_RATE, false).await;
        // Waits past the deadline too, so that late deliveries show how late they were.
        let drain = self.stage.drain.max(QUIET_DEADLINE);
        let mut figures = self.finish(window, &calm, 1, drain).await;
        let on_time = self
            .stage
            .receiver
            .seen()
            .arrivals
            .iter()
            .filter_map(|a| calm.iter().find(|w| Some(w.n) == a.write).map(|w| (a, w)))
            .filter(|(a, w)| a.at.saturating_duration_since(w.responded) <= QUIET_DEADLINE)
            .count();
        let loud_ok = loud.iter().filter(|w| w.ok()).count();
        figures.notes.push(format!(
            "quiet deliveries within {} s of their write: {on_time} of {}",
            QUIET_DEADLINE.as_secs(),
            calm.len()
        ));
        figures.notes.push(format!(
            "noisy: {loud_ok} of {NOISY_WRITES} writes ok ({} deliveries to the tarpit); \
             tarpit connections accepted: {}",
            loud_ok * NOISY_WEBHOOKS,
            self.stage.tarpit.accepted()
        ));
        Ok(figures)
    }

    /// Waits for the deliveries the successful writes owe (up to `drain` after the last
    /// write), closes the window and works out the figures.
    async fn finish(
        &self,
        window: Window,
        writes: &[Write],
        per_write: usize,
        drain: Duration,
    ) -> Figures {
        let expected = writes.iter().filter(|w| w.ok()).count() * per_write;
        self.stage.receiver.wait_for(expected, drain).await;
        let started = window.started;
        let usage = window.close().await;
        let seen = self.stage.receiver.seen();
        let backend = match self.backend {
            Backend::Sqlite => "sqlite".to_owned(),
            Backend::Postgres if self.stage.instances() > 1 => {
                format!("postgres ×{}", self.stage.instances())
            }
            Backend::Postgres => "postgres".to_owned(),
        };
        Measured {
            workload: self.workload.name(),
            backend: &backend,
            started,
            writes,
            per_write,
            seen: &seen,
            usage,
        }
        .figures()
    }
}
