//! Files (C2, C3 attachments) end to end through the local server: staff ask
//! to upload, PUT the bytes to the signed URL the answer gives (the local
//! server's folder, as S3 in the cloud), attach the file to a post, and
//! the post's readers, and only they, download it through a short-lived
//! signed GET. The S3 adapter does the same against moto.

use serde_json::{Value, json};
use skolnav::demo;
use skolnav::files::{Files, S3Files};
use skolnav::ids::{GroupId, PersonId};
use skolnav_tests::{Backend, TestApp, TestResponse, moto_endpoint, s3_client, s3_files};
use std::time::Duration;

const PDF: &str = "application/pdf";

fn pdf_bytes(tag: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% Veckobrev {tag}\n%%EOF\n").into_bytes()
}

async fn ask_upload(
    app: &TestApp,
    who: PersonId,
    name: &str,
    kind: &str,
    size: usize,
) -> TestResponse {
    app.post(
        who,
        "/files",
        json!({ "fileName": name, "contentType": kind, "size": size }),
    )
    .await
}

/// Sends `data` as the answer of `POST /files` says: its method, URL and
/// headers, with no bearer token (the URL is the credential).
async fn put_bytes(app: &TestApp, granted: &Value, data: Vec<u8>) -> u16 {
    let upload = &granted["upload"];
    assert_eq!(upload["method"], "PUT", "{granted}");
    let mut req = app
        .http
        .put(upload["url"].as_str().expect("upload url"))
        .body(data);
    for (name, value) in upload["headers"].as_object().expect("headers") {
        req = req.header(name.as_str(), value.as_str().unwrap_or_default());
    }
    req.send().await.expect("PUT the bytes").status().as_u16()
}

/// Asks for an upload and sends the bytes; returns the file id.
async fn upload(app: &TestApp, who: PersonId, name: &str, data: Vec<u8>) -> String {
    let granted = ask_upload(app, who, name, PDF, data.len()).await;
    assert_eq!(granted.status, 201, "{}", granted.json);
    assert_eq!(put_bytes(app, &granted.json, data).await, 200);
    granted.json["fileId"].as_str().expect("fileId").to_string()
}

async fn publish(app: &TestApp, who: PersonId, group: GroupId, files: &[&str]) -> TestResponse {
    app.post(
        who,
        "/blog/posts",
        json!({
            "audience": { "groups": [{ "groupId": group.to_string() }] },
            "title": "Veckobrev",
            "body": "Se bifogat.",
            "attachments": files,
        }),
    )
    .await
}

async fn fetch(app: &TestApp, url: &str) -> (u16, String, Vec<u8>) {
    let res = app.http.get(url).send().await.expect("GET the file");
    let status = res.status().as_u16();
    let disposition = res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (
        status,
        disposition,
        res.bytes().await.unwrap_or_default().to_vec(),
    )
}

