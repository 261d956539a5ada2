//! Real headless Chromium sessions driven over WebDriver (fantoccini), for the pages a person
//! uses. Every method fails the test with what it was looking for and what the page showed.
//!
//! `Browser::open()` answers `None` when `ROSTER_TEST_BROWSER=off`, so a test starts with
//! `let Some(browser) = Browser::open().await else { return };`. Otherwise a missing Chromium
//! or ChromeDriver fails the test, saying what to install (see [`driver`]).
//!
//! Waits poll every 100 ms for up to 10 s: pages change after their scripts run (a delivery
//! log refreshes itself), and a fixed sleep is either too short on a busy machine or too long
//! everywhere else.

mod axe;
mod driver;

pub use axe::Violation;
pub use driver::{browser_disabled, missing_programs};

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use fantoccini::elements::{Element, ElementRef};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);
/// Longer than any queue of browser tests takes to reach its turn.
const TURN: Duration = Duration::from_secs(300);
/// The key under which WebDriver serialises an element (the "web element identifier").
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Sessions open at once in the process: Chromium is the heaviest thing a test runs, the
/// machine has two cores, and the test binary runs eight tests at a time.
static SESSIONS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(2)));

/// One Chromium session; it quits when dropped, even when the test panics. Two are open at
/// most in the process, so a test holds one at a time (drop the first before opening another).
pub struct Browser {
    client: Client,
    /// How long a wait polls before it fails the test.
    wait: Duration,
    session: String,
    driver: &'static driver::Driver,
    _turn: OwnedSemaphorePermit,
}

impl Browser {
    /// A desktop-sized window, 1280×900.
    pub async fn open() -> Option<Self> {
        let browser = Self::open_with(json!({"args": ["--window-size=1280,900"]})).await?;
        browser.fit_viewport(1280, 900).await;
        Some(browser)
    }

    /// A phone: a 390×844 viewport that honours `<meta name="viewport">` and touch, as a
    /// phone's browser does; a page laid out for desktop only shows it here.
    pub async fn open_phone() -> Option<Self> {
        Self::open_with(json!({
            "args": ["--window-size=390,844"],
            "mobileEmulation": {
                "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1, "touch": true, "mobile": true}
            }
        }))
        .await
    }

