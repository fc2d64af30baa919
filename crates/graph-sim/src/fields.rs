//! Graph field selection (reference §1.8): parsing `fields=a,b,c{x,y},d.limit(2){e{f}}` and
//! projecting a full JSON node onto it.
//!
//! A node is described by a static [`Schema`]: which fields exist, which are nested objects and
//! which are edges (rendered as `{"data":[...],"paging":{...}}`). The projector refuses unknown
//! field names the way Meta does, and always adds `id` to objects that have one.

use std::fmt;

use serde_json::{Map, Value, json};

use super::paging;

/// One selected field, with its optional `.limit(n)` modifier and `{...}` sub-selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSel {
    pub name: String,
    pub limit: Option<usize>,
    pub children: Option<Vec<FieldSel>>,
}

impl FieldSel {
    pub fn plain(name: &str) -> FieldSel {
        FieldSel {
            name: name.to_string(),
            limit: None,
            children: None,
        }
    }
}

impl fmt::Display for FieldSel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(n) = self.limit {
            write!(f, ".limit({n})")?;
        }
        if let Some(children) = &self.children {
            write!(f, "{{{}}}", FieldList(children))?;
        }
        Ok(())
    }
}

/// Display helper: a selection rendered back to `a,b{c}` syntax.
pub struct FieldList<'a>(pub &'a [FieldSel]);

impl fmt::Display for FieldList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, sel) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{sel}")?;
        }
        Ok(())
    }
}

/// Why a `fields` value was refused. Every variant is a Graph code 100.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("Syntax error \"{expected}\" at character {pos}: {input}")]
    Syntax {
        expected: String,
        pos: usize,
        input: String,
    },
    #[error("(#100) Tried accessing nonexisting field ({field}) on node type ({node_type})")]
    Nonexisting { field: String, node_type: String },
    #[error(
        "(#100) Field {field} on node type ({node_type}) is not an object and cannot be expanded"
    )]
    NotExpandable { field: String, node_type: String },
}

/// Parse a `fields` parameter. An empty string yields an empty selection (the caller then
/// uses the node's default fields). Duplicate names keep their first occurrence.
pub fn parse_fields(input: &str) -> Result<Vec<FieldSel>, FieldError> {
    let mut p = Parser {
        chars: input.chars().collect(),
        pos: 0,
        input,
    };
    let list = p.list(0)?;
    p.skip_ws();
    if let Some(c) = p.peek() {
        return Err(p.err(&format!("Expected end of string instead of \"{c}\".")));
    }
    Ok(list)
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    input: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn err(&self, expected: &str) -> FieldError {
        FieldError::Syntax {
            expected: expected.to_string(),
            pos: self.pos,
            input: self.input.to_string(),
        }
    }

    fn expect(&mut self, c: char) -> Result<(), FieldError> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("Expected \"{c}\".")))
        }
    }

    fn ident(&mut self) -> Result<String, FieldError> {
        self.skip_ws();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err("Expected name."));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn list(&mut self, depth: usize) -> Result<Vec<FieldSel>, FieldError> {
        let mut out: Vec<FieldSel> = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => break,
                Some('}') if depth > 0 => break,
                Some(',') => {
                    // Tolerate empty items (`a,,b`, a trailing comma).
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let item = self.item(depth)?;
            if !out.iter().any(|f| f.name == item.name) {
                out.push(item);
            }
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                None => break,
                Some('}') if depth > 0 => break,
                Some(c) => {
                    return Err(self.err(&format!("Expected end of string instead of \"{c}\".")));
                }
            }
        }
        Ok(out)
    }

    fn item(&mut self, depth: usize) -> Result<FieldSel, FieldError> {
        let name = self.ident()?;
        let mut sel = FieldSel {
            name,
            limit: None,
            children: None,
        };
        self.modifiers(&mut sel)?;
        self.skip_ws();
        if self.peek() == Some('{') {
            self.pos += 1;
            sel.children = Some(self.list(depth + 1)?);
            self.expect('}')?;
            self.modifiers(&mut sel)?;
        }
        Ok(sel)
    }

    /// `.limit(n)` is honoured on edges; other modifiers (`.as(x)`, `.since(t)`, ...) are
    /// accepted and ignored.
    fn modifiers(&mut self, sel: &mut FieldSel) -> Result<(), FieldError> {
        loop {
            self.skip_ws();
            if self.peek() != Some('.') {
                return Ok(());
            }
            self.pos += 1;
            let name = self.ident()?;
            self.expect('(')?;
            let start = self.pos;
            while self.peek().is_some_and(|c| c != ')') {
                self.pos += 1;
            }
            let arg: String = self.chars[start..self.pos].iter().collect();
            self.expect(')')?;
            if name == "limit" {
                match arg.trim().parse::<usize>() {
                    Ok(n) if n > 0 => sel.limit = Some(n),
                    _ => return Err(self.err("Expected a positive integer in limit().")),
                }
            }
        }
    }
}

