//! The primary PostgreSQL node SIGKILLed under load: Patroni promotes the synchronous standby,
//! HAProxy routes to it, and Roster carries on by itself.

use std::time::{Duration, Instant};

use super::load::{Load, Tenants};
use super::{Cluster, cluster_disabled};
use crate::common::receiver::Reply;
use crate::durability::crash::ChildServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_primary_mid_load_loses_no_acknowledged_write_and_no_event() {
    if cluster_disabled() {
        return;
    }
    let cluster = Cluster::start(5450, false).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let a = ChildServer::start_with(&cluster.database_url(), dir.path(), "a", &[]).await;
    let b = ChildServer::start_with(&cluster.database_url(), dir.path(), "b", &[]).await;
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

    cluster.start_node(&killed).await;
    let rejoined = cluster.wait_healthy(Duration::from_secs(90)).await;
    println!("{killed} rejoined as a standby after {:.1} s", rejoined.as_secs_f64());
    assert_ne!(cluster.primary().await, killed);
}
