//! Property tests: every value survives encode + decode, and no input makes decode panic.

use knot_reparse::{
    AppExecLink, EncodeError, Generic, Guid, LxSymlink, MAX_BUFFER_SIZE, MountPoint, ReparsePoint,
    Symlink, Tag, WideString, decode, encode,
};
use proptest::prelude::*;

/// UTF-16 units with plenty of surrogates (paired by chance, mostly unpaired), NULs and
/// backslashes, so names that are not valid Unicode get exercised.
fn unit() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => any::<u16>(),
        2 => 0xD800u16..0xE000,
        1 => Just(0u16),
        1 => Just(u16::from(b'\\')),
        2 => 0x20u16..0x7f,
    ]
}

fn wide(max: usize) -> impl Strategy<Value = WideString> {
    prop::collection::vec(unit(), 0..max).prop_map(WideString::from_units)
}

fn wide_without_nul(max: usize) -> impl Strategy<Value = WideString> {
    prop::collection::vec(unit().prop_filter("NUL ends a string", |&u| u != 0), 0..max)
        .prop_map(WideString::from_units)
}

/// Tags that decode to their own variant when they use the 8-byte header.
const TYPED: [Tag; 5] = [
    Tag::MOUNT_POINT,
    Tag::SYMLINK,
    Tag::LX_SYMLINK,
    Tag::APPEXECLINK,
    Tag::AF_UNIX,
];

fn generic() -> impl Strategy<Value = Generic> {
    let tag = prop_oneof![
        any::<u32>().prop_map(Tag),
        prop::sample::select(Tag::documented().collect::<Vec<_>>()),
    ]
    .prop_filter("reserved or typed", |t| {
        !t.is_reserved() && !TYPED.contains(t)
    });
    (
        tag,
        any::<[u8; 16]>(),
        prop::collection::vec(any::<u8>(), 0..256),
    )
        .prop_map(|(tag, guid, data)| Generic {
            tag,
            guid: (!tag.is_microsoft()).then_some(Guid(guid)),
            data,
        })
}

fn reparse_point() -> impl Strategy<Value = ReparsePoint> {
    prop_oneof![
        (wide(80), wide(80)).prop_map(|(s, p)| MountPoint::new(s, p).into()),
        (wide(80), wide(80), any::<u32>())
            .prop_map(|(s, p, f)| Symlink::with_names(s, p, f).into()),
        prop::collection::vec(any::<u8>(), 0..200).prop_map(|t| LxSymlink::new(t).into()),
        prop::collection::vec(wide_without_nul(40), 0..6)
            .prop_map(|s| AppExecLink { strings: s }.into()),
        Just(ReparsePoint::AfUnix),
        generic().prop_map(ReparsePoint::from),
    ]
}

/// What the fuzz target checks: a buffer that decodes re-encodes, and the result decodes
/// to the same value. Re-encoding may only fail for being too large, which happens when
/// the source's two names overlap, or (mount points) lack the NULs Windows' layout adds.
fn check_reencodes(point: &ReparsePoint) -> Result<(), TestCaseError> {
    match encode(point) {
        Ok(bytes) => {
            let again = decode(&bytes);
            prop_assert_eq!(again.as_ref(), Ok(point));
        }
        Err(EncodeError::TooLarge { len }) => {
            prop_assert!(len > MAX_BUFFER_SIZE);
            prop_assert!(
                matches!(
                    point,
                    ReparsePoint::MountPoint(_) | ReparsePoint::Symlink(_)
                ),
                "{:?}",
                point
            );
        }
        Err(e) => prop_assert!(false, "decoded value does not encode: {e}"),
    }
    Ok(())
}

