//! News (C3): principals and school admins publish to their school or to
//! groups within it, organisation admins to several schools; now, or at a
//! time set ahead. Pupils and guardians read what is addressed to them once
//! it is published; the school's staff read everything of their school.
//!
//! An item is written once per addressed feed (a school's or a group's),
//! sorted by publish time, so what a feed holds by now is one query,
//! newest first, and a scheduled item shows by itself when its time comes.
//! Its notices (C7) go through the outbox as one expansion: written with
//! the item when it is published now, or by `news-release` (every few
//! minutes) once its time has come, in one transaction with the removal
//! of its schedule entry, so they go out once.

use crate::audience::{self, Audience, Grades, GroupTarget, Reach};
use crate::blog::markdown;
use crate::clock::Clock;
use crate::directory::{self, PersonRecord};
use crate::files::{self, AttachedTo, Attachment, AttachmentView, FileError, Files};
use crate::ids::{FileId, GroupId, NewsId, PersonId, SchoolId};
use crate::keys;
use crate::notices::{self, Subject, Target};
use crate::policy::{self, Decision, ReadView};
use crate::store::{
    Condition, Index, Item, ListPage, MAX_TRANSACTION, Query, SortKey, Store, StoreError, Write,
    query_all,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

// Title and body are checked as a blog post's (`blog::MAX_TITLE_CHARS`,
// `blog::MAX_BODY_CHARS`).

/// How far ahead news may be scheduled.
pub const MAX_DAYS_AHEAD: i64 = 366;

/// Which feed a copy of a news item is in, and who of it is addressed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "feed", rename_all = "camelCase")]
pub enum Placement {
    #[serde(rename_all = "camelCase")]
    Group { group_id: GroupId, reach: Reach },
    /// A school's feed; with grade years, only their pupils and
    /// guardians read it.
    #[serde(rename_all = "camelCase")]
    School {
        school_id: SchoolId,
        reach: Reach,
        #[serde(default, skip_serializing_if = "Grades::is_empty")]
        grade_years: Grades,
    },
}

/// One copy of a news item, in one feed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NewsItem {
    pub id: NewsId,
    pub school_id: SchoolId,
    pub placement: Placement,
    pub author_id: PersonId,
    pub title: String,
    /// The Markdown source; rendered and sanitised on output.
    pub body: String,
    pub publish_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The image and files, downloaded through `GET /files/{fileId}`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub attachments: Vec<Attachment>,
}

impl NewsItem {
    fn partition(&self) -> String {
        match self.placement {
            Placement::Group { group_id, .. } => keys::group_news_partition(group_id),
            Placement::School { school_id, .. } => keys::school_news_partition(school_id),
        }
    }

    fn to_item(&self) -> Result<Item, StoreError> {
        Item::new(
            keys::news_item(self.partition(), self.publish_at, self.id),
            keys::NEWS_ITEM,
            self,
        )
    }

    /// Whether a reader of these grade years (their own, their
    /// children's) is addressed: always, unless the item is for grade
    /// years.
    fn reaches_grades(&self, grades: &[u8]) -> bool {
        match self.placement {
            Placement::School { grade_years, .. } if !grade_years.is_empty() => {
                grade_years.meets(grades)
            }
            _ => true,
        }
    }

    fn reach(&self) -> Reach {
        match self.placement {
            Placement::Group { reach, .. } | Placement::School { reach, .. } => reach,
        }
    }

