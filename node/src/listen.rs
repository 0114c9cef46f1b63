//! Serving HTTP on a listener with limits: used for every listener the node
//! opens (the main one, and the metrics one when it is on).
//!
//! Why not `axum::serve`: it has no timeouts and no cap on connections, so a
//! client that opens connections and sends nothing, sends its headers a byte
//! at a time, or takes the answer a byte a minute, holds an open file and a
//! task for ever (900 idle connections held 921 of the process's 1,024
//! files). Here each accepted connection needs a permit of a per-listener
//! semaphore (`server.max_connections`); without one it gets a fixed 503 and
//! is closed at once. hyper drives each connection in its own task, and one
//! timer per connection (re-armed when it fires or the phase changes, so a byte costs one
//! atomic store) closes it when it stops making progress:
//!
//! - waiting for a request: `header_read_timeout_secs` from the connection's
//!   opening, or from the first byte of a kept-alive connection's next
//!   request, until the whole head has arrived; `keep_alive_timeout_secs`
//!   from the end of an answer until that first byte;
//! - while a handler works: `request_timeout_secs` (tower-http's
//!   `TimeoutLayer` answers 408; the timer closes the connection a little
//!   later as a backstop), and `body_timeout_secs` between two pieces of the
//!   request body (tower-http's `RequestBodyTimeoutLayer`);
//! - while the answer is written: `body_timeout_secs` without a byte taken.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::config::ServerSection;
use crate::forwarded::{client_addr, ClientAddr, TrustedProxy};

/// Connections the kernel may hold, completed, for a listener before its
/// accept loop takes them. tokio (as the standard library) asks for 128, so
/// a burst of more arriving faster than the loop accepts (a crowd after a
/// link is shared, or a flood of idle connections) had its SYNs dropped,
/// each tried again only a second later: 10,000 stalled connections took
/// 11 to 27 s to open on loopback, with thousands of drops. Linux caps the
/// number at `net.core.somaxconn` (4,096 by default since 5.4).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Listens on `addr` with a backlog of [`LISTEN_BACKLOG`]; otherwise as
/// `tokio::net::TcpListener::bind` does (`SO_REUSEADDR` set, so a node
/// restarted at once takes its port back).
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// The answer a connection over the cap gets before it is closed, so a
/// well-behaved client knows to retry rather than seeing a bare reset.
const BUSY_ANSWER: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
Retry-After: 1\r\nContent-Length: 0\r\n\r\n";

/// Extra time the connection timer gives a handler beyond the request
/// timeout, so the 408 from `TimeoutLayer` is what the client normally sees.
const HANDLER_GRACE: Duration = Duration::from_secs(2);

/// The timeouts of [`ServerSection`] as durations.
#[derive(Debug, Clone, Copy)]
struct Limits {
    header_read: Duration,
    body: Duration,
    request: Duration,
    keep_alive: Duration,
}

impl From<&ServerSection> for Limits {
    fn from(s: &ServerSection) -> Limits {
        Limits {
            header_read: Duration::from_secs(s.header_read_timeout_secs),
            body: Duration::from_secs(s.body_timeout_secs),
            request: Duration::from_secs(s.request_timeout_secs),
            keep_alive: Duration::from_secs(s.keep_alive_timeout_secs),
        }
    }
}

/// Serves `app` on `listener` until `stop` changes (or its sender is
/// dropped), then closes idle connections, lets busy ones finish (each is
/// still bounded by its timeouts) and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: &ServerSection,
    mut stop: watch::Receiver<bool>,
) {
    let limits = Limits::from(settings);
    let trusted: Arc<[TrustedProxy]> = settings.trusted_proxies.clone().into();
    let max = settings.max_connections;
    let slots = Arc::new(Semaphore::new(max));
    let stack = ServiceBuilder::new()
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request,
        ))
        .layer(RequestBodyTimeoutLayer::new(limits.body))
        .service(app);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of open files or memory: wait for some to come back
                // instead of spinning on the same error.
                tracing::warn!(error = %e, "cannot accept a connection; pausing 100 ms");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            // Never blocks: a full socket buffer just loses the courtesy.
            let _ = stream.try_write(BUSY_ANSWER);
            tracing::debug!(%peer, max, "connection refused: server.max_connections reached");
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            peer,
            stack.clone(),
            limits,
            trusted.clone(),
            stop.clone(),
            permit,
        ));
    }
    drop(listener);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// Errors that concern one connection only; the listener carries on.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection under its timer; the permit goes back when it ends.