fn invalid_names(res: &TestResponse) -> Vec<String> {
    res.json["invalidParams"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn a_guardian_of_the_group_downloads_the_attachment_and_another_group_gets_404(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let data = pdf_bytes("v48");
    let file = upload(&app, mentor, "Veckobrev v48 – 4A.pdf", data.clone()).await;

    // Before it is attached, the file is its owner's alone.
    assert_eq!(app.get(mentor, &format!("/files/{file}")).await.status, 200);
    let early = app.get(demo::guardian(1), &format!("/files/{file}")).await;
    assert_eq!(early.status, 404, "{}", early.json);

    let published = publish(&app, mentor, demo::class(1), &[&file]).await;
    assert_eq!(published.status, 201, "{}", published.json);
    let listed = &published.json["post"]["attachments"][0];
    assert_eq!(listed["fileId"], file.as_str());
    assert_eq!(listed["fileName"], "Veckobrev v48 – 4A.pdf");
    assert_eq!(listed["size"], data.len());
    assert_eq!(listed["image"], false);

    // A guardian of a pupil in 4A sees it in the feed and downloads it.
    let feed = app
        .get(
            demo::guardian(1),
            &format!("/groups/{}/posts", demo::class(1)),
        )
        .await;
    assert_eq!(
        feed.json["items"][0]["attachments"][0]["fileId"],
        file.as_str()
    );
    let granted = app.get(demo::guardian(1), &format!("/files/{file}")).await;
    assert_eq!(granted.status, 200, "{}", granted.json);
    assert!(granted.json["expiresAt"].is_string(), "{}", granted.json);
    let (status, disposition, got) = fetch(&app, granted.json["url"].as_str().expect("url")).await;
    assert_eq!(status, 200);
    assert_eq!(got, data, "the same bytes come back");
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("Veckobrev%20v48%20%E2%80%93%204A.pdf"),
        "{disposition}"
    );

    // A guardian in 4B, and the other school's admin, learn nothing.
    for outsider in [demo::guardian(21), demo::staff(demo::OTHER_SCHOOL_ADMIN)] {
        let res = app.get(outsider, &format!("/files/{file}")).await;
        assert_eq!(res.status, 404, "{}", res.json);
        assert!(!res.json.to_string().contains("Veckobrev"));
    }
    // A file that does not exist looks the same.
    let none = app
        .get(
            demo::guardian(1),
            &format!("/files/{}", ulid::Ulid::generate()),
        )
        .await;
    assert_eq!(none.status, 404);
}

async fn a_file_of_a_post_to_pupils_only_is_not_the_guardians(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let file = upload(&app, mentor, "läxa.pdf", pdf_bytes("pupils")).await;
    let res = app
        .post(
            mentor,
            "/blog/posts",
            json!({
                "audience": { "groups": [{ "groupId": demo::class(1).to_string(), "pupils": true, "guardians": false }] },
                "title": "Läxa",
                "body": "Till eleverna.",
                "attachments": [file],
            }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    let path = format!("/files/{file}");
    assert_eq!(app.get(demo::pupil(1), &path).await.status, 200);
    assert_eq!(app.get(demo::guardian(1), &path).await.status, 404);
    // Staff of the group read every post of its blog.
    assert_eq!(
        app.get(demo::staff(demo::PRINCIPAL), &path).await.status,
        200
    );
    assert_eq!(app.get(demo::pupil(21), &path).await.status, 404);
}

async fn a_file_left_out_by_an_edit_is_discarded_with_its_bytes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let first = upload(&app, mentor, "a.pdf", pdf_bytes("a")).await;
    let second = upload(&app, mentor, "b.pdf", pdf_bytes("b")).await;
    let published = publish(&app, mentor, demo::class(1), &[&first]).await;
    assert_eq!(published.status, 201, "{}", published.json);
    let post = published.json["post"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let path = format!("/groups/{}/posts/{post}", demo::class(1));

    let edited = app
        .put(
            mentor,
            &path,
            json!({ "title": "Veckobrev", "body": "Ny bilaga.", "attachments": [second] }),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.json);
    assert_eq!(edited.json["attachments"][0]["fileId"], second.as_str());
    assert_eq!(edited.json["attachments"].as_array().map(Vec::len), Some(1));

    let guardian = demo::guardian(1);
    assert_eq!(
        app.get(guardian, &format!("/files/{second}")).await.status,
        200
    );
    assert_eq!(
        app.get(guardian, &format!("/files/{first}")).await.status,
        404
    );
    // Left out for good: not even its owner reaches it, and its bytes are
    // gone (a file attaches once, so it could never be used again).
    assert_eq!(
        app.get(mentor, &format!("/files/{first}")).await.status,
        404
    );
    assert_eq!(stored(&app, &first).await, None);
    assert!(stored(&app, &second).await.is_some());

    // An edit without `attachments` keeps them.
    let kept = app
        .put(
            mentor,
            &path,
            json!({ "title": "Veckobrev", "body": "Rättat." }),
        )
        .await;
    assert_eq!(
        kept.json["attachments"][0]["fileId"],
        second.as_str(),
        "{}",
        kept.json
    );
}

/// What the local folder holds for a file id.
async fn stored(app: &TestApp, id: &str) -> Option<skolnav::files::Stat> {
    let id = skolnav::ids::FileId::parse(id).expect("a file id");
    app.files
        .stat(&skolnav::keys::file_object(id))
        .await
        .expect("stat")
}

async fn a_deleted_posts_files_go_with_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let file = upload(&app, mentor, "a.pdf", pdf_bytes("a")).await;
    let published = publish(&app, mentor, demo::class(1), &[&file]).await;
    assert_eq!(published.status, 201, "{}", published.json);
    let post = published.json["post"]["id"].as_str().expect("id");
    assert!(stored(&app, &file).await.is_some());

    let res = app
        .delete(
            mentor,
            &format!("/groups/{}/posts/{post}", demo::class(1)),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.json);
    for who in [mentor, demo::guardian(1)] {
        assert_eq!(
            app.get(who, &format!("/files/{file}")).await.status,
            404,
            "{who}"
        );
    }
    assert_eq!(stored(&app, &file).await, None, "the bytes are gone too");
}

async fn a_news_image_is_the_schools_families_and_waits_for_its_publish_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let principal = demo::staff(demo::PRINCIPAL);
    let png = b"\x89PNG\r\n\x1a\nbild".to_vec();
    let granted = ask_upload(&app, principal, "skolfoto.png", "image/png", png.len()).await;
    assert_eq!(put_bytes(&app, &granted.json, png.clone()).await, 200);
    let image = granted.json["fileId"].as_str().expect("fileId").to_string();
    let letter = upload(&app, principal, "inbjudan.pdf", pdf_bytes("news")).await;
    let to_school = json!({ "school": { "schoolId": demo::school().to_string(), "pupils": true, "guardians": true } });

    let now = app
        .post(
            principal,
            "/news",
            json!({ "audience": to_school, "title": "Skolfoto", "body": "På tisdag.", "attachments": [image] }),
        )
        .await;
    assert_eq!(now.status, 201, "{}", now.json);
    assert_eq!(
        now.json["news"]["attachments"][0]["image"], true,
        "{}",
        now.json
    );
    let path = format!("/files/{image}");
    let granted = app.get(demo::guardian(21), &path).await;
    assert_eq!(granted.status, 200, "{}", granted.json);
    let (status, _, got) = fetch(&app, granted.json["url"].as_str().expect("url")).await;
    assert_eq!((status, got), (200, png));
    assert_eq!(
        app.get(demo::guardian(41), &path).await.status,
        404,
        "another school's family"
    );

    // Scheduled for tomorrow: its school's staff may fetch the file now,
    // families once it is published.
    let tomorrow = skolnav_tests::school_morning() + chrono::Duration::days(1);
    let later = app
        .post(
            principal,
            "/news",
            json!({ "audience": to_school, "title": "Föräldramöte", "body": "Välkomna.",
                    "publishAt": tomorrow.to_rfc3339(), "attachments": [letter] }),
        )
        .await;
    assert_eq!(later.status, 201, "{}", later.json);
    let path = format!("/files/{letter}");
    assert_eq!(app.get(demo::guardian(1), &path).await.status, 404);
    assert_eq!(
        app.get(demo::staff(demo::SUBJECT_TEACHER), &path)
            .await
            .status,
        200
    );
    app.clock.set(tomorrow + chrono::Duration::minutes(1));
    assert_eq!(app.get(demo::guardian(1), &path).await.status, 200);
}

async fn types_sizes_and_names_outside_the_limits_are_refused_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let cases = [
        ("page.html", "text/html", 100, 422, "contentType"),
        ("bild.svg", "image/svg+xml", 100, 422, "contentType"),
        ("bild.png", "image/png", 10 * 1024 * 1024 + 1, 422, "size"),
        ("stor.pdf", PDF, 25 * 1024 * 1024 + 1, 422, "size"),
        ("tom.pdf", PDF, 0, 422, "size"),
        ("../etc/passwd", PDF, 100, 400, "fileName"),
        ("  ", PDF, 100, 400, "fileName"),
    ];
    for (name, kind, size, status, field) in cases {
        let res = ask_upload(&app, mentor, name, kind, size).await;
        assert_eq!(res.status, status, "{name} {kind} {size}: {}", res.json);
        assert_eq!(res.content_type, "application/problem+json");
        assert_eq!(invalid_names(&res), [field], "{}", res.json);
    }
    // The largest image and document pass.
    let res = ask_upload(&app, mentor, "bild.png", "image/png", 10 * 1024 * 1024).await;
    assert_eq!(res.status, 201, "{}", res.json);
    let res = ask_upload(&app, mentor, "stor.pdf", PDF, 25 * 1024 * 1024).await;
    assert_eq!(res.status, 201, "{}", res.json);
    // A guardian never uploads; a school the caller does not work at is refused.
    assert_eq!(
        ask_upload(&app, demo::guardian(1), "a.pdf", PDF, 10)
            .await
            .status,
        403
    );
    let res = app
        .post(
            mentor,
            "/files",
            json!({ "fileName": "a.pdf", "contentType": PDF, "size": 10, "schoolId": demo::other_school().to_string() }),
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.json);
    assert_eq!(invalid_names(&res), ["schoolId"]);
}

