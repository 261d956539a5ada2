//! The primary cut off from the other nodes, from etcd and from Roster (its network namespace's
//! link taken down) under load: it can no longer commit (its synchronous standby is gone) and
//! steps down, the standby takes over, and once the link is back the old primary rejoins as a
//! standby, rewound past anything it committed alone.

use std::time::{Duration, Instant};

use super::load::{Load, Tenants};
use super::{Cluster, cluster_disabled};
use crate::common::receiver::Reply;
use crate::durability::crash::ChildServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cutting_the_primary_off_mid_load_loses_no_acknowledged_write_and_no_event() {
    if cluster_disabled() {
        return;
    }
    let cluster = Cluster::start(5470, true).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let a = ChildServer::start_with(&cluster.database_url(), dir.path(), "a", &[]).await;
    let b = ChildServer::start_with(&cluster.database_url(), dir.path(), "b", &[]).await;
    let tenants = Tenants::set_up(&a.api, 4, Reply::status(200)).await;

    let load = Load::start(&[a.api.clone(), b.api.clone()], &tenants, Duration::from_millis(50));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cut = cluster.primary().await;
    cluster.partition(&cut).await;
    let cut_at = Instant::now();
    let resumed = load.wait_for_write_after(cut_at, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let figures = load.stop_and_check(&b.api, &tenants).await;
    println!(
        "primary {cut} cut off: writes again after {:.1} s; {figures}",
        (resumed - cut_at).as_secs_f64()
    );
    assert!(figures.not_ready_answers > 0, "/api/ready never said not ready: {figures}");
    figures.assert_repeats_straddle(cut_at, resumed);

    cluster.heal(&cut).await;
    let rejoined = cluster.wait_healthy(Duration::from_secs(90)).await;
    println!("{cut} rejoined as a standby after {:.1} s", rejoined.as_secs_f64());
    assert_ne!(cluster.primary().await, cut);
}
