//! One pipeline for every operation and front end: a [`request`] in, [`prepare`] (connect,
//! [`survey`], then [`plan`](plan()) for flashes with the [`checks`] and the [`sectors`], or
//! the plans of [`readerase`]), then execute ([`flash`], with [`preserve`]). [`quick`] is
//! the common case in one call.

pub mod account;
pub mod checks;
pub mod firmware;
pub mod fits;
pub mod flash;
pub mod plan;
pub mod prepare;
pub(crate) mod preserve;
pub(crate) mod quick;
pub mod readerase;
pub mod request;
pub mod sectors;
pub(crate) mod steps;
pub mod survey;

pub use plan::{lost_by_mass_erase, plan, FlashOptions, FlashPlan, LeavePoint, Part, Placement};
