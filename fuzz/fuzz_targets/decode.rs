//! Decodes arbitrary bytes. The decoder must never panic (DESIGN.md, safety promise 6),
//! and whatever it accepts must survive encode + decode unchanged.

#![no_main]

use knot_reparse::{EncodeError, MAX_BUFFER_SIZE, ReparsePoint, decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(point) = decode(data) else {
        return;
    };
    match encode(&point) {
        Ok(bytes) => {
            assert!(bytes.len() <= MAX_BUFFER_SIZE);
            assert_eq!(
                decode(&bytes).as_ref(),
                Ok(&point),
                "re-encoded buffer differs"
            );
        }
        // Windows' layout can need more room than the source: a mount point gains two
        // NULs, and two names that shared bytes in the source are written apart. That is
        // the only way a decoded value may fail to encode.
        Err(EncodeError::TooLarge { len }) => {
            assert!(len > MAX_BUFFER_SIZE);
            assert!(
                matches!(
                    point,
                    ReparsePoint::MountPoint(_) | ReparsePoint::Symlink(_)
                ),
                "{point:?} decoded but is too large to encode"
            );
        }
        Err(e) => panic!("{point:?} decoded but does not encode: {e}"),
    }
});
