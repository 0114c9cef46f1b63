//! Compressed answers. A hub on a Raspberry Pi behind a home connection,
//! and an aggregator whose JSON pages are mostly repeated field names, both
//! gain several times over from compression, so every text answer is
//! compressed as the client asks (`Accept-Encoding`: brotli, zstd or gzip)
//! by tower-http's [`CompressionLayer`].
//!
//! Two things are added around it:
//!
//! - The hub's signed listing is the hot path (every aggregator polls it),
//!   so it is compressed once per publication ([`Precompressed`]), with the
//!   same codecs as the layer, and served as bytes like the identity form.
//! - A strong `ETag` names one representation (RFC 9110 8.8.3), so a
//!   compressed answer's tag gets the coding appended (`"abc-gzip"`), and
//!   an `If-None-Match` carrying such a tag is given back to the handler
//!   without it ([`etag_per_coding`]); handlers keep one tag per resource
//!   and their 304 logic holds for every coding.

use std::convert::Infallible;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer, ServiceExt};
use tower_http::compression::CompressionLayer;

/// The codings served, in the order preferred when a client accepts
/// several equally: brotli and zstd are smaller than gzip for JSON.
pub const CODINGS: [Coding; 3] = [Coding::Brotli, Coding::Zstd, Coding::Gzip];

/// A content coding this node can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `br`
    Brotli,
    /// `zstd`
    Zstd,
    /// `gzip`
    Gzip,
}

impl Coding {
    /// The token in `Accept-Encoding` and `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    fn index(self) -> usize {
        match self {
            Coding::Brotli => 0,
            Coding::Zstd => 1,
            Coding::Gzip => 2,
        }
    }
}

/// The layer that compresses every answer a client accepts compressed
/// (gzip, brotli, zstd; not deflate, which nobody needs over gzip). Small
/// bodies, images and answers already encoded are left alone.
pub fn layer() -> CompressionLayer {
    CompressionLayer::new().no_deflate()
}

/// The coding to send for a request's `Accept-Encoding`: the accepted one
/// with the highest `q` (ties broken by [`CODINGS`]' order), `None` for
/// identity. `*` stands for every coding not named.
pub fn negotiate(headers: &HeaderMap) -> Option<Coding> {
    let mut q = [None::<f32>; 3];
    let mut star = None::<f32>;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|w| w.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if name == "*" {
                star = Some(weight);
            } else if let Some(c) = CODINGS
                .iter()
                .find(|c| name.eq_ignore_ascii_case(c.token()))
            {
                q[c.index()] = Some(weight);
            }
        }
    }
    CODINGS
        .iter()
        .filter_map(|c| {
            let w = q[c.index()].or(star)?;
            (w > 0.0).then_some((*c, w))
        })
        .fold(None::<(Coding, f32)>, |best, (c, w)| match best {
            Some((_, bw)) if bw >= w => best,
            _ => Some((c, w)),
        })
        .map(|(c, _)| c)
}

/// `bytes` compressed with `coding` by the same codec as [`layer`], at its
/// best level (worth it for bytes compressed once and sent many times).
/// `None` if the codec declined (too small to gain) or failed.
pub async fn compress(bytes: Bytes, coding: Coding, content_type: &'static str) -> Option<Bytes> {
    let service = layer()
        .quality(tower_http::CompressionLevel::Best)
        .layer(tower::service_fn(move |_: Request| {
            let bytes = bytes.clone();
            async move {
                let mut r = Response::new(Body::from(bytes));
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                Ok::<_, Infallible>(r)
            }
        }));
    let mut request = Request::new(Body::empty());
    request.headers_mut().insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static(coding.token()),
    );
    let response = service.oneshot(request).await.ok()?;
    if response.headers().get(header::CONTENT_ENCODING)? != coding.token() {
        return None;
    }
    axum::body::to_bytes(Body::new(response.into_body()), usize::MAX)
        .await
        .ok()
}

/// The compressed forms of one resource (the hub's current listing), made
/// on first demand and kept until the resource's `ETag` changes: once per
/// publication, not per request.
#[derive(Default)]
pub struct Precompressed {
    current: Mutex<Option<(String, std::sync::Arc<Variants>)>>,
}

