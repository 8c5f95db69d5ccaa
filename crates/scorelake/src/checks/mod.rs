//! Checks of the columns a computation trusts, folded into an aggregate pass
//! the caller runs anyway: a binary target ([`TargetCheck`]) and row weights
//! ([`WeightCheck`], with [`weight_or_one`] giving every weighted computation
//! its weights).

mod target;
mod weight;

pub(crate) use target::TargetCheck;
pub(crate) use weight::{WeightCheck, weight_or_one};
