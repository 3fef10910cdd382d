//! A post's body: a Markdown subset (CommonMark without raw HTML, tables
//! or footnotes) rendered to HTML and sanitised with ammonia on output, and
//! the YouTube and Vimeo links in it turned into embeds. No other host is
//! ever embedded; every other link stays a plain link.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::LazyLock;

/// A video player to embed, built by us from a recognised link.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Embed {
    pub provider: Provider,
    /// The link as written.
    pub url: String,
    /// The player URL (youtube-nocookie.com or player.vimeo.com).
    pub embed_url: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Provider {
    Youtube,
    Vimeo,
}

/// The rendered body: sanitised HTML with the embeds' iframes after the
/// text, and the embeds on their own for clients that draw their own player.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Rendered {
    pub html: String,
    pub embeds: Vec<Embed>,
}

fn is_youtube_id(id: &str) -> bool {
    id.len() == 11
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The embed for a YouTube or Vimeo video link; `None` for anything else.
pub fn embed_of(link: &str) -> Option<Embed> {
    let url = url::Url::parse(link).ok()?;
    if !matches!(url.scheme(), "https" | "http") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    let youtube = |id: &str| {
        is_youtube_id(id).then(|| Embed {
            provider: Provider::Youtube,
            url: link.to_string(),
            embed_url: format!("https://www.youtube-nocookie.com/embed/{id}"),
        })
    };
    match host.as_str() {
        "youtube.com" | "www.youtube.com" | "m.youtube.com" => match segments.as_slice() {
            ["watch"] => url
                .query_pairs()
                .find(|(k, _)| k == "v")
                .and_then(|(_, v)| youtube(&v)),
            ["shorts" | "embed" | "live", id] => youtube(id),
            _ => None,
        },
        "youtu.be" => match segments.as_slice() {
            [id] => youtube(id),
            _ => None,
        },
        "vimeo.com" | "www.vimeo.com" | "player.vimeo.com" => {
            let id = segments.last()?;
            (id.len() <= 12 && id.bytes().all(|b| b.is_ascii_digit())).then(|| Embed {
                provider: Provider::Vimeo,
                url: link.to_string(),
                embed_url: format!("https://player.vimeo.com/video/{id}"),
            })
        }
        _ => None,
    }
}

/// Built once per process: a feed renders every post it returns, and the
/// builder's tag and attribute tables are the same for all of them.
static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"));
    builder
});

/// Renders a body for output. Raw HTML in the source is shown as text,
/// and what the renderer makes is sanitised again (links keep only http,
/// https and mailto, and get `rel="noopener noreferrer nofollow"`).
pub fn render(source: &str) -> Rendered {
    let mut embeds = Vec::new();
    let mut seen = HashSet::new();
    let mut note = |link: &str| {
        if let Some(e) = embed_of(link)
            && seen.insert(e.embed_url.clone())
        {
            embeds.push(e);
        }
    };
    let events: Vec<Event> = Parser::new_ext(source, Options::empty())
        .map(|event| match event {
            // Raw HTML is never passed through: it becomes text.
            Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
            other => other,
        })
        .inspect(|event| match event {
            Event::Start(Tag::Link { dest_url, .. }) => note(dest_url),
            Event::Text(text) => {
                for word in text.split_whitespace() {
                    if word.starts_with("https://") || word.starts_with("http://") {
                        note(word);
                    }
                }
            }
            _ => {}
        })
        .collect();
    let mut raw = String::new();
    pulldown_cmark::html::push_html(&mut raw, events.into_iter());
    let mut html = SANITISER.clean(&raw).to_string();
    for e in &embeds {
        html.push_str(&format!(
            "<iframe src=\"{}\" width=\"560\" height=\"315\" frameborder=\"0\" allowfullscreen></iframe>",
            e.embed_url
        ));
    }
    Rendered { html, embeds }
}

