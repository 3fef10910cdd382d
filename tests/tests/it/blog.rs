//! C2 and C7 end to end through the local server's HTTP surface, on the
//! embedded store and on DynamoDB Local: staff publish group-blog posts to
//! audiences they may address, pupils and guardians read exactly what is
//! addressed to them, the author alone edits and deletes, and every
//! publish leaves one unread notice per person reached.

use serde_json::{Value, json};
use skolnav::demo;
use skolnav::directory::{self, Group, GroupKind, Language, Person, Relation};
use skolnav::ids::{GroupId, PersonId};
use skolnav::keys;
use skolnav::store::StoreError;
use skolnav_tests::{Backend, TestApp, TestResponse, Watched, Watcher, Writing};
use std::sync::atomic::{AtomicBool, Ordering};

const POSTS: &str = "/blog/posts";

fn feed_path(group: GroupId) -> String {
    format!("/groups/{group}/posts")
}

fn post_path(group: GroupId, post: &str) -> String {
    format!("/groups/{group}/posts/{post}")
}

fn to_groups(groups: &[GroupId]) -> Value {
    json!({ "groups": groups.iter().map(|g| json!({ "groupId": g.to_string() })).collect::<Vec<_>>() })
}

fn post_body(groups: &[GroupId], title: &str) -> Value {
    json!({ "audience": to_groups(groups), "title": title, "body": "Vi går till **skogen**." })
}

async fn publish(app: &TestApp, who: PersonId, body: Value) -> TestResponse {
    app.post(who, POSTS, body).await
}

async fn a_guardian_of_a_pupil_in_group_a_never_sees_group_b_posts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (a, b) = (demo::class(1), demo::class(2));
    let to_b = publish(
        &app,
        demo::staff(demo::MENTOR_4B),
        post_body(&[b], "Bara 4B"),
    )
    .await;
    assert_eq!(to_b.status, 201, "{}", to_b.json);
    let to_a = publish(
        &app,
        demo::staff(demo::MENTOR_4A),
        post_body(&[a], "Bara 4A"),
    )
    .await;
    assert_eq!(to_a.status, 201, "{}", to_a.json);
    app.deliver_outbox().await;

    // Guardian 1 (child in 4A) reads 4A, never 4B; guardian 21 the reverse.
    let own = app.get(demo::guardian(1), &feed_path(a)).await;
    assert_eq!(own.status, 200, "{}", own.json);
    assert_eq!(own.item_titles(), ["Bara 4A"]);
    let other = app.get(demo::guardian(1), &feed_path(b)).await;
    assert_eq!(other.status, 404, "{}", other.json);
    assert!(!other.json.to_string().contains("Bara 4B"));
    assert_eq!(app.notice_titles(demo::guardian(1)).await, ["Bara 4A"]);
    assert_eq!(app.notice_titles(demo::guardian(21)).await, ["Bara 4B"]);
    assert_eq!(
        app.get(demo::guardian(21), &feed_path(b))
            .await
            .item_titles(),
        ["Bara 4B"]
    );
    // The other school's family hears of neither.
    assert!(app.notice_titles(demo::guardian(41)).await.is_empty());
}

async fn a_post_to_pupils_only_is_not_shown_to_guardians(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = demo::class(1);
    let body = json!({
        "audience": { "groups": [{ "groupId": a.to_string(), "pupils": true, "guardians": false }] },
        "title": "Till eleverna",
        "body": "Läxa till fredag."
    });
    let res = publish(&app, demo::staff(demo::MENTOR_4A), body).await;
    assert_eq!(res.status, 201, "{}", res.json);
    assert_eq!(res.status, 201, "{}", res.json);
    app.deliver_outbox().await;
    assert_eq!(
        app.get(demo::pupil(1), &feed_path(a)).await.item_titles(),
        ["Till eleverna"]
    );
    assert!(
        app.get(demo::guardian(1), &feed_path(a))
            .await
            .item_titles()
            .is_empty()
    );
    assert_eq!(app.notice_titles(demo::pupil(1)).await, ["Till eleverna"]);
    assert!(app.notice_titles(demo::guardian(1)).await.is_empty());
    // Staff of the group see every post.
    assert_eq!(
        app.get(demo::staff(demo::SUBJECT_TEACHER), &feed_path(a))
            .await
            .item_titles(),
        ["Till eleverna"]
    );
}

