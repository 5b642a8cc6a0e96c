//! [`Policy`]: when a payload is worth compressing, and how large a decompressed payload may be.

/// Payloads shorter than this many bytes are stored raw without trying to compress them.
///
/// Below it, a compressed form rarely beats the raw bytes by enough to pay for the
/// decompression: plain zstd spends 9-13 bytes on its frame header alone. Trained
/// dictionaries do pay on smaller messages; lower it for [`Compression::ZstdDict`](crate::Compression::ZstdDict) if
/// your messages are that small.
pub const DEFAULT_MIN_SIZE: usize = 64;

/// A compressed form is kept only when it is at least this many percent smaller than the raw
/// payload (and always at least one byte smaller).
pub const DEFAULT_MIN_SAVING_PERCENT: u8 = 5;

/// The largest payload a reader decompresses (16 MiB) unless configured otherwise.
///
/// Sizes read from compressed input (lz4's length prefix, zstd's frame content size) are
/// checked against it before anything is allocated.
pub const DEFAULT_MAX_DECOMPRESSED_LEN: usize = 16 << 20;

/// Decompression may produce at most this many bytes per compressed input byte, unless
/// configured otherwise.
///
/// Bytes bound memory only up to what a decoded value costs per byte: a `serde_json::Value`
/// decoded from JSON text holds about 84 bytes of heap per text byte, so without a ratio limit
/// a 1.4 KB zstd frame could inflate to the 16 MiB [`DEFAULT_MAX_DECOMPRESSED_LEN`] and then
/// to over 1.3 GiB of decoded value. With it, an input of `n` bytes decompresses to at most
/// `64 × n` (a 4 KiB input to 256 KiB, about 22 MiB as a `Value`; docs/security.md states
/// the whole bound). Real payloads compress far less than that; an encoder whose payload
/// would compress more stores it raw, so it never writes what a reader with the same policy
/// refuses.
pub const DEFAULT_MAX_RATIO: usize = 64;

/// The adaptive compression policy, and the decompression limits, of a frame codec.
///
/// A frame codec compresses a payload only when it is at least
/// [`min_size`](Policy::min_size) bytes long, and keeps the compressed form only when it
/// saves at least [`min_saving_percent`](Policy::min_saving_percent) of the raw size (and at
/// least one byte). Otherwise it stores the payload raw, marked
/// [`CompressionId::NONE`](zerocodec::CompressionId::NONE), so a compressed frame is never
/// larger than the raw payload plus its header or prefix.
///
/// Payloads larger than [`max_decompressed_len`](Policy::max_decompressed_len) are stored
/// raw too, and so are payloads that would compress more than
/// [`max_ratio`](Policy::max_ratio) times: a reader with the same policy would refuse to
/// decompress them.
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
    max_ratio: usize,
}

impl Policy {
    /// The default policy: [`DEFAULT_MIN_SIZE`], [`DEFAULT_MIN_SAVING_PERCENT`],
    /// [`DEFAULT_MAX_DECOMPRESSED_LEN`], [`DEFAULT_MAX_RATIO`].
    pub const fn new() -> Self {
        Self {
            min_size: DEFAULT_MIN_SIZE,
            min_saving_percent: DEFAULT_MIN_SAVING_PERCENT,
            max_decompressed_len: DEFAULT_MAX_DECOMPRESSED_LEN,
            max_ratio: DEFAULT_MAX_RATIO,
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

    /// Decompression produces at most `ratio` bytes per compressed input byte (at least 1);
    /// larger claims fail with [`ErrorKind::TooLarge`](zerocodec::ErrorKind::TooLarge) before
    /// any allocation. Payloads that would compress more are stored raw.
    #[must_use]
    pub const fn with_max_ratio(mut self, ratio: usize) -> Self {
        self.max_ratio = if ratio == 0 { 1 } else { ratio };
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

    /// The most bytes decompression may produce per compressed input byte.
    pub const fn max_ratio(&self) -> usize {
        self.max_ratio
    }

    /// The largest payload decompression may produce from `compressed_len` input bytes: the
    /// smaller of [`max_decompressed_len`](Self::max_decompressed_len) and
    /// [`max_ratio`](Self::max_ratio) times the input.
    pub const fn decompressed_limit(&self, compressed_len: usize) -> usize {
        let by_ratio = compressed_len.saturating_mul(self.max_ratio);
        if by_ratio < self.max_decompressed_len {
            by_ratio
        } else {
            self.max_decompressed_len
        }
    }

    /// True if a reader with this policy decompresses `compressed_len` bytes into `raw_len`.
    pub const fn admits(&self, raw_len: usize, compressed_len: usize) -> bool {
        raw_len <= self.decompressed_limit(compressed_len)
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
    fn the_ratio_bounds_what_a_short_input_may_claim() {
        let p = Policy::new();
        assert_eq!(p.decompressed_limit(4096), 4096 * DEFAULT_MAX_RATIO);
        assert_eq!(
            p.decompressed_limit(usize::MAX),
            DEFAULT_MAX_DECOMPRESSED_LEN
        );
        assert_eq!(p.decompressed_limit(0), 0);
        assert!(p.admits(640, 10));
        assert!(!p.admits(641, 10));
        assert_eq!(Policy::new().with_max_ratio(0).max_ratio(), 1);
        let wide = Policy::new().with_max_ratio(usize::MAX);
        assert_eq!(wide.decompressed_limit(2), DEFAULT_MAX_DECOMPRESSED_LEN);
    }

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
