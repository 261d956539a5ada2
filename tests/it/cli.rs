//! The developer tools of the `roster` binary: `verify` and `listen`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use roster::delivery::signature;

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const BODY: &str = r#"{"event":"member.added","data":{}}"#;

fn roster() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command.env_remove("ROSTER_WEBHOOK_SECRET").env_remove("ROSTER_WEBHOOK_SECRET_FILE");
    command
}

/// `roster verify` with `secret` in the environment, never on the command line.
fn verify(secret: &str, args: &[&str], body: &str) -> (bool, String) {
    let mut child = roster()
        .arg("verify")
        .args(args)
        .env("ROSTER_WEBHOOK_SECRET", secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("roster verify starts");
    child.stdin.take().expect("stdin").write_all(body.as_bytes()).expect("body written");
    let out = child.wait_with_output().expect("roster verify ends");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn verify_accepts_a_matching_signature_and_refuses_others() {
    let good = signature::legacy(SECRET, BODY.as_bytes());
    assert_eq!(verify(SECRET, &["--signature", &good], BODY), (true, "valid".into()));
    assert_eq!(verify(SECRET, &["--signature", &good], "tampered"), (false, "invalid".into()));
    assert_eq!(verify("whsec_b3RoZXI=", &["--signature", &good], BODY), (false, "invalid".into()));
}

#[test]
fn verify_checks_standard_webhooks_signatures() {
    let sig = signature::standard(SECRET, "msg_1", 1649367553, BODY.as_bytes());
    let args = ["--signature", &sig, "--id", "msg_1", "--timestamp", "1649367553"];
    assert_eq!(verify(SECRET, &args, BODY), (true, "valid".into()));
    let wrong_id = ["--signature", &sig, "--id", "msg_2", "--timestamp", "1649367553"];
    assert_eq!(verify(SECRET, &wrong_id, BODY), (false, "invalid".into()));
    // Without --id and --timestamp a v1 signature cannot be checked: an error, not "valid".
    let (ok, _) = verify(SECRET, &["--signature", &sig], BODY);
    assert!(!ok);
}

/// Whatever `roster args…` printed on both streams, and whether it succeeded.
fn run(command: &mut Command) -> (bool, String) {
    let out = command.stdin(Stdio::null()).output().expect("roster runs");
    let printed =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), printed)
}

#[test]
fn secrets_are_never_taken_on_the_command_line() {
    let (ok, printed) = run(roster().args(["verify", "--secret", SECRET, "--signature", "00"]));
    assert!(!ok, "{printed}");
    assert!(printed.contains("--secret is not accepted"), "{printed}");
    assert!(printed.contains("ROSTER_WEBHOOK_SECRET"), "{printed}");

    let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let (ok, printed) = run(roster().args(["migrate", "--secret-key", key]));
    assert!(!ok, "{printed}");
    assert!(printed.contains("--secret-key is not accepted"), "{printed}");
    assert!(printed.contains("ROSTER_SECRET_KEY"), "{printed}");
}

#[test]
fn secrets_can_come_from_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("webhook.secret");
    std::fs::write(&file, format!("{SECRET}\n")).expect("secret written");
    let good = signature::legacy(SECRET, BODY.as_bytes());
    let mut child = roster()
        .args(["verify", "--signature", &good, "--secret-file"])
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("roster verify starts");
    child.stdin.take().expect("stdin").write_all(BODY.as_bytes()).expect("body written");
    let out = child.wait_with_output().expect("roster verify ends");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    // The secret key too: a file holding a malformed key is read and refused for its content.
    let key_file = dir.path().join("roster.key.b64");
    std::fs::write(&key_file, "not base64 of 32 bytes").expect("key written");
    let (ok, printed) = run(roster()
        .args(["migrate", "--database-url", "sqlite::memory:", "--secret-key-file"])
        .arg(&key_file)
        .env_remove("ROSTER_SECRET_KEY"));
    assert!(!ok, "{printed}");
    assert!(printed.contains("secret key must be base64 of 32 bytes"), "{printed}");
}

#[test]
fn help_never_shows_a_database_password() {
    let url = "postgres://roster:hunter2@db.internal/roster";
    let direct = "postgres://roster:swordfish@db.internal:5432/roster";
    let (ok, printed) = run(roster()
        .arg("--help")
        .env("ROSTER_DATABASE_URL", url)
        .env("ROSTER_DATABASE_DIRECT_URL", direct));
    assert!(ok, "{printed}");
    assert!(printed.contains("ROSTER_DATABASE_URL"), "{printed}");
    assert!(printed.contains("ROSTER_DATABASE_DIRECT_URL"), "{printed}");
    assert!(!printed.contains("hunter2"), "--help printed the password: {printed}");
    assert!(!printed.contains("swordfish"), "--help printed the password: {printed}");
}

#[test]
fn a_direct_database_url_is_only_for_postgresql_behind_a_pooler() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!("sqlite://{}", dir.path().join("roster.db").display());
    for (url, direct) in [
        (sqlite.as_str(), "postgres://postgres@127.0.0.1:5432/roster"),
        ("postgres://postgres@127.0.0.1:6432/roster", sqlite.as_str()),
    ] {
        let (ok, printed) = run(roster()
            .arg("migrate")
            .env("ROSTER_DATABASE_URL", url)
            .env("ROSTER_DATABASE_DIRECT_URL", direct)
            .env("ROSTER_SECRET_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        assert!(!ok, "{printed}");
        assert!(printed.contains("both URLs must start with postgres://"), "{printed}");
    }
    assert!(!dir.path().join("roster.db").exists(), "the SQLite database was created anyway");
}

#[tokio::test]
async fn listen_verifies_and_prints_deliveries() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        probe.local_addr().expect("addr").port()
    };
    let mut child = roster()
        .args(["listen", "--port", &port.to_string()])
        .env("ROSTER_WEBHOOK_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("roster listen starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let banner = lines.next().expect("banner line").expect("banner text");
    assert!(banner.contains(&format!("127.0.0.1:{port}")), "{banner}");

    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/");
    let ts = chrono::Utc::now().timestamp();
    let signed = client
        .post(&url)
        .header("x-webhook-event", "member.added")
        .header("x-webhook-delivery", "d-1")
        .header("x-webhook-signature", signature::legacy(SECRET, BODY.as_bytes()))
        .header("webhook-id", "d-1")
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature::standard(SECRET, "d-1", ts, BODY.as_bytes()))
        .body(BODY)
        .send()
        .await
        .expect("signed request");
    assert_eq!(signed.status(), 200);
    let unsigned = client.post(&url).body(BODY).send().await.expect("unsigned request");
    assert_eq!(unsigned.status(), 401);
    let _ = child.kill();

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut output = Vec::new();
    for line in lines.map_while(Result::ok) {
        output.push(line);
        if Instant::now() > deadline {
            break;
        }
    }
    let output = output.join("\n");
    assert!(
        output.contains(
            "member.added delivery d-1  X-Webhook-Signature: valid  webhook-signature: valid"
        ),
        "{output}"
    );
    assert!(output.contains("\"event\": \"member.added\""), "pretty JSON printed: {output}");
    assert!(output.contains("INVALID"), "the unsigned request is reported: {output}");
    let _ = child.wait();
}

/// Text logs written to a pipe or file carry no colour escapes.
#[test]
fn logs_to_a_pipe_are_plain_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("roster.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["migrate", "--database-url", &url])
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("roster migrate runs");
    assert!(out.status.success(), "{out:?}");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("migrations applied"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour escapes in a piped log: {log:?}");
}
