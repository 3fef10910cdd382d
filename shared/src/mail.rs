//! The `Mailer` port: SES v2 in the cloud, a folder of .eml files locally.

use async_trait::async_trait;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// Files sent with the text (an iCalendar event), usually none.
    pub attachments: Vec<Attachment>,
}

/// A file attached to a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub file_name: String,
    /// The MIME type with its parameters (`text/calendar; charset=utf-8; method=PUBLISH`).
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MailError(pub String);

/// At most this many mails go in one [`Mailer::send_bulk`] call (SES
/// SendBulkEmail takes at most 50 destinations).
pub const BULK_LIMIT: usize = 50;

/// What became of each mail of a bulk send, in the order given.
pub type BulkOutcome = Vec<Result<(), MailError>>;

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;

    /// Sends up to [`BULK_LIMIT`] mails without attachments, in one call
    /// where the adapter has one (SES SendBulkEmail). `Err`: the call
    /// failed as a whole and none was sent; `Ok`: each mail's outcome (a
    /// mail can fail alone, e.g. a malformed address). Adapters without a
    /// bulk call send one by one.
    async fn send_bulk(&self, mails: &[Mail]) -> Result<BulkOutcome, MailError> {
        check_bulk(mails)?;
        let mut outcome = Vec::with_capacity(mails.len());
        for mail in mails {
            outcome.push(self.send(mail).await);
        }
        Ok(outcome)
    }
}