async fn a_teacher_cannot_post_to_a_group_they_do_not_teach(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    for (groups, field) in [
        (vec![demo::class(2)], "audience.groups[0].groupId"),
        (
            vec![demo::class(1), demo::class(2)],
            "audience.groups[1].groupId",
        ),
        (vec![demo::class(3)], "audience.groups[0].groupId"),
        // A group that does not exist is refused alike: no existence leak.
        (vec![GroupId::generate()], "audience.groups[0].groupId"),
    ] {
        let res = publish(&app, mentor, post_body(&groups, "Fel grupp")).await;
        assert_eq!(res.status, 403, "{}", res.json);
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(res.json["invalidParams"][0]["name"], field);
    }
    app.deliver_outbox().await;
    for g in [demo::class(1), demo::class(2)] {
        let feed = app.get(demo::staff(demo::PRINCIPAL), &feed_path(g)).await;
        assert!(feed.item_titles().is_empty(), "nothing was written");
    }
    assert!(app.notice_titles(demo::guardian(21)).await.is_empty());
}

async fn a_guardian_or_a_pupil_cannot_post(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for who in [demo::guardian(1), demo::pupil(1)] {
        let res = publish(&app, who, post_body(&[demo::class(1)], "Hej")).await;
        assert_eq!(res.status, 403, "{}", res.json);
        assert_eq!(res.content_type, "application/problem+json");
    }
    let feed = app.get(demo::guardian(1), &feed_path(demo::class(1))).await;
    assert!(feed.item_titles().is_empty());
}

async fn only_the_author_edits_or_deletes_a_post_in_every_group(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (a, b) = (demo::class(1), demo::class(2));
    let author = demo::staff(demo::SUBJECT_TEACHER);
    let res = publish(&app, author, post_body(&[a, b], "Prov")).await;
    assert_eq!(res.status, 201, "{}", res.json);
    let id = res.json["post"]["id"]
        .as_str()
        .expect("post id")
        .to_string();
    let edit = json!({ "title": "Prov flyttat", "body": "Nu på **tisdag**." });

    for (who, want) in [
        (demo::staff(demo::MENTOR_4A), 403),
        (demo::staff(demo::PRINCIPAL), 403),
        (demo::guardian(1), 403),
        (demo::pupil(1), 403),
        (demo::guardian(41), 404),
        (demo::staff(demo::OTHER_SCHOOL_ADMIN), 404),
    ] {
        let res = app.put(who, &post_path(a, &id), edit.clone()).await;
        assert_eq!(res.status, want, "edit by {who}: {}", res.json);
        let res = app.delete(who, &post_path(a, &id), None).await;
        assert_eq!(res.status, want, "delete by {who}: {}", res.json);
    }
    assert_eq!(app.get(author, &feed_path(b)).await.item_titles(), ["Prov"]);

    let res = app.put(author, &post_path(b, &id), edit).await;
    assert_eq!(res.status, 200, "{}", res.json);
    assert!(
        res.json["bodyHtml"]
            .as_str()
            .is_some_and(|h| h.contains("<strong>tisdag</strong>"))
    );
    assert_eq!(
        app.get(demo::guardian(1), &feed_path(a))
            .await
            .item_titles(),
        ["Prov flyttat"]
    );
    assert_eq!(
        app.get(demo::guardian(21), &feed_path(b))
            .await
            .item_titles(),
        ["Prov flyttat"]
    );

    let res = app.delete(author, &post_path(a, &id), None).await;
    assert_eq!(res.status, 200, "{}", res.json);
    for g in [a, b] {
        assert!(
            app.get(author, &feed_path(g))
                .await
                .item_titles()
                .is_empty()
        );
    }
    let again = app.delete(author, &post_path(a, &id), None).await;
    assert_eq!(again.status, 404);
}

