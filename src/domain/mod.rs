//! The rules of the domain, apart from the wire: how a solution's state is derived and which
//! action Meta allows on it, how a WABA's health and onboarding checklist are judged, how
//! funding is verified, and what kind of partner we are (with the BSP registration rules).
//! Pure functions over the Graph wire types; no IO, no UI.

pub mod funding;
pub mod onboarding;
pub mod partner;
pub mod solution;
