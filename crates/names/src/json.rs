//! Names in JSON: a string, or `{"bytes": "<base64>"}` of the raw bytes of a name that is
//! not valid Unicode (non-UTF-8 bytes on Unix; on Windows the UTF-16LE units of a name with
//! unpaired surrogates), for `#[serde(with)]` on fields that hold names.
//!
//! ```
//! use std::path::PathBuf;
//!
//! #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
//! struct Entry {
//!     #[serde(with = "knot_names::json::serde_name")]
//!     path: PathBuf,
//!     #[serde(with = "knot_names::json::serde_opt_name")]
//!     target: Option<PathBuf>,
//! }
//!
//! let entry = Entry { path: "a/b".into(), target: None };
//! let json = serde_json::to_string(&entry).unwrap();
//! assert_eq!(json, r#"{"path":"a/b","target":null}"#);
//! assert_eq!(serde_json::from_str::<Entry>(&json).unwrap(), entry);
//! ```

use std::ffi::{OsStr, OsString};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A name on the wire: a string, or `{"bytes": base64}` for a name that is not Unicode.
#[derive(Serialize)]
#[serde(untagged)]
enum WireName<'a> {
    Text(std::borrow::Cow<'a, str>),
    Bytes { bytes: String },
}

/// Read by its first token, a string or a map, with no buffering: serde's `untagged`
/// would copy each value aside to try the forms one by one, which was most of the time
/// `knot apply` took to read a manifest.
impl<'de> Deserialize<'de> for WireName<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WireName<'de>, D::Error> {
        d.deserialize_any(WireNameVisitor)
    }
}

struct WireNameVisitor;

impl<'de> serde::de::Visitor<'de> for WireNameVisitor {
    type Value = WireName<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(r#"a name: a string, or {"bytes": "<base64>"}"#)
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(WireName::Text(text.into()))
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(WireName::Text(text.to_owned().into()))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(WireName::Text(text.into()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error as _;
        let mut bytes = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            // Other keys are passed over, as in every record.
            if key != "bytes" {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            if bytes.is_some() {
                return Err(A::Error::duplicate_field("bytes"));
            }
            bytes = Some(map.next_value::<String>()?);
        }
        let bytes = bytes.ok_or_else(|| A::Error::missing_field("bytes"))?;
        Ok(WireName::Bytes { bytes })
    }
}

impl<'a> WireName<'a> {
    fn of(name: &'a OsStr) -> WireName<'a> {
        use base64::Engine as _;
        match name.to_str() {
            Some(text) => WireName::Text(text.into()),
            None => WireName::Bytes {
                bytes: base64::engine::general_purpose::STANDARD.encode(raw_bytes(name)),
            },
        }
    }

    fn into_name<E: serde::de::Error>(self) -> Result<OsString, E> {
        use base64::Engine as _;
        match self {
            WireName::Text(text) => Ok(OsString::from(text.into_owned())),
            WireName::Bytes { bytes } => {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(bytes.as_bytes())
                    .map_err(|err| E::custom(format_args!("a name's bytes: {err}")))?;
                from_raw_bytes(raw).map_err(E::custom)
            }
        }
    }
}

#[cfg(unix)]
fn raw_bytes(name: &OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    name.as_bytes().to_vec()
}

#[cfg(unix)]
fn from_raw_bytes(raw: Vec<u8>) -> Result<OsString, &'static str> {
    use std::os::unix::ffi::OsStringExt;
    Ok(OsString::from_vec(raw))
}

#[cfg(windows)]
fn raw_bytes(name: &OsStr) -> Vec<u8> {
    use std::os::windows::ffi::OsStrExt;
    name.encode_wide().flat_map(u16::to_le_bytes).collect()
}

#[cfg(windows)]
fn from_raw_bytes(raw: Vec<u8>) -> Result<OsString, &'static str> {
    use std::os::windows::ffi::OsStringExt;
    if !raw.len().is_multiple_of(2) {
        return Err("a name's bytes are UTF-16LE units: their number must be even");
    }
    let wide: Vec<u16> = raw
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    Ok(OsString::from_wide(&wide))
}

#[cfg(not(any(unix, windows)))]
fn raw_bytes(name: &OsStr) -> Vec<u8> {
    name.as_encoded_bytes().to_vec()
}

#[cfg(not(any(unix, windows)))]
fn from_raw_bytes(raw: Vec<u8>) -> Result<OsString, &'static str> {
    String::from_utf8(raw)
        .map(OsString::from)
        .map_err(|_| "names on this system are Unicode")
}

/// `serde(with)` for a name that is always there, written as the record writes its
/// names: a string, or `{"bytes": "<base64>"}` when it is not valid Unicode (for other
/// types that carry names, such as a report that adds fields to a record).
pub mod serde_name {
    use super::*;

    /// Writes `name`.
    pub fn serialize<S: Serializer, N: AsRef<OsStr>>(name: &N, s: S) -> Result<S::Ok, S::Error> {
        WireName::of(name.as_ref()).serialize(s)
    }

    /// Reads a name written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>, N: From<OsString>>(d: D) -> Result<N, D::Error> {
        WireName::deserialize(d)?.into_name().map(N::from)
    }
}

/// `serde(with)` for a name that may be `null`, as [`serde_name`].
pub mod serde_opt_name {
    use super::*;

    /// Writes `name`, or `null`.
    pub fn serialize<S: Serializer, N: AsRef<OsStr>>(
        name: &Option<N>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        name.as_ref().map(|n| WireName::of(n.as_ref())).serialize(s)
    }

    /// Reads a name or `null` written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>, N: From<OsString>>(
        d: D,
    ) -> Result<Option<N>, D::Error> {
        Option::<WireName>::deserialize(d)?
            .map(|wire| wire.into_name().map(N::from))
            .transpose()
    }
}