/// A third group, 4C, taught by nobody but led by the principal: pupil 2
/// of 4A is in it too, and a new pupil whose guardian is guardian 1 (who
/// has a child in 4A already).
async fn add_group_4c(app: &TestApp) -> (GroupId, PersonId) {
    let group = GroupId::generate();
    let pupil = PersonId::generate();
    let school = demo::school();
    let mut items = vec![
        directory::group_item(&Group {
            id: group,
            school_id: school,
            name: "4C".into(),
            kind: GroupKind::TeachingGroup,
        })
        .expect("group item"),
    ];
    items.extend(
        directory::person_items(
            &Person {
                id: pupil,
                given_name: "Tove".into(),
                family_name: "Ny".into(),
                email: None,
                mobile: None,
                text_to: None,
                language: Language::Sv,
                mail: Default::default(),
                left: None,
                protected_identity: false,
            },
            &[
                Relation::EnrolledAt {
                    school_id: school,
                    school_year: None,
                },
                Relation::MemberOf {
                    group_id: group,
                    school_id: school,
                    name: None,
                },
            ],
        )
        .expect("pupil items"),
    );
    for (holder, relation) in [
        (
            demo::guardian(1),
            Relation::GuardianOf {
                pupil_id: pupil,
                places: None,
            },
        ),
        (
            demo::pupil(2),
            Relation::MemberOf {
                group_id: group,
                school_id: school,
                name: None,
            },
        ),
    ] {
        items.push(relation.to_item(holder).expect("relation item"));
    }
    app.store.batch_put(&items).await.expect("group 4C");
    // Guardian 2's copy of where pupil 2 is follows, as after an import.
    let moved = [demo::pupil(2)].into_iter().collect();
    skolnav::child_places::copy_to_guardians(app.store.as_ref(), &moved)
        .await
        .expect("the copies");
    (group, pupil)
}

async fn a_post_to_three_groups_with_overlapping_families_gives_each_person_one_notice(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (c, new_pupil) = add_group_4c(&app).await;
    let groups = [demo::class(1), demo::class(2), c];
    let res = publish(
        &app,
        demo::staff(demo::PRINCIPAL),
        post_body(&groups, "Till alla tre"),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.json);
    // Who they are is never in the answer.
    assert!(
        !res.json
            .to_string()
            .contains(&demo::guardian(1).to_string())
    );
    app.deliver_outbox().await;
    // A second drain (a replayed stream) writes nothing new.
    app.deliver_outbox().await;
    // 41 pupils (1-40 and the new one) and 60 guardians (1-40, 51-70):
    // guardian 1, pupil 2 and pupil 2's guardians are reached twice, and
    // counted once by the outbox that found them.
    let post_id = res.json["post"]["id"]
        .as_str()
        .and_then(skolnav::ids::PostId::parse)
        .expect("post id");
    let post: skolnav::blog::Post = app
        .store
        .get(&keys::blog_post(demo::class(1), post_id))
        .await
        .expect("read")
        .expect("the post")
        .parse()
        .expect("a post");
    let expansion_id = post.notice.and_then(|n| n.expansion).expect("its notice");
    let expansion: skolnav::notices::Expansion = app
        .store
        .get(&keys::outbox(expansion_id))
        .await
        .expect("read")
        .expect("the expansion")
        .parse()
        .expect("an expansion");
    assert_eq!(expansion.recipients, Some(101));

    for who in [
        demo::guardian(1),
        demo::guardian(2),
        demo::guardian(51),
        demo::pupil(2),
        new_pupil,
        demo::guardian(40),
    ] {
        assert_eq!(
            app.notice_titles(who).await,
            ["Till alla tre"],
            "one notice for {who}"
        );
        let count = app.get(who, "/me/notices/unread-count").await;
        assert_eq!(count.json["unread"], 1, "{who}");
    }
    assert!(
        app.notice_titles(demo::staff(demo::PRINCIPAL))
            .await
            .is_empty()
    );
    assert!(app.notice_titles(demo::guardian(41)).await.is_empty());

    // Mark read: gone from the unread list and count; again is harmless.
    let list = app.get(demo::guardian(1), "/me/notices").await;
    let id = list.json["items"][0]["id"]
        .as_str()
        .expect("notice id")
        .to_string();
    let read = app
        .post(
            demo::guardian(1),
            &format!("/me/notices/{id}/read"),
            json!({}),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.json);
    assert!(read.json["readAt"].is_string());
    let again = app
        .post(
            demo::guardian(1),
            &format!("/me/notices/{id}/read"),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 200);
    assert!(app.notice_titles(demo::guardian(1)).await.is_empty());
    let count = app.get(demo::guardian(1), "/me/notices/unread-count").await;
    assert_eq!(count.json["unread"], 0);
    // Someone without that notice cannot mark it.
    let foreign = app
        .post(
            demo::guardian(41),
            &format!("/me/notices/{id}/read"),
            json!({}),
        )
        .await;
    assert_eq!(foreign.status, 404);
    // Guardian 2 still has theirs unread.
    assert_eq!(app.notice_titles(demo::guardian(2)).await.len(), 1);
}

