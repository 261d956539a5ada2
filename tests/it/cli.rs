//! The developer tools of the `roster` binary: `verify` and `listen`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use roster::delivery::signature;

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const BODY: &str = r#"{"event":"member.added","data":{}}"#;

fn verify(args: &[&str], body: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("verify")
        .args(args)
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
    assert_eq!(verify(&["--secret", SECRET, "--signature", &good], BODY), (true, "valid".into()));
    assert_eq!(
        verify(&["--secret", SECRET, "--signature", &good], "tampered"),
        (false, "invalid".into())
    );
    assert_eq!(
        verify(&["--secret", "whsec_b3RoZXI=", "--signature", &good], BODY),
        (false, "invalid".into())
    );
}

#[test]
fn verify_checks_standard_webhooks_signatures() {
    let sig = signature::standard(SECRET, "msg_1", 1649367553, BODY.as_bytes());
    let args =
        ["--secret", SECRET, "--signature", &sig, "--id", "msg_1", "--timestamp", "1649367553"];
    assert_eq!(verify(&args, BODY), (true, "valid".into()));
    let wrong_id =
        ["--secret", SECRET, "--signature", &sig, "--id", "msg_2", "--timestamp", "1649367553"];
    assert_eq!(verify(&wrong_id, BODY), (false, "invalid".into()));
    // Without --id and --timestamp a v1 signature cannot be checked: an error, not "valid".
    let (ok, _) = verify(&["--secret", SECRET, "--signature", &sig], BODY);
    assert!(!ok);
}

#[tokio::test]
async fn listen_verifies_and_prints_deliveries() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        probe.local_addr().expect("addr").port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["listen", "--secret", SECRET, "--port", &port.to_string()])
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
