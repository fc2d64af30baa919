//! The simulator's world: apps, businesses, tokens and Multi-Partner Solutions, as loaded from a
//! JSON world file, plus the solution state machine (reference §2.5).
//!
//! Sections are `#[serde(default)]` so a world file may leave out what it does not need, and
//! later work can add sections (WABAs, phone numbers, subscribed apps, credit lines) without
//! breaking existing files. Unknown top-level keys are ignored.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SimError;
use super::credit::{CreditAllocation, CreditLine};
use super::errors::GraphError;
use super::index;
use super::wabas::{Waba, WabaGenerator};

/// The seeded state of the simulated Graph API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct World {
    /// Our Meta app: the one partnerdeck lists solutions on.
    pub our_app_id: String,
    /// Our business portfolio.
    pub our_business_id: String,
    /// Business portfolios (ours and the partners').
    #[serde(default)]
    pub businesses: Vec<Business>,
    /// Every app the world knows, ours included.
    #[serde(default)]
    pub apps: Vec<App>,
    /// Access tokens the simulator accepts.
    #[serde(default)]
    pub tokens: Vec<Token>,
    /// Multi-Partner Solutions, in the order the list edge returns them.
    #[serde(default)]
    pub solutions: Vec<Solution>,
    /// Client WABAs, in the order `client_whatsapp_business_accounts` returns them.
    #[serde(default)]
    pub wabas: Vec<Waba>,
    /// More WABAs, generated from a seed when the world is loaded (then this is emptied, so a
    /// saved world lists them and does not generate them twice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waba_generator: Option<WabaGenerator>,
    /// Extended credit lines (ours), in the order `extendedcredits` returns them.
    #[serde(default)]
    pub credit_lines: Vec<CreditLine>,
    /// Allocation configs of those lines (live and revoked), in list order.
    #[serde(default)]
    pub credit_allocations: Vec<CreditAllocation>,
    /// Webhook deliveries queued by changes, sent after the request (not part of a world file).
    #[serde(skip)]
    pub(crate) webhook_outbox: Vec<Value>,
    /// Plivo's and Telnyx's registration APIs: accounts, keys, registrations (see [`crate::bsp`]).
    #[serde(default)]
    pub bsp: super::bsp::BspWorld,
    /// Id indexes (derived; see [`crate::index`]).
    #[serde(skip)]
    pub(crate) index: super::index::Index,
}

/// A business portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Business {
    pub id: String,
    pub name: String,
}

/// A Meta app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The business portfolio that owns the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_id: Option<String>,
}

/// An access token: whose it is and what it may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub token: String,
    /// The app the token belongs to: the actor of every call made with it.
    pub app_id: String,
    /// The (system) user behind the token, answered on `GET /me`.
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub user_name: String,
    /// Business roles / tasks of the user, e.g. `["ADMIN"]`, `["EMPLOYEE"]`, `["FINANCE_EDITOR"]`.
    /// Not enforced by the solution endpoints; reserved for credit-line work.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A Multi-Partner Solution. Enum-like fields are raw strings: a world may hold values Meta has
/// not documented, and they are served verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solution {
    pub id: String,
    pub name: String,
    pub status: String,
    #[serde(default = "none_string")]
    pub status_for_pending_request: String,
    pub owner_app_id: String,
    #[serde(default)]
    pub owner_permissions: Vec<String>,
    /// The invited partner app(s) (the owner is not listed here).
    #[serde(default)]
    pub partners: Vec<Partner>,
}

/// One entry of a solution's `partners` edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    /// Partner-record id (differs from the solution id).
    pub id: String,
    pub partner_app_id: String,
    #[serde(default)]
    pub partner_permissions: Vec<String>,
    pub status: String,
}

fn none_string() -> String {
    "NONE".to_string()
}

impl World {
    /// The bundled demo world (`assets/demo-world.json`).
    ///
    /// # Panics
    /// Only if the bundled file is broken, which a test rules out.
    pub fn demo() -> World {
        World::from_json(include_str!("../assets/demo-world.json"))
            .unwrap_or_else(|e| panic!("bundled assets/demo-world.json is invalid: {e}"))
    }

    /// The demo world with `count` generated WABAs instead of the usual number (the
    /// hand-written ones stay), e.g. for measuring a refresh of a large book.
    pub fn demo_with_generated_wabas(count: usize) -> World {
        let mut world: World = serde_json::from_str(include_str!("../assets/demo-world.json"))
            .unwrap_or_else(|e| panic!("bundled assets/demo-world.json is invalid: {e}"));
        if let Some(generator) = &mut world.waba_generator {
            generator.count = count;
        }
        world.generate();
        world
    }

    /// Run the WABA generator, if the world file asks for one, and index the world.
    fn generate(&mut self) {
        match self.waba_generator.take() {
            Some(generator) => generator.generate(self),
            None => self.reindex(),
        }
    }

