//! The console's state machine: a model, the messages that change it, and a pure `update`
//! that returns effects as data. No IO, no clock, no terminal here: the runtime feeds in
//! key presses and network results (with their timestamps) and carries out the effects.

pub mod action;
pub mod credit_lines;
pub mod events;
pub mod keymap;
pub mod list;
pub mod model;
pub mod msg;
pub mod pipeline;
pub mod solutions;
pub mod update;
pub mod wabas;

pub use model::{Model, Overlay, Pane};
pub use msg::{ActionOutcome, Effect, Failure, FailureKind, Msg, ReadStamp, Scope, Target};
pub use update::update;
