//! The `Clock` port: "now", and "today" in Europe/Stockholm, injected so
//! deadlines and school days are tested without sleeping.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;
use std::sync::Mutex;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// The calendar day in Sweden at this moment.
    fn today(&self) -> NaiveDate {
        self.now().with_timezone(&Stockholm).date_naive()
    }

    /// The moment today began in Sweden (midnight, which no daylight-saving
    /// change in Sweden skips).
    fn start_of_today(&self) -> DateTime<Utc> {
        let midnight = self.today().and_time(NaiveTime::MIN);
        Stockholm
            .from_local_datetime(&midnight)
            .earliest()
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
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

    #[test]
    fn today_is_the_swedish_date_even_when_utc_is_still_yesterday() {
        // 23:30 UTC on 22 November is 00:30 on 23 November in Stockholm.
        let clock = FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 22, 23, 30, 0).unwrap());
        assert_eq!(
            clock.today(),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
    }

    #[test]
    fn today_began_at_swedish_midnight_in_winter_and_in_summer() {
        let winter = FixedClock::at(Utc.with_ymd_and_hms(2026, 11, 22, 23, 30, 0).unwrap());
        assert_eq!(
            winter.start_of_today(),
            Utc.with_ymd_and_hms(2026, 11, 22, 23, 0, 0).unwrap()
        );
        let summer = FixedClock::at(Utc.with_ymd_and_hms(2026, 6, 10, 12, 0, 0).unwrap());
        assert_eq!(
            summer.start_of_today(),
            Utc.with_ymd_and_hms(2026, 6, 9, 22, 0, 0).unwrap()
        );
    }
}
