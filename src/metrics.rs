//! The HTTP endpoint for orchestrators: `/metrics`, `/healthz`, `/readyz`.
//!
//! Contract: [`serve`] binds the address (failing at start-up with a clear
//! error if it cannot) and answers in a background task. `/healthz` is 200
//! while the process runs; `/readyz` is 200 only while the worker is
//! connected and its consumer bound, else 503; `/metrics` is the Prometheus
//! text format. Requests are small and bounded: headers beyond 8 KiB or a
//! client slower than 5 s are dropped.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::stats::Stats;

/// Binds `addr` and serves until the process exits. Returns the bound address.
pub async fn serve(addr: &str, stats: Arc<Stats>) -> Result<std::net::SocketAddr> {
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on metrics address {addr}: is it in use? set metrics.addr or --metrics-addr to a free host:port")
    })?;
    let bound = listener.local_addr()?;
    tracing::info!(addr = %bound, "metrics endpoint listening");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let stats = stats.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), answer(stream, &stats)).await;
            });
        }
    });
    Ok(bound)
}

async fn answer(mut stream: TcpStream, stats: &Stats) -> std::io::Result<()> {
    let mut request = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&chunk[..n]);
    }
    let line = request.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4",
            stats.render_prometheus(),
        ),
        ("GET", "/healthz") => ("200 OK", "text/plain", "ok\n".to_string()),
        ("GET", "/readyz") if stats.ready.load(Relaxed) => {
            ("200 OK", "text/plain", "ready\n".to_string())
        }
        ("GET", "/readyz") => (
            "503 Service Unavailable",
            "text/plain",
            "not ready\n".to_string(),
        ),
        _ => ("404 Not Found", "text/plain", "not found\n".to_string()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}
