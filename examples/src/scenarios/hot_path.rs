//! A hot path that must not allocate: an HTTP/1.1 request-head parser that borrows from the
//! input and fills a caller's fixed array, and a response-head encoder that writes into a reused
//! buffer (nothing allocated once the buffer has grown) or into a new `Vec` sized exactly up
//! front (exactly one allocation per call).

use std::io::Write;

/// Most headers a request head may carry.
pub const MAX_HEADERS: usize = 32;

/// A header, borrowed from the request buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Header<'a> {
    /// The name as sent.
    pub name: &'a str,
    /// The value, without surrounding blanks.
    pub value: &'a str,
}

/// A parsed request head, borrowed from the buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct RequestHead<'a, 'h> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The request target.
    pub path: &'a str,
    /// The headers, in order.
    pub headers: &'h [Header<'a>],
}

/// Why a request head does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Not UTF-8, or no request line.
    RequestLine,
    /// A header line without a colon.
    Header,
    /// More than [`MAX_HEADERS`] headers.
    TooManyHeaders,
}

/// Parses `input` (a request head, lines separated by CRLF, ending at the blank line or the end)
/// into `headers`, allocating nothing.
///
/// # Errors
///
/// [`ParseError`] for a bad request line or header, or too many headers.
pub fn parse<'a, 'h>(
    input: &'a [u8],
    headers: &'h mut [Header<'a>; MAX_HEADERS],
) -> Result<RequestHead<'a, 'h>, ParseError> {
    let text = std::str::from_utf8(input).map_err(|_| ParseError::RequestLine)?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().ok_or(ParseError::RequestLine)?.split(' ');
    let (Some(method), Some(path), Some(_version)) = (
        request_line.next(),
        request_line.next(),
        request_line.next(),
    ) else {
        return Err(ParseError::RequestLine);
    };
    let mut count = 0;
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(ParseError::Header)?;
        let slot = headers.get_mut(count).ok_or(ParseError::TooManyHeaders)?;
        *slot = Header {
            name,
            value: value.trim(),
        };
        count += 1;
    }
    Ok(RequestHead {
        method,
        path,
        headers: &headers[..count],
    })
}

/// A sample request head, as a load balancer forwards it.
pub const SAMPLE_REQUEST: &[u8] = b"GET /v1/orders/4711?expand=items HTTP/1.1\r\n\
host: api.example.invalid\r\n\
user-agent: memprobe-example/0.1\r\n\
accept: application/json\r\n\
accept-encoding: gzip, br\r\n\
x-request-id: 5f0c6c4e-8a43-4a5e-9d7c-1c1b0c2f4e11\r\n\
\r\n";

/// The response head for `status` with a `content-length` of `body_len` and `headers`.
fn write_head(
    out: &mut impl Write,
    status: u16,
    reason: &str,
    headers: &[Header<'_>],
    body_len: usize,
) -> std::io::Result<()> {
    write!(out, "HTTP/1.1 {status} {reason}\r\n")?;
    for h in headers {
        write!(out, "{}: {}\r\n", h.name, h.value)?;
    }
    write!(out, "content-length: {body_len}\r\n\r\n")
}

/// Encodes a response head into `buf`, replacing what it held: no allocation once `buf` has
/// grown to the largest head.
///
/// # Errors
///
/// Never in practice (writing to a `Vec` cannot fail); kept for the `Write` signature.
pub fn encode_into(
    buf: &mut Vec<u8>,
    status: u16,
    reason: &str,
    headers: &[Header<'_>],
    body_len: usize,
) -> std::io::Result<()> {
    buf.clear();
    write_head(buf, status, reason, headers, body_len)
}

/// Encodes a response head into a new `Vec` sized exactly for it: one allocation per call.
///
/// # Errors
///
/// As [`encode_into`].
pub fn encode(
    status: u16,
    reason: &str,
    headers: &[Header<'_>],
    body_len: usize,
) -> std::io::Result<Vec<u8>> {
    // Measure first (a counting writer allocates nothing), then allocate once.
    let mut len = Counter(0);
    write_head(&mut len, status, reason, headers, body_len)?;
    let mut out = Vec::with_capacity(len.0);
    write_head(&mut out, status, reason, headers, body_len)?;
    Ok(out)
}

/// A writer that only counts bytes.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The headers every sample response carries.
pub const RESPONSE_HEADERS: [Header<'static>; 3] = [
    Header {
        name: "content-type",
        value: "application/json",
    },
    Header {
        name: "cache-control",
        value: "no-store",
    },
    Header {
        name: "x-request-id",
        value: "5f0c6c4e-8a43-4a5e-9d7c-1c1b0c2f4e11",
    },
];

/// Calls per run in the hot-path fits.
pub const CALL_SIZES: [u64; 3] = [100, 1_000, 10_000];

fn calls(name: &str) -> memprobe::Scaling {
    memprobe::Scaling::new(CALL_SIZES)
        .item("call")
        .name(name)
        .rss(true)
}

/// Fits `n` calls of [`parse`] on [`SAMPLE_REQUEST`], per call.
///
/// # Errors
///
/// From [`memprobe::Scaling::run`].
pub fn parse_fit() -> memprobe::Result<memprobe::Fit> {
    calls("hot_path::parse").run(|n| {
        let mut headers = [Header::default(); MAX_HEADERS];
        let mut seen = 0;
        for _ in 0..n {
            let head = parse(std::hint::black_box(SAMPLE_REQUEST), &mut headers)
                .expect("the sample parses");
            seen += head.headers.len();
        }
        seen
    })
}

/// Fits `n` calls of [`encode_into`] with one buffer per run, per call: the buffer's first growth
/// is the fixed cost.
///
/// # Errors
///
/// From [`memprobe::Scaling::run_with`].
pub fn encode_into_fit() -> memprobe::Result<memprobe::Fit> {
    calls("hot_path::encode_into").run_with(
        |_| Vec::new(),
        |buf, n| {
            for i in 0..n {
                encode_into(
                    buf,
                    200,
                    "OK",
                    &RESPONSE_HEADERS,
                    1000 + (i % 9000) as usize,
                )
                .expect("writing to a Vec");
            }
        },
    )
}

/// Fits `n` calls of [`encode`], per call: exactly one allocation each.
///
/// # Errors
///
/// From [`memprobe::Scaling::run`].
pub fn encode_fit() -> memprobe::Result<memprobe::Fit> {
    calls("hot_path::encode").run(|n| {
        let mut total = 0;
        for i in 0..n {
            total += encode(200, "OK", &RESPONSE_HEADERS, 1000 + (i % 9000) as usize)
                .expect("writing to a Vec")
                .len();
        }
        total
    })
}
