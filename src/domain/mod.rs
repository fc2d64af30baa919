//! The rules of the domain, apart from the wire: how a solution's state is derived and which
//! action Meta allows on it, how a WABA's health and onboarding checklist are judged, and how
//! funding is verified. Pure functions over the Graph wire types; no IO, no UI.

pub mod funding;
pub mod onboarding;
pub mod solution;
