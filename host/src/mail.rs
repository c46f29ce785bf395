//! Sending billing documents. The engine sends through [`Mailer`]; [`FileOutbox`] is the embedded
//! default and writes each message as an `.eml` file, and [`SmtpMailer`] hands messages to an SMTP
//! server (STARTTLS with credentials for real relays, plain for a server on this machine). Both
//! build the same MIME message with [`mime`]: a text and an HTML body, and the document attached.

use crate::payments::BoxFuture;
use deadpool::managed::{self, Manager, Metrics, RecycleError, RecycleResult};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// One email about one billing document.
#[derive(Clone, Debug)]
pub struct Message {
    /// A stable name for the message, e.g. `bill-12`: the outbox file's name and the start of
    /// the `Message-ID`, so a mail log can be searched for it.
    pub id: String,
    /// The sender (the practice), e.g. `Lakeside Therapy <billing@lakeside.example>`.
    pub from: String,
    /// The recipient (the client).
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body, sent as an alternative to the text when present.
    pub html: Option<String>,
    /// A file attached to the message, e.g. the document's PDF.
    pub attachment: Option<Attachment>,
}

impl Message {
    /// The message made ready to hand over: its MIME text and envelope, built once (the
    /// attachment base64-encoded), so sending it costs only the transfer.
    pub fn format(&self) -> Result<FormattedMessage, MailError> {
        let email = mime(self)?;
        Ok(FormattedMessage {
            id: self.id.clone(),
            to: self.to.clone(),
            envelope: email.envelope().clone(),
            bytes: email.formatted(),
        })
    }
}

/// A message ready to hand over, made by [`Message::format`].
#[derive(Clone)]
pub struct FormattedMessage {
    /// The message's stable name (see [`Message::id`]).
    pub id: String,
    /// The recipient, as the message gave it.
    pub to: String,
    envelope: lettre::address::Envelope,
    bytes: Vec<u8>,
}

impl FormattedMessage {
    /// The MIME text an SMTP server receives.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for FormattedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormattedMessage")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A file attached to a message.
#[derive(Clone)]
pub struct Attachment {
    /// The file name the recipient sees, e.g. `bill-12.pdf`.
    pub file_name: String,
    /// Its MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A failure to compose or hand over a message.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address could not be read.
    #[error("the {field} address `{address}` is not a valid email address: {reason}")]
    Address {
        /// `sender` or `recipient`.
        field: &'static str,
        /// The address as given.
        address: String,
        /// Why it is not valid.
        reason: String,
    },
    /// The message could not be put together (e.g. an unknown attachment type).
    #[error("the message could not be composed: {0}")]
    Compose(String),
    /// The mailer's settings cannot work.
    #[error("the SMTP settings cannot work: {0}")]
    Config(String),
    /// The mail server could not be reached or refused the message.
    #[error("the mail server did not take the message: {0}")]
    Transport(String),
    /// The outbox could not be written.
    #[error("writing to the outbox {dir}: {reason}")]
    Outbox {
        /// The outbox folder.
        dir: String,
        /// Why.
        reason: String,
    },
}

/// Delivers messages.
pub trait Mailer: Send + Sync {
    /// Sends one message.
    fn send<'a>(&'a self, message: &'a FormattedMessage) -> BoxFuture<'a, Result<(), MailError>>;
}

/// Reads one mailbox (`name@example.com` or `Name <name@example.com>`); `field` names it in the
/// error.
pub fn parse_mailbox(field: &'static str, address: &str) -> Result<Mailbox, MailError> {
    address.trim().parse::<Mailbox>().map_err(|error| MailError::Address {
        field,
        address: address.to_string(),
        reason: error.to_string(),
    })
}

/// The MIME message for `message`: `multipart/mixed` holding a `multipart/alternative` of the
/// text and HTML bodies and the attachment (simpler shapes when parts are missing), with a
/// `Message-ID` of `<ID.UNIQUE@SENDER-DOMAIN>`.
pub fn mime(message: &Message) -> Result<lettre::Message, MailError> {
    let from = parse_mailbox("sender", &message.from)?;
    let to = parse_mailbox("recipient", &message.to)?;
    let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let message_id = format!("<{}.{unique:x}.{:x}@{}>", message.id, std::process::id(), from.email.domain());
    let builder = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(message_id))
        .user_agent(format!("autobill {}", env!("CARGO_PKG_VERSION")));
    let text = SinglePart::plain(message.text.clone());
    let body = match &message.html {
        Some(html) => MultiPart::alternative().singlepart(text).singlepart(SinglePart::html(html.clone())),
        None => MultiPart::mixed().singlepart(text),
    };
    let body = match &message.attachment {
        Some(attachment) => {
            let content_type = ContentType::parse(&attachment.content_type).map_err(|error| {
                MailError::Compose(format!("attachment type `{}`: {error}", attachment.content_type))
            })?;
            let file = lettre::message::Attachment::new(attachment.file_name.clone())
                .body(attachment.bytes.clone(), content_type);
            if message.html.is_some() {
                MultiPart::mixed().multipart(body).singlepart(file)
            } else {
                body.singlepart(file)
            }
        }
        None => body,
    };
    builder.multipart(body).map_err(|error| MailError::Compose(error.to_string()))
}

