//! [`Policy`]: when a payload is worth compressing, and how large a decompressed payload may be.

/// Payloads shorter than this many bytes are stored raw without trying to compress them.
///
/// Below it, a compressed form rarely beats the raw bytes by enough to pay for the
/// decompression: plain zstd spends 9-13 bytes on its frame header alone. Trained
/// dictionaries do pay on smaller messages; lower it for [`ZstdDict`](crate::ZstdDict) if
/// your messages are that small.
pub const DEFAULT_MIN_SIZE: usize = 64;

/// A compressed form is kept only when it is at least this many percent smaller than the raw
/// payload (and always at least one byte smaller).
pub const DEFAULT_MIN_SAVING_PERCENT: u8 = 5;

/// The largest payload a transform decompresses (16 MiB) unless configured otherwise.
///
/// Sizes read from compressed input (lz4's length prefix, zstd's frame content size) are
/// checked against it before anything is allocated.
pub const DEFAULT_MAX_DECOMPRESSED_LEN: usize = 16 << 20;

/// The adaptive compression policy, and the decompression limit, of a transform.
///
/// A transform compresses a payload only when it is at least
/// [`min_size`](Policy::min_size) bytes long, and keeps the compressed form only when it
/// saves at least [`min_saving_percent`](Policy::min_saving_percent) of the raw size (and at
/// least one byte). Otherwise it stores the payload raw, marked
/// [`CompressionId::NONE`](zerocodec::CompressionId::NONE), so a compressed frame is never
/// larger than the raw payload plus its header or prefix.
///
/// Payloads larger than [`max_decompressed_len`](Policy::max_decompressed_len) are stored
/// raw too: a reader with the same policy would refuse to decompress them.
///
/// # Examples
///
/// ```
/// use zerocodec_codecs::{Policy, DEFAULT_MIN_SIZE};
///
/// let policy = Policy::new().with_min_size(32).with_min_saving_percent(10);
/// assert_eq!(policy.budget(16), None); // too small: stored raw
/// assert_eq!(policy.budget(200), Some(180)); // keep a compressed form of at most 180 bytes
/// assert_eq!(Policy::default().min_size(), DEFAULT_MIN_SIZE);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Policy {
    min_size: usize,
    min_saving_percent: u8,
    max_decompressed_len: usize,
}

impl Policy {
    /// The default policy: [`DEFAULT_MIN_SIZE`], [`DEFAULT_MIN_SAVING_PERCENT`],
    /// [`DEFAULT_MAX_DECOMPRESSED_LEN`].
    pub const fn new() -> Self {
        Self {
            min_size: DEFAULT_MIN_SIZE,
            min_saving_percent: DEFAULT_MIN_SAVING_PERCENT,
            max_decompressed_len: DEFAULT_MAX_DECOMPRESSED_LEN,
        }
    }

    /// Payloads shorter than `min_size` bytes are stored raw.
    #[must_use]
    pub const fn with_min_size(mut self, min_size: usize) -> Self {
        self.min_size = min_size;
        self
    }

    /// Keep a compressed form only when it saves at least `percent` of the raw size
    /// (capped at 100, which never compresses).
    #[must_use]
    pub const fn with_min_saving_percent(mut self, percent: u8) -> Self {
        self.min_saving_percent = if percent > 100 { 100 } else { percent };
        self
    }

    /// The largest payload decompression may produce; larger claims fail with
    /// [`ErrorKind::TooLarge`](zerocodec::ErrorKind::TooLarge) before any allocation.
    #[must_use]
    pub const fn with_max_decompressed_len(mut self, max: usize) -> Self {
        self.max_decompressed_len = max;
        self
    }

    /// Payloads shorter than this are stored raw.
    pub const fn min_size(&self) -> usize {
        self.min_size
    }

    /// The smallest saving, in percent of the raw size, that a compressed form must reach.
    pub const fn min_saving_percent(&self) -> u8 {
        self.min_saving_percent
    }

    /// The largest payload decompression may produce.
    pub const fn max_decompressed_len(&self) -> usize {
        self.max_decompressed_len
    }

    /// The largest compressed form worth keeping for a raw payload of `raw_len` bytes, or
    /// `None` when the payload should be stored raw without trying.
    pub const fn budget(&self, raw_len: usize) -> Option<usize> {
        if raw_len < self.min_size || raw_len > self.max_decompressed_len {
            return None;
        }
        let pct = self.min_saving_percent as usize;
        // raw_len * pct / 100 without overflow.
        let saving = raw_len / 100 * pct + raw_len % 100 * pct / 100;
        let saving = if saving == 0 { 1 } else { saving };
        if saving >= raw_len {
            None
        } else {
            Some(raw_len - saving)
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_follows_the_policy() {
        let p = Policy::new();
        assert_eq!(p.budget(DEFAULT_MIN_SIZE - 1), None);
        assert_eq!(p.budget(100), Some(95));
        assert_eq!(p.budget(64), Some(61)); // 5% of 64 is 3
        assert_eq!(
            Policy::new().with_min_saving_percent(0).budget(64),
            Some(63)
        );
        assert_eq!(
            Policy::new().with_min_saving_percent(200).budget(1000),
            None
        );
        assert_eq!(p.budget(DEFAULT_MAX_DECOMPRESSED_LEN + 1), None);
        let huge = Policy::new()
            .with_max_decompressed_len(usize::MAX)
            .with_min_saving_percent(50);
        assert_eq!(huge.budget(usize::MAX), Some(usize::MAX - usize::MAX / 2));
    }
}