async fn markdown_is_sanitised_and_only_youtube_or_vimeo_links_are_embedded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = demo::class(1);
    let body = json!({
        "audience": to_groups(&[a]),
        "title": "Film",
        "body": "Se <script>alert('x')</script> [här](javascript:alert(1))\n\nhttps://youtu.be/dQw4w9WgXcQ\n\nhttps://evil.example.com/watch?v=dQw4w9WgXcQ"
    });
    let res = publish(&app, demo::staff(demo::MENTOR_4A), body).await;
    assert_eq!(res.status, 201, "{}", res.json);
    let feed = app.get(demo::guardian(1), &feed_path(a)).await;
    let post = &feed.json["items"][0];
    let html = post["bodyHtml"].as_str().expect("bodyHtml").to_lowercase();
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("href=\"javascript"), "{html}");
    let embeds = post["embeds"].as_array().expect("embeds");
    assert_eq!(embeds.len(), 1, "{embeds:?}");
    assert_eq!(embeds[0]["provider"], "youtube");
    assert_eq!(
        embeds[0]["embedUrl"],
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    );
    assert!(!html.contains("<iframe src=\"https://evil"));
    assert_eq!(html.matches("<iframe").count(), 1);
}

async fn bad_input_gets_a_problem_naming_the_field_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let a = demo::class(1).to_string();
    let long = "x".repeat(20_001);
    let cases = [
        (
            json!({ "audience": { "groups": [{ "groupId": a }] }, "body": "b" }),
            "title",
        ),
        (
            json!({ "audience": { "groups": [{ "groupId": a }] }, "title": "  ", "body": "b" }),
            "title",
        ),
        (
            json!({ "audience": { "groups": [{ "groupId": a }] }, "title": "t", "body": long }),
            "body",
        ),
        (json!({ "title": "t", "body": "b" }), "audience"),
        (
            json!({ "audience": { "groups": [{ "groupId": "4A" }] }, "title": "t", "body": "b" }),
            "audience.groups[0].groupId",
        ),
        (
            json!({ "audience": { "groups": [] }, "title": "t", "body": "b" }),
            "audience.groups",
        ),
        (
            json!({ "audience": { "groups": [{ "groupId": a, "pupils": false, "guardians": false }] }, "title": "t", "body": "b" }),
            "audience.groups[0]",
        ),
        (
            json!({ "audience": { "schoolStaff": { "schoolId": demo::school().to_string() } }, "title": "t", "body": "b" }),
            "audience",
        ),
        (
            json!({ "audience": { "groups": [{ "groupId": a }] }, "title": "t", "body": "b", "comments": true }),
            "comments",
        ),
    ];
    for (body, field) in cases {
        let res = publish(&app, mentor, body.clone()).await;
        assert_eq!(res.status, 400, "{body}: {}", res.json);
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(
            res.json["invalidParams"][0]["name"], field,
            "{body}: {}",
            res.json
        );
    }
    let edit = app
        .put(
            mentor,
            &post_path(demo::class(1), &GroupId::generate().to_string()),
            json!({ "title": "" , "body": "b" }),
        )
        .await;
    assert_eq!(edit.status, 400);
    assert_eq!(edit.json["invalidParams"][0]["name"], "title");
    app.deliver_outbox().await;
    assert!(
        app.get(mentor, &feed_path(demo::class(1)))
            .await
            .item_titles()
            .is_empty()
    );
    assert!(app.notice_titles(demo::guardian(1)).await.is_empty());
}

