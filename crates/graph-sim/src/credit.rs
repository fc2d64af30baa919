//! Credit lines in the simulated world (reference §4): our extended credit lines, their
//! allocation configs (one per customer business a line is shared with), the share / attach /
//! revoke calls with Meta's rules, and a seeded generator that funds the generated WABAs.
//!
//! # Rules, and the choices made where Meta's documentation is silent
//!
//! Every credit call needs a token whose user holds `FINANCE_EDITOR` or `ADMIN` on our
//! business (§4.1), except `whatsapp_credit_attach`, which Meta makes with the *customer's*
//! token; the simulator has no customer tokens, so it takes ours for that one call.
//!
//! | situation | HTTP | code | message starts |
//! |---|---|---|---|
//! | token without the finance role (e.g. `DEMO_VIEWER_TOKEN`) | 403 | 200 | `(#200) Requires the Finance Editor or Admin role` |
//! | credit line or allocation of another business | 400 | 100 (subcode 33) | `Unsupported … request` |
//! | `waba_id` / `receiving_business_id` / `waba_currency` missing | 400 | 100 | `(#100) The parameter … is required` |
//! | `waba_currency` not one of AUD EUR GBP IDR INR USD | 400 | 100 | `(#100) Param waba_currency must be one of` |
//! | WABA not shared with our business | 400 | 100 | `(#100) Param waba_id must be a WhatsApp Business Account shared with` |
//! | WABA already has a funding source (any `primary_funding_id`) | 400 | 100 | `(#100) The WhatsApp Business Account … already has a credit line attached` |
//! | attach before the line is shared with the WABA's owner business | 400 | 100 | `(#100) The credit line is not shared with business` |
//! | revoke of an allocation already `DELETED` | 400 | 100 | `(#100) This credit allocation has already been revoked` |
//!
//! A share reuses the line's active allocation for the customer business when there is one,
//! else creates one (`request_status` `ACTIVE`, a new receiving credential). An attach sets the
//! WABA's `primary_funding_id` to that receiving credential and its `currency` to
//! `waba_currency`. A revoke (`DELETE /{allocation-config-id}`) sets `request_status` to
//! `DELETED` and, because it covers every WABA of that customer business shared with us (§4.6),
//! removes the credential from each WABA funded by it: a re-read shows them without a funding
//! source, so they can be shared again ([inferred]: Meta does not say what it does to
//! `primary_funding_id`). `owning_credit_allocation_configs` lists deleted allocations too, so
//! a console can count revocations ([inferred]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::errors::GraphError;
use super::fields;
use super::index;
use super::routes::{Call, list, list_positions};
use super::world::{Token, World};

/// `waba_currency` values Meta accepts (§4.3).
pub const WABA_CURRENCIES: [&str; 6] = ["AUD", "EUR", "GBP", "IDR", "INR", "USD"];

/// The `request_status` of a revoked allocation.
pub const DELETED: &str = "DELETED";
/// The `request_status` the simulator gives a live allocation ([inferred]; Meta documents only
/// `DELETED`).
pub const ACTIVE: &str = "ACTIVE";

/// An extended credit line owned by a business (ours).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLine {
    pub id: String,
    pub legal_entity_name: String,
    pub owner_business_id: String,
    #[serde(default)]
    pub credit_type: String,
    #[serde(default)]
    pub is_access_revoked: bool,
    /// Further ExtendedCredit fields, served verbatim (`credit_available`, `max_balance`, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// An allocation config: a credit line shared with one customer business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditAllocation {
    pub id: String,
    pub credit_line_id: String,
    pub receiving_business_id: String,
    /// The credential Meta creates in the customer's business; a funded WABA's
    /// `primary_funding_id` equals it.
    pub receiving_credential_id: String,
    /// `ACTIVE`, `DELETED`, or anything else (served verbatim).
    pub request_status: String,
    /// Further fields, served verbatim (`liability_type`, `partition_type`, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl CreditAllocation {
    pub fn is_deleted(&self) -> bool {
        self.request_status == DELETED
    }
}

impl World {
    pub fn credit_line(&self, id: &str) -> Option<&CreditLine> {
        let fresh = self.index_is_fresh();
        index::find(
            fresh,
            &self.index.credit_lines,
            &self.credit_lines,
            id,
            |c| &c.id,
        )
        .map(|i| &self.credit_lines[i])
    }

    fn allocation_position(&self, id: &str) -> Option<usize> {
        let fresh = self.index_is_fresh();
        index::find(
            fresh,
            &self.index.allocations,
            &self.credit_allocations,
            id,
            |a| &a.id,
        )
    }

