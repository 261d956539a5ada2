//! PostgreSQL behind PgBouncer in transaction pooling mode, with `ROSTER_DATABASE_DIRECT_URL`
//! for what needs a session: two instances share two server connections, every write and its
//! event land, and each delivery arrives exactly once. PgBouncer is Debian's `pgbouncer`; the
//! test fails without it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Backend, TestDb, postgres_disabled};
use crate::durability::crash::ChildServer;
use crate::durability::deliver_each_once_through;

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// A PgBouncer process in front of the test PostgreSQL, stopped on drop.
struct PgBouncer {
    child: Child,
    port: u16,
    /// Its configuration and log.
    dir: tempfile::TempDir,
}

impl PgBouncer {
    /// Transaction pooling with at most `servers` server connections per database: every
    /// client transaction takes whichever is free.
    fn start(postgres: &url::Url, servers: usize) -> Self {
        assert!(Path::new(PGBOUNCER).exists(), "{PGBOUNCER} is missing: apt-get install pgbouncer");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let host = postgres.host_str().expect("host");
        let pg_port = postgres.port().unwrap_or(5432);
        let user = postgres.username();
        let ini = dir.path().join("pgbouncer.ini");
        // What Roster needs of PgBouncer: see docs/cluster.md#connection-poolers.
        let config = format!(
            "[databases]\n* = host={host} port={pg_port} user={user}\n\n[pgbouncer]\n\
             listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
             auth_type = trust\nauth_file = {users}\npool_mode = transaction\n\
             default_pool_size = {servers}\nmax_client_conn = 500\n\
             server_reset_query = DEALLOCATE ALL\nserver_reset_query_always = 1\n\
             ignore_startup_parameters = extra_float_digits\n",
            users = dir.path().join("users.txt").display()
        );
        std::fs::write(&ini, config).expect("pgbouncer.ini");
        std::fs::write(dir.path().join("users.txt"), format!("\"{user}\" \"\"\n")).expect("users");
        // As root, PgBouncer must be told whom to run as.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let mut command = Command::new(PGBOUNCER);
        if is_root() {
            command.args(["-u", "postgres"]);
        }
        let log = std::fs::File::create(dir.path().join("pgbouncer.log")).expect("log");
        let child = command
            .arg(&ini)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("pgbouncer starts");
        let mut bouncer = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = || std::fs::read_to_string(bouncer.dir.path().join("pgbouncer.log"));
            if let Ok(Some(status)) = bouncer.child.try_wait() {
                panic!("pgbouncer exited ({status}): {}", log().unwrap_or_default());
            }
            assert!(Instant::now() < deadline, "pgbouncer not listening within 10 s: {:?}", log());
            std::thread::sleep(Duration::from_millis(50));
        }
        bouncer
    }

    /// `postgres` with its host and port swapped for PgBouncer's.
    fn url_for(&self, postgres: &url::Url) -> String {
        let mut url = postgres.clone();
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(self.port)).expect("port");
        url.to_string()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_behind_pgbouncer_in_transaction_mode_deliver_each_event_once() {
    if postgres_disabled() {
        eprintln!("ROSTER_TEST_POSTGRES=off: not running on PostgreSQL");
        return;
    }
    const USERS: usize = 10;
    const ROUNDS: usize = 20;
    let db = TestDb::new(Backend::Postgres).await;
    let direct = url::Url::parse(&db.url).expect("database URL");
    let bouncer = PgBouncer::start(&direct, 2);
    let through = bouncer.url_for(&direct);
    let dir = tempfile::tempdir().expect("temp dir");
    let env = [("ROSTER_DATABASE_DIRECT_URL", db.url.as_str())];
    let a = ChildServer::start_with(&through, dir.path(), "a", &env).await;
    let b = ChildServer::start_with(&through, dir.path(), "b", &env).await;

    deliver_each_once_through(&a.api, &b.api, USERS, ROUNDS).await;
    for server in [&a, &b] {
        let errors: Vec<String> =
            server.log_text().lines().filter(|l| l.contains("ERROR")).map(str::to_owned).collect();
        assert!(errors.is_empty(), "errors logged: {errors:#?}");
    }
}