/// Writes each message to `DIR/<id>.eml`, as the MIME an SMTP server would receive.
#[derive(Clone, Debug)]
pub struct FileOutbox {
    dir: PathBuf,
}

impl FileOutbox {
    /// An outbox in `dir`, created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileOutbox { dir: dir.into() }
    }
}

impl Mailer for FileOutbox {
    fn send<'a>(&'a self, message: &'a FormattedMessage) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let write = || -> std::io::Result<()> {
                std::fs::create_dir_all(&self.dir)?;
                // Written aside and renamed, so the outbox never holds half a message.
                let partial = self.dir.join(format!(".{}.eml.partial", message.id));
                std::fs::write(&partial, message.bytes())?;
                std::fs::rename(&partial, self.dir.join(format!("{}.eml", message.id)))
            };
            write()
                .map_err(|error| MailError::Outbox { dir: self.dir.display().to_string(), reason: error.to_string() })
        })
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Connect in plain text, then upgrade with STARTTLS, which must succeed (certificates are
    /// checked against the Mozilla roots). For real relays; usually port 587.
    StartTls,
    /// No encryption: only for a server on this machine (credentials are refused for any other).
    Plain,
}

impl FromStr for SmtpSecurity {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "starttls" => Ok(SmtpSecurity::StartTls),
            "plain" => Ok(SmtpSecurity::Plain),
            other => Err(format!("unknown SMTP security `{other}`: use starttls or plain")),
        }
    }
}

/// Where and how to reach the SMTP server. Its `Debug` hides the password.
#[derive(Clone)]
pub struct SmtpConfig {
    /// The server's host name or address.
    pub host: String,
    /// Its port, e.g. 587 for STARTTLS.
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// The user to authenticate as, if the server wants credentials.
    pub username: Option<String>,
    /// That user's password; never logged or shown in errors.
    pub password: Option<String>,
    /// How long one send may take before it counts as failed (default 30 s).
    pub timeout: Duration,
    /// How many connections to the server are kept open and used at once (default 8).
    pub connections: usize,
}

impl SmtpConfig {
    /// A server on `host:port` with `security`, no credentials and the default timeout.
    pub fn new(host: impl Into<String>, port: u16, security: SmtpSecurity) -> Self {
        SmtpConfig {
            host: host.into(),
            port,
            security,
            username: None,
            password: None,
            timeout: Duration::from_secs(30),
            connections: 8,
        }
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("timeout", &self.timeout)
            .field("connections", &self.connections)
            .finish()
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Sends messages to an SMTP server over a pool of connections, each reused for many messages.
///
/// The pool is deadpool's over lettre's connections rather than lettre's own pooled transport:
/// lettre 0.11 opens its sockets with Nagle's algorithm on and writes a message's final
/// `<CRLF>.<CRLF>` apart from its body, so every message waited out the server's delayed
/// acknowledgement (40 ms on Linux) before the server even saw its end. Connections made here
/// set `TCP_NODELAY`.
pub struct SmtpMailer {
    pool: managed::Pool<SmtpConnector>,
    timeout: Duration,
    server: String,
    password: Option<String>,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer").field("server", &self.server).finish_non_exhaustive()
    }
}

/// How long a connection may sit unused in the pool before it is closed rather than reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Opens, greets, secures and authenticates connections to one SMTP server for the pool.
struct SmtpConnector {
    host: String,
    port: u16,
    /// STARTTLS's parameters (the server name to verify, the trusted roots), made once; `None`
    /// for a plain connection.
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    timeout: Duration,
}

/// Why the pool could not open a connection.
#[derive(Debug, thiserror::Error)]
enum ConnectError {
    #[error("{0}")]
    Network(#[from] std::io::Error),
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the server did not greet within {} s", .0.as_secs())]
    TimedOut(Duration),
}

impl SmtpConnector {
    async fn connect(&self) -> Result<AsyncSmtpConnection, ConnectError> {
        let hello = ClientId::default();
        let socket = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await?;
        socket.set_nodelay(true)?;
        let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(socket), &hello).await?;
        if let Some(tls) = &self.tls {
            connection.starttls(tls.clone(), &hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            connection.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(connection)
    }
}

impl Manager for SmtpConnector {
    type Type = AsyncSmtpConnection;
    type Error = ConnectError;

