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
/// as it is and does not link the phone-number metadata (its regexes are
/// about a tenth of a package and tens of milliseconds of init).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct MobileNumber(String);

impl MobileNumber {
    /// The number a person gave, if it is a valid mobile or fixed-or-mobile
    /// number (a Swedish landline cannot take a text).
    pub fn parse(raw: &str) -> Option<Self> {
        use phonenumber::{Mode, Type, country};
        let number = phonenumber::parse(Some(country::Id::SE), raw).ok()?;
        if !phonenumber::is_valid(&number) {
            return None;
        }
        match number.number_type(&phonenumber::metadata::DATABASE) {
            Type::Mobile | Type::FixedLineOrMobile | Type::Pager => {}
            _ => return None,
        }
        Some(MobileNumber(number.format().mode(Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
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

    #[test]
    fn a_swedish_mobile_number_as_people_write_it_becomes_e164() {
        for raw in [
            "070-123 45 67",
            "0701234567",
            "+46 70 123 45 67",
            "0046701234567",
        ] {
            assert_eq!(
                MobileNumber::parse(raw).map(|n| n.0),
                Some("+46701234567".to_string()),
                "{raw}"
            );
        }
    }

    #[test]
    fn a_foreign_mobile_number_keeps_its_country() {
        assert_eq!(
            MobileNumber::parse("+47 412 34 567").map(|n| n.0),
            Some("+4741234567".to_string())
        );
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
        assert_eq!(MobileNumber::parse("08-123 456 78"), None);
        assert_eq!(MobileNumber::parse("not a number"), None);
        assert_eq!(MobileNumber::parse("0701"), None);
    }
}
