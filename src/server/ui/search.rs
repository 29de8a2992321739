//! The search screen (`/search`): one box for words with or without diacritics and for numbers such as
//! `123/QĐ-UBND`, the facet counts of what matched (type, issuer, year, status), each a filter to add
//! or remove, and a page of documents with their best-matching page and a snippet whose matches are
//! marked. A role that does not read documents (scan operators) sees only what tells it a document is
//! already captured, as the operation decides.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use chrono::DateTime;
use maud::{Markup, html};
use search::{SearchRequest, SortOrder};
use serde::Deserialize;

use super::super::{AppError, AppState, blocking};
use super::document::status_badge;
use super::error::WebError;
use super::lang::{self, Lang};
use super::layout::{self, Screen};
use super::province;
use super::user::WebUser;
use crate::ops::documents::{HitView, READ, SEARCH, SearchOutput};

/// Documents per page of results.
const PER_PAGE: usize = 20;

/// The screen's query: the words, the filters, the order and where the page of results starts. Every
/// field is text, so that a hand-edited address shows the form again instead of an error.
#[derive(Debug, Default, Clone, Deserialize)]
struct Asked {
    #[serde(default)]
    q: String,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    issuer: Option<String>,
    year: Option<String>,
    sort: Option<String>,
    offset: Option<String>,
}

impl Asked {
    fn year(&self) -> Option<i32> {
        self.year.as_deref().and_then(|y| y.parse().ok())
    }

    fn offset(&self) -> usize {
        // Never past the matches a search considers, so that a crafted offset cannot overflow a count.
        self.offset.as_deref().and_then(|o| o.parse().ok()).unwrap_or(0).min(search::MAX_MATCHES)
    }

    fn sort(&self) -> SortOrder {
        self.sort.as_deref().and_then(|s| s.parse().ok()).unwrap_or_default()
    }

    /// This screen's address for the same words with a filter or the page changed: `change` edits a
    /// copy; empty filters are left out.
    fn link(&self, change: impl FnOnce(&mut Asked)) -> String {
        let mut asked = self.clone();
        change(&mut asked);
        let filters = [
            ("type", &asked.doc_type),
            ("issuer", &asked.issuer),
            ("year", &asked.year),
            ("sort", &asked.sort),
            ("offset", &asked.offset),
        ];
        let filters =
            filters.into_iter().filter_map(|(key, value)| value.as_deref().filter(|v| !v.is_empty()).map(|v| (key, v)));
        super::link("/search", [("q", asked.q.as_str())].into_iter().chain(filters))
    }
}

/// `GET /search[?q=…&type=…&issuer=…&year=…&sort=…&offset=…]`.
async fn screen(
    State(state): State<AppState>,
    user: WebUser,
    Query(asked): Query<Asked>,
) -> Result<Html<String>, WebError> {
    user.require(SEARCH)?;
    let lang = user.lang;
    let found = if asked.q.trim().is_empty() {
        None
    } else {
        let request = SearchRequest {
            text: asked.q.clone(),
            doc_type: asked.doc_type.clone().filter(|t| !t.is_empty()),
            issuing_body: asked.issuer.clone().filter(|i| !i.is_empty()),
            year: asked.year(),
            statuses: Vec::new(),
            sort: asked.sort(),
            offset: asked.offset(),
            limit: PER_PAGE,
        };
        let (role, actor) = (user.user.role, user.user.name.clone());
        // The province's other offices are asked too on the first page, by the roles that may.
        let province = asked.offset() == 0 && user.may(crate::ops::province::SEARCH);
        let search = move |a: &crate::Appliance| {
            let text = request.text.clone();
            let found = a.search(request, Some(role), &actor)?;
            // The officer is told the province could not be asked; why is for the log.
            let asked = |a: &crate::Appliance| {
                a.province_search(&text, &actor).inspect_err(|e| tracing::warn!("province search: {e}"))
            };
            Ok((found, (province && a.has_province_index()).then(|| asked(a))))
        };
        match blocking(&state, search).await {
            Ok(found) => Some(Ok(found)),
            // A query the operation refuses (only signs, say) is said next to the box.
            Err(AppError::BadRequest(why)) => Some(Err(why)),
            Err(e) => return Err(user.error(e)),
        }
    };
    let title = Screen::Search.label(lang);
    let content = html! {
        h1 { (title) }
        form.search role="search" method="get" action="/search" {
            label for="q" { (lang.t("Tìm văn bản (có dấu hoặc không dấu, số hiệu như 123/QĐ-UBND)", "Find documents (with or without diacritics, numbers such as 123/QĐ-UBND)")) }
            div.search-row {
                @let invalid = matches!(found, Some(Err(_)));
                input #q type="search" name="q" value=(asked.q) autofocus[found.is_none()]
                    aria-invalid=[invalid.then_some("true")] aria-describedby=[invalid.then_some("q-error")];
                @for (key, value) in [("type", &asked.doc_type), ("issuer", &asked.issuer), ("year", &asked.year)] {
                    @if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                        input type="hidden" name=(key) value=(value);
                    }
                }
                button type="submit" { (lang.t("Tìm", "Search")) }
            }
            @if let Some(Err(why)) = &found {
                p.field-error #q-error { (lang.t("Không tìm được với nội dung này: ", "This cannot be searched: ")) (why) }
            }
        }
        @match &found {
            Some(Ok((found, province))) => {
                (results(&user, &asked, found))
                @if let Some(p) = province {
                    @let (offers, refused) = p.as_ref().map_or((&[][..], &[][..]), |p| (&p.offers[..], &p.refused[..]));
                    (province::offers(lang, offers, refused, p.is_err(),
                        lang.t("Các cơ quan khác không có văn bản nào khớp.", "No document of the other offices matches.")))
                }
            },
            Some(Err(_)) => {},
            None => p.muted { (lang.t("Nhập từ khóa, số hiệu văn bản hoặc số định danh của công dân.", "Enter words, a document number or a citizen's personal ID.")) },
        }
    };
    Ok(Html(layout::page(&user, Some(Screen::Search), title, content).into_string()))
}