/// A buffer with a consistent header around `data`.
fn with_header(tag: Tag, guid: Option<[u8; 16]>, data: &[u8]) -> Vec<u8> {
    let mut buf = tag.0.to_le_bytes().to_vec();
    buf.extend_from_slice(&(data.len() as u16).to_le_bytes());
    buf.extend_from_slice(&[0, 0]);
    if let Some(guid) = guid {
        buf.extend_from_slice(&guid);
    }
    buf.extend_from_slice(data);
    buf
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
    Extend(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        1 => prop::collection::vec(any::<u8>(), 1..8).prop_map(Mutation::Extend),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn encode_then_decode_gives_the_value_back(point in reparse_point()) {
        let bytes = encode(&point).expect("small values always encode");
        prop_assert_eq!(bytes.len(), point.encoded_len());
        prop_assert!(bytes.len() <= MAX_BUFFER_SIZE);
        prop_assert_eq!(decode(&bytes), Ok(point.clone()));
        // Windows' layout is a fixed point: encoding the decoded value again changes nothing.
        prop_assert_eq!(encode(&decode(&bytes).unwrap()).unwrap(), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(point) = decode(&bytes) {
            check_reencodes(&point)?;
        }
    }

    /// Random data behind a consistent header reaches the per-tag decoders, where the
    /// offsets and lengths are.
    #[test]
    fn arbitrary_data_behind_a_valid_header_never_panics(
        tag in prop_oneof![
            3 => prop::sample::select(TYPED.to_vec()),
            1 => any::<u32>().prop_map(Tag),
        ],
        guid in any::<[u8; 16]>(),
        data in prop::collection::vec(
            prop_oneof![any::<u8>(), 0u8..0x40, Just(0u8)],
            0..300,
        ),
    ) {
        let guid = (!tag.is_microsoft()).then_some(guid);
        if let Ok(point) = decode(&with_header(tag, guid, &data)) {
            check_reencodes(&point)?;
        }
    }

    #[test]
    fn mutated_valid_buffers_never_panic(
        point in reparse_point(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut bytes = encode(&point).unwrap();
        for m in mutations {
            match m {
                Mutation::Set(i, b) if !bytes.is_empty() => {
                    let i = i.index(bytes.len());
                    bytes[i] = b;
                }
                Mutation::Set(..) => {}
                Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len() + 1)),
                Mutation::Extend(tail) => bytes.extend(tail),
            }
        }
        if let Ok(point) = decode(&bytes) {
            check_reencodes(&point)?;
        }
    }

}

#[test]
fn too_large_is_an_error() {
    // A mount point whose names need more than 16,384 bytes in Windows' layout.
    for extra in [0, 1, 63, 10_000] {
        let units = (MAX_BUFFER_SIZE - 8 - 8 - 4) / 2 + 1 + extra;
        let point = ReparsePoint::from(MountPoint::new(vec![0x41u16; units], ""));
        assert!(
            matches!(encode(&point), Err(EncodeError::TooLarge { len }) if len > MAX_BUFFER_SIZE),
            "{extra}"
        );
    }
}

#[test]
fn largest_names_fit_exactly() {
    let units = (MAX_BUFFER_SIZE - 8 - 8 - 4) / 2;
    let point = ReparsePoint::from(MountPoint::new(vec![0x41u16; units], ""));
    let bytes = encode(&point).unwrap();
    assert_eq!(bytes.len(), MAX_BUFFER_SIZE);
    assert_eq!(decode(&bytes).unwrap(), point);

    let units = (MAX_BUFFER_SIZE - 8 - 12) / 2;
    let point = ReparsePoint::from(Symlink::with_names(vec![0x41u16; units], "", 1));
    assert_eq!(encode(&point).unwrap().len(), MAX_BUFFER_SIZE);
}

/// Two names that share bytes in the source buffer take twice the room in Windows' layout:
/// the one way a decoded value can be too large to encode.
#[test]
fn overlapping_names_may_not_reencode() {
    let units = (MAX_BUFFER_SIZE - 16) / 2;
    let name_bytes = (units * 2) as u16;
    let mut data = Vec::new();
    for field in [0, name_bytes, 0, name_bytes] {
        data.extend_from_slice(&field.to_le_bytes());
    }
    data.extend(std::iter::repeat_n([0x41, 0], units).flatten());
    let buf = with_header(Tag::MOUNT_POINT, None, &data);
    assert_eq!(buf.len(), MAX_BUFFER_SIZE);
    let point = decode(&buf).unwrap();
    assert!(matches!(encode(&point), Err(EncodeError::TooLarge { .. })));
}