/// Writing one person's notice fails once (a throttled or lost write in
/// the middle of a batch).
struct FailsOnce {
    victim: String,
    failed: AtomicBool,
}

impl Watcher for FailsOnce {
    fn writing(&self, write: Writing<'_>) -> Result<(), StoreError> {
        match write {
            Writing::Put(item)
                if item.key.pk == self.victim && !self.failed.swap(true, Ordering::SeqCst) =>
            {
                Err(StoreError::Unavailable("injected failure".into()))
            }
            _ => Ok(()),
        }
    }
}

async fn a_failing_notice_batch_is_retried_alone_and_nobody_gets_a_notice_twice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let groups = [demo::class(1), demo::class(2)];
    let res = publish(
        &app,
        demo::staff(demo::PRINCIPAL),
        post_body(&groups, "Två klasser"),
    )
    .await;
    // 40 pupils and 60 guardians: two batches of 50.
    assert_eq!(res.status, 201, "{}", res.json);
    let victim = demo::guardian(21);
    let failing = Watched::new(
        app.store.clone(),
        FailsOnce {
            victim: keys::notices_partition(victim),
            failed: AtomicBool::new(false),
        },
    );
    skolnav_local::drain_outbox(
        &failing,
        app.mailer.as_ref(),
        app.sms.as_ref(),
        app.clock.as_ref(),
    )
    .await;
    assert!(
        failing.watcher.failed.load(Ordering::SeqCst),
        "the failure happened"
    );
    let pending = skolnav::outbox::pending(app.store.as_ref(), 100)
        .await
        .expect("pending");
    assert_eq!(pending.len(), 1, "only the failed batch waits for a retry");
    assert!(app.notice_titles(victim).await.is_empty());

    app.deliver_outbox().await;
    let pending = skolnav::outbox::pending(app.store.as_ref(), 100)
        .await
        .expect("pending");
    assert!(pending.is_empty());
    for who in [
        victim,
        demo::guardian(1),
        demo::guardian(20),
        demo::guardian(70),
        demo::pupil(1),
        demo::pupil(40),
    ] {
        assert_eq!(
            app.notice_titles(who).await,
            ["Två klasser"],
            "exactly one notice for {who}"
        );
    }
}

/// The addresses that should get a mail about a school message: each
/// person's own stored address, if they have one and want such mail.
async fn addresses_wanting_school_mail(app: &TestApp, people: &[PersonId]) -> Vec<String> {
    let mut addresses = Vec::new();
    for id in people {
        let person = directory::person(app.store.as_ref(), *id)
            .await
            .expect("store")
            .expect("person");
        if let Some(address) = person.email.filter(|_| person.mail.school_messages) {
            addresses.push(address);
        }
    }
    addresses.sort();
    addresses.dedup();
    addresses
}

fn mailed_to(app: &TestApp) -> Vec<String> {
    let mut to: Vec<String> = app.mailer.sent().into_iter().map(|m| m.to).collect();
    to.sort();
    to
}