async fn anothers_file_one_never_uploaded_or_one_attached_already_is_refused_naming_it(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let own = upload(&app, mentor, "egen.pdf", pdf_bytes("own")).await;
    let anothers = upload(
        &app,
        demo::staff(demo::MENTOR_4B),
        "4b.pdf",
        pdf_bytes("4b"),
    )
    .await;
    let never = ask_upload(&app, mentor, "aldrig.pdf", PDF, 100).await;
    let never = never.json["fileId"].as_str().expect("fileId").to_string();

    for (files, field) in [
        (vec![own.as_str(), anothers.as_str()], "attachments[1]"),
        (vec![never.as_str()], "attachments[0]"),
        (vec![own.as_str(), own.as_str()], "attachments[1]"),
        (vec!["not-an-id"], "attachments[0]"),
    ] {
        let res = publish(&app, mentor, demo::class(1), &files).await;
        assert!(
            res.status == 422 || res.status == 400,
            "{files:?}: {}",
            res.json
        );
        assert_eq!(invalid_names(&res), [field], "{}", res.json);
    }
    // Nothing was published by the refusals.
    let feed = app
        .get(mentor, &format!("/groups/{}/posts", demo::class(1)))
        .await;
    assert!(feed.item_titles().is_empty(), "{}", feed.json);

    // A file is attached once: a second post cannot take it.
    assert_eq!(
        publish(&app, mentor, demo::class(1), &[&own]).await.status,
        201
    );
    let again = publish(&app, mentor, demo::class(1), &[&own]).await;
    assert_eq!(again.status, 422, "{}", again.json);
    assert_eq!(invalid_names(&again), ["attachments[0]"]);
}

