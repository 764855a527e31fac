//! A manifest read as a stream: whole lines, a part of a few megabytes at a time, so that
//! the memory `knot apply` takes is bounded by the part, not by the manifest, and a
//! manifest that never ends a line (`/dev/zero`) is refused at its first line.
//!
//! A manifest is untrusted input, as a reparse buffer is: it is fuzzed (`fuzz/`, target
//! `manifest`). Its text is UTF-8, as JSON is; a byte order mark is passed over, and a
//! manifest in UTF-16 (Windows PowerShell 5.1's `>` writes one, with its mark) is read as
//! such, strictly: text that is not UTF-16 stops the reading, where a lossy decoder (such
//! as `encoding_rs_io`'s) would make a path of U+FFFD and apply it.

use std::io::{self, BufRead, BufReader, Cursor, Read};

use knot::Record;

/// The longest line read: a record of the longest paths Windows or Linux allow, every
/// character escaped, is far shorter.
pub const LINE_LIMIT: usize = 1 << 20;

/// The bytes of whole lines read before their records are handed on.
const PART: usize = 8 << 20;

/// Why a line gave no record.
#[derive(Debug)]
pub enum LineError {
    /// The line is not a record; the lines after it are read.
    Json(serde_json::Error),
    /// The line is longer than [`LINE_LIMIT`]; nothing after it is read.
    TooLong,
    /// The manifest could not be read on (an I/O error, or text that is not what its byte
    /// order mark says); nothing after it is read.
    Read(io::Error),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::Json(err) => err.fmt(f),
            LineError::TooLong => write!(
                f,
                "it is longer than {} MiB, which no record is (is it a manifest?)",
                LINE_LIMIT >> 20
            ),
            LineError::Read(err) => err.fmt(f),
        }
    }
}

/// A record read, or why its line gave none, with the line's number from 0.
pub type Line = (usize, Result<Record, LineError>);

/// A manifest's lines, read a part at a time.
pub struct Manifest {
    text: BufReader<Box<dyn Read + Send>>,
    /// The number of the next line, from 0.
    next: usize,
    ended: bool,
    /// The bytes of whole lines read before their records are handed on.
    part: usize,
    /// The fewest bytes of lines read on more than one thread.
    parallel_from: usize,
}

impl std::fmt::Debug for Manifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manifest")
            .field("next", &self.next)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Manifest {
    /// The manifest `reader` reads, its encoding told by its byte order mark, if any.
    pub fn new(reader: impl Read + Send + 'static) -> io::Result<Manifest> {
        Ok(Manifest {
            text: BufReader::with_capacity(1 << 16, text(reader)?),
            next: 0,
            ended: false,
            part: PART,
            parallel_from: PARALLEL_FROM,
        })
    }

    /// Hands records on every `bytes` of lines (at least one line a part), not every
    /// [`PART`], and reads every part on the threads asked for, however small: for tests
    /// of the parts' and the threads' seams.
    pub fn with_part(mut self, bytes: usize) -> Manifest {
        self.part = bytes;
        self.parallel_from = 0;
        self
    }

    /// The records of the next part of the manifest, in order, read on `threads` threads
    /// (0: one per core); a line that stops the reading comes last. `None` once the
    /// manifest is read. Blank lines are passed over.
    pub fn next_part(&mut self, threads: usize) -> Option<Vec<Line>> {
        if self.ended {
            return None;
        }
        let first = self.next;
        let mut bytes = Vec::new();
        let mut stop = None;
        while bytes.len() < self.part.max(1) {
            let start = bytes.len();
            let limit = LINE_LIMIT as u64 + 1;
            match (&mut self.text).take(limit).read_until(b'\n', &mut bytes) {
                Ok(0) => {
                    self.ended = true;
                    break;
                }
                Ok(_) if bytes.ends_with(b"\n") => self.next += 1,
                Ok(read) if read as u64 == limit => {
                    bytes.truncate(start);
                    stop = Some((self.next, LineError::TooLong));
                    break;
                }
                // The last line, without its newline.
                Ok(_) => {
                    bytes.push(b'\n');
                    self.next += 1;
                    self.ended = true;
                    break;
                }
                Err(err) => {
                    bytes.truncate(start);
                    stop = Some((self.next, LineError::Read(err)));
                    break;
                }
            }
        }
        let mut lines: Vec<Line> = read_records(&bytes, threads, self.parallel_from)
            .into_iter()
            .map(|(number, read)| (first + number, read.map_err(LineError::Json)))
            .collect();
        if let Some((number, why)) = stop {
            self.ended = true;
            lines.push((number, Err(why)));
        }
        Some(lines)
    }
}

