//! Little-endian reads that return `None` instead of panicking, and the header writer.

use crate::{EncodeError, HEADER_SIZE, MAX_BUFFER_SIZE, Tag};

pub(crate) fn u16_at(buf: &[u8], offset: usize) -> Option<u16> {
    let bytes = buf.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_le_bytes(bytes.try_into().ok()?))
}

pub(crate) fn u32_at(buf: &[u8], offset: usize) -> Option<u32> {
    let bytes = buf.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// Starts a buffer of `total` bytes with the 8-byte header (MS-FSCC 2.1.2.2): tag,
/// `ReparseDataLength` = `total - data_start`, `Reserved` = 0.
///
/// `data_start` is 8, or 24 for a GUID buffer, whose GUID the caller appends.
pub(crate) fn start_buffer(
    tag: Tag,
    total: usize,
    data_start: usize,
) -> Result<Vec<u8>, EncodeError> {
    if total > MAX_BUFFER_SIZE {
        return Err(EncodeError::TooLarge { len: total });
    }
    let data_length = to_u16(total.saturating_sub(data_start), total)?;
    let mut buf = Vec::with_capacity(total);
    buf.extend_from_slice(&tag.0.to_le_bytes());
    buf.extend_from_slice(&data_length.to_le_bytes());
    buf.extend_from_slice(&0u16.to_le_bytes());
    debug_assert_eq!(buf.len(), HEADER_SIZE);
    Ok(buf)
}

/// A length or offset as a `u16` field. Callers check `total <= MAX_BUFFER_SIZE` first,
/// so this never fails in practice; the error keeps it panic-free regardless.
pub(crate) fn to_u16(n: usize, total: usize) -> Result<u16, EncodeError> {
    u16::try_from(n).map_err(|_| EncodeError::TooLarge { len: total })
}
