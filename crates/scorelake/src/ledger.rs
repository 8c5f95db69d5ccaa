//! The tables a session read and wrote, for run records: where, in which
//! format, how many bytes (and rows, for writes), which Delta version. Kept
//! only when run records are on, so a long session holds nothing.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One table read or written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableUse {
    /// Its location (local path or URL).
    pub location: String,
    /// Its format (`parquet`, `csv`, `ncf`, `delta`).
    pub format: String,
    /// Bytes of its files (read: the files listed; written: the files written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Rows written (reads: see the scans' rows in the plans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// The Delta table's version read or committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// The reads and writes of a session, in order.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    on: bool,
    entries: Mutex<Vec<(bool, TableUse)>>,
}

impl Ledger {
    /// A ledger that keeps entries when `on`.
    pub(crate) fn new(on: bool) -> Ledger {
        Ledger {
            on,
            entries: Mutex::default(),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<(bool, TableUse)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes a read (`written` false) or a write.
    pub(crate) fn note(&self, written: bool, table: TableUse) {
        if self.on {
            self.entries().push((written, table));
        }
    }

    /// How many entries so far: where a run starts.
    pub(crate) fn len(&self) -> usize {
        self.entries().len()
    }

    /// The reads and the writes from entry `first` on.
    pub(crate) fn since(&self, first: usize) -> (Vec<TableUse>, Vec<TableUse>) {
        let entries = self.entries();
        let (mut read, mut written) = (Vec::new(), Vec::new());
        for (w, t) in entries.iter().skip(first) {
            if *w {
                written.push(t.clone());
            } else {
                read.push(t.clone());
            }
        }
        (read, written)
    }
}