/// Pupils 1-40 and the guardians of 4A and 4B (1-40, 51-70): who a post to
/// both classes reaches.
fn both_classes() -> Vec<PersonId> {
    (1..=40)
        .map(demo::pupil)
        .chain((1..=40).chain(51..=70).map(demo::guardian))
        .collect()
}

async fn a_post_mails_each_address_once_by_preference_in_one_bulk_call_per_batch(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (c, new_pupil) = add_group_4c(&app).await;
    // Guardian 3 wants no mail about school messages; guardian 1 reads
    // English.
    let no_school_mail = json!({
        "language": "sv",
        "mail": { "importantNotices": true, "schoolMessages": false, "userMessages": true }
    });
    let english = json!({
        "language": "en",
        "mail": { "importantNotices": true, "schoolMessages": true, "userMessages": true }
    });
    assert_eq!(
        app.put(demo::guardian(3), "/me/preferences", no_school_mail)
            .await
            .status,
        200
    );
    assert_eq!(
        app.put(demo::guardian(1), "/me/preferences", english)
            .await
            .status,
        200
    );

    let groups = [demo::class(1), demo::class(2), c];
    let res = publish(
        &app,
        demo::staff(demo::PRINCIPAL),
        post_body(&groups, "Till alla tre"),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.json);
    app.deliver_outbox().await;
    app.deliver_outbox().await;

    let mut reached = both_classes();
    reached.push(new_pupil);
    let wanted = addresses_wanting_school_mail(&app, &reached).await;
    // One call per batch of 50 people that has anyone to mail (a batch of
    // pupils without addresses makes none), none on the replay.
    let calls = app.mailer.bulk_calls();
    assert!(
        (wanted.len().div_ceil(50)..=101usize.div_ceil(50)).contains(&calls),
        "{calls} calls for {} addresses",
        wanted.len()
    );
    assert!(
        wanted.len() > 20,
        "the demo families have addresses: {}",
        wanted.len()
    );
    assert_eq!(
        mailed_to(&app),
        wanted,
        "each address once, only those who want it"
    );
    let guardian_3 = directory::person(app.store.as_ref(), demo::guardian(3))
        .await
        .unwrap()
        .unwrap();
    assert!(
        guardian_3.email.is_some(),
        "the demo gives guardian 3 an address"
    );
    assert_eq!(
        app.notice_titles(demo::guardian(3)).await,
        ["Till alla tre"],
        "the notice still comes"
    );

    let guardian_1 = directory::person(app.store.as_ref(), demo::guardian(1))
        .await
        .unwrap()
        .unwrap();
    let to_1: Vec<_> = app
        .mailer
        .sent()
        .into_iter()
        .filter(|m| Some(&m.to) == guardian_1.email.as_ref())
        .collect();
    assert_eq!(to_1.len(), 1, "reached through two children, mailed once");
    assert_eq!(to_1[0].subject, "New blog post: Till alla tre");
    let mut swedish = None;
    for n in 4..=40 {
        let p = directory::person(app.store.as_ref(), demo::guardian(n))
            .await
            .unwrap()
            .unwrap();
        if p.language == Language::Sv && p.email.is_some() {
            swedish = p.email;
            break;
        }
    }
    let swedish = swedish.expect("a Swedish-speaking guardian with an address");
    let to_swedish = app.mailer.sent().into_iter().find(|m| m.to == swedish);
    assert_eq!(
        to_swedish.unwrap().subject,
        "Nytt blogginlägg: Till alla tre"
    );
}