async fn connection<S>(
    stream: TcpStream,
    peer: SocketAddr,
    stack: S,
    limits: Limits,
    trusted: Arc<[TrustedProxy]>,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) where
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let progress = Arc::new(Progress::new());
    let io = TokioIo::new(Watched {
        stream,
        progress: progress.clone(),
    });
    let on_request = progress.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let client = client_addr(peer.ip(), req.headers(), &trusted);
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(ClientAddr(client));
        on_request.begin();
        let progress = on_request.clone();
        let answer = stack.clone().oneshot(req);
        async move {
            let mut response = answer.await?;
            progress.answering();
            // Browsers must never guess a type for what a stranger wrote
            // (a JSON string that looks like HTML); pages set it already.
            response
                .headers_mut()
                .entry(header::X_CONTENT_TYPE_OPTIONS)
                .or_insert(HeaderValue::from_static("nosniff"));
            Ok::<_, Infallible>(response.map(|body| Answer {
                body,
                _busy: Busy(progress),
            }))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        let deadline = progress.deadline(&limits);
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = progress.phase_changed.notified() => {}
            _ = tokio::time::sleep_until(deadline) => {
                if progress.deadline(&limits) <= Instant::now() {
                    tracing::debug!(%peer, phase = progress.phase_name(), "closing a connection that timed out");
                    return;
                }
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Phases of a connection, in [`Progress::phase`].
const WAITING: u8 = 0;
const HANDLING: u8 = 1;
const ANSWERING: u8 = 2;
/// "No time" in the millisecond fields of [`Progress`].
const NEVER: u64 = u64::MAX;

/// What the connection's timer looks at: its phase and when things last
/// happened, as milliseconds since the connection opened. HTTP/1 handles
/// one request at a time per connection, so the phases follow each other.
struct Progress {
    opened: Instant,
    phase: AtomicU8,
    /// When the current phase began.
    phase_since: AtomicU64,
    /// The last byte read or written.
    last_io: AtomicU64,
    /// The first byte read while waiting (a request head is arriving).
    head_started: AtomicU64,
    /// Requests begun on this connection.
    requests: AtomicU64,
    /// Wakes the timer when the phase changes (a deadline may come sooner).
    phase_changed: Notify,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            opened: Instant::now(),
            phase: AtomicU8::new(WAITING),
            phase_since: AtomicU64::new(0),
            last_io: AtomicU64::new(0),
            head_started: AtomicU64::new(NEVER),
            requests: AtomicU64::new(0),
            phase_changed: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(NEVER - 1)
    }

    fn read_some(&self) {
        let now = self.now();
        self.last_io.store(now, Ordering::Relaxed);
        if self.phase.load(Ordering::Relaxed) == WAITING {
            let _ = self.head_started.compare_exchange(
                NEVER,
                now,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    fn wrote_some(&self) {
        self.last_io.store(self.now(), Ordering::Relaxed);
    }

    fn enter(&self, phase: u8) {
        let now = self.now();
        self.phase_since.store(now, Ordering::Relaxed);
        self.last_io.store(now, Ordering::Relaxed);
        self.phase.store(phase, Ordering::Relaxed);
        self.phase_changed.notify_one();
    }

    /// hyper has read a request's head and calls the handler.
    fn begin(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(NEVER, Ordering::Relaxed);
        self.enter(HANDLING);
    }

    /// The handler has answered; the body is being written.
    fn answering(&self) {
        self.enter(ANSWERING);
    }

    /// The answer's body is written (or dropped); waiting for the next request.
    fn finished(&self) {
        self.enter(WAITING);
    }

    fn phase_name(&self) -> &'static str {
        match self.phase.load(Ordering::Relaxed) {
            WAITING if self.requests.load(Ordering::Relaxed) == 0 => {
                "reading the first request head"
            }
            WAITING => "waiting for the next request",
            HANDLING => "handling a request",
            _ => "writing an answer",
        }
    }

    /// When the connection must be closed if nothing changes before.
    fn deadline(&self, l: &Limits) -> Instant {
        let ms = |v: u64| Duration::from_millis(v);
        let since = ms(self.phase_since.load(Ordering::Relaxed));
        let at = match self.phase.load(Ordering::Relaxed) {
            WAITING => {
                let head = self.head_started.load(Ordering::Relaxed);
                if self.requests.load(Ordering::Relaxed) == 0 {
                    l.header_read
                } else if head != NEVER {
                    ms(head) + l.header_read
                } else {
                    since + l.keep_alive
                }
            }
            HANDLING => since + l.request + HANDLER_GRACE,
            _ => ms(self.last_io.load(Ordering::Relaxed)) + l.body,
        };
        self.opened + at
    }
}

/// Marks the connection as waiting again when the answer's body is done.
struct Busy(Arc<Progress>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.finished();
    }
}

/// An answer's body that tells the connection's timer when it is written.
struct Answer {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A socket that records when bytes move, for the connection's timer.
struct Watched {
    stream: TcpStream,
    progress: Arc<Progress>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.progress.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.progress.wrote_some();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.progress.wrote_some();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