async fn bytes_that_are_not_the_declared_upload_cannot_be_attached(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    // Declared as 1000 bytes, but the folder holds 5 (written behind the
    // signed URL's back, as a client that PUT elsewhere could).
    let granted = ask_upload(&app, mentor, "kort.pdf", PDF, 1000).await;
    let id = granted.json["fileId"].as_str().expect("fileId").to_string();
    app.files
        .write(&format!("files/{id}"), PDF, b"%PDF-")
        .await
        .expect("write");
    let res = publish(&app, mentor, demo::class(1), &[&id]).await;
    assert_eq!(res.status, 422, "{}", res.json);
    assert_eq!(invalid_names(&res), ["attachments[0]"]);
}

async fn an_expired_or_tampered_local_url_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let data = pdf_bytes("x");
    let granted = ask_upload(&app, mentor, "x.pdf", PDF, data.len()).await;
    let url = granted.json["upload"]["url"]
        .as_str()
        .expect("url")
        .to_string();

    let put = |url: String, kind: &'static str, body: Vec<u8>| {
        let http = app.http.clone();
        async move {
            http.put(url)
                .header("content-type", kind)
                .body(body)
                .send()
                .await
                .expect("PUT")
                .status()
                .as_u16()
        }
    };
    let size = format!("size={}", data.len());
    let bigger = format!("size={}", data.len() + 1);
    // Another size in the URL, another type or length than signed: 403.
    assert_eq!(
        put(url.replace(&size, &bigger), PDF, data.clone()).await,
        403
    );
    assert_eq!(put(url.clone(), "text/plain", data.clone()).await, 403);
    let mut longer = data.clone();
    longer.push(b'!');
    assert_eq!(put(url.clone(), PDF, longer).await, 403);
    // The URL as given works; then the file can be attached and read.
    assert_eq!(put(url.clone(), PDF, data.clone()).await, 200);
    let file = granted.json["fileId"].as_str().expect("id").to_string();
    assert_eq!(
        publish(&app, mentor, demo::class(1), &[&file]).await.status,
        201
    );
    let download = app.get(demo::guardian(1), &format!("/files/{file}")).await;
    let get_url = download.json["url"].as_str().expect("url").to_string();
    assert_eq!(fetch(&app, &get_url).await.0, 200);
    // A download URL of another file, or of another name, does not verify.
    let other = get_url.replace(&file, &ulid::Ulid::generate().to_string());
    assert_eq!(fetch(&app, &other).await.0, 403);
    assert_eq!(
        fetch(&app, &get_url.replace("name=x.pdf", "name=y.pdf"))
            .await
            .0,
        403
    );

    // After five minutes the download URL has expired; after fifteen the
    // upload URL has.
    app.clock
        .set(skolnav_tests::school_morning() + chrono::Duration::minutes(6));
    assert_eq!(fetch(&app, &get_url).await.0, 403);
    app.clock
        .set(skolnav_tests::school_morning() + chrono::Duration::minutes(16));
    assert_eq!(put(url, PDF, data).await, 403);
}