/// What a field of a node is.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A plain value: string, number, bool, or an array of those.
    Scalar,
    /// A nested object of the given type (e.g. `owner_app`).
    Object(&'static Schema),
    /// An edge: a list of nodes of the given type, rendered with `data` + `paging`.
    Edge(&'static Schema),
    /// A plain list of objects of the given type (no paging), e.g. `health_status.entities`.
    ObjectList(&'static Schema),
}

/// The fields a node type has.
#[derive(Debug)]
pub struct Schema {
    /// Meta's type name, shown in the unknown-field error.
    pub type_name: &'static str,
    pub fields: &'static [(&'static str, Kind)],
    /// Fields returned when `fields` is absent (`id` is added anyway).
    pub default_fields: &'static [&'static str],
}

impl Schema {
    pub fn kind(&self, name: &str) -> Option<Kind> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
    }

    pub fn defaults(&self) -> Vec<FieldSel> {
        self.default_fields
            .iter()
            .map(|n| FieldSel::plain(n))
            .collect()
    }
}

pub static APPLICATION: Schema = Schema {
    type_name: "Application",
    fields: &[
        ("id", Kind::Scalar),
        ("name", Kind::Scalar),
        ("link", Kind::Scalar),
    ],
    default_fields: &["name", "link"],
};

/// `owner_app`: the same Application type, shown as `{id, name}` unless asked for more (S5).
pub static OWNER_APP: Schema = Schema {
    type_name: "Application",
    fields: APPLICATION.fields,
    default_fields: &["name"],
};

pub static BUSINESS: Schema = Schema {
    type_name: "Business",
    fields: &[("id", Kind::Scalar), ("name", Kind::Scalar)],
    default_fields: &["name"],
};

pub static USER: Schema = Schema {
    type_name: "User",
    fields: &[("id", Kind::Scalar), ("name", Kind::Scalar)],
    default_fields: &["name"],
};

pub static SOLUTION_PARTNER: Schema = Schema {
    type_name: "WhatsAppBusinessSolutionPartner",
    fields: &[
        ("id", Kind::Scalar),
        ("partner_app", Kind::Object(&APPLICATION)),
        ("partner_permissions", Kind::Scalar),
        ("status", Kind::Scalar),
    ],
    default_fields: &["partner_app", "partner_permissions", "status"],
};

pub static SOLUTION: Schema = Schema {
    type_name: "WhatsAppBusinessSolution",
    fields: &[
        ("id", Kind::Scalar),
        ("name", Kind::Scalar),
        ("status", Kind::Scalar),
        ("status_for_pending_request", Kind::Scalar),
        ("owner_app", Kind::Object(&OWNER_APP)),
        ("owner_permissions", Kind::Scalar),
        ("partners", Kind::Edge(&SOLUTION_PARTNER)),
    ],
    default_fields: &["name", "status", "status_for_pending_request"],
};

/// `health_status.entities[]` (WhatsAppBusinessHealthStatus, reference §3.3).
pub static HEALTH_ENTITY: Schema = Schema {
    type_name: "WhatsAppBusinessHealthStatus",
    fields: &[
        ("id", Kind::Scalar),
        ("entity_type", Kind::Scalar),
        ("can_send_message", Kind::Scalar),
        ("can_receive_call_sip", Kind::Scalar),
        ("additional_info", Kind::Scalar),
        ("errors", Kind::Scalar),
    ],
    default_fields: &[
        "entity_type",
        "can_send_message",
        "can_receive_call_sip",
        "additional_info",
        "errors",
    ],
};

