//! A real SMTP server for one test (aiosmtpd from PyPI, on 127.0.0.1 and a free port, storing
//! what arrives in a Maildir), the messages it received as parsed MIME, and PDFs read back as
//! text with `pdftotext` (poppler-utils), so a blank or broken PDF fails.

use autobill::mail::{FormattedMessage, MailError, Mailer, SmtpConfig, SmtpMailer, SmtpSecurity};
use autobill::payments::BoxFuture;
use mailparse::{DispositionType, MailHeaderMap, ParsedMail};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A port on 127.0.0.1 that nothing listens on right now, and that no other test of this process
/// was given: the system may hand a released port out again, and two servers started on one port
/// would have one test's mail arrive at the other's server.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free local port")
            .port();
        let mut given = GIVEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// aiosmtpd on 127.0.0.1:`port`, storing messages in a Maildir; killed on drop.
pub struct SmtpServer {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// The Maildir it stores into.
    pub maildir: PathBuf,
    _owned: Option<tempfile::TempDir>,
}

impl SmtpServer {
    /// Starts on a free port with a Maildir of its own.
    pub fn start() -> SmtpServer {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut server = SmtpServer::start_on(free_port(), &dir.path().join("maildir"));
        server._owned = Some(dir);
        server
    }

    /// Starts on `port`, storing into `maildir`, a folder aiosmtpd creates (with its `tmp`, `new`
    /// and `cur`) when it does not exist yet, and keeps across restarts of the server.
    pub fn start_on(port: u16, maildir: &Path) -> SmtpServer {
        let probe = Command::new("python3").args(["-c", "import aiosmtpd"]).output();
        if !probe.as_ref().is_ok_and(|out| out.status.success()) {
            panic!(
                "these tests need aiosmtpd, a small SMTP server from PyPI: `python3 -m pip install aiosmtpd` (tests/run.sh installs it); python3 said: {probe:?}"
            );
        }
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 starts aiosmtpd");
        let mut server = SmtpServer { child, port, maildir: maildir.to_path_buf(), _owned: None };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = server.child.stderr.take() {
                    std::io::Read::read_to_string(&mut pipe, &mut stderr).ok();
                }
                panic!("aiosmtpd exited ({status}) instead of listening on 127.0.0.1:{port}: {stderr}");
            }
            assert!(Instant::now() < deadline, "aiosmtpd did not listen on 127.0.0.1:{port} within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// A mailer that talks to this server in plain text.
    pub fn mailer(&self) -> Arc<SmtpMailer> {
        Arc::new(SmtpMailer::new(SmtpConfig::new("127.0.0.1", self.port, SmtpSecurity::Plain)).expect("a mailer"))
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        received_in(&self.maildir)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// The messages in a Maildir, in the order they arrived.
pub fn received_in(maildir: &Path) -> Vec<Received> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(maildir.join("new"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), e.path()))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.iter().map(|(_, path)| Received::parse(&std::fs::read(path).expect("a stored message"))).collect()
}

/// What arrived: the envelope recipient, headers, bodies and attachments.
#[derive(Debug)]
pub struct Received {
    /// The envelope recipient (aiosmtpd's `X-RcptTo`).
    pub envelope_to: String,
    /// The `From` header.
    pub from: String,
    /// The `To` header.
    pub to: String,
    /// The `Subject` header.
    pub subject: String,
    /// The text/plain body.
    pub text: String,
    /// The text/html body.
    pub html: String,
    /// File name, content type, bytes.
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

impl Received {
    pub fn parse(bytes: &[u8]) -> Received {
        let mail = mailparse::parse_mail(bytes).expect("a MIME message");
        let header = |name: &str| mail.headers.get_first_value(name).unwrap_or_default();
        let mut received = Received {
            envelope_to: header("X-RcptTo"),
            from: header("From"),
            to: header("To"),
            subject: header("Subject"),
            text: String::new(),
            html: String::new(),
            attachments: vec![],
        };
        fn walk(part: &ParsedMail<'_>, into: &mut Received) {
            if !part.subparts.is_empty() {
                part.subparts.iter().for_each(|sub| walk(sub, into));
                return;
            }
            let disposition = part.get_content_disposition();
            if disposition.disposition == DispositionType::Attachment {
                let name = disposition.params.get("filename").cloned().unwrap_or_default();
                into.attachments.push((name, part.ctype.mimetype.clone(), part.get_body_raw().expect("a body")));
            } else if part.ctype.mimetype == "text/plain" {
                into.text = part.get_body().expect("a text body");
            } else if part.ctype.mimetype == "text/html" {
                into.html = part.get_body().expect("an HTML body");
            }
        }
        walk(&mail, &mut received);
        received
    }

    /// The one PDF attached, with its file name.
    pub fn pdf(&self) -> (&str, &[u8]) {
        assert_eq!(
            self.attachments.len(),
            1,
            "one attachment: {:?}",
            self.attachments.iter().map(|a| &a.0).collect::<Vec<_>>()
        );
        let (name, content_type, bytes) = &self.attachments[0];
        assert_eq!(content_type, "application/pdf");
        (name, bytes)
    }
}

/// Waits until `maildir` holds `count` messages.
pub async fn wait_for_messages(maildir: &Path, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while received_in(maildir).len() < count {
        assert!(Instant::now() < deadline, "{count} message(s) did not arrive within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// PDFs as text.

/// The text of a PDF as `pdftotext -layout` reads it.
pub fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF: {:?}", &pdf[..pdf.len().min(16)]);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, pdf).expect("the PDF is written");
    let output = Command::new("pdftotext").arg("-layout").arg(&path).arg("-").output().unwrap_or_else(|error| {
        panic!("pdftotext (poppler-utils) reads the PDFs back: `apt-get install poppler-utils` (tests/run.sh installs it): {error}")
    });
    assert!(output.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(text.split_whitespace().count() > 20, "the PDF has almost no text:\n{text}");
    text
}

/// Whether one line of `text` holds `cells` left to right (each cell may span several words).
pub fn has_row(text: &str, cells: &[&str]) -> bool {
    let wanted: Vec<&str> = cells.iter().flat_map(|cell| cell.split_whitespace()).collect();
    text.lines().any(|line| {
        let mut words = line.split_whitespace();
        wanted.iter().all(|want| words.any(|word| word == *want))
    })
}

/// Asserts that `text` holds every one of `expected`.
pub fn assert_contains(text: &str, expected: &[&str]) {
    for needle in expected {
        assert!(text.contains(needle), "`{needle}` is missing from:\n{text}");
    }
}

/// A mailer whose host dies right after the server accepted the message: the send goes through,
/// then the future never finishes, so the outcome is never written.
pub struct DiesAfterSending(pub Arc<SmtpMailer>);

impl Mailer for DiesAfterSending {
    fn send<'a>(&'a self, message: &'a FormattedMessage) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            self.0.send(message).await?;
            std::future::pending().await
        })
    }
}
