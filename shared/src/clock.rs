//! The `Clock` port: "now", and "today" in Europe/Stockholm, injected so
//! deadlines and school days are tested without sleeping.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Stockholm;
use std::sync::Mutex;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// The calendar day in Sweden at this moment.
    fn today(&self) -> NaiveDate {
        self.now().with_timezone(&Stockholm).date_naive()
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved; for tests and demos.
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(now))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        if let Ok(mut t) = self.0.lock() {
            *t = now;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|p| *p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn today_is_the_swedish_date_even_when_utc_is_still_yesterday() {
        // 23:30 UTC on 22 November is 00:30 on 23 November in Stockholm.
        let clock = FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 22, 23, 30, 0).unwrap());
        assert_eq!(
            clock.today(),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
    }
}
