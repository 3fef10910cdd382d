//! A post's body: a Markdown subset (CommonMark without raw HTML, tables
//! or footnotes) rendered on output to HTML that is safe by construction
//! ([`render`]), and the YouTube and Vimeo links in it turned into embeds.
//! No other host is ever embedded; every other link stays a plain link.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use serde::Serialize;
use std::collections::HashSet;

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

/// Whether a link may point at `url`: http, https and mailto only, with
/// a host for the web ones. The string checked is the one written: the
/// URL as the `url` crate normalises it (tabs and newlines out, the
/// scheme in lower case, as a browser reads it).
fn safe_href(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some() => Some(parsed.into()),
        "mailto" => Some(parsed.into()),
        _ => None,
    }
}

/// As [`safe_href`], for an image: http and https only.
fn safe_src(url: &str) -> Option<String> {
    safe_href(url).filter(|u| u.starts_with("http://") || u.starts_with("https://"))
}

/// The opening tag of a link we keep, every value escaped.
fn link_tag(href: &str, title: &str) -> String {
    let mut tag = String::from("<a href=\"");
    // Writing to a String cannot fail.
    let _ = pulldown_cmark_escape::escape_href(&mut tag, href);
    if !title.is_empty() {
        tag.push_str("\" title=\"");
        let _ = pulldown_cmark_escape::escape_html(&mut tag, title);
    }
    tag.push_str("\" rel=\"noopener noreferrer nofollow\">");
    tag
}