    /// As clients see it: the body rendered and sanitised.
    pub fn view(&self, now: DateTime<Utc>) -> NewsView {
        let rendered = markdown::render(&self.body);
        NewsView {
            id: self.id,
            school_id: self.school_id,
            placement: self.placement,
            author_id: self.author_id,
            title: self.title.clone(),
            body: self.body.clone(),
            body_html: rendered.html,
            embeds: rendered.embeds,
            attachments: self.attachments.iter().map(Attachment::view).collect(),
            publish_at: self.publish_at,
            published: self.publish_at <= now,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NewsView {
    pub id: NewsId,
    pub school_id: SchoolId,
    #[serde(flatten)]
    pub placement: Placement,
    pub author_id: PersonId,
    pub title: String,
    pub body: String,
    pub body_html: String,
    pub embeds: Vec<markdown::Embed>,
    /// The image (`image: true`) and files.
    pub attachments: Vec<AttachmentView>,
    pub publish_at: DateTime<Utc>,
    /// False while it waits for its publish time (staff see it then).
    pub published: bool,
}

/// Title and body, checked, and when to publish (`None`: now).
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub title: String,
    pub body: String,
    pub publish_at: Option<DateTime<Utc>>,
    /// Files uploaded through `POST /files`, to attach.
    pub attachments: Vec<FileId>,
}

#[derive(Debug, thiserror::Error)]
pub enum NewsError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("may not address {field}")]
    NotAddressable { field: String },
    #[error("{0}")]
    Invalid(audience::FieldError),
    /// An attachment was refused (the field names which).
    #[error(transparent)]
    Attachment(FileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &str, message: impl Into<String>) -> NewsError {
    NewsError::Invalid(audience::FieldError {
        field: field.into(),
        message: message.into(),
    })
}

/// The schedule entry of news published ahead: what `news-release` needs
/// to notify its audience when the time comes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    pub news_id: NewsId,
    pub title: String,
    /// The body's start, for the notice ([`notices::excerpt`]).
    #[serde(default)]
    pub excerpt: String,
    pub publish_at: DateTime<Utc>,
    pub author_id: PersonId,
    pub targets: Vec<Target>,
}

impl Release {
    fn to_item(&self) -> Result<Item, StoreError> {
        Ok(
            Item::new(keys::news_release(self.news_id), keys::NEWS_RELEASE, self)?
                .with_gsi2(keys::news_release_index(self.publish_at, self.news_id)),
        )
    }

    /// The outbox items that notify its audience.
    fn expansions(&self, now: DateTime<Utc>) -> Result<Vec<Item>, StoreError> {
        let subject = Subject::News {
            news_id: self.news_id,
            title: self.title.clone(),
            excerpt: self.excerpt.clone(),
        };
        self.targets
            .iter()
            .map(|t| notices::expansion(&subject, t.clone(), self.author_id, now))
            .collect()
    }
}

/// What publishing did.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub news: NewsView,
    /// How many feeds hold it (one per group, or per school).
    pub feeds: usize,
}