/// `health_status` (WhatsAppBusinessHealthStatusForMessageSend): the whole object by default.
pub static HEALTH_STATUS: Schema = Schema {
    type_name: "WhatsAppBusinessHealthStatusForMessageSend",
    fields: &[
        ("can_send_message", Kind::Scalar),
        ("entities", Kind::ObjectList(&HEALTH_ENTITY)),
    ],
    default_fields: &["can_send_message", "entities"],
};

/// A phone number (reference §3.4).
pub static PHONE_NUMBER: Schema = Schema {
    type_name: "WhatsAppBusinessAccountToNumberCurrentStatus",
    fields: &[
        ("id", Kind::Scalar),
        ("display_phone_number", Kind::Scalar),
        ("verified_name", Kind::Scalar),
        ("quality_rating", Kind::Scalar),
        ("status", Kind::Scalar),
        ("code_verification_status", Kind::Scalar),
        ("name_status", Kind::Scalar),
        ("new_name_status", Kind::Scalar),
        ("platform_type", Kind::Scalar),
        ("throughput", Kind::Scalar),
        ("health_status", Kind::Object(&HEALTH_STATUS)),
        ("account_mode", Kind::Scalar),
        ("messaging_limit_tier", Kind::Scalar),
        ("is_official_business_account", Kind::Scalar),
        ("is_pin_enabled", Kind::Scalar),
        ("last_onboarded_time", Kind::Scalar),
        ("search_visibility", Kind::Scalar),
    ],
    default_fields: &[
        "verified_name",
        "code_verification_status",
        "display_phone_number",
        "quality_rating",
        "platform_type",
        "throughput",
    ],
};

/// A WhatsApp Business Account (reference §3.2; field list of Meta's SDK codegen spec).
/// `subscribed_apps` and `solutions` are edges that cannot be expanded here.
pub static WABA: Schema = Schema {
    type_name: "WhatsAppBusinessAccount",
    fields: &[
        ("id", Kind::Scalar),
        ("name", Kind::Scalar),
        ("account_review_status", Kind::Scalar),
        ("analytics", Kind::Scalar),
        ("auth_international_rate_eligibility", Kind::Scalar),
        ("business_verification_status", Kind::Scalar),
        ("country", Kind::Scalar),
        ("creation_time", Kind::Scalar),
        ("currency", Kind::Scalar),
        ("disable_marketing_messages_on_cloud_api", Kind::Scalar),
        ("health_status", Kind::Object(&HEALTH_STATUS)),
        ("is_enabled_for_insights", Kind::Scalar),
        ("is_shared_with_partners", Kind::Scalar),
        ("linked_commerce_account", Kind::Scalar),
        ("marketing_messages_lite_api_status", Kind::Scalar),
        ("marketing_messages_onboarding_status", Kind::Scalar),
        ("message_template_namespace", Kind::Scalar),
        ("on_behalf_of_business_info", Kind::Object(&BUSINESS)),
        ("owner_business", Kind::Object(&BUSINESS)),
        ("owner_business_info", Kind::Object(&BUSINESS)),
        ("ownership_type", Kind::Scalar),
        ("primary_business_location", Kind::Scalar),
        ("primary_funding_id", Kind::Scalar),
        ("purchase_order_number", Kind::Scalar),
        ("status", Kind::Scalar),
        ("template_auto_archival_enabled", Kind::Scalar),
        ("timezone_id", Kind::Scalar),
        ("whatsapp_business_manager_messaging_limit", Kind::Scalar),
        ("phone_numbers", Kind::Edge(&PHONE_NUMBER)),
    ],
    default_fields: &["name", "timezone_id", "message_template_namespace"],
};

/// One entry of `GET /{waba-id}/subscribed_apps`.
pub static SUBSCRIBED_APP: Schema = Schema {
    type_name: "WhatsAppApplication",
    fields: &[
        ("whatsapp_business_api_data", Kind::Object(&APPLICATION)),
        ("override_callback_uri", Kind::Scalar),
    ],
    default_fields: &["whatsapp_business_api_data", "override_callback_uri"],
};

