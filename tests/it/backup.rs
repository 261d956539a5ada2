//! `roster backup`: an online copy of a running server's SQLite database. The copy is taken
//! while writes go on, is never written over an existing file, and a server started on it
//! answers with what the original held.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Backend, TestDb};
use crate::durability::crash::ChildServer;

fn backup(database_url: &str, to: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("backup")
        .arg("--to")
        .arg(to)
        .env("ROSTER_DATABASE_URL", database_url)
        .env_remove("ROSTER_SECRET_KEY")
        .output()
        .expect("roster backup runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_servers_database_is_copied_while_it_writes() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ChildServer::start_with(&db.url, dir.path(), "original", &[]).await;
    let ada = server.api.register("ada").await;
    let org = server.api.create_org(&ada, "Acme").await;
    let org_path = format!("/api/organizations/{org}");

    // Renames go on throughout the copy.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = {
        let (api, token, path, stop) =
            (server.api.clone(), ada.token.clone(), org_path.clone(), stop.clone());
        tokio::spawn(async move {
            let mut done = 0;
            while !stop.load(Ordering::Relaxed) {
                let (status, body) =
                    api.patch(&path, Some(&token), json!({"name": format!("Acme {done}")})).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                done += 1;
            }
            done
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let to = dir.path().join("backup.db");
    let out = tokio::task::spawn_blocking({
        let (url, to) = (db.url.clone(), to.clone());
        move || backup(&url, &to)
    })
    .await
    .expect("backup finished");
    stop.store(true, Ordering::Relaxed);
    let renamed = writes.await.expect("writer");
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).starts_with("backed up to "), "{}", text(&out.stdout));
    assert!(renamed > 0, "writes went on");

    // Never over an existing file, and nothing is left behind beside it.
    let again = backup(&db.url, &to);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("exists already"), "{}", text(&again.stderr));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("partial")), "{names:?}");
    drop(server);

    // A server on the copy has the account, its sign-in and the organization, renamed.
    let copy_url = format!("sqlite://{}", to.display());
    let restored = ChildServer::start_with(&copy_url, dir.path(), "restored", &[]).await;
    let (status, body) = restored.api.get(&org_path, Some(&ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let name = body["name"].as_str().expect("a name");
    assert!(name == "Acme" || name.starts_with("Acme "), "{name}");
}

#[test]
fn only_an_existing_sqlite_database_is_backed_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let to = dir.path().join("backup.db");
    let out = backup("postgres://postgres@127.0.0.1:5432/test", &to);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("back up PostgreSQL with its own tools"),
        "{}",
        text(&out.stderr)
    );

    let missing = dir.path().join("nothing-here.db");
    let out = backup(&format!("sqlite://{}", missing.display()), &to);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(!missing.exists(), "no database was made to be backed up");
    assert!(!to.exists());
}