    async fn create(&self) -> Result<AsyncSmtpConnection, ConnectError> {
        tokio::time::timeout(self.timeout, self.connect()).await.unwrap_or(Err(ConnectError::TimedOut(self.timeout)))
    }

    async fn recycle(&self, connection: &mut AsyncSmtpConnection, metrics: &Metrics) -> RecycleResult<ConnectError> {
        if connection.has_broken() {
            return Err(RecycleError::message("the connection broke"));
        }
        if metrics.last_used() > IDLE_TIMEOUT {
            connection.abort().await;
            return Err(RecycleError::message("the connection was idle too long"));
        }
        Ok(())
    }
}

impl SmtpMailer {
    /// A mailer for `config`; checks the settings but does not connect yet.
    pub fn new(config: SmtpConfig) -> Result<Self, MailError> {
        let connections = config.connections.max(1);
        let (connector, server, password) = Self::connector(config)?;
        let timeout = connector.timeout;
        let pool = managed::Pool::builder(connector)
            .max_size(connections)
            .build()
            .map_err(|error| MailError::Config(format!("the SMTP connection pool: {error}")))?;
        Ok(SmtpMailer { pool, timeout, server, password })
    }

    /// Checks `config` as [`SmtpMailer::new`] does, without making a mailer.
    pub fn check(config: SmtpConfig) -> Result<(), MailError> {
        Self::connector(config).map(|_| ())
    }

    /// What the pool connects with for `config`, the server's name and the password to scrub.
    fn connector(config: SmtpConfig) -> Result<(SmtpConnector, String, Option<String>), MailError> {
        let SmtpConfig { host, port, security, username, password, timeout, connections: _ } = config;
        if host.trim().is_empty() {
            return Err(MailError::Config("the SMTP host is empty".into()));
        }
        let credentials = match (username, password.clone()) {
            (Some(user), Some(password)) => Some(Credentials::new(user, password)),
            (None, None) => None,
            (Some(_), None) => return Err(MailError::Config("an SMTP username was given without a password".into())),
            (None, Some(_)) => return Err(MailError::Config("an SMTP password was given without a username".into())),
        };
        let tls = match security {
            SmtpSecurity::StartTls => Some(
                TlsParameters::new(host.clone())
                    .map_err(|error| MailError::Config(format!("STARTTLS to {host}: {error}")))?,
            ),
            SmtpSecurity::Plain => {
                if credentials.is_some() && !is_loopback(&host) {
                    return Err(MailError::Config(format!(
                        "credentials would cross the network unencrypted to {host}; use starttls, or plain only for a server on this machine"
                    )));
                }
                None
            }
        };
        let server = format!("{host}:{port}");
        Ok((SmtpConnector { host, port, tls, credentials, timeout }, server, password))
    }

    /// Hands `message` to the server over a pooled connection, within the configured timeout.
    async fn deliver(&self, message: &FormattedMessage) -> Result<(), String> {
        let send = async {
            let mut connection = self.pool.get().await.map_err(|error| match error {
                managed::PoolError::Backend(error) => error.to_string(),
                other => other.to_string(),
            })?;
            let sent = connection.send(&message.envelope, &message.bytes).await;
            if sent.is_err() {
                managed::Object::take(connection).abort().await;
            }
            sent.map(|_| ()).map_err(|error| error.to_string())
        };
        tokio::time::timeout(self.timeout, send)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", self.timeout.as_secs())))
    }