/// The facets beside the page of documents.
fn results(user: &WebUser, asked: &Asked, found: &SearchOutput) -> Markup {
    let lang = user.lang;
    let offset = asked.offset();
    let count = if found.truncated {
        match lang {
            Lang::Vi => format!("Hơn {} kết quả", found.total),
            Lang::En => format!("More than {} match", found.total),
        }
    } else {
        match lang {
            Lang::Vi => format!("{} kết quả", found.total),
            Lang::En => format!("{} {}", found.total, if found.total == 1 { "match" } else { "matches" }),
        }
    };
    html! {
        div.search-results {
            aside.facets aria-labelledby="facets-h" {
                h2 #facets-h { (lang.t("Lọc kết quả", "Narrow the results")) }
                (facet_group(lang, asked, found, "type", lang.t("Loại tài liệu", "Document type")))
                (facet_group(lang, asked, found, "issuer", lang.t("Cơ quan ban hành", "Issuing body")))
                (facet_group(lang, asked, found, "year", lang.t("Năm ban hành", "Year issued")))
                (facet_group(lang, asked, found, "status", lang.t("Trạng thái", "Status")))
            }
            section.hits aria-labelledby="hits-h" {
                h2 #hits-h aria-live="polite" { (count) }
                @if found.truncated {
                    p.muted { (lang.t("Chỉ xét các trang khớp nhất; thêm từ khóa hoặc bộ lọc để thu hẹp.", "Only the best-matching pages are counted; add a word or a filter to narrow.")) }
                }
                form.inline.sort method="get" action="/search" {
                    input type="hidden" name="q" value=(asked.q);
                    @for (key, value) in [("type", &asked.doc_type), ("issuer", &asked.issuer), ("year", &asked.year)] {
                        @if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                            input type="hidden" name=(key) value=(value);
                        }
                    }
                    p {
                        label for="sort" { (lang.t("Sắp xếp", "Order")) }
                        select #sort name="sort" {
                            @for (value, order, label) in [
                                ("relevance", SortOrder::Relevance, lang.t("Khớp nhất", "Best match")),
                                ("newest", SortOrder::Newest, lang.t("Mới số hóa nhất", "Newest first")),
                                ("oldest", SortOrder::Oldest, lang.t("Cũ nhất", "Oldest first")),
                            ] {
                                option value=(value) selected[asked.sort() == order] { (label) }
                            }
                        }
                    }
                    p { button.secondary type="submit" { (lang.t("Sắp xếp", "Sort")) } }
                }
                ol.hits start=(offset + 1) {
                    @for hit in &found.hits { (hit_item(user, hit)) }
                }
                nav.pager aria-label=(lang.t("Trang kết quả", "Pages of results")) {
                    @if offset > 0 {
                        a href=(asked.link(|a| a.offset = Some(offset.saturating_sub(PER_PAGE).to_string()))) rel="prev" {
                            "← " (lang.t("Trang trước", "Previous page"))
                        }
                    }
                    @if offset + found.hits.len() < found.total {
                        a href=(asked.link(|a| a.offset = Some((offset + PER_PAGE).to_string()))) rel="next" {
                            (lang.t("Trang sau", "Next page")) " →"
                        }
                    }
                }
            }
        }
    }
}

