//! Identifiers. Every id is a ULID (time-ordered); each kind of object has
//! its own type so a pupil id is never passed where a school id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(ulid::Ulid);

        impl $name {
            /// A new id, ordered after every id generated before it.
            pub fn generate() -> Self {
                $name(ulid::Ulid::generate())
            }

            /// Parses the 26-character ULID form (any case).
            pub fn parse(s: &str) -> Option<Self> {
                ulid::Ulid::from_string(s).ok().map($name)
            }

            pub const fn from_ulid(u: ulid::Ulid) -> Self {
                $name(u)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An organisation (huvudman).
    OrganisationId
);
id_type!(SchoolId);
id_type!(GroupId);
id_type!(
    /// A pupil, guardian or member of staff: one person may be all three.
    PersonId
);
id_type!(ReportId);
id_type!(OutboxId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_parses_back_from_its_display_form_in_any_case() {
        let id = PersonId::generate();
        assert_eq!(PersonId::parse(&id.to_string()), Some(id));
        assert_eq!(PersonId::parse(&id.to_string().to_lowercase()), Some(id));
    }

    #[test]
    fn text_that_is_not_a_ulid_is_not_an_id() {
        assert_eq!(PersonId::parse("../../etc/passwd"), None);
        assert_eq!(PersonId::parse("PERSON#01JD"), None);
        assert_eq!(PersonId::parse(""), None);
    }
}