async fn a_file_of_news_to_a_grade_year_is_only_that_years_families(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Class 4B's pupils (21-40) in grade 5.
    app.put_4b_in_grade_5().await;
    let principal = demo::staff(demo::PRINCIPAL);
    let letter = upload(&app, principal, "lagerskola.pdf", pdf_bytes("grade")).await;
    let to_grade_5 =
        json!({ "gradeYears": { "schoolId": demo::school().to_string(), "years": [5] } });
    let res = app
        .post(
            principal,
            "/news",
            json!({ "audience": to_grade_5, "title": "Lägerskola", "body": "Packlista.", "attachments": [letter] }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    let path = format!("/files/{letter}");
    for (who, status) in [
        (demo::guardian(21), 200),
        (demo::pupil(40), 200),
        (demo::staff(demo::MENTOR_4A), 200),
        (demo::guardian(1), 404),
        (demo::pupil(1), 404),
    ] {
        let res = app.get(who, &path).await;
        assert_eq!(res.status, status, "{who}: {}", res.json);
    }
}

async fn a_file_of_an_event_is_its_readers_and_a_staff_events_only_staffs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = demo::staff(demo::MENTOR_4A);
    let list = upload(&app, mentor, "packlista.pdf", pdf_bytes("event")).await;
    let event = |audience: Value, title: &str, file: &str| {
        json!({ "audience": audience, "title": title, "start": "2026-11-25T09:00:00",
                "end": "2026-11-25T11:30:00", "attachments": [file] })
    };
    let to_4a = json!({ "groups": [{ "groupId": demo::class(1).to_string() }] });
    let res = app
        .post(mentor, "/calendar/events", event(to_4a, "Utflykt", &list))
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    assert_eq!(
        res.json["event"]["attachments"][0]["fileName"], "packlista.pdf",
        "{}",
        res.json
    );
    let path = format!("/files/{list}");
    for (who, status) in [
        (demo::guardian(1), 200),
        (demo::pupil(1), 200),
        (demo::guardian(21), 404),
        (demo::staff(demo::OTHER_SCHOOL_ADMIN), 404),
    ] {
        let res = app.get(who, &path).await;
        assert_eq!(res.status, status, "{who}: {}", res.json);
    }
    let granted = app.get(demo::guardian(1), &path).await;
    let (status, _, got) = fetch(&app, granted.json["url"].as_str().expect("url")).await;
    assert_eq!((status, got), (200, pdf_bytes("event")));

    // A staff-only event's file: the school's staff, no family.
    let principal = demo::staff(demo::PRINCIPAL);
    let agenda = upload(&app, principal, "dagordning.pdf", pdf_bytes("staff")).await;
    let to_staff = json!({ "schoolStaff": { "schoolId": demo::school().to_string() } });
    let res = app
        .post(
            principal,
            "/calendar/events",
            event(to_staff, "Personalmöte", &agenda),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.json);
    let path = format!("/files/{agenda}");
    for (who, status) in [
        (demo::staff(demo::SUBJECT_TEACHER), 200),
        (demo::guardian(1), 404),
        (demo::pupil(1), 404),
    ] {
        let res = app.get(who, &path).await;
        assert_eq!(res.status, status, "{who}: {}", res.json);
    }
    // Another's file cannot be attached.
    let res = app
        .post(
            mentor,
            "/calendar/events",
            event(
                json!({ "groups": [{ "groupId": demo::class(1).to_string() }] }),
                "x",
                &agenda,
            ),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.json);
    assert_eq!(invalid_names(&res), ["attachments[0]"], "{}", res.json);
}

on_both_stores!(
    a_file_of_an_event_is_its_readers_and_a_staff_events_only_staffs,
    a_file_of_news_to_a_grade_year_is_only_that_years_families,
    a_guardian_of_the_group_downloads_the_attachment_and_another_group_gets_404,
    a_file_of_a_post_to_pupils_only_is_not_the_guardians,
    a_file_left_out_by_an_edit_is_discarded_with_its_bytes,
    a_deleted_posts_files_go_with_it,
    a_news_image_is_the_schools_families_and_waits_for_its_publish_time,
    types_sizes_and_names_outside_the_limits_are_refused_naming_the_field,
    anothers_file_one_never_uploaded_or_one_attached_already_is_refused_naming_it,
    bytes_that_are_not_the_declared_upload_cannot_be_attached,
    an_expired_or_tampered_local_url_is_refused,
);

#[tokio::test]
async fn a_test_apps_file_folder_goes_with_the_app() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    upload(
        &app,
        demo::staff(demo::MENTOR_4A),
        "veckobrev.pdf",
        pdf_bytes("kept"),
    )
    .await;
    let dir = app.files.dir().to_path_buf();
    assert!(dir.is_dir(), "the upload wrote into {}", dir.display());
    drop(app);
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

#[tokio::test]
async fn the_s3_adapter_presigns_an_upload_and_a_download_that_moto_honours() {
    let client = s3_client();
    let bucket = format!(
        "skolnav-files-{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    client
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuNorth1)
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create a bucket in moto at {}: {e:?}", moto_endpoint()));
    let files = s3_files(&bucket);
    let key = format!("files/{}", ulid::Ulid::generate());
    let data = pdf_bytes("s3");
    let now = chrono::Utc::now();

    assert_eq!(files.stat(&key).await.expect("stat"), None, "nothing yet");
    let upload = files
        .presign_upload(&key, PDF, data.len() as u64, now, Duration::from_secs(900))
        .await
        .expect("presign the upload");
    assert_eq!(upload.method, "PUT");
    assert!(upload.url.starts_with(moto_endpoint()), "{}", upload.url);
    assert_eq!(
        upload.headers.get("content-type").map(String::as_str),
        Some(PDF)
    );
    let http = reqwest::Client::new();
    let mut req = http.put(&upload.url).body(data.clone());
    for (name, value) in &upload.headers {
        req = req.header(name, value);
    }
    let res = req.send().await.expect("PUT to moto");
    assert!(res.status().is_success(), "{:?}", res.text().await);

    let stat = files.stat(&key).await.expect("stat").expect("uploaded");
    assert_eq!(stat.size, data.len() as u64);
    assert_eq!(stat.content_type.as_deref(), Some(PDF));
    // The upload is tagged pending until it is kept.
    let tags = |client: aws_sdk_s3::Client, bucket: String, key: String| async move {
        client
            .get_object_tagging()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("tags")
            .tag_set()
            .iter()
            .map(|t| format!("{}={}", t.key(), t.value()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        tags(client.clone(), bucket.clone(), key.clone()).await,
        ["skolnav-pending=1"]
    );
    files.keep(&key).await.expect("keep");
    assert!(
        tags(client.clone(), bucket.clone(), key.clone())
            .await
            .is_empty()
    );

    let url = files
        .presign_download(
            &key,
            "Veckobrev v48.pdf",
            PDF,
            now,
            Duration::from_secs(300),
        )
        .await
        .expect("presign the download");
    let res = http.get(&url).send().await.expect("GET from moto");
    assert_eq!(res.status().as_u16(), 200);
    let disposition = res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(disposition.contains("Veckobrev"), "{disposition}");
    assert_eq!(res.bytes().await.expect("body").to_vec(), data);

    // Discarded: gone, and removing it again is no error.
    files.remove(&key).await.expect("remove");
    assert_eq!(files.stat(&key).await.expect("stat"), None);
    files.remove(&key).await.expect("remove again");
}

/// The adapter signs on its own (aws-sigv4) to keep the S3 client out of
/// the functions: every URL must be the one the SDK's presigner makes for
/// the same request, time and credentials, at AWS (virtual-hosted) and at
/// a local endpoint (path style). moto does not check signatures, so this
/// is what proves them (the SDK presigns PUT, GET and HEAD; the untag
/// request is signed on the same path).
#[tokio::test]
async fn every_s3_url_is_the_one_the_sdk_presigner_signs() {
    use aws_sdk_s3::config::Credentials;
    use skolnav::files::OwnRequest;
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-23T07:30:00Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    let ttl = Duration::from_secs(900);
    let presigning = || {
        aws_sdk_s3::presigning::PresigningConfig::builder()
            .start_time(std::time::SystemTime::from(start))
            .expires_in(ttl)
            .build()
            .expect("presigning config")
    };
    let bucket = "skolnav-files-abc123";
    let key = "files/01JD0000000000000000000F01";
    for endpoint in [None, Some("http://127.0.0.1:5055")] {
        let sdk = skolnav_tests::sdk_s3_client(endpoint);
        let ours = S3Files::with(
            skolnav::http_client::Http::new(),
            Credentials::new("skolnav", "skolnav", None, None, "tests"),
            skolnav_tests::REGION,
            endpoint,
            bucket,
        );

        let upload = ours
            .presign_upload(key, PDF, 12345, start, ttl)
            .await
            .expect("ours");
        let theirs = sdk
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(PDF)
            .content_length(12345)
            .tagging("skolnav-pending=1")
            .presigned(presigning())
            .await
            .expect("the SDK's");
        assert_eq!(upload.url, theirs.uri(), "PUT at {endpoint:?}");
        let their_headers: std::collections::BTreeMap<String, String> = theirs
            .headers()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect();
        assert_eq!(upload.headers, their_headers, "PUT headers at {endpoint:?}");

        let name = "Veckobrev v48 (åäö).pdf";
        let download = ours
            .presign_download(key, name, PDF, start, ttl)
            .await
            .expect("ours");
        let theirs = sdk
            .get_object()
            .bucket(bucket)
            .key(key)
            .response_content_disposition(skolnav::files::content_disposition(name))
            .response_content_type(PDF)
            .presigned(presigning())
            .await
            .expect("the SDK's");
        assert_eq!(download, theirs.uri(), "GET at {endpoint:?}");

        let head = ours
            .own_request_url(OwnRequest::Head, key, start, ttl)
            .expect("ours");
        let theirs = sdk
            .head_object()
            .bucket(bucket)
            .key(key)
            .presigned(presigning())
            .await
            .expect("the SDK's");
        assert_eq!(head, theirs.uri(), "HEAD at {endpoint:?}");

        // The SDK cannot presign DeleteObjectTagging; the adapter signs it
        // on the same path as HEAD, with its subresource in the query
        // (moto honours it in the_s3_adapter_presigns_... above).
        let untag = ours
            .own_request_url(OwnRequest::Untag, key, start, ttl)
            .expect("ours");
        let path = head.split_once('?').map(|(p, _)| p);
        assert_eq!(untag.split_once('?').map(|(p, _)| p), path);
        assert!(
            untag.contains("?tagging=&x-id=DeleteObjectTagging&X-Amz-Algorithm=AWS4-HMAC-SHA256"),
            "{untag}"
        );
    }
}