    pub fn allocation(&self, id: &str) -> Option<&CreditAllocation> {
        self.allocation_position(id)
            .map(|i| &self.credit_allocations[i])
    }

    /// The live (not deleted) allocation of `line` for `business`, if any.
    pub fn active_allocation(&self, line: &str, business: &str) -> Option<&CreditAllocation> {
        self.allocations_of(line, Some(business))
            .iter()
            .map(|&i| &self.credit_allocations[i])
            .find(|a| !a.is_deleted())
    }

    /// A fresh id with `prefix` that no node of the world uses.
    fn fresh_id(&self, prefix: &str) -> String {
        (1..)
            .map(|n: u64| format!("{prefix}{:012}", 900_000_000_000 + n))
            .find(|id| !self.credit_id_used(id))
            .unwrap_or_default()
    }

    pub(crate) fn credit_line_json(&self, c: &CreditLine) -> Value {
        let mut v = Map::new();
        v.insert("id".into(), json!(c.id));
        v.insert("legal_entity_name".into(), json!(c.legal_entity_name));
        let owner = self.business_json(&c.owner_business_id);
        if let Some(name) = owner.get("name") {
            v.insert("owner_business_name".into(), name.clone());
        }
        v.insert("owner_business".into(), owner);
        if !c.credit_type.is_empty() {
            v.insert("credit_type".into(), json!(c.credit_type));
        }
        v.insert("is_access_revoked".into(), json!(c.is_access_revoked));
        for (k, val) in &c.extra {
            v.entry(k.clone()).or_insert_with(|| val.clone());
        }
        Value::Object(v)
    }

    pub(crate) fn allocation_json(&self, a: &CreditAllocation) -> Value {
        let mut v = Map::new();
        v.insert("id".into(), json!(a.id));
        v.insert(
            "receiving_business".into(),
            self.business_json(&a.receiving_business_id),
        );
        v.insert(
            "receiving_credential".into(),
            json!({ "id": a.receiving_credential_id }),
        );
        v.insert(
            "owning_credential".into(),
            json!({ "id": a.credit_line_id }),
        );
        if let Some(line) = self.credit_line(&a.credit_line_id) {
            v.insert(
                "owning_business".into(),
                self.business_json(&line.owner_business_id),
            );
        }
        v.insert("request_status".into(), json!(a.request_status));
        for (k, val) in &a.extra {
            v.entry(k.clone()).or_insert_with(|| val.clone());
        }
        Value::Object(v)
    }

    /// Check the credit sections: lines owned by known businesses, allocations of known lines
    /// for known businesses, ids unique (checked with the rest of the world's ids by the caller).
    pub(crate) fn validate_credit(&self) -> Result<(), String> {
        let businesses: index::IdSet = self.businesses.iter().map(|b| b.id.as_str()).collect();
        let business = |id: &str| businesses.contains(id);
        for c in &self.credit_lines {
            if !business(&c.owner_business_id) {
                return Err(format!(
                    "credit line {} names unknown owner business {:?}",
                    c.id, c.owner_business_id
                ));
            }
        }
        for a in &self.credit_allocations {
            if self.credit_line(&a.credit_line_id).is_none() {
                return Err(format!(
                    "allocation {} names unknown credit line {:?}",
                    a.id, a.credit_line_id
                ));
            }
            if !business(&a.receiving_business_id) {
                return Err(format!(
                    "allocation {} names unknown receiving business {:?}",
                    a.id, a.receiving_business_id
                ));
            }
            if a.receiving_credential_id.is_empty() {
                return Err(format!("allocation {} has no receiving credential", a.id));
            }
        }
        Ok(())
    }
}

/// Whether the actor may manage the credit lines of `business_id`: a user of that business
/// with the Finance Editor or Admin role.
fn require_finance(world: &World, actor: &Token, business_id: &str) -> Result<(), GraphError> {
    let ours = world.business_of_app(&actor.app_id) == Some(business_id);
    let role = actor
        .roles
        .iter()
        .any(|r| r == "FINANCE_EDITOR" || r == "ADMIN");
    if ours && role {
        return Ok(());
    }
    Err(GraphError::permission(format!(
        "(#200) Requires the Finance Editor or Admin role on business {business_id} to manage its credit lines"
    )))
}

/// The credit line, if the actor's business owns it (else the "does not exist" answer) and the
/// actor has the finance role.
fn owned_line<'w>(
    world: &'w World,
    id: &str,
    actor: &Token,
    method: &str,
) -> Result<&'w CreditLine, GraphError> {
    let line = world
        .credit_line(id)
        .filter(|c| world.business_of_app(&actor.app_id) == Some(c.owner_business_id.as_str()))
        .ok_or_else(|| GraphError::unsupported_request(method, id))?;
    require_finance(world, actor, &line.owner_business_id)?;
    Ok(line)
}

