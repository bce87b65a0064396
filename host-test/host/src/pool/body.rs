//! Bodies: a response body whose frames must come within the request's between-bytes
//! timeout (hyper-util's client has no per-request one), and a request body read whole so
//! an idempotent request can be sent again.

use bytes::Bytes;
use http_body_util::BodyExt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use wasmtime_wasi_http::{Error, WasiBody};

/// A response body whose frames must come within the between-bytes timeout.
pub(super) struct TimedBody {
    pub(super) incoming: hyper::body::Incoming,
    pub(super) timer: tokio::time::Interval,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Error>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::from(e)))),
            Poll::Ready(Some(Ok(frame))) => {
                self.timer.reset();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                ready!(self.timer.poll_tick(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.incoming.size_hint()
    }
}

/// A request whose body is read whole, plus a copy of it to send again.
pub(super) async fn buffered(
    req: http::Request<WasiBody>,
) -> Result<(http::Request<WasiBody>, http::Request<WasiBody>), Error> {
    let (parts, body) = req.into_parts();
    let bytes = body.collect().await?.to_bytes();
    let mut copy = http::Request::new(full(bytes.clone()));
    *copy.method_mut() = parts.method.clone();
    *copy.uri_mut() = parts.uri.clone();
    *copy.version_mut() = parts.version;
    *copy.headers_mut() = parts.headers.clone();
    Ok((http::Request::from_parts(parts, full(bytes)), copy))
}

fn full(bytes: Bytes) -> WasiBody {
    http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}
