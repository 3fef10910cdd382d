//! The `Mailer` port: SES v2 in the cloud, a folder of .eml files locally.

use async_trait::async_trait;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailError(pub String);

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// Local adapter: one RFC 5322 file per mail in a folder, named so that
/// they list in the order they were sent.
pub struct FolderMailer {
    dir: PathBuf,
    from: String,
}

impl FolderMailer {
    pub fn new(dir: impl Into<PathBuf>, from: impl Into<String>) -> Self {
        FolderMailer {
            dir: dir.into(),
            from: from.into(),
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

/// RFC 2047 encoded-word for a header with non-ASCII text (å, ä, ö).
fn encode_header(text: &str) -> String {
    use base64::Engine;
    if text.is_ascii() {
        text.to_string()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    }
}

/// The mail as an RFC 5322 message (UTF-8 text body, 8bit).
pub fn to_eml(from: &str, mail: &Mail, date: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "From: {from}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
        mail.to,
        encode_header(&mail.subject),
        date.to_rfc2822(),
        mail.text.replace('\n', "\r\n"),
    )
}

#[async_trait]
impl Mailer for FolderMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| MailError(format!("outbox folder: {e}")))?;
        let name = format!("{}.eml", ulid::Ulid::generate());
        let body = to_eml(&self.from, mail, chrono::Utc::now());
        tokio::fs::write(self.dir.join(name), body)
            .await
            .map_err(|e| MailError(format!("outbox folder: {e}")))
    }
}

#[cfg(feature = "ses")]
pub use ses::SesMailer;

#[cfg(feature = "ses")]
mod ses {
    use super::{Mail, MailError, Mailer};
    use async_trait::async_trait;
    use aws_sdk_sesv2::Client;
    use aws_sdk_sesv2::error::DisplayErrorContext;
    use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

    /// Cloud adapter: SES v2 SendEmail, plain text, UTF-8.
    pub struct SesMailer {
        client: Client,
        from: String,
    }

    impl SesMailer {
        pub fn new(client: Client, from: impl Into<String>) -> Self {
            SesMailer {
                client,
                from: from.into(),
            }
        }
    }

    fn content(text: &str) -> Result<Content, MailError> {
        Content::builder()
            .data(text)
            .charset("UTF-8")
            .build()
            .map_err(|e| MailError(e.to_string()))
    }

    #[async_trait]
    impl Mailer for SesMailer {
        async fn send(&self, mail: &Mail) -> Result<(), MailError> {
            let message = Message::builder()
                .subject(content(&mail.subject)?)
                .body(Body::builder().text(content(&mail.text)?).build())
                .build();
            self.client
                .send_email()
                .from_email_address(&self.from)
                .destination(Destination::builder().to_addresses(&mail.to).build())
                .content(EmailContent::builder().simple(message).build())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| MailError(format!("ses: {}", DisplayErrorContext(&e))))
        }
    }
}
