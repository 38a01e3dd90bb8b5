//! The nesting limit of the MessagePack decoder, checked when a value is written, so that every
//! value `set` accepts can be read back by `get`.

use rmp::Marker;

/// The deepest nesting of arrays, maps and extension values rmp-serde's decoder reads (its
/// depth budget of 1024 is spent when the 1024th container opens).
pub(crate) const MAX_DEPTH: usize = 1023;

/// `Err` with why, when `msgpack` nests containers deeper than [`MAX_DEPTH`].
///
/// Iterative (a deep value cannot overflow the stack here), and it reads only the headers: the
/// payload of a string or binary is skipped, not scanned. A value shorter than `MAX_DEPTH` bytes
/// cannot be that deep (each container takes at least one byte), so most values skip the scan.
pub(crate) fn check_readable(msgpack: &[u8]) -> Result<(), String> {
    if msgpack.len() <= MAX_DEPTH {
        return Ok(());
    }
    // Items still to read in each open container, innermost last.
    let mut open: Vec<u64> = Vec::new();
    let mut rest = msgpack;
    while !rest.is_empty() {
        let (marker, after) = (Marker::from_u8(rest[0]), &rest[1..]);
        let (skip, items) = match marker {
            Marker::FixArray(n) => (0, Some(u64::from(n))),
            Marker::FixMap(n) => (0, Some(2 * u64::from(n))),
            Marker::Array16 => (2, Some(be(after, 2)?)),
            Marker::Array32 => (4, Some(be(after, 4)?)),
            Marker::Map16 => (2, Some(2 * be(after, 2)?)),
            Marker::Map32 => (4, Some(2 * be(after, 4)?)),
            // An extension counts as a level; its payload is opaque bytes.
            Marker::FixExt1 => (2, Some(0)),
            Marker::FixExt2 => (3, Some(0)),
            Marker::FixExt4 => (5, Some(0)),
            Marker::FixExt8 => (9, Some(0)),
            Marker::FixExt16 => (17, Some(0)),
            Marker::Ext8 => (1 + 1 + be(after, 1)?, Some(0)),
            Marker::Ext16 => (2 + 1 + be(after, 2)?, Some(0)),
            Marker::Ext32 => (4 + 1 + be(after, 4)?, Some(0)),
            Marker::FixStr(n) => (u64::from(n), None),
            Marker::Str8 | Marker::Bin8 => (1 + be(after, 1)?, None),
            Marker::Str16 | Marker::Bin16 => (2 + be(after, 2)?, None),
            Marker::Str32 | Marker::Bin32 => (4 + be(after, 4)?, None),
            Marker::U8 | Marker::I8 => (1, None),
            Marker::U16 | Marker::I16 => (2, None),
            Marker::U32 | Marker::I32 | Marker::F32 => (4, None),
            Marker::U64 | Marker::I64 | Marker::F64 => (8, None),
            _ => (0, None),
        };
        rest = after
            .get(usize::try_from(skip).unwrap_or(usize::MAX)..)
            .ok_or("the encoded value is cut short")?;
        if let Some(top) = open.last_mut() {
            *top -= 1;
        }
        if let Some(items) = items {
            open.push(items);
            if open.len() > MAX_DEPTH {
                return Err(format!(
                    "the value is nested more than {MAX_DEPTH} levels deep, deeper than the \
                     decoder reads back"
                ));
            }
        }
        while open.last() == Some(&0) {
            open.pop();
        }
    }
    Ok(())
}

/// The big-endian unsigned number in the first `len` bytes of `bytes`.
fn be(bytes: &[u8], len: usize) -> Result<u64, String> {
    let field = bytes.get(..len).ok_or("the encoded value is cut short")?;
    Ok(field.iter().fold(0, |n, &b| (n << 8) | u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrays(depth: usize) -> Vec<u8> {
        let mut bytes = vec![0x91; depth - 1];
        bytes.push(0x90);
        bytes
    }

    #[test]
    fn counts_containers_not_bytes() {
        assert!(check_readable(&arrays(MAX_DEPTH)).is_ok());
        assert!(check_readable(&arrays(MAX_DEPTH + 1)).is_err());
        // Wide but shallow: many siblings, long strings.
        let mut wide = vec![0xdc, 0x10, 0x00]; // array16 of 4096
        for _ in 0..4096 {
            wide.extend([0xa3, b'a', b'b', b'c']);
        }
        assert!(check_readable(&wide).is_ok());
        // Maps count both keys and values; a map of arrays at depth 2.
        let mut map = vec![0xde, 0x02, 0x00]; // map16 of 512 entries
        for _ in 0..512 {
            map.extend([0x01, 0x91, 0x02]);
        }
        assert!(check_readable(&map).is_ok());
    }

    #[test]
    fn bad_bytes_are_an_error_not_a_panic() {
        let mut cut = vec![0xdb, 0xff, 0xff, 0xff, 0xff];
        cut.resize(2000, 0);
        assert!(check_readable(&cut).is_err());
    }
}