    /// Load and check a world file.
    pub fn from_file(path: &Path) -> Result<World, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::ReadWorld {
            path: path.to_path_buf(),
            source,
        })?;
        let mut world: World =
            serde_json::from_str(&text).map_err(|source| SimError::ParseWorld {
                path: path.to_path_buf(),
                source,
            })?;
        world.generate();
        world.validate().map_err(|reason| SimError::InvalidWorld {
            path: path.display().to_string(),
            reason,
        })?;
        Ok(world)
    }

    /// Parse and check a world from JSON text.
    pub fn from_json(text: &str) -> Result<World, SimError> {
        let mut world: World =
            serde_json::from_str(text).map_err(|source| SimError::ParseWorld {
                path: "<inline world>".into(),
                source,
            })?;
        world.generate();
        world.validate().map_err(|reason| SimError::InvalidWorld {
            path: "<inline world>".into(),
            reason,
        })?;
        Ok(world)
    }

    pub fn our_app_id(&self) -> &str {
        &self.our_app_id
    }

    pub fn our_business_id(&self) -> &str {
        &self.our_business_id
    }

    /// The first token that acts as our app (the one `partnerdeck --demo` uses).
    pub fn our_token(&self) -> Option<&str> {
        self.tokens
            .iter()
            .find(|t| t.app_id == self.our_app_id)
            .map(|t| t.token.as_str())
    }

    /// Check internal consistency: every node id unique across the world, every reference
    /// resolvable, our app and a token for it present.
    pub fn validate(&self) -> Result<(), String> {
        // Collect every node id (users may repeat across tokens, so they are handled apart).
        let mut all: Vec<(&str, &str)> = Vec::new();
        all.extend(self.businesses.iter().map(|b| ("business", b.id.as_str())));
        all.extend(self.apps.iter().map(|a| ("app", a.id.as_str())));
        for s in &self.solutions {
            all.push(("solution", s.id.as_str()));
            all.extend(s.partners.iter().map(|p| ("partner record", p.id.as_str())));
        }
        all.extend(
            self.credit_lines
                .iter()
                .map(|c| ("credit line", c.id.as_str())),
        );
        for a in &self.credit_allocations {
            all.push(("allocation config", a.id.as_str()));
            all.push(("receiving credential", a.receiving_credential_id.as_str()));
        }
        for w in &self.wabas {
            all.push(("WABA", w.id.as_str()));
            all.extend(
                w.phone_numbers
                    .iter()
                    .map(|p| ("phone number", p.id.as_str())),
            );
        }
        let mut ids = index::IdSet::with_capacity_and_hasher(all.len(), Default::default());
        for (what, id) in &all {
            if id.is_empty() {
                return Err(format!("a {what} has an empty id"));
            }
            if !ids.insert(id) {
                return Err(format!("duplicate id {id:?} ({what})"));
            }
        }
        let app_ids: index::IdSet = self.apps.iter().map(|a| a.id.as_str()).collect();
        if !app_ids.contains(self.our_app_id.as_str()) {
            return Err(format!(
                "our_app_id {:?} is not listed in apps",
                self.our_app_id
            ));
        }
        if self.our_token().is_none() {
            return Err(format!("no token acts as our app {:?}", self.our_app_id));
        }
        let mut tokens = HashSet::new();
        for t in &self.tokens {
            if t.token.is_empty() {
                return Err("a token is empty".into());
            }
            if !tokens.insert(t.token.as_str()) {
                return Err("two tokens have the same value".into());
            }
            if !app_ids.contains(t.app_id.as_str()) {
                return Err(format!("a token names unknown app {:?}", t.app_id));
            }
            if !t.user_id.is_empty() && ids.contains(t.user_id.as_str()) {
                return Err(format!(
                    "token user id {:?} collides with another node",
                    t.user_id
                ));
            }
        }
        for s in &self.solutions {
            if !app_ids.contains(s.owner_app_id.as_str()) {
                return Err(format!(
                    "solution {} names unknown owner app {:?}",
                    s.id, s.owner_app_id
                ));
            }
            for p in &s.partners {
                if !app_ids.contains(p.partner_app_id.as_str()) {
                    return Err(format!(
                        "solution {} names unknown partner app {:?}",
                        s.id, p.partner_app_id
                    ));
                }
                if p.partner_app_id == s.owner_app_id {
                    return Err(format!(
                        "solution {}: the owner app is also listed as a partner",
                        s.id
                    ));
                }
            }
        }
        self.validate_wabas(&app_ids)?;
        self.validate_credit()
    }

    fn validate_wabas(&self, app_ids: &index::IdSet) -> Result<(), String> {
        let businesses: index::IdSet = self.businesses.iter().map(|b| b.id.as_str()).collect();
        for w in &self.wabas {
            if !businesses.contains(w.owner_business_id.as_str()) {
                return Err(format!(
                    "WABA {} names unknown owner business {:?}",
                    w.id, w.owner_business_id
                ));
            }
            if let Some(b) = w
                .shared_with
                .iter()
                .find(|b| !businesses.contains(b.as_str()))
            {
                return Err(format!(
                    "WABA {} is shared with unknown business {b:?}",
                    w.id
                ));
            }
            if let Some(a) = w
                .subscribed_app_ids
                .iter()
                .find(|a| !app_ids.contains(a.as_str()))
            {
                return Err(format!("WABA {} names unknown subscribed app {a:?}", w.id));
            }
            if let Some(s) = w.solution_ids.iter().find(|s| self.solution(s).is_none()) {
                return Err(format!("WABA {} names unknown solution {s:?}", w.id));
            }
        }
        Ok(())
    }

    /// The business portfolio an app belongs to.
    pub fn business_of_app(&self, app_id: &str) -> Option<&str> {
        self.app(app_id).and_then(|a| a.business_id.as_deref())
    }

    /// The position of WABA `id` in [`World::wabas`].
    pub(crate) fn waba_position(&self, id: &str) -> Option<usize> {
        let fresh = self.index_is_fresh();
        index::find(fresh, &self.index.wabas, &self.wabas, id, |w| &w.id)
    }

    pub fn waba(&self, id: &str) -> Option<&Waba> {
        self.waba_position(id).map(|i| &self.wabas[i])
    }

    pub(crate) fn waba_mut(&mut self, id: &str) -> Option<&mut Waba> {
        self.waba_position(id).map(|i| &mut self.wabas[i])
    }

    pub fn business(&self, id: &str) -> Option<&Business> {
        let fresh = self.index_is_fresh();
        index::find(fresh, &self.index.businesses, &self.businesses, id, |b| {
            &b.id
        })
        .map(|i| &self.businesses[i])
    }

    /// `{id, name}` of a business portfolio, as Meta embeds it.
    pub(crate) fn business_json(&self, id: &str) -> Value {
        match self.business(id) {
            Some(b) => json!({ "id": b.id, "name": b.name }),
            None => json!({ "id": id }),
        }
    }

    pub fn app(&self, id: &str) -> Option<&App> {
        let fresh = self.index_is_fresh();
        index::find(fresh, &self.index.apps, &self.apps, id, |a| &a.id).map(|i| &self.apps[i])
    }

    fn solution_position(&self, id: &str) -> Option<usize> {
        let fresh = self.index_is_fresh();
        index::find(fresh, &self.index.solutions, &self.solutions, id, |s| &s.id)
    }

    pub fn solution(&self, id: &str) -> Option<&Solution> {
        self.solution_position(id).map(|i| &self.solutions[i])
    }

    pub(crate) fn solution_mut(&mut self, id: &str) -> Option<&mut Solution> {
        self.solution_position(id).map(|i| &mut self.solutions[i])
    }

    /// A partner record and the solution it belongs to.
    pub(crate) fn partner_record(&self, id: &str) -> Option<(&Solution, &Partner)> {
        if self.index_is_fresh() {
            if let Some(&(si, pi)) = self.index.partners.get(id)
                && let Some(s) = self.solutions.get(si)
                && let Some(p) = s.partners.get(pi).filter(|p| p.id == id)
            {
                return Some((s, p));
            }
            if !self.index.partners.contains_key(id) {
                return None;
            }
        }
        self.solutions
            .iter()
            .find_map(|s| s.partners.iter().find(|p| p.id == id).map(|p| (s, p)))
    }

    /// `{id, name, link}` of an app, as Meta embeds it.
    pub(crate) fn app_json(&self, id: &str) -> Value {
        match self.app(id) {
            Some(a) => {
                let mut v = json!({ "id": a.id, "name": a.name });
                if let Some(link) = &a.link {
                    v["link"] = json!(link);
                }
                v
            }
            None => json!({ "id": id }),
        }
    }

    /// The full solution node (every field, partners as a plain array) before projection.
    pub(crate) fn solution_json(&self, s: &Solution) -> Value {
        json!({
            "id": s.id,
            "name": s.name,
            "status": s.status,
            "status_for_pending_request": s.status_for_pending_request,
            "owner_app": self.app_json(&s.owner_app_id),
            "owner_permissions": s.owner_permissions,
            "partners": s.partners.iter().map(|p| self.partner_json(p)).collect::<Vec<_>>(),
        })
    }

    pub(crate) fn partner_json(&self, p: &Partner) -> Value {
        json!({
            "id": p.id,
            "partner_app": self.app_json(&p.partner_app_id),
            "partner_permissions": p.partner_permissions,
            "status": p.status,
        })
    }
}

