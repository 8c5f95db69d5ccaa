//! Ports on 127.0.0.1 for the servers the tests start (S3, Ballista, MLflow).
//!
//! They are taken below the kernel's ephemeral range (32768 and up): every
//! outgoing connection takes a port from there, so a port found free there
//! can be gone by the time a server binds it. Each test process starts in
//! its own part of 20000..32000 and moves up, so the test binaries and the
//! threads of one binary do not hand out the same ports.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// The first of `n` consecutive ports, all free now.
pub(crate) fn free_ports(n: u16) -> u16 {
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let region = std::process::id() % 60 * 200;
    loop {
        let offset = NEXT.fetch_add(u32::from(n), Ordering::Relaxed);
        // Below 32000: fits a u16.
        let first = (LOW + (region + offset) % (SPAN - u32::from(n))) as u16;
        if (first..first + n).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return first;
        }
    }
}