/// An error text with every e-mail address blanked: SES names refused
/// recipients in its messages, and addresses must not reach the logs.
pub fn without_addresses(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.contains('@') {
                "<address>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A bulk send is at most [`BULK_LIMIT`] mails, none with attachments.
pub fn check_bulk(mails: &[Mail]) -> Result<(), MailError> {
    if mails.len() > BULK_LIMIT {
        return Err(MailError(format!(
            "{} mails in one bulk send, at most {BULK_LIMIT}",
            mails.len()
        )));
    }
    if mails.iter().any(|m| !m.attachments.is_empty()) {
        return Err(MailError("a bulk mail cannot carry attachments".into()));
    }
    Ok(())
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

/// The mail as an RFC 5322 message: UTF-8 text (8bit), and with
/// attachments a multipart/mixed message with each file in base64.
pub fn to_eml(from: &str, mail: &Mail, date: chrono::DateTime<chrono::Utc>) -> String {
    use base64::Engine;
    let head = format!(
        "From: {from}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMIME-Version: 1.0\r\n",
        mail.to,
        encode_header(&mail.subject),
        date.to_rfc2822(),
    );
    let text = mail.text.replace('\n', "\r\n");
    let plain = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n";
    if mail.attachments.is_empty() {
        return format!("{head}{plain}\r\n{text}");
    }
    let boundary = format!("skolnav-{}", ulid::Ulid::generate());
    let mut out = format!(
        "{head}Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n{plain}\r\n{text}\r\n"
    );
    for a in &mail.attachments {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&a.data);
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: {}\r\nContent-Disposition: attachment; filename=\"{}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            a.content_type,
            a.file_name,
            lines.join("\r\n"),
        ));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out
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
    use super::{BulkOutcome, Mail, MailError, Mailer, check_bulk, without_addresses};
    use async_trait::async_trait;
    use aws_sdk_sesv2::Client;
    use aws_sdk_sesv2::error::DisplayErrorContext;
    use aws_sdk_sesv2::types::{
        Attachment, AttachmentContentDisposition, AttachmentContentTransferEncoding, Body,
        BulkEmailContent, BulkEmailEntry, BulkEmailStatus, Content, Destination, EmailContent,
        Message, ReplacementEmailContent, ReplacementTemplate, Template,
    };

    /// Cloud adapter: SES v2 SendEmail, plain text, UTF-8; and
    /// SendBulkEmail with the notice template (its subject and text parts
    /// are `{{{subject}}}` and `{{{text}}}`, so each mail is rendered here,
    /// in the recipient's language, as a single mail would be).
    pub struct SesMailer {
        client: Client,
        from: String,
        template: Option<String>,
    }

    impl SesMailer {
        pub fn new(client: Client, from: impl Into<String>) -> Self {
            SesMailer {
                client,
                from: from.into(),
                template: None,
            }
        }

        /// The SES template bulk sends use (SKOLNAV_SES_TEMPLATE).
        pub fn with_template(mut self, name: impl Into<String>) -> Self {
            self.template = Some(name.into());
            self
        }
    }

    /// The template data of one mail: `{"subject": ..., "text": ...}`.
    fn template_data(mail: &Mail) -> String {
        serde_json::json!({ "subject": mail.subject, "text": mail.text }).to_string()
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
            let mut message = Message::builder()
                .subject(content(&mail.subject)?)
                .body(Body::builder().text(content(&mail.text)?).build());
            for a in &mail.attachments {
                message = message.attachments(
                    Attachment::builder()
                        .raw_content(aws_sdk_sesv2::primitives::Blob::new(a.data.clone()))
                        .file_name(&a.file_name)
                        .content_type(&a.content_type)
                        .content_disposition(AttachmentContentDisposition::Attachment)
                        .content_transfer_encoding(AttachmentContentTransferEncoding::Base64)
                        .build()
                        .map_err(|e| MailError(e.to_string()))?,
                );
            }
            let message = message.build();
            self.client
                .send_email()
                .from_email_address(&self.from)
                .destination(Destination::builder().to_addresses(&mail.to).build())
                .content(EmailContent::builder().simple(message).build())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    MailError(without_addresses(&format!(
                        "ses: {}",
                        DisplayErrorContext(&e)
                    )))
                })
        }

        async fn send_bulk(&self, mails: &[Mail]) -> Result<BulkOutcome, MailError> {
            check_bulk(mails)?;
            if mails.is_empty() {
                return Ok(Vec::new());
            }
            let Some(template) = &self.template else {
                return Err(MailError("no SES template configured for bulk mail".into()));
            };
            let entries = mails
                .iter()
                .map(|mail| {
                    BulkEmailEntry::builder()
                        .destination(Destination::builder().to_addresses(&mail.to).build())
                        .replacement_email_content(
                            ReplacementEmailContent::builder()
                                .replacement_template(
                                    ReplacementTemplate::builder()
                                        .replacement_template_data(template_data(mail))
                                        .build(),
                                )
                                .build(),
                        )
                        .build()
                })
                .collect();
            let answer = self
                .client
                .send_bulk_email()
                .from_email_address(&self.from)
                .default_content(
                    BulkEmailContent::builder()
                        .template(
                            Template::builder()
                                .template_name(template)
                                .template_data(template_data(&mails[0]))
                                .build(),
                        )
                        .build(),
                )
                .set_bulk_email_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    MailError(without_addresses(&format!(
                        "ses: {}",
                        DisplayErrorContext(&e)
                    )))
                })?;
            let results = answer.bulk_email_entry_results();
            if results.len() != mails.len() {
                return Err(MailError(format!(
                    "ses: {} results for {} mails",
                    results.len(),
                    mails.len()
                )));
            }
            Ok(results
                .iter()
                .map(|r| match r.status() {
                    Some(BulkEmailStatus::Success) => Ok(()),
                    status => Err(MailError(without_addresses(&format!(
                        "ses: {} {}",
                        status.map(|s| s.as_str()).unwrap_or("no status"),
                        r.error().unwrap_or_default()
                    )))),
                })
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(attachments: Vec<Attachment>) -> Mail {
        Mail {
            to: "anna@example.se".into(),
            subject: "Utvecklingssamtal bokat".into(),
            text: "Hej!\nTiden är bokad.".into(),
            attachments,
        }
    }

    #[test]
    fn an_error_text_loses_its_addresses() {
        assert_eq!(
            without_addresses(
                "MessageRejected: Email address is not verified: anna.berg@example.se, x@y.se"
            ),
            "MessageRejected: Email address is not verified: <address> <address>"
        );
    }

    #[test]
    fn a_mail_without_attachments_is_one_plain_text_part() {
        let eml = to_eml("no-reply@skolnav.se", &mail(vec![]), chrono::Utc::now());
        assert!(eml.contains("Content-Type: text/plain; charset=utf-8\r\n"));
        assert!(!eml.contains("multipart"));
        assert!(eml.ends_with("Hej!\r\nTiden är bokad."));
    }

    #[test]
    fn an_attachment_makes_a_multipart_message_with_the_file_in_base64() {
        use base64::Engine;
        let data = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec();
        let eml = to_eml(
            "no-reply@skolnav.se",
            &mail(vec![Attachment {
                file_name: "samtal.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                data: data.clone(),
            }]),
            chrono::Utc::now(),
        );
        assert!(eml.contains("Content-Type: multipart/mixed; boundary=\"skolnav-"));
        assert!(eml.contains("filename=\"samtal.ics\""));
        assert!(eml.contains(&base64::engine::general_purpose::STANDARD.encode(&data)));
        assert!(eml.contains("Tiden är bokad."));
        assert!(eml.trim_end().ends_with("--"));
    }
}