#[derive(Default)]
struct Variants([tokio::sync::OnceCell<Option<Bytes>>; 3]);

impl Precompressed {
    /// `bytes` (whose tag is `etag`) compressed with `coding`, or `None`
    /// when that coding does not make it smaller.
    pub async fn get(
        &self,
        etag: &str,
        bytes: &Bytes,
        coding: Coding,
        content_type: &'static str,
    ) -> Option<Bytes> {
        let variants = {
            let mut current = self.current.lock().ok()?;
            match &*current {
                Some((tag, v)) if tag == etag => v.clone(),
                _ => {
                    let v = std::sync::Arc::new(Variants::default());
                    *current = Some((etag.to_owned(), v.clone()));
                    v
                }
            }
        };
        variants.0[coding.index()]
            .get_or_init(|| async {
                let out = compress(bytes.clone(), coding, content_type).await;
                tracing::debug!(
                    coding = coding.token(),
                    from = bytes.len(),
                    to = out.as_ref().map(Bytes::len),
                    "compressed the listing once for this publication"
                );
                out.filter(|c| c.len() < bytes.len())
            })
            .await
            .clone()
    }
}

const SUFFIXES: [&str; 3] = ["-br\"", "-zstd\"", "-gzip\""];

/// Keeps strong `ETag`s per representation around the compression layer:
/// appends `-CODING` to the tag of a compressed answer (and of a 304 for a
/// tag that had it), and strips it from `If-None-Match` before the handler
/// compares.
pub async fn etag_per_coding(mut request: Request, next: Next) -> Response {
    let mut stripped = None;
    if let Some(value) = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        let tags: Vec<String> = value
            .split(',')
            .map(|tag| {
                let tag = tag.trim();
                match SUFFIXES.iter().find(|s| tag.ends_with(*s)) {
                    Some(suffix) => {
                        stripped.get_or_insert(&suffix[..suffix.len() - 1]);
                        format!("{}\"", &tag[..tag.len() - suffix.len()])
                    }
                    None => tag.to_owned(),
                }
            })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&tags.join(", ")) {
            request.headers_mut().insert(header::IF_NONE_MATCH, v);
        }
    }
    let mut response = next.run(request).await;
    let suffix = match response.headers().get(header::CONTENT_ENCODING) {
        Some(coding) => coding.to_str().ok().map(|c| format!("-{c}")),
        None if response.status() == StatusCode::NOT_MODIFIED => stripped.map(str::to_owned),
        None => None,
    };
    if let Some(suffix) = suffix {
        let tagged = response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .filter(|t| !t.starts_with("W/") && t.ends_with('"') && t.len() >= 2)
            .map(|t| format!("{}{suffix}\"", &t[..t.len() - 1]))
            .and_then(|t| HeaderValue::from_str(&t).ok());
        if let Some(v) = tagged {
            response.headers_mut().insert(header::ETAG, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> Option<Coding> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        negotiate(&h)
    }

    #[test]
    fn negotiation_follows_q_then_preference() {
        assert_eq!(negotiate(&HeaderMap::new()), None);
        assert_eq!(accept("gzip"), Some(Coding::Gzip));
        assert_eq!(accept("gzip, deflate, br"), Some(Coding::Brotli));
        assert_eq!(accept("gzip, br;q=0.5"), Some(Coding::Gzip));
        assert_eq!(accept("zstd, gzip"), Some(Coding::Zstd));
        assert_eq!(accept("br;q=0, gzip;q=0"), None);
        assert_eq!(accept("identity"), None);
        assert_eq!(accept("*"), Some(Coding::Brotli));
        assert_eq!(accept("*;q=0.1, gzip"), Some(Coding::Gzip));
    }

    #[tokio::test]
    async fn compressed_bytes_are_smaller_and_made_once() {
        let body = Bytes::from("{\"name\": \"Job Club\"}".repeat(200));
        let cache = Precompressed::default();
        for coding in CODINGS {
            let a = cache
                .get("\"t\"", &body, coding, "application/json")
                .await
                .expect("compressed");
            assert!(a.len() < body.len() / 10, "{coding:?}");
            let b = cache.get("\"t\"", &body, coding, "application/json").await;
            assert_eq!(b.map(|b| b.as_ptr()), Some(a.as_ptr()), "kept");
        }
    }
}