    async fn open_with(options: Value) -> Option<Self> {
        if browser_disabled() {
            eprintln!("ROSTER_TEST_BROWSER=off: not running in a browser");
            return None;
        }
        // A test that held two browsers at once could wait forever on another that did too.
        let turn = tokio::time::timeout(TURN, SESSIONS.clone().acquire_owned())
            .await
            .unwrap_or_else(|_| panic!("no browser free within {TURN:?}: hold one per test"))
            .expect("the semaphore is never closed");
        let driver = driver::driver().await;
        let mut chrome = options;
        chrome["binary"] = json!(driver::chromium());
        let args = chrome["args"].as_array_mut().expect("args");
        for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] {
            args.push(json!(arg));
        }
        // Pages render the same on every machine: no system language, no scaling, no scrollbars.
        for arg in ["--lang=en-US", "--force-device-scale-factor=1", "--hide-scrollbars"] {
            args.push(json!(arg));
        }
        let capabilities = json!({"browserName": "chrome", "goog:chromeOptions": chrome});
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities.as_object().expect("an object").clone())
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| panic!("Chromium starts a session through ChromeDriver: {e}"));
        let session = client.session_id().await.ok().flatten().expect("a session ID");
        Some(Self { client, wait: WAIT, session, driver, _turn: turn })
    }

    /// Grows the window until the page itself gets `width`×`height`: `--window-size` counts
    /// the browser's own bars too.
    async fn fit_viewport(&self, width: i64, height: i64) {
        let inner = "return [window.innerWidth, window.innerHeight]";
        let inner = self.client.execute(inner, vec![]).await.expect("the viewport's size");
        let (Some(w), Some(h)) = (inner[0].as_i64(), inner[1].as_i64()) else {
            panic!("a viewport size: {inner}")
        };
        let (outer_w, outer_h) = self.client.get_window_size().await.expect("the window's size");
        let grow = |outer: u64, by: i64| u32::try_from(outer as i64 + by).expect("a window size");
        let (new_w, new_h) = (grow(outer_w, width - w), grow(outer_h, height - h));
        self.client.set_window_size(new_w, new_h).await.expect("resize the window");
    }

    /// Waits give up after `wait` instead of 10 s.
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// The WebDriver client, for what the methods below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("go to {url}: {e}"));
    }

    pub async fn url(&self) -> url::Url {
        self.client.current_url().await.expect("the current URL")
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        let text = self.client.execute("return document.body.innerText", vec![]).await;
        text.ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
    }

    /// Types `value` into the control whose `<label>` reads `label`, after clearing it.
    /// Finding it through the label is the point: a control without one fails.
    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.labelled(label).await;
        field.clear().await.unwrap_or_else(|e| panic!("clear the field {label:?}: {e}"));
        field.send_keys(value).await.unwrap_or_else(|e| panic!("type into {label:?}: {e}"));
    }

    /// Picks the option whose text is `option` in the select labelled `label`.
    pub async fn choose(&self, label: &str, option: &str) {
        let select = self.labelled(label).await;
        let chosen = select.select_by_label(option).await;
        chosen.unwrap_or_else(|e| panic!("choose {option:?} in {label:?}: {e}"));
    }

    /// The control labelled `label`, once there is one: the label's text (spaces collapsed)
    /// is `label`, or else begins with it and a space, as "Slug (optional)" begins with "Slug".
    pub async fn labelled(&self, label: &str) -> Element {
        // `label.control` is the browser's own answer for both `for=` and a wrapping label; the
        // text is the label's own, without that of a nested control (a select's options).
        const FIND: &str = r#"
            const [want] = arguments;
            const norm = (s) => s.replace(/\s+/g, " ").trim();
            const labels = [...document.querySelectorAll("label")].filter((l) => l.control).map((l) => {
                const own = l.cloneNode(true);
                own.querySelectorAll("input, select, textarea, button").forEach((c) => c.remove());
                return { text: norm(own.textContent), control: l.control };
            });
            const found = labels.find((l) => l.text === want)
                ?? labels.find((l) => l.text.startsWith(want + " "));
            return found ? found.control : null;"#;
        let what = format!("a control labelled {label:?}");
        self.poll(&what, || async {
            let found = self.client.execute(FIND, vec![json!(label)]).await.ok()?;
            self.element(&found)
        })
        .await
    }

    /// Clicks the button (or submit input) whose visible text is `text`.
    pub async fn click_button(&self, text: &str) {
        let q = xpath_literal(text);
        let xpath = format!(
            "//button[normalize-space()={q}] | //input[(@type='submit' or @type='button') and @value={q}]"
        );
        self.click(&format!("a button {text:?}"), Locator::XPath(&xpath)).await;
    }

    /// Clicks the link whose visible text is `text`.
    pub async fn click_link(&self, text: &str) {
        let xpath = format!("//a[normalize-space()={}]", xpath_literal(text));
        self.click(&format!("a link {text:?}"), Locator::XPath(&xpath)).await;
    }

    async fn click(&self, what: &str, locator: Locator<'_>) {
        let target = self.poll(what, || async { self.client.find(locator).await.ok() }).await;
        target.click().await.unwrap_or_else(|e| panic!("click {what}: {e}"));
    }

    /// Waits for `text` to be visible on the page.
    pub async fn wait_for_text(&self, text: &str) {
        let what = format!("the text {text:?}");
        self.poll(&what, || async { self.text().await.contains(text).then_some(()) }).await;
    }

    /// Waits for an element matching the CSS `selector`.
    pub async fn wait_for(&self, selector: &str) -> Element {
        let what = format!("an element {selector:?}");
        self.poll(&what, || async { self.client.find(Locator::Css(selector)).await.ok() }).await
    }

    /// Waits for the page's path to be `path`, as after a form's redirect.
    pub async fn wait_for_path(&self, path: &str) {
        let what = format!("the path {path:?}");
        self.poll(&what, || async { (self.url().await.path() == path).then_some(()) }).await;
    }

    /// Makes the iframe matching `selector` the page the methods see, until `leave_frame`.
    pub async fn enter_frame(&self, selector: &str) {
        let frame = self.wait_for(selector).await;
        frame.enter_frame().await.unwrap_or_else(|e| panic!("enter the frame {selector:?}: {e}"));
    }

    pub async fn leave_frame(&self) {
        self.client.enter_parent_frame().await.expect("back to the parent frame");
    }

    /// Saves the window as `name.png`, in `ROSTER_SCREENSHOTS` if set (relative to the
    /// crate, e.g. `docs/screenshots`), else in the target directory's `screenshots/`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = std::env::var_os("ROSTER_SCREENSHOTS").map_or_else(
            || PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../screenshots"),
            |dir| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir),
        );
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Calls `probe` until it yields, for up to 10 s (`with_wait`), then fails the test saying what never
    /// appeared and what the page showed instead.
    async fn poll<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + self.wait;
        loop {
            if let Some(found) = probe().await {
                return found;
            }
            if tokio::time::Instant::now() >= deadline {
                let (url, text) = (self.url().await, self.text().await);
                panic!("no {what} within {:?} on {url}; the page reads:\n{text}", self.wait);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The element a script returned, if it returned one.
    fn element(&self, value: &Value) -> Option<Element> {
        let id = value.get(ELEMENT_KEY)?.as_str()?;
        Some(Element::from_element_id(self.client.clone(), ElementRef::from(id.to_owned())))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.driver.delete_session(&self.session);
    }
}

/// `text` as an XPath 1.0 string literal, which has no escapes: quotes are joined by concat().
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        return format!("'{text}'");
    }
    let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}