/// One facet's counts (`/{name}/{value}` in the operation's result), each a link that adds the filter,
/// or removes it when it is the one applied. The operation narrows statuses by role itself, so the
/// status counts are shown without links.
fn facet_group(lang: Lang, asked: &Asked, found: &SearchOutput, name: &str, label: &str) -> Markup {
    let prefix = format!("/{name}/");
    let mut values: Vec<(&str, usize)> =
        found.facets.iter().filter_map(|(k, n)| k.strip_prefix(&prefix).map(|v| (v, *n))).collect();
    if values.is_empty() {
        return html! {};
    }
    values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let applied = match name {
        "type" => asked.doc_type.as_deref(),
        "issuer" => asked.issuer.as_deref(),
        "year" => asked.year.as_deref(),
        _ => None,
    };
    let set = |value: Option<String>| {
        asked.link(|a| {
            a.offset = None;
            match name {
                "type" => a.doc_type = value,
                "issuer" => a.issuer = value,
                _ => a.year = value,
            }
        })
    };
    html! {
        h3 { (label) }
        ul.facet {
            @for (value, n) in values {
                li {
                    @if name == "status" {
                        (status_badge(lang, value)) " " span.count { (n) }
                    } @else if applied == Some(value) {
                        strong { (value) } " " span.count { (n) } " "
                        a href=(set(None)) { (lang.t("bỏ lọc", "remove")) span.sr-only { " " (value) } }
                    } @else {
                        a href=(set(Some(value.to_owned()))) { (value) } " " span.count { (n) }
                    }
                }
            }
        }
    }
}

/// One document found: its name (a link to it for those who read documents), code, type, status,
/// capture day, the best-matching page and the snippet.
fn hit_item(user: &WebUser, hit: &HitView) -> Markup {
    let lang = user.lang;
    let captured = DateTime::from_timestamp(hit.captured_at, 0)
        .map(|t| lang::date(t.with_timezone(&domain::vietnam_offset()).date_naive()))
        .unwrap_or_default();
    html! {
        li.card {
            @match &hit.content {
                Some(c) if user.may(READ) => {
                    h3 { a href=(format!("/documents/{}#page-{}", hit.code, c.page)) { (c.name) } }
                }
                Some(c) => h3 { (c.name) },
                None => h3 { (hit.code) },
            }
            p.hit-meta {
                code { (hit.code) } " · " (hit.doc_type) " · " (status_badge(lang, &hit.status))
                " · " (lang.t("số hóa ngày", "digitised on")) " " (captured)
                @if let Some(c) = &hit.content {
                    " · " (lang.t("trang", "page")) " " (c.page)
                    @if !c.owner.is_empty() { " · " (lang.t("chủ sở hữu", "owner")) " " (c.owner) }
                }
            }
            @if let Some(c) = &hit.content {
                p.snippet { (snippet(&c.snippet)) }
            }
        }
    }
}

/// A snippet as the operation gives it (HTML-escaped text with the matches between `<b>` and `</b>`)
/// with each match in `<mark>`. Nothing of the index goes out unescaped: the text between the
/// markers is decoded and escaped again by the template, so that only the marks added here are
/// markup.
fn snippet(html_text: &str) -> Markup {
    let mut parts = Vec::new();
    for (i, outside) in html_text.split("<b>").enumerate() {
        let (marked, rest) = match (i, outside.split_once("</b>")) {
            (0, _) | (_, None) => (None, outside),
            (_, Some((marked, rest))) => (Some(marked), rest),
        };
        if let Some(marked) = marked {
            parts.push((true, decode(marked)));
        }
        parts.push((false, decode(rest)));
    }
    html! {
        @for (marked, text) in parts {
            @if marked { mark { (text) } } @else { (text) }
        }
    }
}

/// Text escaped as the search index escapes snippets (`&`, `<`, `>`, `"`, `'`), decoded.
fn decode(escaped: &str) -> String {
    escaped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The search screen's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/search", get(screen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_marks_only_what_the_index_marked_and_escapes_the_rest() {
        let out =
            snippet("Số <b>123</b>/<b>QĐ</b> &lt;script&gt;x&lt;/script&gt; &amp;amp; <b>a&lt;b</b>").into_string();
        assert_eq!(
            out,
            "Số <mark>123</mark>/<mark>QĐ</mark> &lt;script&gt;x&lt;/script&gt; &amp;amp; <mark>a&lt;b</mark>"
        );
    }
}