/// An extended credit line (ExtendedCredit, reference §4.4). Money fields are CurrencyAmount
/// objects, served whole. Only `id` by default.
pub static EXTENDED_CREDIT: Schema = Schema {
    type_name: "ExtendedCredit",
    fields: &[
        ("id", Kind::Scalar),
        ("allocated_amount", Kind::Scalar),
        ("balance", Kind::Scalar),
        ("credit_available", Kind::Scalar),
        ("credit_type", Kind::Scalar),
        ("is_access_revoked", Kind::Scalar),
        ("is_automated_experience", Kind::Scalar),
        ("legal_entity_name", Kind::Scalar),
        ("liable_address", Kind::Scalar),
        ("liable_biz_name", Kind::Scalar),
        ("max_balance", Kind::Scalar),
        ("online_max_balance", Kind::Scalar),
        ("owner_business", Kind::Object(&BUSINESS)),
        ("owner_business_name", Kind::Scalar),
        ("partition_from", Kind::Scalar),
        ("send_bill_to_address", Kind::Scalar),
        ("send_bill_to_biz_name", Kind::Scalar),
        ("sold_to_address", Kind::Scalar),
    ],
    default_fields: &[],
};

/// An allocation config (ExtendedCreditAllocationConfig, reference §4.5). Only `id` by default.
pub static ALLOCATION_CONFIG: Schema = Schema {
    type_name: "ExtendedCreditAllocationConfig",
    fields: &[
        ("id", Kind::Scalar),
        ("currency_amount", Kind::Scalar),
        ("liability_type", Kind::Scalar),
        ("owning_business", Kind::Object(&BUSINESS)),
        ("owning_credential", Kind::Object(&EXTENDED_CREDIT)),
        ("partition_type", Kind::Scalar),
        ("receiving_business", Kind::Object(&BUSINESS)),
        ("receiving_credential", Kind::Object(&EXTENDED_CREDIT)),
        ("request_status", Kind::Scalar),
        ("send_bill_to", Kind::Scalar),
    ],
    default_fields: &[],
};

/// Where nested edges' `paging.next` links point: `{node_base}/{parent-id}/{edge}?...`.
#[derive(Debug, Clone)]
pub struct Links {
    /// e.g. `http://127.0.0.1:4000/v23.0` (no trailing slash).
    pub node_base: String,
}

/// Project `value` (a full node object) onto `sel`, or onto the schema's defaults when `sel`
/// is `None` or empty.
pub fn project(
    value: &Value,
    schema: &'static Schema,
    sel: Option<&[FieldSel]>,
    links: &Links,
) -> Result<Value, FieldError> {
    let defaults;
    let sel = match sel {
        Some(s) if !s.is_empty() => s,
        _ => {
            defaults = schema.defaults();
            &defaults[..]
        }
    };
    let empty = Map::new();
    let obj = value.as_object().unwrap_or(&empty);
    let mut out = Map::new();
    for f in sel {
        let kind = schema
            .kind(&f.name)
            .ok_or_else(|| FieldError::Nonexisting {
                field: f.name.clone(),
                node_type: schema.type_name.to_string(),
            })?;
        let child_sel = f.children.as_deref();
        let Some(v) = obj.get(&f.name).filter(|v| !v.is_null()) else {
            // Known but absent: Meta omits it. Still validate a sub-selection.
            match kind {
                Kind::Object(s) | Kind::Edge(s) | Kind::ObjectList(s) => validate(s, child_sel)?,
                Kind::Scalar if child_sel.is_some() => return Err(not_expandable(f, schema)),
                Kind::Scalar => {}
            }
            continue;
        };
        let projected = match kind {
            Kind::Scalar if child_sel.is_some() => return Err(not_expandable(f, schema)),
            Kind::Scalar => v.clone(),
            Kind::Object(s) => project(v, s, child_sel, links)?,
            Kind::ObjectList(s) => match v.as_array() {
                Some(items) => Value::Array(
                    items
                        .iter()
                        .map(|item| project(item, s, child_sel, links))
                        .collect::<Result<_, _>>()?,
                ),
                None => v.clone(),
            },
            Kind::Edge(s) => {
                let parent_id = obj.get("id").and_then(Value::as_str).unwrap_or("");
                project_edge(v, s, f, parent_id, links)?
            }
        };
        out.insert(f.name.clone(), projected);
    }
    if !out.contains_key("id")
        && schema.kind("id").is_some()
        && let Some(id) = obj.get("id")
    {
        out.insert("id".into(), id.clone());
    }
    Ok(Value::Object(out))
}

fn not_expandable(f: &FieldSel, schema: &Schema) -> FieldError {
    FieldError::NotExpandable {
        field: f.name.clone(),
        node_type: schema.type_name.to_string(),
    }
}