/// C3: publishes news to a school (its pupils and/or guardians), to groups
/// within a school, or, for an organisation admin, to several schools.
/// Principals and school admins of the schools concerned, and admins of
/// their organisation, may; teachers publish to groups through the blog.
pub async fn publish(
    store: &dyn Store,
    files: &dyn Files,
    clock: &dyn Clock,
    caller: &PersonRecord,
    audience: &Audience,
    draft: Draft,
) -> Result<Published, NewsError> {
    if !audience::may_address_anyone(caller) {
        return Err(NewsError::Forbidden);
    }
    let now = clock.now();
    if let Some(at) = draft.publish_at
        && (at - now).num_days() > MAX_DAYS_AHEAD
    {
        return Err(invalid(
            "publishAt",
            format!("at most {MAX_DAYS_AHEAD} days ahead"),
        ));
    }
    let feeds = feeds_of(audience)?;
    let (groups, schools) = audience::addressed(store, audience).await?;
    audience::authorize(caller, audience, "audience", &groups, &schools)
        .map_err(|e| NewsError::NotAddressable { field: e.field })?;
    if let Audience::Groups(targets) = audience {
        for (i, t) in targets.iter().enumerate() {
            let group = &groups[&t.group_id];
            if !audience::may_send_news_to_group(caller, group, schools.get(&group.school_id)) {
                return Err(NewsError::NotAddressable {
                    field: format!("audience.groups[{i}].groupId"),
                });
            }
        }
    }

    let id = NewsId::generate();
    let publish_at = draft.publish_at.unwrap_or(now).max(now);
    let release = Release {
        news_id: id,
        title: draft.title.clone(),
        excerpt: notices::excerpt(&draft.body),
        publish_at,
        author_id: caller.id(),
        targets: targets_of(&feeds),
    };
    let others = if publish_at > now {
        1
    } else {
        release.targets.len()
    };
    if feeds.len() + others + draft.attachments.len() > MAX_TRANSACTION {
        return Err(invalid("audience", "too many feeds for one news item"));
    }
    let attaching =
        files::prepare_attach(store, files, caller, &draft.attachments, "attachments", &[])
            .await
            .map_err(NewsError::Attachment)?;
    let copies: Vec<NewsItem> = feeds
        .iter()
        .map(|feed| {
            let school_id = match feed {
                Placement::Group { group_id, .. } => groups[group_id].school_id,
                Placement::School { school_id, .. } => *school_id,
            };
            NewsItem {
                id,
                school_id,
                placement: *feed,
                author_id: caller.id(),
                title: draft.title.clone(),
                body: draft.body.clone(),
                publish_at,
                created_at: now,
                attachments: attaching.attachments(),
            }
        })
        .collect();
    let mut writes = Vec::with_capacity(copies.len() + release.targets.len());
    for copy in &copies {
        writes.push(Write::Put(copy.to_item()?, Condition::MustNotExist));
    }
    if publish_at > now {
        writes.push(Write::Put(release.to_item()?, Condition::MustNotExist));
    } else {
        for item in release.expansions(now)? {
            writes.push(Write::Put(item, Condition::MustNotExist));
        }
    }
    writes.extend(attaching.writes(&AttachedTo::News {
        news_id: id,
        publish_at,
        placements: feeds.clone(),
    })?);
    if writes.len() > MAX_TRANSACTION {
        return Err(invalid("audience", "too many feeds for one news item"));
    }
    match store.transact(&writes).await {
        Ok(()) => {}
        // The copies and notices are new: a failed condition is a file
        // attached elsewhere at the same moment.
        Err(e) if e.is_condition_failure() && !attaching.is_empty() => {
            return Err(NewsError::Attachment(FileError::NotAttachable {
                field: "attachments".into(),
                reason: "a file was attached elsewhere at the same moment".into(),
            }));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(news = %id, feeds = copies.len(), scheduled = publish_at > now, files = attaching.len(), "news published");
    Ok(Published {
        feeds: copies.len(),
        news: copies
            .first()
            .map(|c| c.view(now))
            .ok_or(NewsError::NotFound)?,
    })
}

/// The feeds an audience puts news in: grade years go in their school's
/// feed, marked; a school's staff read all of their school's news.
fn feeds_of(audience: &Audience) -> Result<Vec<Placement>, NewsError> {
    let everyone = |reach: Reach| reach.pupils || reach.guardians;
    match audience {
        Audience::Groups(targets) => Ok(targets
            .iter()
            .map(|t| Placement::Group {
                group_id: t.group_id,
                reach: t.reach,
            })
            .collect()),
        Audience::School {
            school_id, reach, ..
        } if everyone(*reach) => Ok(vec![Placement::School {
            school_id: *school_id,
            reach: *reach,
            grade_years: Grades::default(),
        }]),
        Audience::GradeYears {
            school_id,
            years,
            reach,
        } => Ok(vec![Placement::School {
            school_id: *school_id,
            reach: *reach,
            grade_years: Grades::of(years),
        }]),
        Audience::Schools {
            school_ids, reach, ..
        } if everyone(*reach) => Ok(school_ids
            .iter()
            .map(|s| Placement::School {
                school_id: *s,
                reach: *reach,
                grade_years: Grades::default(),
            })
            .collect()),
        Audience::School { .. } | Audience::Schools { .. } => {
            Err(invalid("audience", "news reaches pupils and/or guardians"))
        }
        Audience::SchoolStaff { .. } => Err(invalid(
            "audience",
            "news is for a school, grade years or groups within it, or several schools",
        )),
    }
}

/// Whom the notices of news in these feeds reach.
fn targets_of(feeds: &[Placement]) -> Vec<Target> {
    let mut targets = Vec::new();
    let groups: Vec<GroupTarget> = feeds
        .iter()
        .filter_map(|f| match f {
            Placement::Group { group_id, reach } => Some(GroupTarget {
                group_id: *group_id,
                reach: *reach,
            }),
            Placement::School { .. } => None,
        })
        .collect();
    if !groups.is_empty() {
        targets.push(Target::Groups { groups });
    }
    for f in feeds {
        if let Placement::School {
            school_id,
            reach,
            grade_years,
        } = f
        {
            targets.push(if grade_years.is_empty() {
                Target::School {
                    school_id: *school_id,
                    reach: *reach,
                    staff: false,
                }
            } else {
                Target::GradeYears {
                    school_id: *school_id,
                    grades: *grade_years,
                    reach: *reach,
                }
            });
        }
    }
    targets
}

/// A page of a feed.
pub type Feed = ListPage<NewsView>;

/// One query of a feed, newest first: up to now for pupils and guardians,
/// everything (scheduled items first) for its staff.
async fn read(
    store: &dyn Store,
    clock: &dyn Clock,
    partition: String,
    reader: ReadView,
    grades: &[u8],
    limit: u32,
    cursor: Option<String>,
) -> Result<Feed, NewsError> {
    let now = clock.now();
    let sort = if reader == ReadView::Staff {
        SortKey::BeginsWith(keys::NEWS_PREFIX.into())
    } else {
        SortKey::Between(keys::NEWS_PREFIX.into(), keys::news_until(now))
    };
    let page = store
        .query(
            &Query::partition(partition)
                .sort(sort)
                .backward()
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let mut items = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let news: NewsItem = item.parse()?;
        if reader.sees(&news.reach()) && (reader == ReadView::Staff || news.reaches_grades(grades))
        {
            items.push(news.view(now));
        }
    }
    Ok(Feed {
        items,
        next_cursor: page.next,
    })
}

/// How the caller reads a school's feed, and their grade years there (a
/// pupil's own, a guardian's children's, read with the enrolments as
/// `audience::school_view` does; none for staff, who read everything).
/// `None`: they may not read it.
async fn school_reader(
    store: &dyn Store,
    caller: &PersonRecord,
    school_id: SchoolId,
) -> Result<Option<(ReadView, Vec<u8>)>, StoreError> {
    let (reader, grades) = if caller.has_duty_at(school_id) {
        (policy::read_school(caller, school_id, false), Vec::new())
    } else if caller.enrolled_school() == Some(school_id) {
        (
            policy::read_school(caller, school_id, false),
            caller.school_year_at(school_id).into_iter().collect(),
        )
    } else {
        let children = directory::children_enrolled_at(store, caller, school_id).await?;
        (
            policy::read_school(caller, school_id, children.is_some()),
            children.unwrap_or_default(),
        )
    };
    Ok(reader.map(|r| (r, grades)))
}

/// C3: a school's news: its staff, its pupils, the guardians of its pupils.
pub async fn school_feed(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    school_id: SchoolId,
    limit: u32,
    cursor: Option<String>,
) -> Result<Feed, NewsError> {
    let (reader, grades) = school_reader(store, caller, school_id)
        .await?
        .ok_or(NewsError::NotFound)?;
    let partition = keys::school_news_partition(school_id);
    read(store, clock, partition, reader, &grades, limit, cursor).await
}

/// C3: a group's news: staff of its school, its pupils, guardians of its
/// pupils (others who may know the group: 403; anyone else 404).
pub async fn group_feed(
    store: &dyn Store,
    clock: &dyn Clock,
    caller: &PersonRecord,
    group_id: GroupId,
    limit: u32,
    cursor: Option<String>,
) -> Result<Feed, NewsError> {
    let reader = group_reader(store, caller, group_id)
        .await?
        .map_err(|d| match d {
            Decision::Forbidden => NewsError::Forbidden,
            _ => NewsError::NotFound,
        })?;
    let partition = keys::group_news_partition(group_id);
    read(store, clock, partition, reader, &[], limit, cursor).await
}

/// Who of a group's news the caller is: staff of the group's school read
/// all of it, not only its teachers; its pupils and their guardians what
/// is addressed to them; anyone else is refused (`Decision`).
async fn group_reader(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
) -> Result<Result<ReadView, Decision>, StoreError> {
    if let Some(view) = audience::family_view(store, caller, group_id).await? {
        return Ok(view);
    }
    let Some(group) = directory::group(store, group_id).await? else {
        return Ok(Err(Decision::NotFound));
    };
    if caller.has_duty_at(group.school_id) {
        return Ok(Ok(ReadView::Staff));
    }
    let children = directory::children_in_group(store, caller, group.id).await?;
    Ok(policy::read_blog(caller, &group, &children))
}

/// Whether the caller may download a file attached to news: they may read
/// one of its feeds, the copy there is addressed to them (its reach, and
/// its grade years) and published (staff of the school also see it
/// scheduled), and it lists the file.
pub async fn may_read_attachment(
    store: &dyn Store,
    now: DateTime<Utc>,
    caller: &PersonRecord,
    news_id: NewsId,
    publish_at: DateTime<Utc>,
    placements: &[Placement],
    file_id: FileId,
) -> Result<bool, StoreError> {
    for placement in placements {
        let (reader, partition) = match placement {
            Placement::School { school_id, .. } => (
                school_reader(store, caller, *school_id).await?,
                keys::school_news_partition(*school_id),
            ),
            Placement::Group { group_id, .. } => (
                group_reader(store, caller, *group_id)
                    .await?
                    .ok()
                    .map(|r| (r, Vec::new())),
                keys::group_news_partition(*group_id),
            ),
        };
        let Some((reader, grades)) = reader else {
            continue;
        };
        if reader != ReadView::Staff && publish_at > now {
            continue;
        }
        let key = keys::news_item(partition, publish_at, news_id);
        let Some(item) = store.get(&key).await? else {
            continue;
        };
        let news: NewsItem = item.parse()?;
        let addressed = reader.sees(&news.reach())
            && (reader == ReadView::Staff || news.reaches_grades(&grades));
        if addressed && news.attachments.iter().any(|a| a.file_id == file_id) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What a release run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Released {
    /// News items whose notices went to the outbox now.
    pub released: usize,
    /// Due items another run released first.
    pub already_released: usize,
}

/// `news-release`: the notices of news whose time has come, each in one
/// transaction with the removal of its schedule entry (which must still
/// exist), so an overlapping or repeated run sends nothing twice.
pub async fn release_due(store: &dyn Store, clock: &dyn Clock) -> Result<Released, StoreError> {
    let now = clock.now();
    let due = query_all(
        store,
        Query::partition(keys::NEWS_SCHEDULED_PARTITION)
            .on(Index::Gsi2)
            .sort(SortKey::AtMost(keys::news_due_until(now))),
    )
    .await?;
    let mut done = Released {
        released: 0,
        already_released: 0,
    };
    for item in due {
        let release: Release = item.parse()?;
        let mut writes = vec![Write::Delete(
            keys::news_release(release.news_id),
            Condition::MustExist,
        )];
        for expansion in release.expansions(now)? {
            writes.push(Write::Put(expansion, Condition::MustNotExist));
        }
        match store.transact(&writes).await {
            Ok(()) => done.released += 1,
            Err(e) if e.is_condition_failure() => done.already_released += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