impl Solution {
    /// Which side `app_id` is on, if it may see this solution. A partner does not see a
    /// solution the owner has only saved as a draft.
    pub fn side_of(&self, app_id: &str) -> Option<Side> {
        if self.owner_app_id == app_id {
            Some(Side::Owner)
        } else if self.status != "DRAFT" && self.partners.iter().any(|p| p.partner_app_id == app_id)
        {
            Some(Side::Partner)
        } else {
            None
        }
    }
}

/// The side of a solution an app is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Owner,
    Partner,
}

/// A solution action: `POST /{solution-id}/{edge}` (reference §2.1, §2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Accept,
    Reject,
    SendDeactivation,
    AcceptDeactivation,
    RejectDeactivation,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::Accept,
        Action::Reject,
        Action::SendDeactivation,
        Action::AcceptDeactivation,
        Action::RejectDeactivation,
    ];

    pub fn from_edge(edge: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.edge() == edge)
    }

    pub fn edge(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::SendDeactivation => "send_deactivation_request",
            Action::AcceptDeactivation => "accept_deactivation_request",
            Action::RejectDeactivation => "reject_deactivation_request",
        }
    }
}

const DONE_STATUSES: [&str; 3] = ["ACTIVE", "REJECTED", "DEACTIVATED"];

/// Apply `action` to solution `id` on behalf of `actor_app`. On refusal the world is unchanged.
///
/// Checks, in order: the solution exists (else 404/803); the actor is in it (else
/// 403/200/1349174); the actor is on the side allowed to act (else 403/200/1349174); the state
/// allows it (else 400/100).
pub fn apply(
    world: &mut World,
    id: &str,
    actor_app: &str,
    action: Action,
) -> Result<(), GraphError> {
    let s = world
        .solution_mut(id)
        .ok_or_else(GraphError::solution_not_found)?;
    let side = s
        .side_of(actor_app)
        .ok_or_else(|| GraphError::not_authorized_solution(""))?;
    let (status, pending) = (s.status.as_str(), s.status_for_pending_request.as_str());
    match action {
        Action::Accept | Action::Reject => {
            if side != Side::Partner {
                return Err(GraphError::not_authorized_solution(&format!(
                    "only the invited partner can {} a solution request, and your app is the solution owner",
                    action.edge()
                )));
            }
            let verb = if action == Action::Accept {
                "accepted"
            } else {
                "rejected"
            };
            let pending_ok = matches!(pending, "PENDING_ACTIVATION" | "NONE");
            if status != "INITIATED" || !pending_ok {
                return Err(if DONE_STATUSES.contains(&status) {
                    GraphError::wrong_state(format!(
                        "This Multi-Partner Solution request has already been processed and cannot be {verb} (status {status})"
                    ))
                } else {
                    GraphError::wrong_state(format!(
                        "Solution cannot be {verb}: solution is not in INITIATED status (status {status}, status_for_pending_request {pending})"
                    ))
                });
            }
            let (new_status, partner_status) = if action == Action::Accept {
                ("ACTIVE", "ACCEPTED")
            } else {
                ("REJECTED", "REJECTED")
            };
            s.status = new_status.into();
            s.status_for_pending_request = "NONE".into();
            for p in s
                .partners
                .iter_mut()
                .filter(|p| p.partner_app_id == actor_app)
            {
                p.status = partner_status.into();
            }
        }
        Action::SendDeactivation => {
            if side != Side::Owner {
                return Err(GraphError::not_authorized_solution(
                    "only the solution owner can send a deactivation request",
                ));
            }
            if status == "ACTIVE" && pending == "PENDING_DEACTIVATION" {
                return Err(GraphError::wrong_state(
                    "A deactivation request is already pending for this solution",
                ));
            }
            if status != "ACTIVE" || pending != "NONE" {
                return Err(GraphError::wrong_state(format!(
                    "Solution must be ACTIVE to send a deactivation request (status {status}, status_for_pending_request {pending})"
                )));
            }
            s.status_for_pending_request = "PENDING_DEACTIVATION".into();
        }
        Action::AcceptDeactivation | Action::RejectDeactivation => {
            if side != Side::Partner {
                return Err(GraphError::not_authorized_solution(
                    "only the partner that received the deactivation request can answer it, and your app is the solution owner",
                ));
            }
            if status != "ACTIVE" || pending != "PENDING_DEACTIVATION" {
                return Err(GraphError::wrong_state(
                    if action == Action::AcceptDeactivation {
                        "No pending deactivation request found for this solution"
                    } else {
                        "Solution must have pending deactivation request to reject"
                    },
                ));
            }
            s.status_for_pending_request = "NONE".into();
            if action == Action::AcceptDeactivation {
                s.status = "DEACTIVATED".into();
                for p in s.partners.iter_mut() {
                    p.status = "DEACTIVATED".into();
                }
            }
        }
    }
    Ok(())
}
