//! Text messages (B6): the port, its two adapters, and phone numbers.
//!
//! In the cloud an SMS is an SNS Publish to an E.164 number; locally it is
//! a JSON line in `sms.jsonl` in the outbox folder. Numbers come from the
//! registry as people typed them (`070-123 45 67`, `+46 70 123 45 67`) and
//! are parsed as Swedish unless they carry a country code.

use async_trait::async_trait;
use std::path::PathBuf;

/// A mobile number in E.164 form (`+46701234567`), as SNS takes it.
///
/// The nightly import parses the number the registry sends and stores this
/// form on the person (`textTo`), so the function that sends texts reads it
/// as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct MobileNumber(String);

impl MobileNumber {
    /// The number a person gave, if a text can reach it: a Swedish mobile
    /// (or pager) number however people write it (`070-123 45 67`,
    /// `+46 (0)70 123 45 67`, `0046701234567`), or a number in
    /// international form (`+47 412 34 567`, `0047...`) of another country.
    ///
    /// Written here rather than with the phonenumber crate: that crate
    /// carries every country's metadata and a regex engine, about 480 KB of
    /// an arm64 package, which put the function that links it over the 3 MB
    /// goal. The Swedish rules are those of libphonenumber's SE metadata
    /// (mobile `7[02369]` + 7 digits, pager `74[02-9]` + 6); for other
    /// countries only the E.164 shape is checked (a country code that does
    /// not start with 0, at most 15 digits in all): the registry marked the
    /// number as a mobile, and SNS reports one that takes no text.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (international, rest) = match raw.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => match raw.strip_prefix("00") {
                Some(rest) => (true, rest),
                None => (false, raw),
            },
        };
        // "+46 (0)70 ...": the trunk prefix some write in brackets.
        let rest = rest.replacen("(0)", "", 1);
        let separators = |c: char| matches!(c, ' ' | '-' | '.' | '/' | '(' | ')');
        if !rest.chars().all(|c| c.is_ascii_digit() || separators(c)) {
            return None;
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        let national = if !international {
            digits.strip_prefix('0').unwrap_or(&digits)
        } else if let Some(swedish) = digits.strip_prefix("46") {
            swedish.strip_prefix('0').unwrap_or(swedish)
        } else {
            let shaped = (8..=15).contains(&digits.len()) && !digits.starts_with('0');
            return shaped.then(|| MobileNumber(format!("+{digits}")));
        };
        swedish_mobile(national).then(|| MobileNumber(format!("+46{national}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Swedish national significant number that takes texts: mobile
/// `7[02369]\d{7}` or pager `74[02-9]\d{6}` (libphonenumber's SE metadata).
fn swedish_mobile(national: &str) -> bool {
    let d = national.as_bytes();
    d.len() == 9
        && d.iter().all(u8::is_ascii_digit)
        && d[0] == b'7'
        && (matches!(d[1], b'0' | b'2' | b'3' | b'6' | b'9') || (d[1] == b'4' && d[2] != b'1'))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub to: MobileNumber,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SmsError(pub String);

#[async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(&self, sms: &Sms) -> Result<(), SmsError>;
}

/// Local adapter: each SMS is a line of JSON (`{"to", "text", "at"}`) in
/// `sms.jsonl` in the outbox folder, beside the mails.
pub struct FolderSmsSender {
    dir: PathBuf,
}

impl FolderSmsSender {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FolderSmsSender { dir: dir.into() }
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join("sms.jsonl")
    }
}

#[async_trait]
impl SmsSender for FolderSmsSender {
    async fn send(&self, sms: &Sms) -> Result<(), SmsError> {
        use tokio::io::AsyncWriteExt;
        let line = serde_json::json!({
            "to": sms.to.as_str(),
            "text": sms.text,
            "at": chrono::Utc::now(),
        })
        .to_string();
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| SmsError(format!("outbox folder: {e}")))?;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.file())
            .await
            .map_err(|e| SmsError(format!("outbox folder: {e}")))?;
        // tokio's File writes in the background: flush, or a line can be
        // lost when the file is dropped.
        let written = async {
            file.write_all(format!("{line}\n").as_bytes()).await?;
            file.flush().await
        };
        written
            .await
            .map_err(|e| SmsError(format!("outbox folder: {e}")))
    }
}

#[cfg(feature = "sns")]
pub use sns::SnsSmsSender;

#[cfg(feature = "sns")]
mod sns {
    use super::{Sms, SmsError, SmsSender};
    use async_trait::async_trait;
    use aws_sdk_sns::Client;
    use aws_sdk_sns::error::DisplayErrorContext;
    use aws_sdk_sns::types::MessageAttributeValue;

    /// Cloud adapter: SNS Publish to the number, as a transactional SMS
    /// (delivered ahead of promotional traffic, also to numbers that opted
    /// out of marketing), with the sender id where the country allows one.
    pub struct SnsSmsSender {
        client: Client,
        sender_id: Option<String>,
    }

    impl SnsSmsSender {
        pub fn new(client: Client, sender_id: Option<String>) -> Self {
            SnsSmsSender { client, sender_id }
        }
    }

    fn string(value: &str) -> MessageAttributeValue {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .expect("data type is set")
    }

    #[async_trait]
    impl SmsSender for SnsSmsSender {
        async fn send(&self, sms: &Sms) -> Result<(), SmsError> {
            let mut publish = self
                .client
                .publish()
                .phone_number(sms.to.as_str())
                .message(&sms.text)
                .message_attributes("AWS.SNS.SMS.SMSType", string("Transactional"));
            if let Some(id) = &self.sender_id {
                publish = publish.message_attributes("AWS.SNS.SMS.SenderID", string(id));
            }
            publish
                .send()
                .await
                .map(|_| ())
                // SNS error texts may quote the number: keep it out.
                .map_err(|e| {
                    SmsError(
                        DisplayErrorContext(&e)
                            .to_string()
                            .replace(sms.to.as_str(), "<number>"),
                    )
                })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The E.164 form a number parses to, if any.
    fn e164(raw: &str) -> Option<String> {
        MobileNumber::parse(raw).map(|n| n.0)
    }

    #[test]
    fn a_swedish_mobile_number_as_people_write_it_becomes_e164() {
        for raw in [
            "070-123 45 67",
            "0701234567",
            "+46 70 123 45 67",
            "0046701234567",
        ] {
            assert_eq!(e164(raw), Some("+46701234567".to_string()), "{raw}");
        }
    }

    #[test]
    fn a_foreign_mobile_number_keeps_its_country() {
        assert_eq!(e164("+47 412 34 567"), Some("+4741234567".to_string()));
    }

    #[tokio::test]
    async fn locally_each_text_is_one_json_line_in_the_outbox_folder() {
        let dir = std::env::temp_dir().join(format!("skolnav-sms-{}", ulid::Ulid::generate()));
        let sender = FolderSmsSender::new(&dir);
        for text in ["Första", "Andra"] {
            sender
                .send(&Sms {
                    to: MobileNumber::parse("070-123 45 67").unwrap(),
                    text: text.into(),
                })
                .await
                .unwrap();
        }
        let written = std::fs::read_to_string(sender.file()).unwrap();
        let lines: Vec<serde_json::Value> = written
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["to"], "+46701234567");
        assert_eq!(lines[1]["text"], "Andra");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_landline_or_nonsense_is_no_mobile_number() {
        assert_eq!(e164("08-123 456 78"), None);
        assert_eq!(e164("not a number"), None);
        assert_eq!(e164("0701"), None);
    }

    #[test]
    fn the_swedish_series_that_take_texts_are_mobile_and_pager_numbers() {
        for series in ["070", "072", "073", "076", "079"] {
            let raw = format!("{series}-123 45 67");
            assert_eq!(e164(&raw), Some(format!("+46{}1234567", &series[1..])));
        }
        assert_eq!(e164("074-212 34 56"), Some("+46742123456".into()), "pager");
        for refused in [
            "071-123 45 67",  // machine to machine
            "075-123 45 67",  // personal numbers
            "077-123 45 67",  // shared cost
            "0741-123 456",   // pager series not in use
            "070-123 45 678", // one digit too many
            "070-123 45 6",   // one too few
            "+46 8 123 456 78",
        ] {
            assert_eq!(e164(refused), None, "{refused}");
        }
    }

    #[test]
    fn the_trunk_zero_may_be_written_after_the_country_code() {
        for raw in [
            "+46 (0)70-123 45 67",
            "+46 070 123 45 67",
            "0046 070-1234567",
        ] {
            assert_eq!(e164(raw), Some("+46701234567".to_string()), "{raw}");
        }
    }

    #[test]
    fn a_foreign_number_needs_the_e164_shape() {
        assert_eq!(e164("0047 412 34 567"), Some("+4741234567".into()));
        assert_eq!(e164("+358 40 123 4567"), Some("+358401234567".into()));
        assert_eq!(e164("+1 234"), None, "too short");
        assert_eq!(e164("+47 1234 5678 9012 3456"), None, "over 15 digits");
        assert_eq!(
            e164("+047 412 34 567"),
            None,
            "no country code starts with 0"
        );
        assert_eq!(e164("+47 412 34 567 ext 2"), None);
    }
}