/// The start of a body as plain text, for a notice or a feed entry: the
/// words of its text and code, whitespace collapsed, links by their text,
/// images by their description, cut at a word before `max_chars` with an
/// ellipsis. Raw HTML is text here too; the reader renders it as text.
pub fn excerpt(source: &str, max_chars: usize) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(source, Options::empty()) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                text.push_str(&t);
            }
            Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Link
                | TagEnd::Image,
            ) => {}
            Event::End(_) | Event::SoftBreak | Event::HardBreak | Event::Rule => text.push(' '),
            _ => {}
        }
    }
    let mut out = String::new();
    let mut chars = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        let gap = usize::from(!out.is_empty());
        // One place is kept for the ellipsis.
        if chars + gap + len >= max_chars {
            if out.is_empty() {
                out.extend(word.chars().take(max_chars.saturating_sub(1)));
            }
            out.push('…');
            return out;
        }
        if gap == 1 {
            out.push(' ');
        }
        out.push_str(word);
        chars += gap + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_never_comes_back_in_any_form() {
        for source in [
            "<script>alert(1)</script>",
            "Hej <script>alert(1)</script> då",
            "[klick](javascript:alert(1))",
            "<img src=x onerror=alert(1)>",
            "![bild](javascript:alert(1))",
        ] {
            let out = render(source).html.to_lowercase();
            assert!(!out.contains("<script"), "{source} -> {out}");
            // Raw HTML comes back as escaped text, never as a tag or a
            // live attribute.
            assert!(!out.contains("<img src=x"), "{source} -> {out}");
            assert!(!out.contains("=\"javascript:"), "{source} -> {out}");
        }
    }

    #[test]
    fn markdown_emphasis_lists_and_links_render() {
        let out = render(
            "**Utflykt** på *fredag*\n\n- matsäck\n- regnkläder\n\n[Schema](https://skola.example.se/schema)",
        );
        assert!(
            out.html.contains("<strong>Utflykt</strong>"),
            "{}",
            out.html
        );
        assert!(out.html.contains("<em>fredag</em>"));
        assert!(out.html.contains("<li>matsäck</li>"));
        assert!(
            out.html
                .contains("href=\"https://skola.example.se/schema\"")
        );
        assert!(out.embeds.is_empty());
    }

    #[test]
    fn youtube_and_vimeo_links_become_embeds_and_nothing_else_does() {
        let out = render(
            "Se https://www.youtube.com/watch?v=dQw4w9WgXcQ och [kort](https://youtu.be/dQw4w9WgXcQ) och https://vimeo.com/76979871 men inte https://evil.example.com/watch?v=dQw4w9WgXcQ eller https://youtube.com.evil.se/watch?v=dQw4w9WgXcQ",
        );
        let urls: Vec<&str> = out.embeds.iter().map(|e| e.embed_url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
                "https://player.vimeo.com/video/76979871"
            ]
        );
        assert_eq!(out.html.matches("<iframe").count(), 2);
        assert!(!out.html.contains("src=\"https://evil"));
        assert!(embed_of("https://www.youtube.com/watch?v=<script>").is_none());
        assert!(embed_of("javascript://youtube.com/watch?v=dQw4w9WgXcQ").is_none());
    }

    #[test]
    fn an_excerpt_is_the_plain_words_cut_at_a_word_with_an_ellipsis() {
        let body = "# Utflykt\n\n**Fredag** går vi till [skogen](https://example.se).\n\n- matsäck\n- regnkläder";
        assert_eq!(
            excerpt(body, 200),
            "Utflykt Fredag går vi till skogen. matsäck regnkläder"
        );
        assert_eq!(excerpt(body, 20), "Utflykt Fredag går…");
        assert!(excerpt(body, 20).chars().count() <= 20);
        assert_eq!(excerpt("ett_mycket_långt_ord", 8), "ett_myc…");
        assert_eq!(excerpt("", 10), "");
    }
}
