//! Reply bodies read as a capped stream: decompressed as they come and stopped at
//! `max_body_bytes`, so a huge reply or a decompression bomb costs at most that much memory.

use super::error::{transport, WHAT_TOO_LARGE};
use super::HttpError;

/// Why a body could not be read whole.
pub(super) enum BodyError {
    /// The connection broke.
    Transport(reqwest::Error),
    /// More than the cap (after decompression), or a `Content-Length` above it.
    TooLarge,
}

impl BodyError {
    pub(super) fn into_error(self, host: &str, cap: u64) -> HttpError {
        match self {
            BodyError::Transport(e) => transport(host, e, true),
            BodyError::TooLarge => HttpError::Transport {
                host: host.to_string(),
                what: format!(
                    "{WHAT_TOO_LARGE}: more than {cap} bytes after decompression \
                     (max_body_bytes); not read further"
                ),
            },
        }
    }
}

/// The reply's body, read chunk by chunk (decompressed by reqwest as it comes), stopping as
/// soon as it would exceed `cap` bytes: a huge reply or a decompression bomb costs at most
/// `cap` bytes of memory.
pub(super) async fn read_capped(
    mut resp: reqwest::Response,
    cap: u64,
) -> Result<Vec<u8>, BodyError> {
    // Known only when the body is not compressed (reqwest drops it when it decompresses).
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
