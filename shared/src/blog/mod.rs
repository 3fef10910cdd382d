//! Group blog (C2): teachers publish posts to one or more of their groups;
//! the pupils and guardians addressed in those groups read them, and so do
//! the group's staff. Edit and delete by the author only. Guardians cannot
//! comment: there is no comment use case at all.
//!
//! A post is written once per addressed group, in the group's blog
//! partition, so a group's feed is one query, newest first. Publishing
//! writes every copy and the audience's notice (C7: an outbox item the
//! worker expands into batches) in one transaction: a post is never
//! published without its notices, nor the other way round.

pub mod markdown;

use crate::audience::{self, Audience, GroupTarget, Reach};
use crate::clock::Clock;
use crate::directory::{self, Group, PersonRecord};
use crate::files::{self, AttachedTo, Attachment, AttachmentView, FileError, Files};
use crate::ids::{FileId, GroupId, PersonId, PostId, SchoolId};
use crate::keys;
use crate::notices::{self, Subject};
use crate::policy::{self, Decision};
use crate::store::{Condition, Item, ListPage, Query, Store, StoreError, Write};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 20_000;

/// One copy of a post, in the partition of one addressed group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    pub id: PostId,
    /// The group whose blog this copy is in.
    pub group_id: GroupId,
    pub school_id: SchoolId,
    /// Who of this group it is addressed to.
    pub reach: Reach,
    /// Every addressed group (for edit and delete of all copies).
    pub targets: Vec<GroupTarget>,
    pub author_id: PersonId,
    pub title: String,
    /// The Markdown source; rendered and sanitised on output.
    pub body: String,
    pub published_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub edited_at: Option<DateTime<Utc>>,
    /// The publish's notice, withdrawn when the post is deleted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notice: Option<notices::Sent>,
    /// Images and files, in the order the author gave them; the bytes are
    /// downloaded through `GET /files/{fileId}`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub attachments: Vec<Attachment>,
}

impl Post {
    fn to_item(&self, version: u64) -> Result<Item, StoreError> {
        let mut item = Item::new(
            keys::blog_post(self.group_id, self.id),
            keys::BLOG_POST,
            self,
        )?;
        item.version = version;
        Ok(item)
    }

