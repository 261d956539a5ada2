//! A Roster instance SIGKILLed mid-delivery on the cluster while the other keeps taking writes:
//! the other delivers what the dead one had claimed once its leases run out.

use std::time::{Duration, Instant};

use super::load::{Load, Tenants};
use super::{Cluster, cluster_disabled};
use crate::common::receiver::Reply;
use crate::durability::crash::ChildServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_an_instance_mid_delivery_loses_no_event() {
    if cluster_disabled() {
        return;
    }
    let cluster = Cluster::start(5460, false).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut doomed =
        ChildServer::start_with(&cluster.database_url(), dir.path(), "doomed", &[]).await;
    let survivor =
        ChildServer::start_with(&cluster.database_url(), dir.path(), "survivor", &[]).await;
    // Slow answers, so that each instance always has deliveries in flight.
    let tenants =
        Tenants::set_up(&survivor.api, 4, Reply::slow(200, Duration::from_millis(300))).await;

    // Writes go through the survivor; both instances deliver.
    let load =
        Load::start(std::slice::from_ref(&survivor.api), &tenants, Duration::from_millis(100));
    tokio::time::sleep(Duration::from_secs(3)).await;
    doomed.kill();
    let killed_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let figures = load.stop_and_check(&survivor.api, &tenants).await;
    println!("an instance killed mid-delivery: {figures}");
    assert_eq!(figures.not_ready_answers, 0, "the survivor was not ready at times: {figures}");
    // The only repeats: what the killed instance had sent, unrecorded, made again once its
    // leases ran out.
    // (A request it wrote just before the kill may still arrive from the socket's buffer.)
    figures.assert_repeats_straddle(killed_at, killed_at + Duration::from_millis(500));
}
