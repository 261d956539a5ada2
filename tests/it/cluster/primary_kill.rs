//! The primary PostgreSQL node SIGKILLed under load: Patroni promotes the synchronous standby,
//! HAProxy routes to it, and Roster carries on by itself, wake-ups across instances included.

use std::time::{Duration, Instant};

use roster::config::Config;

use super::load::{Load, Tenants};
use super::{Cluster, cluster_disabled};
use crate::common::receiver::Reply;
use crate::common::{TestApp, test_config};

/// Far below the poll interval of these instances: a delivery within it was woken.
const WOKEN_WITHIN: Duration = Duration::from_secs(5);

/// An instance that polls its queue only every 10 minutes, so that wake-ups do the work; with
/// `delivers` false, its worker claims nothing.
fn instance(url: &str, delivers: bool) -> Config {
    let mut config = test_config(url);
    config.webhook_poll_interval = Duration::from_secs(600);
    config.webhook_timeout = Duration::from_secs(2);
    config.webhook_lease_margin = Duration::from_secs(1);
    if !delivers {
        config.delivery_limits.concurrency = 0;
    }
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_primary_mid_load_loses_no_acknowledged_write_and_no_event() {
    if cluster_disabled() {
        return;
    }
    let cluster = Cluster::start(5450, false).await;
    // Every delivery is A's to make; what is committed through B reaches A's worker only by
    // NOTIFY, on A's LISTEN connection.
    let a = TestApp::start(instance(&cluster.database_url(), true)).await;
    let b = TestApp::start(instance(&cluster.database_url(), false)).await;
    let tenants = Tenants::set_up(&a.api, 4, Reply::status(200)).await;

    let load = Load::start(&[a.api.clone(), b.api.clone()], &tenants, Duration::from_millis(50));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let killed = cluster.kill_primary().await;
    let killed_at = Instant::now();
    let resumed = load.wait_for_write_after(killed_at, Duration::from_secs(60)).await;
    // A while on the new primary, with the old one still down.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let figures = load.stop_and_check(&b.api, &tenants).await;
    println!(
        "primary {killed} killed: writes again after {:.1} s; {figures}",
        (resumed - killed_at).as_secs_f64()
    );
    assert!(figures.not_ready_answers > 0, "/api/ready never said not ready: {figures}");
    // An attempt made as the primary died, whose outcome could not be recorded until after
    // its lease ran out, is made again: at least once, as promised.
    figures.assert_repeats_straddle(killed_at, resumed);

    // A's LISTEN connection found the new primary by itself, and B's NOTIFY reaches it.
    let took = tenants.time_one_rename(&b.api).await;
    println!(
        "a write through B delivered by A {:.0} ms after it was acknowledged",
        took.as_secs_f64() * 1000.0
    );
    assert!(took < WOKEN_WITHIN, "a write through B was delivered by A only after {took:?}");

    cluster.start_node(&killed).await;
    let rejoined = cluster.wait_healthy(Duration::from_secs(90)).await;
    println!("{killed} rejoined as a standby after {:.1} s", rejoined.as_secs_f64());
    assert_ne!(cluster.primary().await, killed);
}
