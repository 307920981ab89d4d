//! The pieces of the `neuroglow` command, as a library so that tests can
//! rebuild exactly what the command builds.

pub mod convert;
pub mod dataset;
pub mod keras_log;
pub mod pretrain;
