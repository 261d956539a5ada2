//! Roster on PostgreSQL that fails over. `read_only` plays the failover's effect on one
//! PostgreSQL (writes refused, connections cut). The others run a real cluster from
//! `deploy/cluster/cluster.sh` (etcd, three Patroni nodes with synchronous replication,
//! HAProxy) under a steady load of writes with subscribed webhooks, and kill the primary,
//! cut it off, or kill a Roster instance mid-delivery.
//!
//! They need Patroni, etcd and HAProxy (`apt-get install patroni etcd-server haproxy`) and
//! fail without them; `ROSTER_TEST_CLUSTER=off` skips them. The partition test needs root, for
//! network namespaces. Clusters are started one at a time.

mod instance_kill;
mod load;
mod partition;
mod primary_kill;
mod read_only;

use std::process::Output;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::sync::{Mutex, MutexGuard};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/cluster/cluster.sh");

/// Three PostgreSQL nodes and their agents take most of this 2-core machine: never two
/// clusters at once.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

fn cluster_disabled() -> bool {
    let off = std::env::var("ROSTER_TEST_CLUSTER").is_ok_and(|v| v == "off");
    if off {
        eprintln!("ROSTER_TEST_CLUSTER=off: not running on a PostgreSQL cluster");
    }
    off
}

/// A running cluster, stopped (and its files deleted) on drop.
pub(crate) struct Cluster {
    dir: TempDir,
    base: u16,
    _turn: MutexGuard<'static, ()>,
}

impl Cluster {
    /// Starts a cluster with HAProxy on `base` (and the nodes on the three ports after it);
    /// with `netns`, each node in a network namespace of its own.
    pub(crate) async fn start(base: u16, netns: bool) -> Self {
        for tool in ["patroni", "etcd", "haproxy"] {
            assert!(
                which(tool),
                "{tool} is missing: apt-get install patroni etcd-server haproxy, or set \
                 ROSTER_TEST_CLUSTER=off to skip the cluster tests"
            );
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let dir = tempfile::tempdir().expect("temp dir");
        // The nodes run as the postgres user, which must reach their directories.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let cluster = Self { dir, base, _turn: turn };
        let mut args = vec!["start"];
        if netns {
            args.push("--netns");
        }
        cluster.run(&args).await;
        cluster
    }

    pub(crate) fn database_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/roster", self.base)
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new("bash");
        command
            .arg(SCRIPT)
            .args(args)
            .env("CLUSTER_DIR", self.files())
            .env("PORT_BASE", self.base.to_string())
            .kill_on_drop(true);
        command
    }

    fn files(&self) -> std::path::PathBuf {
        self.dir.path().join("cluster")
    }

    async fn try_run(&self, args: &[&str]) -> Output {
        self.command(args).output().await.expect("cluster.sh runs")
    }

    /// Runs `cluster.sh args…` and returns what it printed; panics, with the nodes' logs, if it
    /// fails.
    async fn run(&self, args: &[&str]) -> String {
        let out = self.try_run(args).await;
        assert!(
            out.status.success(),
            "cluster.sh {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub(crate) async fn primary(&self) -> String {
        self.run(&["primary"]).await
    }

    /// SIGKILLs the primary's Patroni agent and postmaster; returns the node's name.
    pub(crate) async fn kill_primary(&self) -> String {
        self.run(&["kill-primary"]).await
    }

    pub(crate) async fn start_node(&self, node: &str) {
        self.run(&["start-node", node]).await;
    }

    pub(crate) async fn partition(&self, node: &str) {
        self.run(&["partition", node]).await;
    }

    pub(crate) async fn heal(&self, node: &str) {
        self.run(&["heal", node]).await;
    }

    /// Waits until all three nodes run again, one leading and one in sync; returns how long
    /// that took.
    pub(crate) async fn wait_healthy(&self, timeout: Duration) -> Duration {
        let started = Instant::now();
        while !self.try_run(&["healthy"]).await.status.success() {
            assert!(
                started.elapsed() < timeout,
                "the cluster did not recover within {timeout:?}: {}\n{}",
                String::from_utf8_lossy(&self.try_run(&["status"]).await.stdout),
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        started.elapsed()
    }

    /// The tail of every node's Patroni log, for failure messages.
    fn logs(&self) -> String {
        let mut text = String::new();
        for node in ["pg1", "pg2", "pg3"] {
            let log = std::fs::read_to_string(self.files().join(node).join("patroni.log"))
                .unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            text += &format!("--- {node}\n");
            for line in tail.into_iter().rev() {
                text += line;
                text.push('\n');
            }
        }
        text
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(SCRIPT)
            .arg("stop")
            .env("CLUSTER_DIR", self.files())
            .env("PORT_BASE", self.base.to_string())
            .output();
    }
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}