    /// The post as clients see it: the body rendered and sanitised.
    pub fn view(&self) -> PostView {
        let rendered = markdown::render(&self.body);
        PostView {
            id: self.id,
            group_id: self.group_id,
            group_ids: self.targets.iter().map(|t| t.group_id).collect(),
            pupils: self.reach.pupils,
            guardians: self.reach.guardians,
            author_id: self.author_id,
            title: self.title.clone(),
            body: self.body.clone(),
            body_html: rendered.html,
            embeds: rendered.embeds,
            attachments: self.attachments.iter().map(Attachment::view).collect(),
            published_at: self.published_at,
            edited_at: self.edited_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PostView {
    pub id: PostId,
    pub group_id: GroupId,
    pub group_ids: Vec<GroupId>,
    pub pupils: bool,
    pub guardians: bool,
    pub author_id: PersonId,
    pub title: String,
    /// The Markdown source, for the author's editor.
    pub body: String,
    pub body_html: String,
    pub embeds: Vec<markdown::Embed>,
    /// Images (`image: true`, to show in the post) and files (to list).
    pub attachments: Vec<AttachmentView>,
    pub published_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime<Utc>>,
}

/// Title and body of a post, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PostText {
    pub title: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BlogError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// The audience names something the caller may not address.
    #[error("may not address {field}")]
    NotAddressable { field: String },
    #[error("{0}")]
    Invalid(audience::FieldError),
    #[error("the post was changed at the same moment; try again")]
    Contended,
    /// An attachment was refused (the field names which).
    #[error(transparent)]
    Attachment(FileError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn decide(decision: Decision) -> Result<(), BlogError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::Forbidden => Err(BlogError::Forbidden),
        Decision::NotFound => Err(BlogError::NotFound),
    }
}

/// What publishing did.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub post: PostView,
}

/// C2: publishes a post to the audience's groups. Only group audiences
/// (a blog belongs to groups); the caller must be allowed to address each
/// group (teacher or mentor of it, leader of its school, admin of its
/// organisation).
pub async fn publish(
    store: &dyn Store,
    files: &dyn Files,
    clock: &dyn Clock,
    caller: &PersonRecord,
    audience: &Audience,
    text: PostText,
    attachments: &[FileId],
) -> Result<Published, BlogError> {
    // Guardians and pupils are refused before anything is read.
    if !audience::may_address_anyone(caller) {
        return Err(BlogError::Forbidden);
    }
    let Some(targets) = audience.groups() else {
        return Err(BlogError::Invalid(audience::FieldError {
            field: "audience".into(),
            message: "a blog post is addressed to groups".into(),
        }));
    };
    let (groups, schools) = audience::addressed(store, audience).await?;
    audience::authorize(caller, audience, "audience", &groups, &schools)
        .map_err(|e| BlogError::NotAddressable { field: e.field })?;

    let now = clock.now();
    let id = PostId::generate();
    let subject = Subject::BlogPost {
        post_id: id,
        group_id: targets[0].group_id,
        group_name: groups[&targets[0].group_id].name.clone(),
        title: text.title.clone(),
        excerpt: notices::excerpt(&text.body),
    };
    let attaching = files::prepare_attach(store, files, caller, attachments, "attachments", &[])
        .await
        .map_err(BlogError::Attachment)?;
    // The outbox finds the groups' families (a query per pupil), however
    // many, after the answer: the request writes the copies and one item.
    let (sent, expansion) = notices::expansion_sent(
        &subject,
        notices::Target::Groups {
            groups: targets.to_vec(),
        },
        caller.id(),
        now,
    )?;
    let mut writes = Vec::with_capacity(targets.len() + 1 + attaching.len());
    let mut first = None;
    for t in targets {
        let group = &groups[&t.group_id];
        let post = Post {
            id,
            group_id: t.group_id,
            school_id: group.school_id,
            reach: t.reach,
            targets: targets.to_vec(),
            author_id: caller.id(),
            title: text.title.clone(),
            body: text.body.clone(),
            published_at: now,
            edited_at: None,
            notice: Some(sent.clone()),
            attachments: attaching.attachments(),
        };
        writes.push(Write::Put(post.to_item(1)?, Condition::MustNotExist));
        first.get_or_insert(post);
    }
    writes.push(Write::Put(expansion, Condition::MustNotExist));
    writes.extend(attaching.writes(&AttachedTo::BlogPost {
        post_id: id,
        group_ids: targets.iter().map(|t| t.group_id).collect(),
    })?);
    transact_attaching(store, &writes, !attaching.is_empty()).await?;
    tracing::info!(post = %id, groups = targets.len(), files = attaching.len(), "blog post published");
    let post = first.ok_or(BlogError::NotFound)?;
    Ok(Published { post: post.view() })
}

/// Writes a transaction that attaches files: a failed condition there is
/// a file attached elsewhere at the same moment (the post's own items are
/// new, or were read at their version: `Contended`).
async fn transact_attaching(
    store: &dyn Store,
    writes: &[Write],
    attaching: bool,
) -> Result<(), BlogError> {
    match store.transact(writes).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_condition_failure() && attaching => {
            Err(BlogError::Attachment(FileError::NotAttachable {
                field: "attachments".into(),
                reason: "a file was attached elsewhere at the same moment, or the post changed"
                    .into(),
            }))
        }
        Err(e) if e.is_condition_failure() => Err(BlogError::Contended),
        Err(e) => Err(e.into()),
    }
}