fn required<'c>(call: &'c Call, name: &str) -> Result<&'c str, GraphError> {
    call.param(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            GraphError::invalid_param(format!("(#100) The parameter {name} is required"))
        })
}

fn currency(call: &Call) -> Result<String, GraphError> {
    let c = required(call, "waba_currency")?;
    if WABA_CURRENCIES.contains(&c) {
        Ok(c.to_string())
    } else {
        Err(GraphError::invalid_param(format!(
            "(#100) Param waba_currency must be one of {{{}}} - got \"{c}\"",
            WABA_CURRENCIES.join(", ")
        )))
    }
}

/// `GET /{business-id}/extendedcredits`: the business's credit lines, paged.
pub(super) fn list_credit_lines(
    world: &World,
    call: &Call,
    actor: &Token,
    business_id: &str,
) -> Result<Value, GraphError> {
    require_finance(world, actor, business_id)?;
    let items: Vec<Value> = world
        .credit_lines
        .iter()
        .filter(|c| c.owner_business_id == business_id)
        .map(|c| world.credit_line_json(c))
        .collect();
    list(call, &items, &fields::EXTENDED_CREDIT)
}

/// `/{credit-line-id}` and its edges: the node, `owning_credit_allocation_configs`, and the
/// three sharing calls.
pub(super) fn credit_line_call(
    world: &mut World,
    call: &Call,
    actor: &Token,
    id: &str,
    edge: Option<&str>,
) -> Result<Value, GraphError> {
    let method = call.method.as_str();
    let is_get = call.method == axum::http::Method::GET;
    let is_post = call.method == axum::http::Method::POST;
    let line = owned_line(world, id, actor, method);
    // The attach step is made with the customer's token in Meta's flow (§4.6); the simulator
    // takes ours but still hides lines of other businesses.
    let line = match (edge, line) {
        (Some("whatsapp_credit_attach"), Err(e)) if e.code == 200 => world
            .credit_line(id)
            .filter(|c| world.business_of_app(&actor.app_id) == Some(c.owner_business_id.as_str()))
            .ok_or(e)?,
        (_, line) => line?,
    }
    .clone();
    match edge {
        None if is_get => call.project(&world.credit_line_json(&line), &fields::EXTENDED_CREDIT),
        Some("owning_credit_allocation_configs") if is_get => {
            let only = call
                .param("receiving_business_id")
                .filter(|b| !b.is_empty());
            // Only the page's allocations are rendered (a line may fund 100,000 businesses).
            let positions = world.allocations_of(&line.id, only);
            list_positions(
                call,
                &positions,
                |_| true,
                |i| &world.credit_allocations[i].id,
                |id| world.allocation_position(id),
                |i| world.allocation_json(&world.credit_allocations[i]),
                &fields::ALLOCATION_CONFIG,
            )
        }
        Some("whatsapp_credit_sharing_and_attach") if is_post => {
            let waba_id = required(call, "waba_id")?.to_string();
            let currency = currency(call)?;
            let owner = attachable_waba(world, &line, &waba_id)?;
            let allocation = share(world, &line, &owner);
            attach(world, &allocation, &waba_id, &currency);
            Ok(json!({ "allocation_config_id": allocation, "waba_id": waba_id }))
        }
        Some("whatsapp_credit_sharing") if is_post => {
            let business = required(call, "receiving_business_id")?.to_string();
            let ours = &line.owner_business_id;
            let is_client = world
                .wabas_owned_by(&business)
                .iter()
                .any(|&i| world.wabas[i].shared_with.contains(ours));
            if !is_client {
                return Err(GraphError::invalid_param(format!(
                    "(#100) Param receiving_business_id must be a business with a WhatsApp Business Account shared with business {ours}"
                )));
            }
            let allocation = share(world, &line, &business);
            Ok(json!({ "success": true, "allocation_config_id": allocation }))
        }
        Some("whatsapp_credit_attach") if is_post => {
            let waba_id = required(call, "waba_id")?.to_string();
            let currency = currency(call)?;
            let owner = attachable_waba(world, &line, &waba_id)?;
            let allocation = world
                .active_allocation(&line.id, &owner)
                .map(|a| a.id.clone())
                .ok_or_else(|| {
                    GraphError::invalid_param(format!(
                        "(#100) The credit line is not shared with business {owner}, which owns WhatsApp Business Account {waba_id}: call whatsapp_credit_sharing first"
                    ))
                })?;
            attach(world, &allocation, &waba_id, &currency);
            Ok(json!({ "success": true, "waba_id": waba_id, "allocation_config_id": allocation }))
        }
        Some(
            "owning_credit_allocation_configs"
            | "whatsapp_credit_sharing_and_attach"
            | "whatsapp_credit_sharing"
            | "whatsapp_credit_attach",
        ) => Err(GraphError::unsupported_method_on_edge(method)),
        None => Err(GraphError::unsupported_request(method, id)),
        Some(other) => Err(GraphError::unknown_path(other)),
    }
}

