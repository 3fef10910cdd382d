//! The SES v2 adapter against local endpoints that speak SES v2: moto
//! for SendEmail, aws-ses-v2-local (npm) for SendBulkEmail with a
//! template, which moto does not implement. The mail must arrive there.

use skolnav::mail::{Mail, Mailer, SesMailer};
use skolnav_tests::{moto_endpoint, ses_client, ses_local_client, ses_local_endpoint};

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

fn bulk_mail(to: &str, subject: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: subject.into(),
        text: format!("Hej!\n\n\"{subject}\" & <mer> i Skolnav.\n"),
        attachments: vec![],
    }
}

#[tokio::test]
async fn a_bulk_send_is_one_templated_call_and_a_bad_address_fails_alone() {
    let client = ses_local_client();
    let template = format!("skolnav-notice-{}", ulid::Ulid::generate());
    client
        .create_email_template()
        .template_name(&template)
        .template_content(
            aws_sdk_sesv2::types::EmailTemplateContent::builder()
                .subject("{{{subject}}}")
                .text("{{{text}}}")
                .build(),
        )
        .send()
        .await
        .expect("create the notice template");
    let mailer = SesMailer::new(client, "no-reply@skolnav.test").with_template(&template);
    let run = ulid::Ulid::generate();
    let mails = [
        bulk_mail(
            "anna@example.se",
            &format!("Nytt blogginlägg: Utflykt {run}"),
        ),
        bulk_mail("inte en adress", &format!("Nytt blogginlägg: Fel {run}")),
        bulk_mail("bo@example.se", &format!("New blog post: Trip {run}")),
    ];
    let outcome = mailer.send_bulk(&mails).await.expect("the call succeeds");
    assert!(outcome[0].is_ok() && outcome[2].is_ok(), "{outcome:?}");
    assert!(outcome[1].is_err(), "the malformed address fails alone");

    let store: serde_json::Value = reqwest::get(format!("{}/store", ses_local_endpoint()))
        .await
        .expect("the local SES store")
        .json()
        .await
        .expect("json");
    let arrived: Vec<&serde_json::Value> = store["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .filter(|e| {
            e["subject"]
                .as_str()
                .is_some_and(|s| s.ends_with(&run.to_string()))
        })
        .collect();
    assert_eq!(arrived.len(), 2, "{arrived:?}");
    for (mail, got) in [&mails[0], &mails[2]].into_iter().zip(&arrived) {
        assert_eq!(got["destination"]["to"][0], mail.to.as_str());
        assert_eq!(
            got["subject"],
            mail.subject.as_str(),
            "each entry its own subject"
        );
        assert_eq!(
            got["body"]["text"],
            mail.text.as_str(),
            "rendered without HTML escaping"
        );
    }

    // More than SES takes in one call is refused before any call.
    let many: Vec<Mail> = (0..51)
        .map(|i| bulk_mail(&format!("p{i}@example.se"), "x"))
        .collect();
    assert!(mailer.send_bulk(&many).await.is_err());
}