async fn a_failing_bulk_call_retries_only_its_batch_and_nobody_is_mailed_twice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = publish(
        &app,
        demo::staff(demo::PRINCIPAL),
        post_body(&[demo::class(1), demo::class(2)], "Två klasser"),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.json);
    let wanted = addresses_wanting_school_mail(&app, &both_classes()).await;
    let refused = wanted[0].clone();

    // The first call fails as a whole; another batch's call refuses one
    // address alone.
    app.mailer.fail_next(1);
    app.mailer.refuse(&refused);
    app.deliver_outbox().await;
    assert_eq!(app.mailer.bulk_calls(), 2);
    let pending = skolnav::outbox::pending(app.store.as_ref(), 100)
        .await
        .unwrap();
    assert!(!pending.is_empty(), "what failed waits for a retry");
    assert!(!mailed_to(&app).contains(&refused));

    app.mailer.accept_all();
    app.deliver_outbox().await;
    app.deliver_outbox().await;
    assert!(
        skolnav::outbox::pending(app.store.as_ref(), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(mailed_to(&app), wanted, "every address exactly once");
    assert!(
        app.mailer.bulk_calls() <= 4,
        "retries only what failed: {}",
        app.mailer.bulk_calls()
    );
    // Everyone has their one notice.
    for who in [demo::guardian(1), demo::guardian(70), demo::pupil(40)] {
        assert_eq!(app.notice_titles(who).await, ["Två klasser"], "{who}");
    }
}

async fn a_deleted_post_takes_back_its_notices_delivered_or_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = demo::class(1);
    let author = demo::staff(demo::MENTOR_4A);
    let post_id = |res: &TestResponse| {
        res.json["post"]["id"]
            .as_str()
            .expect("post id")
            .to_string()
    };

    // Delivered: taken back from everyone it reached.
    let res = publish(&app, author, post_body(&[a], "Fel klass")).await;
    assert_eq!(res.status, 201, "{}", res.json);
    let delivered = post_id(&res);
    app.deliver_outbox().await;
    assert_eq!(app.notice_titles(demo::guardian(1)).await, ["Fel klass"]);
    let kept = publish(&app, author, post_body(&[a], "Rätt klass")).await;
    assert_eq!(kept.status, 201, "{}", kept.json);
    app.deliver_outbox().await;

    let res = app.delete(author, &post_path(a, &delivered), None).await;
    assert_eq!(res.status, 200, "{}", res.json);
    for who in [demo::guardian(1), demo::guardian(20), demo::pupil(1)] {
        assert_eq!(
            app.notice_titles(who).await,
            ["Rätt klass"],
            "only the kept post's notice is left for {who}"
        );
        let count = app.get(who, "/me/notices/unread-count").await;
        assert_eq!(count.json["unread"], 1, "{}", count.json);
    }

    // Deleted before its batches were delivered: they never are.
    let res = publish(&app, author, post_body(&[a], "Ångrad")).await;
    assert_eq!(res.status, 201, "{}", res.json);
    let undelivered = post_id(&res);
    let res = app.delete(author, &post_path(a, &undelivered), None).await;
    assert_eq!(res.status, 200, "{}", res.json);
    app.deliver_outbox().await;
    assert_eq!(app.notice_titles(demo::guardian(1)).await, ["Rätt klass"]);
}

on_both_stores!(
    a_failing_notice_batch_is_retried_alone_and_nobody_gets_a_notice_twice,
    a_guardian_of_a_pupil_in_group_a_never_sees_group_b_posts,
    a_post_to_pupils_only_is_not_shown_to_guardians,
    a_teacher_cannot_post_to_a_group_they_do_not_teach,
    a_guardian_or_a_pupil_cannot_post,
    only_the_author_edits_or_deletes_a_post_in_every_group,
    a_post_to_three_groups_with_overlapping_families_gives_each_person_one_notice,
    markdown_is_sanitised_and_only_youtube_or_vimeo_links_are_embedded,
    bad_input_gets_a_problem_naming_the_field_and_writes_nothing,
    a_deleted_post_takes_back_its_notices_delivered_or_not,
    a_post_mails_each_address_once_by_preference_in_one_bulk_call_per_batch,
    a_failing_bulk_call_retries_only_its_batch_and_nobody_is_mailed_twice,
);