/// The WABA's owner business, if the WABA is shared with the line's business and has no
/// funding source yet.
fn attachable_waba(world: &World, line: &CreditLine, waba_id: &str) -> Result<String, GraphError> {
    let ours = &line.owner_business_id;
    let w = world
        .waba(waba_id)
        .filter(|w| w.shared_with.contains(ours))
        .ok_or_else(|| {
            GraphError::invalid_param(format!(
                "(#100) Param waba_id must be a WhatsApp Business Account shared with business {ours} - got \"{waba_id}\""
            ))
        })?;
    if !w.primary_funding_id.is_empty() {
        return Err(GraphError::invalid_param(format!(
            "(#100) The WhatsApp Business Account {waba_id} already has a credit line attached (primary_funding_id {}). A credit line cannot be changed after it is attached; a different credit line needs a new WhatsApp Business Account",
            w.primary_funding_id
        )));
    }
    Ok(w.owner_business_id.clone())
}

/// Share `line` with `business`: its live allocation, or a new one. Returns the allocation id.
fn share(world: &mut World, line: &CreditLine, business: &str) -> String {
    if let Some(a) = world.active_allocation(&line.id, business) {
        return a.id.clone();
    }
    let id = world.fresh_id("58");
    let credential = world.fresh_id("57");
    world.push_allocation(CreditAllocation {
        id: id.clone(),
        credit_line_id: line.id.clone(),
        receiving_business_id: business.to_string(),
        receiving_credential_id: credential,
        request_status: ACTIVE.into(),
        extra: Map::new(),
    });
    id
}

/// Attach the allocation's credential to the WABA.
fn attach(world: &mut World, allocation_id: &str, waba_id: &str, currency: &str) {
    let Some(credential) = world
        .allocation(allocation_id)
        .map(|a| a.receiving_credential_id.clone())
    else {
        return;
    };
    if let Some(w) = world.waba_mut(waba_id) {
        w.primary_funding_id = credential;
        w.currency = currency.to_string();
    }
}

/// `/{allocation-config-id}`: GET the node, DELETE to revoke.
pub(super) fn allocation_call(
    world: &mut World,
    call: &Call,
    actor: &Token,
    id: &str,
    edge: Option<&str>,
) -> Result<Value, GraphError> {
    let method = call.method.as_str();
    let a = world
        .allocation(id)
        .ok_or_else(|| GraphError::unsupported_request(method, id))?
        .clone();
    owned_line(world, &a.credit_line_id, actor, method).map_err(|e| match e.code {
        200 => e,
        _ => GraphError::unsupported_request(method, id),
    })?;
    match edge {
        None if call.method == axum::http::Method::GET => {
            call.project(&world.allocation_json(&a), &fields::ALLOCATION_CONFIG)
        }
        None if call.method == axum::http::Method::DELETE => {
            revoke(world, id)?;
            Ok(json!({ "success": true }))
        }
        None => Err(GraphError::unsupported_request(method, id)),
        Some(other) => Err(GraphError::unknown_path(other)),
    }
}

/// Revoke: the allocation becomes `DELETED` and no WABA is funded by its credential any more.
pub fn revoke(world: &mut World, allocation_id: &str) -> Result<(), GraphError> {
    let Some(a) = world
        .allocation_position(allocation_id)
        .map(|i| &mut world.credit_allocations[i])
    else {
        return Err(GraphError::unsupported_request("delete", allocation_id));
    };
    if a.is_deleted() {
        return Err(GraphError::invalid_param(
            "(#100) This credit allocation has already been revoked",
        ));
    }
    a.request_status = DELETED.into();
    let credential = a.receiving_credential_id.clone();
    // Any WABA may carry the credential (a world file can say so), and funding changes too
    // often to index: a revoke, one action, scans the WABAs (a few ms at 250,000).
    for w in world
        .wabas
        .iter_mut()
        .filter(|w| w.primary_funding_id == credential)
    {
        w.primary_funding_id.clear();
    }
    Ok(())
}

