//! The one ChromeDriver of the test process, started on first use on a port of its own
//! choosing, and gone with the process.
//!
//! A static is never dropped, so `kill_on_drop` cannot end a process-wide child. ChromeDriver
//! runs instead under a small shell in a process group of its own, which waits on a pipe from
//! this process and kills the whole group, Chromium included (it outlives a killed
//! ChromeDriver), when the pipe closes: at exit, on a panic, or when the test process is
//! killed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use tokio::sync::OnceCell;

/// Where Debian's `chromium` and `chromium-driver` put them; the environment may name others.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A shell that starts ChromeDriver and ends its group once its standard input closes.
const WATCHER: &str = r#""$0" --port=0 </dev/null & cat >/dev/null; kill -TERM 0"#;

pub fn browser_disabled() -> bool {
    std::env::var("ROSTER_TEST_BROWSER").is_ok_and(|v| v == "off")
}

pub fn chromium() -> String {
    std::env::var("ROSTER_TEST_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into())
}

fn chromedriver() -> String {
    std::env::var("ROSTER_TEST_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into())
}

/// Why the browser tests cannot run here, if one of the programs is missing.
pub fn missing_programs(chromium: &str, chromedriver: &str) -> Option<String> {
    let absent: Vec<&str> =
        [chromium, chromedriver].into_iter().filter(|p| !Path::new(p).is_file()).collect();
    (!absent.is_empty()).then(|| {
        format!(
            "the browser tests need Chromium and ChromeDriver, and {} is missing: install \
             Debian's `apt-get install chromium chromium-driver`, or set ROSTER_TEST_BROWSER=off \
             to skip the browser tests",
            absent.join(" and ")
        )
    })
}

pub struct Driver {
    pub port: u16,
    /// Held open for the life of the process; its closing ends ChromeDriver (see the module).
    _lifeline: ChildStdin,
    /// Never waited for: the shell exits only with the process.
    _shell: Child,
}

static DRIVER: OnceCell<Driver> = OnceCell::const_new();

/// The process's ChromeDriver, started by the first caller.
pub async fn driver() -> &'static Driver {
    DRIVER
        .get_or_init(|| async {
            let path = chromedriver();
            if let Some(why) = missing_programs(&chromium(), &path) {
                panic!("{why}");
            }
            // Its panic, if any, is the test's, with its message.
            let started = tokio::task::spawn_blocking(move || start(path)).await;
            started.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        })
        .await
}

fn start(path: String) -> Driver {
    let mut child = Command::new("sh")
        .args(["-c", WATCHER, &path])
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {path}: {e}"));
    let lifeline = child.stdin.take().expect("piped stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    // ChromeDriver says which port it took: "ChromeDriver was started successfully on port N."
    let marker = "started successfully on port ";
    let mut said = Vec::new();
    let port = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.split(marker).nth(1) {
                    break rest.trim_end_matches('.').parse::<u16>().expect("a port number");
                }
                said.push(line);
            }
            _ => panic!("{path} stopped before it listened; it said: {said:#?}"),
        }
    };
    // Keep reading so that ChromeDriver never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Driver { port, _lifeline: lifeline, _shell: child }
}

impl Driver {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Ends a session without a runtime, so that it also happens in `Drop` and during a panic:
    /// the WebDriver client's own close runs on the test's runtime, which may already be gone.
    pub fn delete_session(&self, id: &str) {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else { return };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            // ChromeDriver answers once Chromium has quit; its first bytes are enough (it keeps
            // the connection open whatever `Connection: close` says).
            let _ = stream.read(&mut [0; 512]);
        }
    }
}
