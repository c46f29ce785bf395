//! What several of the host's suites share (each suite uses part of it).
#![allow(dead_code)]

/// A fresh, empty PostgreSQL database named `autobill_{purpose}_{pid}` next to the one `admin`
/// (AUTOBILL_TEST_POSTGRES_URL) names; gives its URL.
pub async fn fresh_postgres_database(admin: &str, purpose: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(admin).await.unwrap_or_else(|error| {
        panic!("PostgreSQL at {admin} (AUTOBILL_TEST_POSTGRES_URL) cannot be reached: {error}")
    });
    let name = format!("autobill_{purpose}_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut connection).await.expect("drop");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut connection).await.expect("create");
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    format!("{base}/{name}")
}

/// The PostgreSQL server the suites use.
pub fn postgres_admin_url() -> String {
    std::env::var("AUTOBILL_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Drops a database [`fresh_postgres_database`] made, once nothing uses it.
pub async fn drop_postgres_database(admin: &str, url: &str) {
    use sqlx::Connection;
    if let Ok(mut connection) = sqlx::AnyConnection::connect(admin).await {
        let name = url.rsplit('/').next().unwrap_or_default();
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut connection).await;
    }
}

/// Sends one HTTP/1 request to `addr` with `headers` (a `host` header is added); answers its
/// status, content type and body.
pub async fn http_request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, String, hyper::body::Bytes) {
    let (status, headers, bytes) = http_exchange(addr, method, path, headers, body).await;
    let content_type =
        headers.get("content-type").and_then(|value| value.to_str().ok()).unwrap_or_default().to_string();
    (status, content_type, bytes)
}

/// Like [`http_request`], answering every response header.
pub async fn http_exchange(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, hyper::HeaderMap, hyper::body::Bytes) {
    use http_body_util::BodyExt;
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(connection);
    let mut request = hyper::Request::builder().method(method).uri(path).header("host", "autobill.test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(http_body_util::Full::new(hyper::body::Bytes::from(body))).expect("a request");
    let response = sender.send_request(request).await.expect("a response");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("a body").to_bytes();
    (status, headers, bytes)
}