/// SplitMix64, as the WABA generator uses, with its own seed.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// Fund the WABAs `world.wabas[from..]` (the generated ones) through allocations of
/// `line_ids`, one customer business at a time: most businesses get a live allocation on one
/// line with their WABAs attached to its credential (now and then one WABA left unattached, or
/// funded by a credential that is not ours: a mismatch); some had theirs revoked; the rest
/// have none. Ids: allocations `581…`, credentials `571…`, foreign funding sources `591…`.
pub(crate) fn fund_generated(world: &mut World, seed: u64, line_ids: &[String], from: usize) {
    if line_ids.is_empty() {
        return;
    }
    let mut rng = Mix(seed ^ 0x00C0_FFEE_CAFE_F00D);
    // Owner businesses in order of first appearance, each with its WABAs in list order.
    let from = from.min(world.wabas.len());
    let mut owners: Vec<(String, Vec<usize>)> = vec![];
    let mut slot: index::IdMap<usize> = Default::default();
    for (i, w) in world.wabas.iter().enumerate().skip(from) {
        let n = *slot.entry(w.owner_business_id.clone()).or_insert_with(|| {
            owners.push((w.owner_business_id.clone(), vec![]));
            owners.len() - 1
        });
        owners[n].1.push(i);
    }
    for (n, (owner, owned)) in owners.iter().enumerate() {
        let line = line_ids[rng.below(line_ids.len() as u64) as usize].clone();
        let alloc_id = format!("581{:013}", n + 1);
        let credential = format!("571{:013}", n + 1);
        let roll = rng.below(100);
        let status = match roll {
            0..74 => ACTIVE,
            74..81 => DELETED,
            _ => "",
        };
        if !status.is_empty() {
            world.credit_allocations.push(CreditAllocation {
                id: alloc_id,
                credit_line_id: line,
                receiving_business_id: owner.clone(),
                receiving_credential_id: credential.clone(),
                request_status: status.into(),
                extra: Map::new(),
            });
        }
        for (k, &i) in owned.iter().enumerate() {
            let w = &mut world.wabas[i];
            let r = rng.below(100);
            w.primary_funding_id = match status {
                ACTIVE if r < 3 => format!("591{:013}", n * 10 + k + 1),
                ACTIVE if r < 8 => String::new(),
                ACTIVE => credential.clone(),
                _ if r < 4 => format!("591{:013}", n * 10 + k + 1),
                _ => String::new(),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_clears_the_funding_of_every_waba_of_the_business_once() {
        let mut w = World::demo();
        let a = w
            .credit_allocations
            .iter()
            .find(|a| {
                !a.is_deleted()
                    && w.wabas
                        .iter()
                        .filter(|x| x.primary_funding_id == a.receiving_credential_id)
                        .count()
                        > 1
            })
            .cloned()
            .expect("a business with two funded WABAs");
        revoke(&mut w, &a.id).unwrap();
        assert_eq!(w.allocation(&a.id).unwrap().request_status, DELETED);
        assert!(
            w.wabas
                .iter()
                .all(|x| x.primary_funding_id != a.receiving_credential_id)
        );
        let e = revoke(&mut w, &a.id).unwrap_err();
        assert_eq!((e.status, e.code), (400, 100));
    }

    #[test]
    fn generated_funding_is_varied_and_consistent() {
        let w = World::demo();
        let count = |f: &dyn Fn(&CreditAllocation) -> bool| {
            w.credit_allocations.iter().filter(|a| f(a)).count()
        };
        assert!(count(&|a| !a.is_deleted()) > 24, "dozens of allocations");
        assert!(count(&CreditAllocation::is_deleted) > 3);
        let creds: std::collections::HashMap<&str, &CreditAllocation> = w
            .credit_allocations
            .iter()
            .map(|a| (a.receiving_credential_id.as_str(), a))
            .collect();
        let mut mismatched = 0;
        for waba in &w.wabas {
            if waba.primary_funding_id.is_empty() {
                continue;
            }
            match creds.get(waba.primary_funding_id.as_str()) {
                Some(a) => {
                    assert_eq!(a.receiving_business_id, waba.owner_business_id);
                    assert!(!a.is_deleted(), "revoked credentials fund nothing");
                }
                None => mismatched += 1,
            }
        }
        assert!(mismatched > 2, "{mismatched}");
        assert!(
            w.wabas
                .iter()
                .filter(|x| x.primary_funding_id.is_empty())
                .count()
                > 30
        );
    }
}
