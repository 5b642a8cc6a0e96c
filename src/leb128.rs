//! Unsigned LEB128 in its shortest form: the frame's payload length and lz4 payloads' length
//! prefix (one implementation for both).

/// Why an LEB128 number could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leb128Error {
    /// The bytes end inside it: more input may complete it.
    Short,
    /// Longer than its shortest form, or larger than the reader allows.
    Invalid,
}

/// Most bytes an LEB128 `u64` takes.
pub const MAX_LEN: usize = 10;

/// Bytes of the shortest LEB128 form of `value`.
#[inline]
pub const fn len(value: u64) -> usize {
    let mut n = 1;
    let mut rest = value >> 7;
    while rest != 0 {
        n += 1;
        rest >>= 7;
    }
    n
}

/// Writes the shortest LEB128 form of `value` at the start of `out` and returns its length.
///
/// # Panics
///
/// If `out` is shorter than [`len`]`(value)`.
#[inline]
pub fn write(out: &mut [u8], mut value: u64) -> usize {
    let mut i = 0;
    while value >= 0x80 {
        out[i] = (value as u8) | 0x80;
        value >>= 7;
        i += 1;
    }
    out[i] = value as u8;
    i + 1
}

/// Reads a shortest-form LEB128 number of at most `bits` bits (32 or 64) at the start of
/// `bytes`: the value and its length.
///
/// # Errors
///
/// [`Leb128Error::Short`] when `bytes` ends inside the number, [`Leb128Error::Invalid`] when
/// it is not in its shortest form or needs more than `bits` bits.
#[inline]
pub fn read(bytes: &[u8], bits: u32) -> Result<(u64, usize), Leb128Error> {
    let max_len = bits.div_ceil(7) as usize;
    // Value bits the last byte may carry.
    let last_bits = bits - 7 * (max_len as u32 - 1);
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().take(max_len).enumerate() {
        if i == max_len - 1 && u32::from(byte) >> last_bits != 0 {
            return Err(Leb128Error::Invalid);
        }
        value |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            // A last byte of 0 after the first means a longer form than needed.
            if i > 0 && byte == 0 {
                return Err(Leb128Error::Invalid);
            }
            return Ok((value, i + 1));
        }
    }
    if bytes.len() < max_len {
        Err(Leb128Error::Short)
    } else {
        Err(Leb128Error::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_long_truncated_and_oversized_forms() {
        let mut buf = [0u8; MAX_LEN];
        for value in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let n = write(&mut buf, value);
            assert_eq!(n, len(value));
            assert_eq!(read(&buf[..n], 64), Ok((value, n)));
            for cut in 0..n {
                assert_eq!(read(&buf[..cut], 64), Err(Leb128Error::Short));
            }
            let fits = value <= u64::from(u32::MAX);
            assert_eq!(read(&buf[..n], 32).is_ok(), fits, "{value}");
        }
        assert_eq!(read(&[0x80, 0x00], 64), Err(Leb128Error::Invalid));
        assert_eq!(read(&[0xFF; 10], 64), Err(Leb128Error::Invalid));
        assert_eq!(read(&[0xFF; 11], 64), Err(Leb128Error::Invalid));
        assert_eq!(
            read(&[0xFF, 0xFF, 0xFF, 0xFF, 0x10], 32),
            Err(Leb128Error::Invalid)
        );
        assert_eq!(
            read(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F], 32),
            Ok((u64::from(u32::MAX), 5))
        );
        assert_eq!(read(&[0xFF; 5], 32), Err(Leb128Error::Invalid));
        assert_eq!(read(&[0xFF; 4], 32), Err(Leb128Error::Short));
    }
}
