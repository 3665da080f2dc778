//! GitLab's offset pagination: `page` and `per_page` in, `X-*` headers and
//! a `Link` header of absolute URLs out.

use warp::http::HeaderValue;
use warp::reply::Response;

/// The page size when none is asked for.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// The largest page GitLab serves; larger requests are cut to it.
pub const MAX_PER_PAGE: u32 = 100;

/// Which page of a listing was served, and where it was asked for.
pub struct PageLinks<'a> {
    /// `http://host:port` as the client addressed the mock.
    pub base_url: &'a str,
    /// The request path, prefix included.
    pub path: &'a str,
    /// The request's query string.
    pub query: &'a str,
    pub page: u32,
    pub per_page: u32,
    /// How many items the whole listing holds; `None` past ten thousand,
    /// where GitLab stops counting and leaves out `X-Total`,
    /// `X-Total-Pages` and the `last` link.
    pub total: Option<u64>,
    /// Whether a later page has items; what decides `X-Next-Page` when the
    /// total is unknown.
    pub more: bool,
}

impl PageLinks<'_> {
    /// Adds `X-Page`, `X-Per-Page`, `X-Next-Page`, `X-Prev-Page`,
    /// `X-Total`, `X-Total-Pages` and `Link` to `response`.
    pub fn apply(&self, mut response: Response) -> Response {
        let pages = self
            .total
            .map(|total| total.div_ceil(u64::from(self.per_page)).max(1));
        let page = u64::from(self.page);
        let next = match pages {
            Some(pages) => page < pages,
            None => self.more,
        };
        let next = next.then(|| page + 1);
        // Past the last page there is no previous one either, as in GitLab.
        let prev = (page > 1 && pages.is_none_or(|pages| page <= pages)).then(|| page - 1);

        let blank = |value: Option<u64>| value.map(|n| n.to_string()).unwrap_or_default();
        let headers = response.headers_mut();
        let mut set = |name: &'static str, value: String| {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        };
        set("x-page", page.to_string());
        set("x-per-page", self.per_page.to_string());
        set("x-next-page", blank(next));
        set("x-prev-page", blank(prev));
        if let (Some(total), Some(pages)) = (self.total, pages) {
            set("x-total", total.to_string());
            set("x-total-pages", pages.to_string());
        }
        set("link", self.link(prev, next, pages));
        response
    }

    fn link(&self, prev: Option<u64>, next: Option<u64>, last: Option<u64>) -> String {
        let relations = [
            ("prev", prev),
            ("next", next),
            ("first", Some(1)),
            ("last", last),
        ];
        let links: Vec<String> = relations
            .into_iter()
            .filter_map(|(rel, page)| Some(format!("<{}>; rel=\"{rel}\"", self.url(page?))))
            .collect();
        links.join(", ")
    }

    /// The request's URL with `page` and `per_page` replaced.
    fn url(&self, page: u64) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in form_urlencoded::parse(self.query.as_bytes()) {
            if name != "page" && name != "per_page" {
                query.append_pair(&name, &value);
            }
        }
        query.append_pair("page", &page.to_string());
        query.append_pair("per_page", &self.per_page.to_string());
        format!("{}{}?{}", self.base_url, self.path, query.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::PageLinks;

    fn headers(total: Option<u64>, more: bool, page: u32) -> warp::http::HeaderMap {
        let links = PageLinks {
            base_url: "http://mock",
            path: "/projects/1/pipelines",
            query: "",
            page,
            per_page: 20,
            total,
            more,
        };
        let response = links.apply(warp::reply::Response::new("[]".into()));
        response.headers().clone()
    }

    /// Past ten thousand matches GitLab sends no total, no page count and
    /// no `last` link, and the next page comes from whether one exists.
    #[test]
    fn an_unknown_total_leaves_out_what_needs_it() {
        let unknown = headers(None, true, 3);
        assert!(unknown.get("x-total").is_none());
        assert!(unknown.get("x-total-pages").is_none());
        assert_eq!(unknown["x-next-page"], "4");
        assert_eq!(unknown["x-prev-page"], "2");
        let link = unknown["link"].to_str().unwrap();
        assert!(
            link.contains("rel=\"next\"") && !link.contains("rel=\"last\""),
            "{link}"
        );

        let end = headers(None, false, 3);
        assert_eq!(end["x-next-page"], "");
    }

    #[test]
    fn a_known_total_gives_every_header() {
        let known = headers(Some(45), false, 2);
        assert_eq!(known["x-total"], "45");
        assert_eq!(known["x-total-pages"], "3");
        assert_eq!(known["x-next-page"], "3");
        assert!(
            known["link"]
                .to_str()
                .unwrap()
                .contains("page=3&per_page=20>; rel=\"last\"")
        );
    }
}
