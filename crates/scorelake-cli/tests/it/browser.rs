//! HTML reports opened in a real headless Chromium with the network cut
//! off: a screenshot is taken beside the page and the rendered document is
//! returned for the tests to read figures from.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn chromium() -> PathBuf {
    if let Ok(p) = std::env::var("SCORELAKE_CHROMIUM") {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|n| d.join(n)))
            .find(|c| c.exists())
    });
    found.unwrap_or_else(|| {
        panic!(
            "the HTML report tests need Chromium: run scripts/setup-test-tools.sh \
             (apt-get install chromium) or set SCORELAKE_CHROMIUM"
        )
    })
}

/// Chromium, headless, with every host name unresolvable and a proxy that
/// is not there: a page that needed the network would render without it.
fn browser() -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        "--window-size=1280,1600",
    ]);
    c
}

fn screenshot(url: &str, png: &Path) -> u64 {
    let out = browser()
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success() && png.is_file(),
        "chromium made no screenshot of {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        png.display()
    );
    bytes.len() as u64
}

/// The size of a blank page's screenshot, to tell a drawn page from it.
fn blank() -> u64 {
    static BLANK: OnceLock<u64> = OnceLock::new();
    *BLANK.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        screenshot("about:blank", &dir.path().join("blank.png"))
    })
}

/// Opens `page` in Chromium: saves a screenshot as `page` with `.png`,
/// checks something was drawn, and returns the rendered document.
pub(crate) fn render(page: &Path) -> String {
    let url = format!("file://{}", page.display());
    let png = page.with_extension("png");
    let size = screenshot(&url, &png);
    assert!(
        size > 3 * blank(),
        "the screenshot of {} ({size} bytes) looks blank ({} bytes)",
        page.display(),
        blank()
    );
    let out = browser()
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("</body>"),
        "chromium rendered nothing for {url}"
    );
    dom
}