/// The manifest's text as UTF-8: a UTF-8 byte order mark passed over, UTF-16 (either
/// order, told by its mark) decoded.
fn text(mut reader: impl Read + Send + 'static) -> io::Result<Box<dyn Read + Send>> {
    let mut mark = Vec::with_capacity(3);
    while mark.len() < 3 {
        let mut byte = [0];
        match reader.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => mark.push(byte[0]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
        if mark.len() == 2 && matches!(mark[..], [0xFF, 0xFE] | [0xFE, 0xFF]) {
            break;
        }
    }
    let rest = |skip: usize| Cursor::new(mark[skip..].to_vec()).chain(reader);
    Ok(match mark[..] {
        [0xEF, 0xBB, 0xBF] => Box::new(rest(3)),
        [0xFF, 0xFE] => Box::new(Utf16::new(rest(2), u16::from_le_bytes)),
        [0xFE, 0xFF] => Box::new(Utf16::new(rest(2), u16::from_be_bytes)),
        _ => Box::new(rest(0)),
    })
}

/// UTF-16 text read as UTF-8, strictly: an unpaired surrogate or an odd length is an
/// error (`InvalidData`), never a replacement character.
struct Utf16<R> {
    raw: R,
    unit: fn([u8; 2]) -> u16,
    /// Raw bytes read and not yet decoded (an odd byte, or a high surrogate's two).
    undecoded: Vec<u8>,
    /// Decoded text not yet handed out, from `at`.
    decoded: Vec<u8>,
    at: usize,
    /// Whether an invalid unit was met: the text before it is handed out, then an error.
    invalid: bool,
}

impl<R: Read> Utf16<R> {
    fn new(raw: R, unit: fn([u8; 2]) -> u16) -> Utf16<R> {
        Utf16 {
            raw,
            unit,
            undecoded: Vec::new(),
            decoded: Vec::new(),
            at: 0,
            invalid: false,
        }
    }

    /// Decodes the next piece of the raw text; `false` at its end.
    fn decode_more(&mut self) -> io::Result<bool> {
        let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
        if self.invalid {
            return Err(invalid(
                "it is UTF-16 (it starts with a byte order mark) but is not valid UTF-16",
            ));
        }
        let mut buffer = [0; 8192];
        let read = loop {
            match self.raw.read(&mut buffer) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                read => break read?,
            }
        };
        if read == 0 {
            return match self.undecoded.len() {
                0 => Ok(false),
                1 => Err(invalid(
                    "it is UTF-16 (it starts with a byte order mark) but has an odd length",
                )),
                _ => Err(invalid(
                    "it is UTF-16 (it starts with a byte order mark) but is not valid UTF-16",
                )),
            };
        }
        self.undecoded.extend_from_slice(&buffer[..read]);
        let mut units: Vec<u16> = self
            .undecoded
            .chunks_exact(2)
            .map(|pair| (self.unit)([pair[0], pair[1]]))
            .collect();
        // A high surrogate at the end waits for its pair.
        let held = usize::from(units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)));
        units.truncate(units.len() - held);
        self.decoded.clear();
        self.at = 0;
        // The text before an invalid unit is handed out first, then the error.
        for c in char::decode_utf16(units.iter().copied()) {
            let Ok(c) = c else {
                self.invalid = true;
                break;
            };
            let mut utf8 = [0; 4];
            self.decoded
                .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
        self.undecoded.drain(..units.len() * 2);
        Ok(true)
    }
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.decoded.len() {
            if !self.decode_more()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.decoded.len() - self.at);
        out[..n].copy_from_slice(&self.decoded[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Fewer bytes of lines than this are read on one thread: not worth another.
const PARALLEL_FROM: usize = 1 << 20;

/// The records of a manifest's lines (JSON Lines; blank lines are passed over), each with
/// its line's number from 0, in the manifest's order: read on as many threads as the links
/// are made on (`threads`, 0 for one per core), each taking a part of the lines, where
/// there are `parallel_from` bytes or more.
pub(crate) fn read_records(
    bytes: &[u8],
    threads: usize,
    parallel_from: usize,
) -> Vec<(usize, Result<Record, serde_json::Error>)> {
    let read = |(number, line): (usize, &[u8])| {
        (!line.trim_ascii().is_empty()).then(|| (number, serde_json::from_slice(line)))
    };
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    if threads == 1 || bytes.len() < parallel_from {
        return bytes
            .split(|&b| b == b'\n')
            .enumerate()
            .filter_map(read)
            .collect();
    }
    // Parts of about equal size, each ending at a line's end, and the number of each
    // part's first line.
    let mut parts = Vec::new();
    let (mut start, mut first) = (0, 0);
    for i in 1..=threads {
        let mut end = bytes.len() * i / threads;
        if end < bytes.len() {
            end = bytes[end..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |at| end + at + 1);
        }
        if end <= start {
            continue;
        }
        let part = &bytes[start..end];
        parts.push((first, part));
        first += part.iter().filter(|&&b| b == b'\n').count();
        start = end;
    }
    let read_part = |(first, part): (usize, &[u8])| {
        let lines = part.strip_suffix(b"\n").unwrap_or(part);
        let numbered = lines.split(|&b| b == b'\n').enumerate();
        numbered
            .map(|(i, line)| (first + i, line))
            .filter_map(read)
            .collect::<Vec<_>>()
    };
    std::thread::scope(|scope| {
        // A part whose thread the system cannot start is read here, in its turn.
        let reading: Vec<_> = parts
            .into_iter()
            .map(|part| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || read_part(part))
                    .map_err(|_| part)
            })
            .collect();
        reading
            .into_iter()
            .flat_map(|part| match part {
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(part) => read_part(part),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line's record or error, by number, read a part of `part` bytes at a time.
    fn lines_of(reader: impl Read + Send + 'static, part: usize) -> Vec<(usize, String)> {
        let mut manifest = Manifest::new(reader).unwrap().with_part(part);
        let mut lines = Vec::new();
        while let Some(read) = manifest.next_part(2) {
            lines.extend(read.into_iter().map(|(number, read)| {
                let read = match read {
                    Ok(record) => record.path.to_string_lossy().into_owned(),
                    Err(err) => format!("error: {err}"),
                };
                (number, read)
            }));
        }
        lines
    }

    fn record(path: &str) -> String {
        format!("{{\"path\":\"{path}\",\"kind\":\"symlink\",\"target\":\"t\"}}")
    }

    /// A reader that hands out one byte a read, as a pipe may.
    struct Trickle(Cursor<Vec<u8>>);

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(1);
            self.0.read(&mut out[..n])
        }
    }

    /// Parts of any size give every line, numbered as in one read, whether the last line
    /// ends in a newline or not, in UTF-8 (with or without its mark) and in UTF-16 of
    /// either order read a byte at a time: names outside the Basic Multilingual Plane
    /// (surrogate pairs, split across reads) included.
    #[test]
    fn parts_and_encodings_read_every_line() {
        let paths = [
            "a",
            "b/\u{1F600}",
            "c/\u{e9}",
            "",
            "d/\u{10FFFF}",
            "not json",
            "e",
        ];
        let mut text = String::new();
        for path in paths {
            match path {
                "" => text.push_str("\r\n"),
                "not json" => text.push_str("{not json\n"),
                _ => text.push_str(&(record(path) + "\n")),
            }
        }
        text.push_str(&record("last"));
        let expected = lines_of(Cursor::new(text.clone().into_bytes()), 1 << 20);
        assert_eq!(expected.len(), 7, "{expected:?}");
        assert_eq!(expected[1], (1, "b/\u{1F600}".to_owned()));
        assert!(
            expected[4].1.starts_with("error: key must be a string"),
            "{expected:?}"
        );
        assert_eq!(expected[6], (7, "last".to_owned()));
        let utf16 = |unit: fn(u16) -> [u8; 2], mark: [u8; 2]| {
            let units = text.encode_utf16().flat_map(unit);
            mark.into_iter().chain(units).collect::<Vec<u8>>()
        };
        let forms = [
            text.clone().into_bytes(),
            [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
            utf16(u16::to_le_bytes, [0xFF, 0xFE]),
            utf16(u16::to_be_bytes, [0xFE, 0xFF]),
        ];
        for (form, bytes) in forms.iter().enumerate() {
            for part in [0, 1, 40, 100, 1 << 20] {
                let read = lines_of(Trickle(Cursor::new(bytes.clone())), part);
                assert_eq!(read, expected, "form {form}, parts of {part}");
            }
        }
    }

    /// UTF-16 that is not (an unpaired surrogate, an odd length) stops the reading where
    /// it is met, after the lines before it; no U+FFFD is ever made up.
    #[test]
    fn text_that_is_not_its_encoding_stops_the_reading() {
        let good: Vec<u8> = (record("a") + "\n")
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let unpaired = [&[0xFF, 0xFE][..], &good, &0xD800u16.to_le_bytes(), b"{\0"].concat();
        let odd = [&[0xFF, 0xFE][..], &good, b"{"].concat();
        for (bytes, why) in [
            (unpaired, "is not valid UTF-16"),
            (odd, "has an odd length"),
        ] {
            let read = lines_of(Cursor::new(bytes), 1 << 20);
            assert_eq!(read[0], (0, "a".to_owned()));
            assert_eq!(read.len(), 2, "{read:?}");
            assert_eq!(read[1].0, 1);
            assert!(read[1].1.ends_with(why), "{read:?}");
        }
    }

    /// A line longer than the limit stops the reading, after the lines before it, without
    /// holding more than the limit: an endless manifest with no newline ends at once.
    #[test]
    fn a_line_past_the_limit_stops_the_reading() {
        let too_long = format!(
            "{}\n{}\n{}\n",
            record("a"),
            "x".repeat(LINE_LIMIT + 1),
            record("b")
        );
        let read = lines_of(Cursor::new(too_long.into_bytes()), 1 << 20);
        assert_eq!(read.len(), 2, "{read:?}");
        assert_eq!(read[0], (0, "a".to_owned()));
        assert_eq!(read[1].0, 1);
        assert!(
            read[1].1.starts_with("error: it is longer than 1 MiB"),
            "{read:?}"
        );
        // Exactly the limit is a line (not a record).
        let at_limit = format!("{}\n{}", "x".repeat(LINE_LIMIT), record("b"));
        let read = lines_of(Cursor::new(at_limit.into_bytes()), 1 << 20);
        assert_eq!(read.len(), 2, "{read:?}");
        assert_eq!(read[1], (1, "b".to_owned()));
        let endless = lines_of(io::repeat(0), 1 << 20);
        assert_eq!(endless.len(), 1);
        assert!(
            endless[0].1.starts_with("error: it is longer"),
            "{endless:?}"
        );
    }

    /// A manifest read on several threads gives what one thread reads: every record in
    /// order, each malformed line by its number, blank lines passed over.
    #[test]
    fn a_manifest_reads_the_same_on_any_number_of_threads() {
        let mut manifest = String::new();
        for i in 0..9000 {
            match i % 1000 {
                7 => manifest.push('\n'),
                13 => manifest.push_str("{not json\n"),
                _ => manifest.push_str(&format!(
                    "{{\"path\":\"./d{}/l{i}\",\"kind\":\"symlink\",\"target\":\"../t{i}\",\
                     \"resolved\":\"/somewhere/rather/long/to/pass/the/size/of/a/part/t{i}\"}}\n",
                    i % 7
                )),
            }
        }
        manifest.push_str(r#"{"path":"last","kind":"symlink","target":"t"}"#);
        assert!(manifest.len() > 1 << 20, "{}", manifest.len());
        let summary = |threads| {
            read_records(manifest.as_bytes(), threads, PARALLEL_FROM)
                .into_iter()
                .map(|(line, read)| (line, read.map_err(|err| err.to_string())))
                .collect::<Vec<_>>()
        };
        let one = summary(1);
        assert_eq!(one.len(), 9000 - 9 + 1);
        assert_eq!(one.iter().filter(|(_, read)| read.is_err()).count(), 9);
        let first_bad = one.iter().find(|(_, read)| read.is_err()).unwrap();
        assert_eq!(first_bad.0, 13);
        assert_eq!(one.last().unwrap().0, 9000);
        for threads in [2, 3, 7] {
            assert_eq!(summary(threads), one, "{threads} threads");
        }
    }
}
