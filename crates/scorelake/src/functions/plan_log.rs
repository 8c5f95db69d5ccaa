//! The physical plans a session makes, kept for what they measure while
//! they run and after: run records read every plan's metrics when the
//! command ends; progress reads the running plans' scans.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use datafusion::physical_plan::ExecutionPlan;

/// The plans a session's planner made, numbered in order.
///
/// A log made with [`PlanLog::keeping_all`] keeps every plan (run records
/// need them all when the command ends); one made with
/// [`PlanLog::while_watched`] keeps plans only while a [`PlanWatch`] is
/// open, and lets them go when the last one closes, so a long session
/// (a notebook) holds no plan, nor the in-memory inputs plans refer to,
/// between the steps it shows progress for.
#[derive(Debug)]
pub struct PlanLog {
    keep_all: bool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Plans made so far, kept or not: the number the next plan gets.
    made: u64,
    /// Open watches.
    watching: usize,
    /// Kept plans with their numbers, oldest first.
    plans: VecDeque<(u64, Arc<dyn ExecutionPlan>)>,
}

impl PlanLog {
    /// A log keeping every plan.
    pub fn keeping_all() -> Self {
        PlanLog {
            keep_all: true,
            state: Mutex::default(),
        }
    }

    /// A log keeping plans only while watched.
    pub fn while_watched() -> Self {
        PlanLog {
            keep_all: false,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `plan`, the next one made.
    pub(crate) fn push(&self, plan: Arc<dyn ExecutionPlan>) {
        let mut state = self.state();
        let number = state.made;
        state.made += 1;
        if self.keep_all || state.watching > 0 {
            state.plans.push_back((number, plan));
        }
    }

    /// How many plans were made so far: the number of the next one.
    pub fn made(&self) -> u64 {
        self.state().made
    }

    /// The kept plans numbered `first` or later, in order.
    pub fn since(&self, first: u64) -> Vec<Arc<dyn ExecutionPlan>> {
        self.state()
            .plans
            .iter()
            .filter(|(n, _)| *n >= first)
            .map(|(_, p)| Arc::clone(p))
            .collect()
    }

    /// Keeps the plans made from now until the watch is dropped.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use scorelake::functions::PlanLog;
    /// let log = Arc::new(PlanLog::while_watched());
    /// let watch = PlanLog::watch(&log);
    /// assert_eq!(watch.first(), 0);
    /// assert!(watch.plans().is_empty());
    /// ```
    pub fn watch(log: &Arc<PlanLog>) -> PlanWatch {
        let mut state = log.state();
        state.watching += 1;
        PlanWatch {
            log: Arc::clone(log),
            first: state.made,
        }
    }
}

/// An open watch on a [`PlanLog`]: the plans made since it opened.
#[derive(Debug)]
pub struct PlanWatch {
    log: Arc<PlanLog>,
    first: u64,
}

impl PlanWatch {
    /// The number of the first plan made after the watch opened.
    pub fn first(&self) -> u64 {
        self.first
    }

    /// The plans made since the watch opened, in order.
    pub fn plans(&self) -> Vec<Arc<dyn ExecutionPlan>> {
        self.log.since(self.first)
    }
}

impl Drop for PlanWatch {
    fn drop(&mut self) {
        let keep_all = self.log.keep_all;
        let mut state = self.log.state();
        state.watching = state.watching.saturating_sub(1);
        if !keep_all && state.watching == 0 {
            state.plans.clear();
        }
    }
}
