//! The SES v2 adapter against moto, a local endpoint that speaks SES v2:
//! the mail must arrive there.

use skolnav::mail::{Mail, Mailer, SesMailer};
use skolnav_tests::{moto_endpoint, ses_client};

#[tokio::test]
async fn the_ses_adapter_delivers_a_swedish_mail_to_an_ses_v2_endpoint() {
    let client = ses_client();
    client
        .create_email_identity()
        .email_identity("skolnav.test")
        .send()
        .await
        .expect("verify the sender domain in moto");
    let subject = format!(
        "Frånvaroanmälan godkänd: Åsa Öberg {}",
        ulid::Ulid::generate()
    );
    let mailer = SesMailer::new(client, "no-reply@skolnav.test");
    mailer
        .send(&Mail {
            to: "vardnadshavare@example.se".into(),
            subject: subject.clone(),
            text: "Hej!\n\nFrånvaroanmälan är godkänd.\n".into(),
            attachments: vec![],
        })
        .await
        .expect("send");

    let data: serde_json::Value = reqwest::get(format!("{}/moto-api/data.json", moto_endpoint()))
        .await
        .expect("moto data")
        .json()
        .await
        .expect("json");
    let messages = data["ses"]["Message"].to_string();
    assert!(
        messages.contains(&subject),
        "the mail did not arrive: {messages}"
    );
    assert!(messages.contains("vardnadshavare@example.se"));
}

#[tokio::test]
async fn a_sender_that_ses_has_not_verified_is_an_error_not_a_silent_loss() {
    let mailer = SesMailer::new(ses_client(), "someone@unverified.example");
    let result = mailer
        .send(&Mail {
            to: "x@example.se".into(),
            subject: "s".into(),
            text: "t".into(),
            attachments: vec![],
        })
        .await;
    assert!(
        result.is_err(),
        "moto refuses an unverified sender like SES does"
    );
}

#[tokio::test]
async fn the_ses_adapter_sends_a_mail_with_a_calendar_attachment() {
    let client = ses_client();
    client
        .create_email_identity()
        .email_identity("skolnav.test")
        .send()
        .await
        .expect("verify the sender domain in moto");
    let subject = format!("Utvecklingssamtal bokat {}", ulid::Ulid::generate());
    let mailer = SesMailer::new(client, "no-reply@skolnav.test");
    mailer
        .send(&Mail {
            to: "vardnadshavare@example.se".into(),
            subject: subject.clone(),
            text: "Hej!\n\nUtvecklingssamtalet är bokat.\n".into(),
            attachments: vec![skolnav::mail::Attachment {
                file_name: "utvecklingssamtal.ics".into(),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
                data: b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n".to_vec(),
            }],
        })
        .await
        .expect("send with an attachment");
    let data: serde_json::Value = reqwest::get(format!("{}/moto-api/data.json", moto_endpoint()))
        .await
        .expect("moto data")
        .json()
        .await
        .expect("json");
    assert!(
        data["ses"]["Message"].to_string().contains(&subject),
        "the mail did not arrive"
    );
}
