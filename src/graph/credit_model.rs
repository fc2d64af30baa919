//! Wire types of our credit lines and their allocation configs (reference §4.4, §4.5). The
//! verification Meta prescribes (§4.6) is in `crate::domain::funding`.
//!
//! Strings Meta may extend (`request_status`, ...) stay open strings, fields we do not model
//! are kept in `extra`, and odd values read as "not given" rather than failing the list.
//!
//! An allocation is one per customer business (66,000 in a book of 100,000 WABAs), held all
//! session: ids are inline `CompactString`s, `request_status` one shared `Sym`, the fields we
//! do not model JSON text (`RawFields`): 128 bytes and, for plain Graph ids, no allocation of
//! its own.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::{Malformed, Row};
use super::waba_model::{BusinessRef, RawFields, Sym, id_string, opt_of, opt_string, opt_sym};

/// The `waba_currency` values Meta accepts when a credit line is attached (§4.3).
pub const WABA_CURRENCIES: [&str; 6] = ["AUD", "EUR", "GBP", "IDR", "INR", "USD"];

/// The `request_status` of a revoked allocation (§4.6, §8 row 7).
pub const REVOKED_STATUS: &str = "DELETED";

/// An extended credit line (`GET /{business-id}/extendedcredits`, `GET /{credit-line-id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CreditLine {
    #[serde(default, deserialize_with = "id_string")]
    pub id: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_string"
    )]
    pub legal_entity_name: Option<String>,
    /// Every other field Meta sent, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Set when this row could not be read as a credit line, or its id is not a plain Graph
    /// id (its allocations are then not read).
    #[serde(skip)]
    pub malformed: Option<Box<Malformed>>,
}

impl CreditLine {
    /// The legal entity's name, else the id.
    pub fn name(&self) -> &str {
        self.legal_entity_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.id)
    }
}

/// `receiving_credential`: an ExtendedCredit reference, `{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CredentialRef {
    #[serde(default, deserialize_with = "id_string")]
    pub id: CompactString,
    #[serde(flatten)]
    pub extra: RawFields,
}

/// One allocation config of a credit line: the line shared with one customer business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AllocationConfig {
    #[serde(default, deserialize_with = "id_string")]
    pub id: CompactString,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_of"
    )]
    pub receiving_business: Option<BusinessRef>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_of"
    )]
    pub receiving_credential: Option<CredentialRef>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_sym"
    )]
    pub request_status: Option<Sym>,
    #[serde(flatten)]
    pub extra: RawFields,
    /// Set when this row could not be read as an allocation config, or its id is not a
    /// plain Graph id.
    #[serde(skip)]
    pub malformed: Option<Box<Malformed>>,
}

macro_rules! row_impl {
    ($t:ty) => {
        impl Row for $t {
            fn row_id(&self) -> &str {
                &self.id
            }
            fn set_row_id(&mut self, id: String) {
                self.id = id.into();
            }
            fn malformed(&self) -> Option<&Malformed> {
                self.malformed.as_deref()
            }
            fn set_malformed(&mut self, m: Malformed) {
                self.malformed = Some(Box::new(m));
            }
        }
    };
}
row_impl!(CreditLine);
row_impl!(AllocationConfig);

pub(crate) fn non_empty(s: &str) -> Option<&str> {
    let s = s.trim();
    (!s.is_empty()).then_some(s)
}

impl AllocationConfig {
    /// The customer business's id, when Meta sent one.
    pub fn business_id(&self) -> Option<&str> {
        self.receiving_business
            .as_ref()
            .and_then(|b| non_empty(&b.id))
    }

    /// The customer business's name, else its id, else `-`.
    pub fn business_name(&self) -> &str {
        let b = self.receiving_business.as_ref();
        b.and_then(|b| b.name.as_deref().and_then(non_empty))
            .or_else(|| self.business_id())
            .unwrap_or("-")
    }

    /// `receiving_credential.id`, when Meta sent one.
    pub fn credential_id(&self) -> Option<&str> {
        self.receiving_credential
            .as_ref()
            .and_then(|c| non_empty(&c.id))
    }

    /// Revoked: `request_status` is `DELETED`.
    pub fn is_revoked(&self) -> bool {
        self.request_status
            .as_deref()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(REVOKED_STATUS))
    }
}

/// A credit line with its allocation configs, as one refresh read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct CreditLineData {
    #[serde(flatten)]
    pub line: CreditLine,
    pub allocations: Vec<AllocationConfig>,
}

/// The currency a share proposes for a WABA: its own when Meta accepts it, else USD.
pub fn default_currency(waba_currency: Option<&str>) -> &'static str {
    waba_currency
        .map(str::trim)
        .and_then(|c| {
            WABA_CURRENCIES
                .iter()
                .find(|x| x.eq_ignore_ascii_case(c))
                .copied()
        })
        .unwrap_or("USD")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alloc(id: &str, business: &str, credential: &str, status: &str) -> AllocationConfig {
        serde_json::from_value(json!({
            "id": id,
            "receiving_business": {"id": business, "name": format!("Biz {business}")},
            "receiving_credential": {"id": credential},
            "request_status": status,
        }))
        .unwrap()
    }

    #[test]
    fn odd_allocations_read_and_keep_unknown_fields() {
        let a: AllocationConfig = serde_json::from_value(json!({
            "id": 58, "receiving_business": "nope", "receiving_credential": {"id": 57},
            "request_status": "PENDING_REVIEW", "liability_type": "Normal"
        }))
        .unwrap();
        assert_eq!(a.id, "58");
        assert_eq!(a.business_id(), None);
        assert_eq!(a.business_name(), "-");
        assert_eq!(a.credential_id(), Some("57"));
        assert!(!a.is_revoked());
        assert_eq!(a.extra.get("liability_type"), Some(json!("Normal")));
        assert!(alloc("1", "2", "3", "deleted").is_revoked());
    }

    #[test]
    fn an_allocation_is_compact_and_writes_out_what_it_read() {
        // Ids inline, the status one pointer, unknown fields one pointer.
        assert!(std::mem::size_of::<AllocationConfig>() <= 128);
        let text = json!({
            "id": "5810000000000001",
            "receiving_business": {"id": "33", "name": "Acme"},
            "receiving_credential": {"id": "5710000000000001", "kind": {"nested": [1, 2]}},
            "request_status": "APPROVED",
            "owning_credential": {"id": "7"},
            "liability_type": "Normal"
        });
        let a: AllocationConfig = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(a.request_status.as_deref(), Some("APPROVED"));
        assert_eq!(serde_json::to_value(&a).unwrap(), text);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&text).unwrap(),
            "the same order"
        );
    }

    #[test]
    fn currency_defaults_to_the_wabas_own_when_meta_takes_it() {
        assert_eq!(default_currency(Some("GBP")), "GBP");
        assert_eq!(default_currency(Some("inr")), "INR");
        assert_eq!(default_currency(Some("BRL")), "USD");
        assert_eq!(default_currency(None), "USD");
    }
}
