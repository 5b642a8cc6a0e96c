//! The length-delimited frame decoders on an arbitrary byte stream, fed in arbitrary chunks:
//! never a panic, never a reservation past the frame limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokio_util::bytes::BytesMut;
use tokio_util::codec::Decoder;
use zerocodec_codecs::{ArchivedFrameDecoder, FrameDecoder, JsonCodec, RkyvCodec};
use zerocodec_datasets::ChatMessage;

const MAX: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = 1 + chunk as usize % 17;
    let mut owned = FrameDecoder::with_max_frame_len(RkyvCodec::<ChatMessage>::new(), MAX);
    let mut json = FrameDecoder::with_max_frame_len(JsonCodec::<ChatMessage>::new(), MAX);
    let mut archived =
        ArchivedFrameDecoder::with_max_frame_len(RkyvCodec::<ChatMessage>::new(), MAX);
    let (mut a, mut b, mut c) = (BytesMut::new(), BytesMut::new(), BytesMut::new());
    let (mut a_ok, mut b_ok, mut c_ok) = (true, true, true);
    for part in stream.chunks(chunk) {
        for (buf, ok) in [
            (&mut a, &mut a_ok),
            (&mut b, &mut b_ok),
            (&mut c, &mut c_ok),
        ] {
            if *ok {
                buf.extend_from_slice(part);
            }
        }
        // A decoder that returned an error is done, as a transport would stop reading.
        while a_ok {
            match owned.decode(&mut a) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => a_ok = false,
            }
        }
        while b_ok {
            match json.decode(&mut b) {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => b_ok = false,
            }
        }
        while c_ok {
            match archived.decode(&mut c) {
                Ok(Some(view)) => {
                    let _ = view.content.len();
                }
                Ok(None) => break,
                Err(_) => c_ok = false,
            }
        }
        for buf in [&a, &b, &c] {
            assert!(buf.capacity() <= 4 * (MAX + 4) + stream.len());
        }
    }
});