/// Whether the caller may download a file attached to a post: they may
/// read one of the post's groups' blogs, the post's copy there is
/// addressed to them, and it still lists the file (a file the author
/// removed, or of a deleted post, is no longer the readers').
pub async fn may_read_attachment(
    store: &dyn Store,
    caller: &PersonRecord,
    group_ids: &[GroupId],
    post_id: PostId,
    file_id: FileId,
) -> Result<bool, StoreError> {
    for group_id in group_ids {
        let Ok(view) = crate::audience::group_view(store, caller, *group_id).await? else {
            continue;
        };
        let Some(item) = store.get(&keys::blog_post(*group_id, post_id)).await? else {
            continue;
        };
        let post: Post = item.parse()?;
        if view.sees(&post.reach) && post.attachments.iter().any(|a| a.file_id == file_id) {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn group(store: &dyn Store, id: GroupId) -> Result<Group, BlogError> {
    directory::group(store, id)
        .await?
        .ok_or(BlogError::NotFound)
}

/// A page of a feed.
pub type Feed = ListPage<PostView>;

/// C2: a group's feed, newest first, one query on the group's blog
/// partition: staff of the group see every post, its pupils the posts
/// addressed to pupils, guardians of its pupils those addressed to
/// guardians.
pub async fn feed(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
    limit: u32,
    cursor: Option<String>,
) -> Result<Feed, BlogError> {
    let view = crate::audience::group_view(store, caller, group_id)
        .await?
        .map_err(|d| match d {
            Decision::Forbidden => BlogError::Forbidden,
            _ => BlogError::NotFound,
        })?;
    let page = store
        .query(
            &Query::partition(keys::blog_partition(group_id))
                .begins_with(keys::BLOG_POST_PREFIX)
                .backward()
                .limit(limit)
                .after(cursor),
        )
        .await?;
    let mut items = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let post: Post = item.parse()?;
        if view.sees(&post.reach) {
            items.push(post.view());
        }
    }
    Ok(Feed {
        items,
        next_cursor: page.next,
    })
}

/// Every copy of a post, read through one of its groups, with versions;
/// only the author passes (staff of the group who are not the author get
/// 403, anyone who may not know the group 404).
async fn authors_copies(
    store: &dyn Store,
    caller: &PersonRecord,
    group_id: GroupId,
    post_id: PostId,
) -> Result<Vec<(Post, u64)>, BlogError> {
    let group = group(store, group_id).await?;
    let children = crate::audience::children_in_group(store, caller, &group).await?;
    decide(policy::change_blog_post(caller, &group, &children))?;
    let item = store
        .get(&keys::blog_post(group_id, post_id))
        .await?
        .ok_or(BlogError::NotFound)?;
    let post: Post = item.parse()?;
    if post.author_id != caller.id() {
        return Err(BlogError::Forbidden);
    }
    let keys: Vec<_> = post
        .targets
        .iter()
        .map(|t| keys::blog_post(t.group_id, post_id))
        .collect();
    let mut copies = Vec::with_capacity(keys.len());
    for item in store.get_many(&keys).await? {
        copies.push((item.parse::<Post>()?, item.version));
    }
    Ok(copies)
}

/// C2: the author edits title and body, and with `attachments` the list
/// of files (new ones are attached as on publish; one left out is
/// discarded: its item goes in the edit's transaction, its bytes after). Every copy changes together, each on the
/// version it was read at, and a new title or text reaches the notices
/// ([`notices::Revision`]).
#[allow(clippy::too_many_arguments)]
pub async fn edit(
    store: &dyn Store,
    files: &dyn Files,
    clock: &dyn Clock,
    caller: &PersonRecord,
    group_id: GroupId,
    post_id: PostId,
    text: PostText,
    attachments: Option<&[FileId]>,
) -> Result<PostView, BlogError> {
    let copies = authors_copies(store, caller, group_id, post_id).await?;
    let now = clock.now();
    let current: Vec<Attachment> = copies
        .first()
        .map(|(p, _)| p.attachments.clone())
        .unwrap_or_default();
    // Files the new list leaves out are discarded with the edit: nobody
    // could reach them again (a file attaches once), so they do not stay.
    let (new_list, attaching, left_out) = match attachments {
        None => (current, files::Attaching::none(), Vec::new()),
        Some(ids) => {
            let kept: Vec<FileId> = current.iter().map(|a| a.file_id).collect();
            let left_out: Vec<FileId> = kept
                .iter()
                .filter(|id| !ids.contains(id))
                .copied()
                .collect();
            let attaching = files::prepare_attach(store, files, caller, ids, "attachments", &kept)
                .await
                .map_err(BlogError::Attachment)?;
            let fresh = attaching.attachments();
            let list = ids
                .iter()
                .filter_map(|id| {
                    current
                        .iter()
                        .chain(fresh.iter())
                        .find(|a| a.file_id == *id)
                        .cloned()
                })
                .collect();
            (list, attaching, left_out)
        }
    };
    let mut writes = Vec::with_capacity(copies.len() + attaching.len() + left_out.len() + 1);
    // The notices carry title and excerpt: an edit of either revises them
    // through the outbox, in this transaction, so none is left stale.
    if let Some((before, _)) = copies.first()
        && let Some(sent) = &before.notice
        && (before.title != text.title || before.body != text.body)
    {
        writes.push(Write::Put(
            notices::revision(sent, &text.title, &notices::excerpt(&text.body), now)?,
            Condition::MustNotExist,
        ));
    }
    let mut shown = None;
    let group_ids: Vec<GroupId> = copies.iter().map(|(p, _)| p.group_id).collect();
    for (mut post, version) in copies {
        post.title = text.title.clone();
        post.body = text.body.clone();
        post.attachments = new_list.clone();
        post.edited_at = Some(now);
        writes.push(Write::Put(
            post.to_item(version + 1)?,
            Condition::VersionEquals(version),
        ));
        if post.group_id == group_id {
            shown = Some(post);
        }
    }
    writes.extend(attaching.writes(&AttachedTo::BlogPost { post_id, group_ids })?);
    writes.extend(files::discard(&left_out));
    transact_attaching(store, &writes, !attaching.is_empty()).await?;
    files::remove_bytes(files, &left_out).await;
    tracing::info!(post = %post_id, files = attaching.len(), discarded = left_out.len(), "blog post edited");
    shown.map(|p| p.view()).ok_or(BlogError::NotFound)
}

/// C2: the author deletes the post from every group it was addressed to,
/// and its files with it (their items in the same transaction, so nobody
/// downloads them after; the bytes after it).
pub async fn delete(
    store: &dyn Store,
    files: &dyn Files,
    caller: &PersonRecord,
    group_id: GroupId,
    post_id: PostId,
) -> Result<(), BlogError> {
    let copies = authors_copies(store, caller, group_id, post_id).await?;
    // The notices first: they carry the title, and a post deleted because
    // it went to the wrong group must not linger in that group's homes.
    // A delete that fails after this is retried whole (the notice is gone
    // either way).
    if let Some(sent) = copies.first().and_then(|(p, _)| p.notice.as_ref()) {
        notices::withdraw(store, sent).await?;
    }
    let attached: Vec<FileId> = copies
        .first()
        .map(|(p, _)| p.attachments.iter().map(|a| a.file_id).collect())
        .unwrap_or_default();
    let mut writes: Vec<_> = copies
        .iter()
        .map(|(post, version)| {
            Write::Delete(
                keys::blog_post(post.group_id, post.id),
                Condition::VersionEquals(*version),
            )
        })
        .collect();
    writes.extend(files::discard(&attached));
    match store.transact(&writes).await {
        Ok(()) => {}
        Err(e) if e.is_condition_failure() => return Err(BlogError::Contended),
        Err(e) => return Err(e.into()),
    }
    files::remove_bytes(files, &attached).await;
    tracing::info!(post = %post_id, files = attached.len(), "blog post deleted");
    Ok(())
}
