//! A scriptable hub on a loopback port, speaking raw HTTP/1.1 over TCP so
//! it can misbehave in ways a real server never would: lie, drip, hang,
//! redirect in circles. It stands in for hostile or broken hubs on the
//! internet, not for any Signpost component.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the fake hub does with each request.
#[derive(Debug, Clone)]
pub enum Script {
    /// 200 with a JSON body (a listing, valid or not).
    Json(Vec<u8>),
    /// Any status, content type and body.
    Raw {
        status: u16,
        content_type: String,
        body: Vec<u8>,
    },
    /// 200 JSON with a `Content-Encoding` the crawler never asked for.
    Encoded { encoding: String, body: Vec<u8> },
    /// 200 JSON sent in chunks without a Content-Length (the cap must be
    /// enforced while streaming): `chunks` chunks of `chunk_size` bytes.
    Chunked { chunk_size: usize, chunks: usize },
    /// 200 JSON that sends one byte every `every`, up to `bytes` bytes.
    Drip { every: Duration, bytes: usize },
    /// Accepts the connection and never answers.
    Silent,
    /// 302 to this location.
    Redirect(String),
    /// By request target (path and query): the first entry whose text the
    /// target starts with answers; 404 if none.
    Routes(Vec<(String, Script)>),
    /// Waits `after`, then answers as `then` does (a slow but honest hub).
    Delayed { after: Duration, then: Box<Script> },
    /// 200 with the JSON body the function makes for the request target,
    /// 404 when it makes none: many hubs behind one port, made only when
    /// asked for (a flood of listings need not all be signed up front).
    Dynamic(Bodies),
}

/// A function from a request target to a body, if any.
pub type MakeBody = dyn Fn(&str) -> Option<Vec<u8>> + Send + Sync;

/// Makes a body for a request target (see [`Script::Dynamic`]).
#[derive(Clone)]
pub struct Bodies(pub Arc<MakeBody>);

impl std::fmt::Debug for Bodies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bodies(target -> body)")
    }
}

/// A running fake hub.
pub struct FakeHub {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    hits: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl FakeHub {
    /// Starts serving `script` on a free loopback port.
    pub async fn start(script: Script) -> FakeHub {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let script = Arc::new(Mutex::new(script));
        let hits = Arc::new(AtomicUsize::new(0));
        let (s, h) = (script.clone(), hits.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                h.fetch_add(1, Ordering::SeqCst);
                let current = s.lock().expect("script").clone();
                tokio::spawn(answer(stream, current));
            }
        });
        FakeHub {
            addr,
            script,
            hits,
            task,
        }
    }

    /// Changes what the next requests get.
    pub fn set(&self, script: Script) {
        *self.script.lock().expect("script") = script;
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listing URL (as an aggregator stores it).
    pub fn listing_url(&self) -> String {
        format!("{}/.well-known/signpost/listing", self.url())
    }

    /// Connections accepted so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(mut stream: TcpStream, script: Script) {
    // Read the request head (bounded), then answer what the script says.
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
    let target = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let script = match script {
        Script::Routes(routes) => routes
            .into_iter()
            .find(|(prefix, _)| target.starts_with(prefix.as_str()))
            .map(|(_, s)| s)
            .unwrap_or(Script::Raw {
                status: 404,
                content_type: "application/json".into(),
                body: b"{}".to_vec(),
            }),
        other => other,
    };
    let script = match script {
        Script::Dynamic(Bodies(make)) => match make(&target) {
            Some(body) => Script::Json(body),
            None => Script::Raw {
                status: 404,
                content_type: "application/json".into(),
                body: b"{}".to_vec(),
            },
        },
        other => other,
    };
    let script = match script {
        Script::Delayed { after, then } => {
            tokio::time::sleep(after).await;
            *then
        }
        other => other,
    };
    let reply = |status: u16, content_type: &str, body: &[u8]| {
        let mut r = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    let _ = match script {
        Script::Json(body) => {
            stream
                .write_all(&reply(200, "application/json", &body))
                .await
        }
        Script::Raw {
            status,
            content_type,
            body,
        } => stream.write_all(&reply(status, &content_type, &body)).await,
        Script::Encoded { encoding, body } => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: {encoding}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(&body);
            stream.write_all(&r).await
        }
        Script::Redirect(location) => {
            let r = format!(
                "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            stream.write_all(r.as_bytes()).await
        }
        Script::Chunked { chunk_size, chunks } => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; chunk_size];
            for _ in 0..chunks {
                let mut c = format!("{chunk_size:x}\r\n").into_bytes();
                c.extend_from_slice(&chunk);
                c.extend_from_slice(b"\r\n");
                if stream.write_all(&c).await.is_err() {
                    return;
                }
            }
            stream.write_all(b"0\r\n\r\n").await
        }
        Script::Drip { every, bytes } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {bytes}\r\nconnection: close\r\n\r\n"
            );
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for _ in 0..bytes {
                tokio::time::sleep(every).await;
                if stream.write_all(b" ").await.is_err() {
                    return;
                }
            }
            Ok(())
        }
        Script::Routes(_) | Script::Delayed { .. } | Script::Dynamic(_) => Ok(()),
        Script::Silent => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        }
    };
    let _ = stream.shutdown().await;
}

/// `count` fake hubs, each serving a signed listing: hub `i` is keyed by
/// `key(first_key + i)`, named `Hub {i}`, and holds `services(i)`.
pub async fn hubs_serving(
    count: u8,
    first_key: u8,
    services: impl Fn(u8) -> Vec<signpost_spec::Service>,
) -> Vec<FakeHub> {
    let mut fakes = Vec::with_capacity(count as usize);
    for i in 0..count {
        let k = crate::listings::key(first_key.wrapping_add(i));
        let listing = crate::listings::listing(&k, &format!("Hub {i}"), 1, services(i));
        fakes.push(FakeHub::start(Script::Json(crate::listings::signed(&listing, &k))).await);
    }
    fakes
}
