//! Batch open and get on arbitrary bytes: one validation at open, then every get and the
//! iterator agree and never read outside the batch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zerocodec::rkyv::util::AlignedVec;
use zerocodec_codecs::BatchRef;
use zerocodec_datasets::ChatMessage;

fuzz_target!(|data: &[u8]| {
    let mut aligned = AlignedVec::<16>::with_capacity(data.len());
    aligned.extend_from_slice(data);
    if let Ok(batch) = BatchRef::<ChatMessage>::open(&aligned) {
        let mut n = 0;
        for (i, view) in batch.iter().enumerate() {
            let got = batch.get(i).unwrap();
            assert!(std::ptr::eq(got, view));
            let checked = batch.get_validated(i).unwrap();
            assert!(std::ptr::eq(checked, view));
            let _ = (view.id.as_str(), view.content.len(), view.timestamp);
            n += 1;
        }
        assert_eq!(n, batch.len());
        assert!(batch.get(n).is_err());
    }
});
