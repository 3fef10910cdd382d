//! The personal feed (`GET /me/feed`): everything addressed to a person,
//! read in one request of their own notices, and kept in step with edits.

use serde_json::{Value, json};
use skolnav::demo;
use skolnav::ids::{GroupId, OutboxId, PersonId};
use skolnav::keys;
use skolnav::outbox;
use skolnav_tests::{Backend, TestApp};

const FEED: &str = "/me/feed";

fn post_body(groups: &[GroupId], title: &str, body: &str) -> Value {
    let groups: Vec<Value> = groups
        .iter()
        .map(|g| json!({ "groupId": g.to_string() }))
        .collect();
    json!({ "audience": { "groups": groups }, "title": title, "body": body })
}

async fn publish_post(app: &TestApp, groups: &[GroupId], title: &str, body: &str) -> String {
    let res = app
        .post(
            demo::staff(demo::MENTOR_4A),
            "/blog/posts",
            post_body(groups, title, body),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    res.json["post"]["id"]
        .as_str()
        .expect("post id")
        .to_string()
}

/// The feed's subjects, newest first.
async fn feed(app: &TestApp, who: PersonId) -> Vec<Value> {
    let res = app.get(who, FEED).await;
    assert_eq!(res.status, 200, "{}", res.json);
    res.json["items"].as_array().cloned().unwrap_or_default()
}

fn titles(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|n| n["subject"]["title"].as_str())
        .collect()
}