/// Renders a body for output, safe by construction rather than cleaned
/// afterwards: raw HTML in the source is shown as text, so every tag in
/// the output is one the renderer writes for the Markdown subset (with
/// its text and attribute values escaped); a link keeps only an http,
/// https or mailto target and gets `rel="noopener noreferrer nofollow"`,
/// an image only an http or https one; any other link or image is its
/// text alone.
///
/// Written here instead of passing the HTML through ammonia: that
/// sanitiser brought html5ever, 0.24 MB of every function that renders a
/// post (arm64 zip; issue 3's 3 MB package limit), to remove what this
/// renderer can no longer write. The unit tests parse the output of a few thousand
/// hostile bodies with html5ever (a dev-dependency) and allow only the
/// subset's elements, attributes and URL schemes.
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
    // Per open link and image: whether it was kept (its end goes too).
    let mut links: Vec<bool> = Vec::new();
    let mut images: Vec<bool> = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    for event in Parser::new_ext(source, Options::empty()) {
        match event {
            // Raw HTML is never passed through: it becomes text.
            Event::Html(text) | Event::InlineHtml(text) | Event::Text(text) => {
                for word in text.split_whitespace() {
                    if word.starts_with("https://") || word.starts_with("http://") {
                        note(word);
                    }
                }
                events.push(Event::Text(text));
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => {
                note(&dest_url);
                let target = if link_type == LinkType::Email {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.to_string()
                };
                let href = safe_href(&target);
                links.push(href.is_some());
                if let Some(href) = href {
                    events.push(Event::InlineHtml(link_tag(&href, &title).into()));
                }
            }
            Event::End(TagEnd::Link) => {
                if links.pop().unwrap_or(false) {
                    events.push(Event::InlineHtml("</a>".into()));
                }
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let src = safe_src(&dest_url);
                images.push(src.is_some());
                if let Some(src) = src {
                    events.push(Event::Start(Tag::Image {
                        link_type,
                        dest_url: src.into(),
                        title,
                        id,
                    }));
                }
            }
            Event::End(TagEnd::Image) => {
                if images.pop().unwrap_or(false) {
                    events.push(Event::End(TagEnd::Image));
                }
            }
            other => events.push(other),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
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

    /// What a browser would build from the output, element by element:
    /// only the subset's elements, only their attributes, links and
    /// images only to the allowed schemes, iframes only our players.
    fn assert_only_the_subset(source: &str, html: &str) {
        let allowed = |element: &str, attribute: &str| {
            matches!(
                (element, attribute),
                ("a", "href" | "title" | "rel")
                    | ("img", "src" | "alt" | "title")
                    | ("ol", "start")
                    | ("code", "class")
                    | (
                        "iframe",
                        "src" | "width" | "height" | "frameborder" | "allowfullscreen"
                    )
            )
        };
        let fragment = scraper::Html::parse_fragment(html);
        for node in fragment.tree.nodes() {
            let Some(element) = node.value().as_element() else {
                continue;
            };
            let name = element.name();
            assert!(
                matches!(
                    name,
                    // The fragment parser's own wrappers.
                    "html"
                        | "body"
                        | "p"
                        | "h1"
                        | "h2"
                        | "h3"
                        | "h4"
                        | "h5"
                        | "h6"
                        | "blockquote"
                        | "pre"
                        | "code"
                        | "ol"
                        | "ul"
                        | "li"
                        | "em"
                        | "strong"
                        | "a"
                        | "img"
                        | "hr"
                        | "br"
                        | "iframe"
                ),
                "<{name}> from {source:?}: {html}"
            );
            for (attribute, value) in element.attrs() {
                assert!(
                    allowed(name, attribute),
                    "{name} {attribute}={value:?} from {source:?}: {html}"
                );
                let url = match (name, attribute) {
                    ("a", "href") => Some(["http:", "https:", "mailto:"].as_slice()),
                    ("img", "src") => Some(["http:", "https:"].as_slice()),
                    ("iframe", "src") => Some(
                        [
                            "https://www.youtube-nocookie.com/embed/",
                            "https://player.vimeo.com/video/",
                        ]
                        .as_slice(),
                    ),
                    _ => None,
                };
                if let Some(prefixes) = url {
                    let lower = value.to_ascii_lowercase();
                    assert!(
                        prefixes.iter().any(|p| lower.starts_with(p)),
                        "{name} {attribute}={value:?} from {source:?}: {html}"
                    );
                }
                if name == "a" && attribute == "rel" {
                    assert_eq!(value, "noopener noreferrer nofollow");
                }
            }
        }
    }

    /// Pieces of hostile bodies: raw HTML, script and event attributes,
    /// javascript: and data: targets in every disguise CommonMark allows
    /// (entities, escapes, case, whitespace, autolinks, references).
    const HOSTILE: &[&str] = &[
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<svg onload=alert(1)>",
        "<style>*{}</style>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java&#115;cript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](java\\script:alert(1))",
        "[x](<java script:alert(1)>)",
        "[x]( javascript:alert(1) )",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](data:image/svg+xml,<svg onload=alert(1)>)",
        "![x](javascript:alert(1))",
        "![x\"onerror=\"alert(1)](https://ok.example/a.png)",
        "[x](https://ok.example/\"onmouseover=\"alert(1))",
        "[x](https://ok.example \"t\\\" onmouseover=alert(1)\")",
        "<javascript:alert(1)>",
        "<https://ok.example/a?b=\"c\">",
        "<mailto:a@example.se>",
        "<a@example.se>",
        "[ref]\n\n[ref]: javascript:alert(1)",
        "[ok][r]\n\n[r]: https://ok.example/",
        "[x](//evil.example/)",
        "[x](/relative)",
        "`<script>`",
        "```html\n<script>alert(1)</script>\n```",
        "```\" onmouseover=\"x\n```",
        "> <b>citat</b>",
        "1. <i>a</i>\n2. b",
        "- [x](javascript:alert(1))",
        "**<u>fet</u>**",
        "&lt;script&gt;",
        "\\<script\\>",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "[v](https://vimeo.com/76979871)",
        "Hej\n",
        "\n\n",
        "<!-- x -->",
        "<![CDATA[x]]>",
        "<?php x ?>",
    ];

    #[test]
    fn no_body_however_hostile_renders_anything_outside_the_subset() {
        for source in HOSTILE {
            assert_only_the_subset(source, &render(source).html);
        }
        // Pieces combined, a few thousand ways (a fixed sequence: the same
        // bodies every run).
        let mut state: u64 = 0x5eed_5c01_a7a1;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % n
        };
        for _ in 0..3000 {
            let pieces = 2 + next(4);
            let mut source = String::new();
            for _ in 0..pieces {
                source.push_str(HOSTILE[next(HOSTILE.len())]);
                source.push_str(["", " ", "\n", "\n\n", "*", "["][next(6)]);
            }
            assert_only_the_subset(&source, &render(&source).html);
        }
    }

    #[test]
    fn a_link_or_image_to_another_scheme_is_its_text_alone() {
        let out = render("[klicka](javascript:alert(1)) och ![bild](data:image/png;base64,AA==)");
        assert_eq!(out.html, "<p>klicka och bild</p>\n");
        let out = render("[Schema](https://skola.example.se/schema) <mailto:rektor@example.se>");
        assert!(
            out.html.contains(
                "<a href=\"https://skola.example.se/schema\" rel=\"noopener noreferrer nofollow\">Schema</a>"
            ),
            "{}",
            out.html
        );
        assert!(
            out.html.contains("href=\"mailto:rektor@example.se\""),
            "{}",
            out.html
        );
    }
}