/// Check a sub-selection against a schema without data (for absent fields).
fn validate(schema: &'static Schema, sel: Option<&[FieldSel]>) -> Result<(), FieldError> {
    for f in sel.unwrap_or(&[]) {
        match schema.kind(&f.name) {
            None => {
                return Err(FieldError::Nonexisting {
                    field: f.name.clone(),
                    node_type: schema.type_name.to_string(),
                });
            }
            Some(Kind::Object(s) | Kind::Edge(s) | Kind::ObjectList(s)) => {
                validate(s, f.children.as_deref())?
            }
            Some(Kind::Scalar) if f.children.is_some() => return Err(not_expandable(f, schema)),
            Some(Kind::Scalar) => {}
        }
    }
    Ok(())
}

/// An expanded edge: the first `limit` items (default 25), wrapped as a Graph page.
fn project_edge(
    v: &Value,
    schema: &'static Schema,
    f: &FieldSel,
    parent_id: &str,
    links: &Links,
) -> Result<Value, FieldError> {
    let items: &[Value] = v.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let limit = f
        .limit
        .unwrap_or(paging::DEFAULT_LIMIT)
        .min(paging::MAX_LIMIT);
    let shown = &items[..items.len().min(limit)];
    let data = shown
        .iter()
        .map(|item| project(item, schema, f.children.as_deref(), links))
        .collect::<Result<Vec<_>, _>>()?;
    let cursor_of = |i: usize, item: &Value| match item.get("id").and_then(Value::as_str) {
        Some(id) => paging::encode_cursor(id),
        None => paging::encode_cursor(&i.to_string()),
    };
    let mut page = Map::new();
    page.insert("data".into(), Value::Array(data));
    if let (Some(first), Some(last)) = (shown.first(), shown.last()) {
        let after = cursor_of(shown.len() - 1, last);
        let mut paging_obj = Map::new();
        paging_obj.insert(
            "cursors".into(),
            json!({ "before": cursor_of(0, first), "after": after }),
        );
        if items.len() > shown.len() && !parent_id.is_empty() {
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            if let Some(children) = &f.children {
                q.append_pair("fields", &FieldList(children).to_string());
            }
            q.append_pair("limit", &limit.to_string());
            q.append_pair("after", &after);
            paging_obj.insert(
                "next".into(),
                json!(format!(
                    "{}/{}/{}?{}",
                    links.node_base,
                    parent_id,
                    f.name,
                    q.finish()
                )),
            );
        }
        page.insert("paging".into(), Value::Object(paging_obj));
    }
    Ok(Value::Object(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sel: &[FieldSel]) -> Vec<&str> {
        sel.iter().map(|f| f.name.as_str()).collect()
    }

    fn links() -> Links {
        Links {
            node_base: "http://127.0.0.1:1/v23.0".into(),
        }
    }

    fn solution() -> Value {
        json!({
            "id": "100",
            "name": "Sol",
            "status": "ACTIVE",
            "status_for_pending_request": "NONE",
            "owner_app": {"id": "1", "name": "Owner", "link": "https://o.example"},
            "owner_permissions": ["MESSAGING"],
            "partners": [
                {"id": "p1", "partner_app": {"id": "2", "name": "Two"}, "partner_permissions": ["VIEW_COST"], "status": "ACCEPTED"},
                {"id": "p2", "partner_app": {"id": "3", "name": "Three"}, "partner_permissions": [], "status": "INITIATED"}
            ]
        })
    }

    #[test]
    fn parses_flat_and_nested() {
        let sel = parse_fields("a,b,c{x,y},d{e{f}}").unwrap();
        assert_eq!(names(&sel), ["a", "b", "c", "d"]);
        assert_eq!(names(sel[2].children.as_ref().unwrap()), ["x", "y"]);
        let e = &sel[3].children.as_ref().unwrap()[0];
        assert_eq!(e.name, "e");
        assert_eq!(names(e.children.as_ref().unwrap()), ["f"]);
        assert!(sel[0].children.is_none());
    }

    #[test]
    fn parses_modifiers_whitespace_and_duplicates() {
        let sel =
            parse_fields(" name , partners.limit(5){partner_app{name}}.as(p), name,").unwrap();
        assert_eq!(names(&sel), ["name", "partners"]);
        assert_eq!(sel[1].limit, Some(5));
        assert_eq!(
            FieldList(&sel).to_string(),
            "name,partners.limit(5){partner_app{name}}"
        );
        let sel = parse_fields("partners{status}.limit(2)").unwrap();
        assert_eq!(sel[0].limit, Some(2));
        assert!(parse_fields("").unwrap().is_empty());
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "a{b",
            "a}",
            "a{b}}",
            "a b",
            "a.limit(x)",
            "a.limit(0)",
            "{a}",
            "a{,b",
            "a.limit(2",
        ] {
            let err = parse_fields(bad).unwrap_err();
            assert!(matches!(err, FieldError::Syntax { .. }), "{bad}: {err:?}");
        }
        let err = parse_fields("a}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Syntax error \"Expected end of string instead of \"}\".\" at character 1: a}"
        );
    }

    #[test]
    fn projects_defaults_with_id_last() {
        let v = project(&solution(), &SOLUTION, None, &links()).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "status", "status_for_pending_request", "id"]);
    }

    #[test]
    fn projects_requested_order_and_id_where_asked() {
        let sel = parse_fields("id,status").unwrap();
        let v = project(&solution(), &SOLUTION, Some(&sel), &links()).unwrap();
        assert_eq!(v, json!({"id": "100", "status": "ACTIVE"}));
    }

    #[test]
    fn expands_edges_and_objects() {
        let sel = parse_fields("owner_app{name},partners{partner_app{name},status}").unwrap();
        let v = project(&solution(), &SOLUTION, Some(&sel), &links()).unwrap();
        assert_eq!(v["owner_app"], json!({"name": "Owner", "id": "1"}));
        let data = v["partners"]["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(
            data[0],
            json!({"partner_app": {"name": "Two", "id": "2"}, "status": "ACCEPTED", "id": "p1"})
        );
        assert_eq!(
            v["partners"]["paging"]["cursors"]["before"],
            json!(paging::encode_cursor("p1"))
        );
        assert_eq!(
            v["partners"]["paging"]["cursors"]["after"],
            json!(paging::encode_cursor("p2"))
        );
        assert!(v["partners"]["paging"].get("next").is_none());
        // No sub-selection: default fields of the nested type.
        let sel = parse_fields("owner_app,partners").unwrap();
        let v = project(&solution(), &SOLUTION, Some(&sel), &links()).unwrap();
        assert_eq!(v["owner_app"], json!({"name": "Owner", "id": "1"}));
        assert_eq!(
            v["partners"]["data"][1],
            json!({"partner_app": {"name": "Three", "id": "3"}, "partner_permissions": [], "status": "INITIATED", "id": "p2"})
        );
    }

    #[test]
    fn nested_limit_adds_next() {
        let sel = parse_fields("partners.limit(1){status}").unwrap();
        let v = project(&solution(), &SOLUTION, Some(&sel), &links()).unwrap();
        assert_eq!(v["partners"]["data"].as_array().unwrap().len(), 1);
        let next = v["partners"]["paging"]["next"].as_str().unwrap();
        assert!(
            next.starts_with("http://127.0.0.1:1/v23.0/100/partners?fields=status&limit=1&after="),
            "{next}"
        );
    }

    #[test]
    fn unknown_fields_are_refused_at_any_depth() {
        let sel = parse_fields("name,colour").unwrap();
        let err = project(&solution(), &SOLUTION, Some(&sel), &links()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "(#100) Tried accessing nonexisting field (colour) on node type (WhatsAppBusinessSolution)"
        );
        let sel = parse_fields("partners{partner_app{owner}}").unwrap();
        let err = project(&solution(), &SOLUTION, Some(&sel), &links()).unwrap_err();
        assert_eq!(
            err,
            FieldError::Nonexisting {
                field: "owner".into(),
                node_type: "Application".into()
            }
        );
        // Even when the data has no such field to show.
        let sel = parse_fields("owner_app{bogus}").unwrap();
        let bare = json!({"id": "1"});
        assert!(project(&bare, &SOLUTION, Some(&sel), &links()).is_err());
        let sel = parse_fields("name{x}").unwrap();
        assert!(matches!(
            project(&solution(), &SOLUTION, Some(&sel), &links()),
            Err(FieldError::NotExpandable { .. })
        ));
    }
}