async fn a_guardians_feed_holds_their_childs_class_posts_and_school_news_and_nothing_else(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    publish_post(
        &app,
        &[demo::class(1)],
        "Utflykt",
        "På **fredag** går vi till [skogen](https://example.se). Ta med matsäck.",
    )
    .await;
    let res = app
        .post(
            demo::staff(demo::SUBJECT_TEACHER),
            "/blog/posts",
            post_body(&[demo::class(2)], "Bara 4B", "Läxa till måndag."),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    let school = json!({ "school": { "schoolId": demo::school().to_string(), "pupils": false, "guardians": true } });
    let res = app
        .post(
            demo::staff(demo::PRINCIPAL),
            "/news",
            json!({ "audience": school, "title": "Skolavslutning", "body": "Vi ses i *kyrkan* klockan nio." }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    for _ in 0..3 {
        app.deliver_outbox().await;
    }

    let mine = feed(&app, demo::guardian(1)).await;
    assert_eq!(titles(&mine), ["Skolavslutning", "Utflykt"]);
    let news = &mine[0]["subject"];
    assert_eq!(news["kind"], "news");
    assert_eq!(news["excerpt"], "Vi ses i kyrkan klockan nio.");
    let post = &mine[1]["subject"];
    assert_eq!(post["kind"], "blogPost");
    assert_eq!(post["groupId"], demo::class(1).to_string());
    assert_eq!(post["groupName"], "4A");
    assert_eq!(
        post["excerpt"],
        "På fredag går vi till skogen. Ta med matsäck."
    );
    assert!(mine.iter().all(|n| n.get("readAt").is_none()));

    // The other class's guardian: their class's post and the news.
    assert_eq!(
        titles(&feed(&app, demo::guardian(21)).await),
        ["Skolavslutning", "Bara 4B"]
    );
    // A guardian at the other school got nothing, and the news went to
    // guardians only: a pupil's feed has the class post alone.
    assert!(feed(&app, demo::guardian(41)).await.is_empty());
    assert_eq!(titles(&feed(&app, demo::pupil(1)).await), ["Utflykt"]);

    // Read notices stay in the feed, marked read; pages follow the cursor.
    let id = mine[1]["id"].as_str().expect("notice id");
    let res = app
        .post(
            demo::guardian(1),
            &format!("/me/notices/{id}/read"),
            json!({}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    let first = app.get(demo::guardian(1), &format!("{FEED}?limit=1")).await;
    assert_eq!(
        titles(first.json["items"].as_array().unwrap()),
        ["Skolavslutning"]
    );
    let cursor = first.json["nextCursor"].as_str().expect("a next page");
    let second = app
        .get(
            demo::guardian(1),
            &format!("{FEED}?limit=1&cursor={cursor}"),
        )
        .await;
    let items = second.json["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(titles(&items), ["Utflykt"]);
    assert!(items[0]["readAt"].is_string(), "{}", second.json);
}

async fn reading_the_feed_through_the_api_is_one_query_of_the_callers_own_notices(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    publish_post(&app, &[demo::class(1)], "Utflykt", "Fredag.").await;
    app.deliver_outbox().await;

    let (ctx, issuer, watched) = app.reading_ctx();
    let guardian = demo::guardian(1);
    let (status, body) = skolnav_tests::invoke_event(
        &ctx,
        &issuer,
        "me-feed",
        guardian,
        &skolnav_tests::sample_event("me-feed"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(titles(body["items"].as_array().unwrap()), ["Utflykt"]);
    assert_eq!(
        watched.watcher.taken(),
        [format!("query {}", keys::notices_partition(guardian))],
        "one request, of the caller's own notices, and not their record"
    );
}

async fn a_token_names_only_its_own_feed_and_an_unknown_person_has_an_empty_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    publish_post(&app, &[demo::class(1)], "Utflykt", "Fredag.").await;
    app.deliver_outbox().await;
    // Nothing in the request chooses whose feed: there is no parameter.
    let other = app
        .get(
            demo::guardian(41),
            &format!("{FEED}?personId={}", demo::guardian(1)),
        )
        .await;
    assert_eq!(other.status, 200, "{}", other.json);
    assert_eq!(other.json["items"], json!([]));
    let stranger = PersonId::generate();
    let res = app.get(stranger, FEED).await;
    assert_eq!(res.status, 200, "{}", res.json);
    assert_eq!(res.json["items"], json!([]));
    let res = app.get(stranger, "/me/notices/unread-count").await;
    assert_eq!(res.json["unread"], 0);
    // Bad paging is a problem naming the field.
    let res = app.get(demo::guardian(1), &format!("{FEED}?limit=0")).await;
    assert_eq!(res.status, 400, "{}", res.json);
    assert!(res.json.to_string().contains("limit"), "{}", res.json);
}

async fn an_edited_post_revises_its_notices_keeps_them_read_and_mails_nobody_again(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let class = demo::class(1);
    let post = publish_post(&app, &[class], "Utflykt fredag", "Vi går till skogen.").await;
    app.deliver_outbox().await;
    let mails = app.mailer.sent().len();
    assert!(mails > 0, "the post was mailed to those who want it");
    let guardian = demo::guardian(1);
    let id = feed(&app, guardian).await[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let res = app
        .post(guardian, &format!("/me/notices/{id}/read"), json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.json);

    let res = app
        .put(
            demo::staff(demo::MENTOR_4A),
            &format!("/groups/{class}/posts/{post}"),
            json!({ "title": "Utflykt flyttad", "body": "Vi går till **sjön** i stället." }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    app.deliver_outbox().await;

    for who in [guardian, demo::guardian(20), demo::pupil(1)] {
        let items = feed(&app, who).await;
        assert_eq!(titles(&items), ["Utflykt flyttad"], "{who}");
        assert_eq!(
            items[0]["subject"]["excerpt"],
            "Vi går till sjön i stället."
        );
        assert!(items[0]["revisedAt"].is_string(), "{}", items[0]);
    }
    assert!(feed(&app, guardian).await[0]["readAt"].is_string());
    let count = app.get(guardian, "/me/notices/unread-count").await;
    assert_eq!(count.json["unread"], 0, "read stays read");
    assert_eq!(app.mailer.sent().len(), mails, "an edit mails nobody");

    // An edit of the attachments alone leaves the notices as they are.
    let res = app
        .put(
            demo::staff(demo::MENTOR_4A),
            &format!("/groups/{class}/posts/{post}"),
            json!({ "title": "Utflykt flyttad", "body": "Vi går till **sjön** i stället.", "attachments": [] }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    assert!(
        pending_revisions(&app).await.is_empty(),
        "no revision without a new title or text"
    );
}

async fn pending_revisions(app: &TestApp) -> Vec<OutboxId> {
    let mut found = Vec::new();
    for id in outbox::pending(app.store.as_ref(), 100).await.unwrap() {
        let item = app.store.get(&keys::outbox(id)).await.unwrap();
        if item.is_some_and(|i| skolnav::notices::is_revision(&i)) {
            found.push(id);
        }
    }
    found
}

async fn an_edit_before_delivery_and_revisions_out_of_order_leave_the_latest_text(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let class = demo::class(1);
    let author = demo::staff(demo::MENTOR_4A);
    let post = publish_post(&app, &[class], "Första", "Ett.").await;
    let path = format!("/groups/{class}/posts/{post}");
    // Edited twice before anything was delivered.
    for (title, body) in [("Andra", "Två."), ("Tredje", "Tre.")] {
        let res = app
            .put(author, &path, json!({ "title": title, "body": body }))
            .await;
        assert_eq!(res.status, 200, "{}", res.json);
    }
    let mut revisions = pending_revisions(&app).await;
    assert_eq!(revisions.len(), 2);
    revisions.sort();
    revisions.reverse();
    let deliver = |id| {
        outbox::deliver(
            app.store.as_ref(),
            app.mailer.as_ref(),
            skolnav_tests::school_morning(),
            id,
        )
    };
    // Before the audience is expanded a revision waits (and is retried).
    assert!(deliver(revisions[0]).await.is_err());
    let expansion = outbox::pending(app.store.as_ref(), 100)
        .await
        .unwrap()
        .into_iter()
        .find(|id| !revisions.contains(id))
        .expect("the post's expansion");
    assert!(matches!(
        deliver(expansion).await,
        Ok(outbox::Delivery::Expanded)
    ));
    // The later revision first, then the earlier one, then the batches.
    for id in revisions {
        let done = deliver(id).await.expect("revised");
        assert!(matches!(done, outbox::Delivery::Revised), "{done:?}");
    }
    app.deliver_outbox().await;
    let items = feed(&app, demo::guardian(1)).await;
    assert_eq!(titles(&items), ["Tredje"]);
    assert_eq!(items[0]["subject"]["excerpt"], "Tre.");
    // The mail names the title of the moment it was sent: the latest.
    assert!(
        app.mailer
            .sent()
            .iter()
            .all(|m| m.subject.contains("Tredje")),
        "{:?}",
        app.mailer
            .sent()
            .iter()
            .map(|m| &m.subject)
            .collect::<Vec<_>>()
    );
}

/// A guardian with protected identity (skyddade personuppgifter),
/// registered by hand with consent: of pupil 3 in 4A.
async fn add_protected_guardian(app: &TestApp) -> PersonId {
    use skolnav::directory::{self, Language, Person, Relation};
    let id = PersonId::generate();
    let items = directory::person_items(
        &Person {
            id,
            given_name: "Sekretess".into(),
            family_name: "Skyddadsson".into(),
            email: Some("skyddad@example.se".into()),
            mobile: None,
            text_to: None,
            language: Language::Sv,
            mail: Default::default(),
            left: None,
            protected_identity: true,
        },
        &[Relation::GuardianOf {
            pupil_id: demo::pupil(3),
            places: None,
        }],
    )
    .expect("items");
    app.store.batch_put(&items).await.expect("the guardian");
    id
}

async fn a_protected_guardian_is_notified_and_appears_in_nothing_anyone_is_shown(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let protected = add_protected_guardian(&app).await;
    let secrets = [
        protected.to_string(),
        "Skyddadsson".to_string(),
        "skyddad@example.se".to_string(),
    ];
    let shows_nothing = |what: &str, text: &str| {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{what} shows {secret}: {text}"
            );
        }
    };

    let author = demo::staff(demo::MENTOR_4A);
    let res = app
        .post(
            author,
            "/blog/posts",
            post_body(&[demo::class(1)], "Utflykt", "Fredag."),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    shows_nothing("the publish answer", &res.json.to_string());
    app.deliver_outbox().await;

    // Notified like any guardian: in the app and by mail, a mail of their own.
    assert_eq!(titles(&feed(&app, protected).await), ["Utflykt"]);
    let mails = app.mailer.sent();
    let theirs: Vec<_> = mails
        .iter()
        .filter(|m| m.to == "skyddad@example.se")
        .collect();
    assert_eq!(theirs.len(), 1, "one mail, to them alone");
    for mail in &mails {
        assert!(!mail.to.contains(','), "one address per mail: {}", mail.to);
        shows_nothing("a mail", &format!("{} {}", mail.subject, mail.text));
    }
    // Nothing the author, the other guardians or the pupils read names them.
    for (who, path) in [
        (author, format!("/groups/{}/posts", demo::class(1))),
        (
            demo::guardian(3),
            format!("/groups/{}/posts", demo::class(1)),
        ),
        (demo::guardian(3), FEED.to_string()),
        (demo::pupil(3), FEED.to_string()),
        (author, format!("/groups/{}/talks/bookings", demo::class(1))),
    ] {
        let res = app.get(who, &path).await;
        shows_nothing(&path, &res.text);
    }
}

on_both_stores!(
    a_protected_guardian_is_notified_and_appears_in_nothing_anyone_is_shown,
    a_guardians_feed_holds_their_childs_class_posts_and_school_news_and_nothing_else,
    reading_the_feed_through_the_api_is_one_query_of_the_callers_own_notices,
    a_token_names_only_its_own_feed_and_an_unknown_person_has_an_empty_one,
    an_edited_post_revises_its_notices_keeps_them_read_and_mails_nobody_again,
    an_edit_before_delivery_and_revisions_out_of_order_leave_the_latest_text,
);