    /// `text` with the password, should a server ever echo it, blanked out.
    fn scrub(&self, text: String) -> String {
        match &self.password {
            Some(password) if !password.is_empty() => text.replace(password.as_str(), "<hidden>"),
            _ => text,
        }
    }
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, message: &'a FormattedMessage) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            self.deliver(message)
                .await
                .map_err(|error| MailError::Transport(self.scrub(format!("{}: {error}", self.server))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            id: "bill-12".into(),
            from: "Lakeside Therapy <billing@lakeside.example>".into(),
            to: "ana@example.com".into(),
            subject: "Your bill from Lakeside Therapy".into(),
            text: "Hello Ana".into(),
            html: Some("<p>Hello Ana</p>".into()),
            attachment: Some(Attachment {
                file_name: "bill-12.pdf".into(),
                content_type: "application/pdf".into(),
                bytes: b"%PDF-1.7 \xe2\xe3\xcf\xd3".to_vec(),
            }),
        }
    }

    #[test]
    fn a_message_is_text_and_html_with_the_document_attached() {
        let eml = String::from_utf8(mime(&message()).expect("a MIME message").formatted()).expect("ASCII");
        for expected in [
            "From: \"Lakeside Therapy\" <billing@lakeside.example>",
            "To: ana@example.com",
            "Subject: Your bill from Lakeside Therapy",
            "Message-ID: <bill-12.",
            "@lakeside.example>",
            "Content-Type: multipart/mixed",
            "Content-Type: multipart/alternative",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Type: text/html; charset=utf-8",
            "Content-Disposition: attachment; filename=\"bill-12.pdf\"",
            "Content-Type: application/pdf",
            "Content-Transfer-Encoding: base64",
            "JVBERi0xLjcg4uPP0w==",
        ] {
            assert!(eml.contains(expected), "`{expected}` is missing from:\n{eml}");
        }
    }

    #[test]
    fn bad_addresses_and_types_are_named() {
        let mut bad = message();
        bad.to = "not an address".into();
        assert!(matches!(mime(&bad), Err(MailError::Address { field: "recipient", .. })));
        let mut bad = message();
        if let Some(attachment) = bad.attachment.as_mut() {
            attachment.content_type = "pdf".into();
        }
        assert!(matches!(mime(&bad), Err(MailError::Compose(_))));
    }

    #[tokio::test]
    async fn the_outbox_writes_the_mime_message() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let message = message().format().expect("a MIME message");
        FileOutbox::new(dir.path()).send(&message).await.expect("written");
        let eml = std::fs::read_to_string(dir.path().join("bill-12.eml")).expect("the file");
        assert!(eml.contains("filename=\"bill-12.pdf\""), "{eml}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("the folder").count(), 1, "no partial file left");
    }

    #[tokio::test]
    async fn the_password_stays_out_of_debug_output_and_plain_credentials_stay_local() {
        let mut config = SmtpConfig::new("smtp.example.com", 587, SmtpSecurity::StartTls);
        config.username = Some("practice".into());
        config.password = Some("s3cret-pw".into());
        assert!(!format!("{config:?}").contains("s3cret-pw"));
        let mailer = SmtpMailer::new(config.clone()).expect("a STARTTLS mailer");
        assert_eq!(mailer.scrub("535 bad s3cret-pw".into()), "535 bad <hidden>");
        assert!(!format!("{mailer:?}").contains("s3cret-pw"));

        config.security = SmtpSecurity::Plain;
        let error = SmtpMailer::new(config.clone()).expect_err("credentials in the clear");
        assert!(error.to_string().contains("unencrypted"), "{error}");
        assert!(!error.to_string().contains("s3cret-pw"));
        config.host = "127.0.0.1".into();
        assert!(SmtpMailer::new(config.clone()).is_ok(), "a server on this machine");
        config.password = None;
        assert!(matches!(SmtpMailer::new(config), Err(MailError::Config(_))));
        assert_eq!("starttls".parse(), Ok(SmtpSecurity::StartTls));
        assert!("tls".parse::<SmtpSecurity>().is_err());
    }
}
