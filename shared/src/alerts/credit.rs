//! A school's SMS credit (B6): what the organisation bought, drawn on by
//! the alerts; when it runs out the texts are not sent and the school's
//! administrators see it here.

use crate::clock::Clock;
use crate::directory::{self, PersonRecord};
use crate::ids::SchoolId;
use crate::keys;
use crate::policy::{self, Decision};
use crate::store::{Condition, Item, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The most one top-up may add.
pub const MAX_TOP_UP: u32 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsCredit {
    pub school_id: SchoolId,
    /// Texts the school may still send.
    pub credit: u32,
    /// Texts not sent for want of credit since the last top-up.
    #[serde(default)]
    pub refused: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refused_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topped_up_at: Option<DateTime<Utc>>,
}

impl SmsCredit {
    pub fn none(school_id: SchoolId) -> Self {
        SmsCredit {
            school_id,
            credit: 0,
            refused: 0,
            last_refused_at: None,
            topped_up_at: None,
        }
    }

    /// What the school's administrators are told, if anything.
    pub fn warning(&self) -> Option<&'static str> {
        if self.refused > 0 {
            Some("SMS credit ran out: guardians were not texted about unexcused absence")
        } else if self.credit == 0 {
            Some("No SMS credit: guardians will not be texted about unexcused absence")
        } else {
            None
        }
    }

    pub fn to_item(&self, version: u64) -> Result<Item, StoreError> {
        let mut item = Item::new(keys::sms_credit(self.school_id), keys::SMS_CREDIT, self)?;
        item.version = version;
        Ok(item)
    }
}

/// The stored credit and its version (0: never stored).
pub(crate) async fn read(
    store: &dyn Store,
    school: SchoolId,
) -> Result<(SmsCredit, u64), StoreError> {
    Ok(match store.get(&keys::sms_credit(school)).await? {
        Some(item) => (item.parse()?, item.version),
        None => (SmsCredit::none(school), 0),
    })
}

/// The condition that the credit is still as read at `version`.
pub(crate) fn unchanged(version: u64) -> Condition {
    if version == 0 {
        Condition::MustNotExist
    } else {
        Condition::VersionEquals(version)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreditError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("the credit changed meanwhile")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The school, if the caller passes `rule` for it.
async fn school_for(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
    rule: fn(&PersonRecord, &directory::School) -> Decision,
) -> Result<directory::School, CreditError> {
    let school = directory::school(store, school_id)
        .await?
        .ok_or(CreditError::NotFound)?;
    match rule(caller, &school) {
        Decision::Allow => Ok(school),
        Decision::Forbidden => Err(CreditError::Forbidden),
        Decision::NotFound => Err(CreditError::NotFound),
    }
}

/// Reading the credit: the school's leaders ([`policy::lead_school`]). A
/// principal or school administrator is allowed on their own record, so
/// their read is the caller's record and the credit; anyone else is
/// decided on the school (its organisation), read first.
pub async fn get(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
) -> Result<SmsCredit, CreditError> {
    if !policy::leads_school_by_duty(caller, school_id) {
        school_for(store, caller, school_id, policy::lead_school).await?;
    }
    Ok(read(store, school_id).await?.0)
}

/// Topping up: the organisation's administrators (who buy the texts).
/// Clears the count of refused texts.
pub async fn top_up(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    school_id: SchoolId,
    add: u32,
) -> Result<SmsCredit, CreditError> {
    school_for(store, caller, school_id, policy::top_up_sms_credit).await?;
    if add == 0 || add > MAX_TOP_UP {
        return Err(CreditError::Invalid {
            field: "add",
            message: format!("1 to {MAX_TOP_UP}"),
        });
    }
    // Alerts draw on the credit at the same time: retry on their writes.
    for _ in 0..5 {
        let (mut credit, version) = read(store, school_id).await?;
        credit.credit = credit.credit.saturating_add(add);
        credit.refused = 0;
        credit.topped_up_at = Some(clock.now());
        match store
            .put(&credit.to_item(version + 1)?, unchanged(version))
            .await
        {
            Ok(()) => return Ok(credit),
            Err(e) if e.is_condition_failure() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CreditError::Conflict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_administrators_are_warned_at_zero_credit_and_after_a_refused_text() {
        let mut credit = SmsCredit::none(SchoolId::generate());
        assert!(credit.warning().unwrap().starts_with("No SMS credit"));
        credit.credit = 10;
        assert_eq!(credit.warning(), None);
        credit.refused = 1;
        assert!(credit.warning().unwrap().starts_with("SMS credit ran out"));
    }
}
